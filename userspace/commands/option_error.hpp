// A bad command-line value: reported like any other bad input, naming the
// option, with exit status 2.
#pragma once

#include <string>

#include "common/diagnostic.hpp"

namespace netlof {

[[noreturn]] inline void option_error(const std::string& option, const std::string& message) {
    Diagnostic d;
    d.file = "netlof";
    d.field = option;
    d.message = message;
    throw InputError(std::move(d));
}

}  // namespace netlof

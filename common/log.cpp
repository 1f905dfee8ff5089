#include "common/log.hpp"

#include <fmt/core.h>

namespace netlof {

void log_line(const std::string& message) { fmt::print(stderr, "netlof: {}\n", message); }

}  // namespace netlof

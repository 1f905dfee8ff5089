// Text the judges' whys share.
#pragma once

#include <fmt/core.h>
#include <string>

#include "userspace/records/connection_record.hpp"

namespace netlof {

// "/usr/bin/curl (process name 'curl')": the program novelty and windows speak of.
inline std::string program_text(const ConnectionRecord& r) {
    return r.exe.empty() ? fmt::format("process '{}' (executable unknown)", r.process_name)
                         : fmt::format("{} (process name '{}')", r.exe, r.process_name);
}

}  // namespace netlof

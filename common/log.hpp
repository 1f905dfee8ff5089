// The one line the daemon and the commands write about themselves:
// "netlof: message" on stderr (journald under systemd).
#pragma once

#include <string>

namespace netlof {

void log_line(const std::string& message);

}  // namespace netlof

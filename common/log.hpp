// The lines the daemon and the commands write about themselves: "netlof:
// message" on stderr. Under systemd, whose journal reads the service's
// stderr, each line carries its priority as a "<N>" prefix (sd-daemon(3)),
// so `journalctl -u netlof -p warning` shows only what needs a look; on a
// terminal or in a file the prefix is left out.
#pragma once

#include <string>

namespace netlof {

// syslog's priorities, as journald files them.
enum class LogLevel { Error = 3, Warning = 4, Notice = 5, Info = 6 };

void log_line(LogLevel level, const std::string& message);
inline void log_line(const std::string& message) { log_line(LogLevel::Info, message); }

// Lines written as they are (a diagnostic with its source line), each with
// the priority prefix under the journal.
void log_text(LogLevel level, const std::string& text);

// True when stderr is the journal's stream: $JOURNAL_STREAM names its device
// and inode (systemd.exec(5)).
bool stderr_is_journal();

}  // namespace netlof

#include "userspace/outputs/alert_output.hpp"

#include <cstring>
#include <fmt/core.h>
#include <unistd.h>

#include "userspace/outputs/falco_json.hpp"

namespace netlof {

AlertFile::AlertFile(const std::string& path, std::string hostname) : sink_(path), hostname_(std::move(hostname)) {}

// A failed write is kept in the sink's backlog and counted there.
void AlertFile::write(const Alert& a) { sink_.write(format_alert(a, hostname_)); }
void AlertFile::write(const SensorDrops& d) { sink_.write(format_sensor_drops(d, hostname_)); }

void AlertFile::maintain(const OutputLog& log) { maintain_sink(sink_, "alert log", log); }

void maintain_sink(FileLineSink& sink, const char* what, const OutputLog& log) {
    switch (sink.maintain()) {
    case FileLineSink::Event::Failing:
        log(LogLevel::Error, fmt::format("failed to write the {} {}: {}; lines wait in memory (up to 4 MiB) and detection goes on", what,
                        sink.path(), std::strerror(sink.last_error())));
        break;
    case FileLineSink::Event::Recovered:
        log(LogLevel::Notice, fmt::format("writing the {} {} again: {} failed writes so far, {} lines lost", what, sink.path(),
                        sink.failed_writes(), sink.lost_lines()));
        break;
    case FileLineSink::Event::Recreated:
        log(LogLevel::Warning, fmt::format("the {} {} was removed; created it again", what, sink.path()));
        break;
    case FileLineSink::Event::None:
        break;
    }
}

std::string host_name() {
    char buf[256] = {};
    return ::gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string("unknown");
}

}  // namespace netlof

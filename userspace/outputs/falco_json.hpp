// Alerts as the operator tailing the log reads them: one JSON object a line
// in Falco's shape (time, rule, priority, source, hostname, output,
// output_fields) so tools built for Falco can read it, plus the full record,
// lof, threshold, why and count.
#pragma once

#include <string>
#include <string_view>

#include "userspace/engine/alert.hpp"

namespace netlof {

// The human sentence: process, pid, exe, destination, bytes, duration, LOF.
std::string alert_output(const Alert& a);
// One JSON line (with its newline) for the alert log.
std::string format_alert(const Alert& a, std::string_view hostname);
// One JSON line (rule sensor_drops, priority Error) in the alerts' shape.
std::string format_sensor_drops(const SensorDrops& d, std::string_view hostname);
// The human sentence, also the daemon's log line.
std::string sensor_drops_output(const SensorDrops& d);
// "2026-11-25T22:21:00.123456Z"
std::string iso8601_utc(double unix_seconds);

}  // namespace netlof

// The daemon's health: what the sensor lost, reported as it happens, and the
// stats line that accounts for every record, alert, drop and unknown.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "userspace/engine/alert.hpp"
#include "userspace/engine/detector.hpp"
#include "userspace/outputs/alert_output.hpp"
#include "userspace/sensor/capture.hpp"

namespace netlof {

// Drops are read from the sensor's counters each second and reported (a log
// line, and a sensor_drops alert when sensor_drops_alerted()) at most once
// per interval; program runs the kernel skipped, when nothing else was lost,
// at most once per fold window: no setting prevents them, and a line every
// ten seconds would bury alerts.
class DropWatch {
public:
    static constexpr double kReportInterval = 10;
    explicit DropWatch(double now) { pending_.since = now; }
    // The window to report now, if one is due (with stopping, any drops at all).
    std::optional<SensorDrops> update(const SensorCounters& c, double now, double fold_window_s, bool stopping);

private:
    SensorCounters seen_;
    SensorDrops pending_;
    double last_report_ = -1e300;
};

struct DaemonCounts {
    RuleCounts written{};  // alert lines written, per rule (sensor_drops included)
    std::uint64_t reloads = 0, reloads_refused = 0;
    std::uint64_t records_log_failed = 0, records_log_lost = 0;
};

// "stats: events ..., records ..., ...": one line the operator can account
// every connection with.
// outputs: the alert log first, then any other alert output.
using AlertOutputs = std::vector<const AlertOutput*>;
std::string stats_line(const SensorCounters& sensor, const Detector& detector, const AlertOutputs& outputs,
                       const DaemonCounts& daemon, double now);

}  // namespace netlof

// An alert: the engine's verdict on one record (or on the sensor itself),
// before any output formats it. Rule and priority are types; their names are
// what the alert log and Falco's tools read.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "userspace/records/connection_record.hpp"

namespace netlof {

enum class Rule : std::uint8_t {
    AllowlistViolation,
    ProcessMasquerade,
    NewProcess,
    NewDestination,
    NewPort,
    VolumeSpike,
    ConnectionBurst,
    FanOut,
    LongConnection,
    Beaconing,
    LofAnomaly,
    SensorDrops,
};
inline constexpr std::size_t kRuleCount = static_cast<std::size_t>(Rule::SensorDrops) + 1;
// "allowlist_violation", ...: the alert line's `rule`.
std::string_view rule_name(Rule rule);
// Alerts counted per rule, as the stats lines report them.
using RuleCounts = std::array<std::uint64_t, kRuleCount>;

// Falco's priorities, most severe first.
enum class Priority : std::uint8_t { Emergency, Alert, Critical, Error, Warning, Notice, Informational, Debug };
std::string_view priority_name(Priority priority);
// A violated operator's rule or a faked identity is a Warning; what only
// departs from the learned normal is a Notice; the sensor losing events is an Error.
Priority rule_priority(Rule rule);

struct Alert {
    double time = 0;  // unix seconds
    Rule rule = Rule::LofAnomaly;
    Priority priority = Priority::Notice;
    ConnectionRecord record;
    std::optional<double> lof, threshold;
    std::vector<std::string> why;
    std::vector<std::string> expected_exes;  // process_masquerade: what the name should run
    std::uint64_t count = 1;      // >1: a fold of repeats
    double fold_window_s = 0;     // the window the repeats fell in
};

// Events the sensor lost in a window: the kernel's ring buffer or maps were
// full, or user space rejected a record. Connections went unseen, which an
// operator must know as surely as an anomaly.
struct SensorDrops {
    double since = 0, time = 0;  // unix seconds: the window
    std::uint64_t ring_buffer_full = 0, sockets_map_full = 0, udp_map_full = 0, missed_runs = 0, malformed = 0;
    std::uint64_t events = 0;    // events the kernel handed over in the window
    std::uint64_t total() const { return ring_buffer_full + sockets_map_full + udp_map_full + missed_runs + malformed; }
};
// Program runs the kernel skipped (an interrupt re-entering a program on the
// same CPU) are a blind spot no setting closes; a few in tens of thousands
// of events are logged and counted, and become an alert line above this
// share of the window's events, as Falco's drop threshold does.
inline constexpr double kMissedRunsAlertShare = 0.001;
// Whether a window's drops are an alert line (always logged and counted):
// anything a setting or a bug explains, or skipped runs above the share.
bool sensor_drops_alerted(const SensorDrops& d);

}  // namespace netlof

#include "userspace/engine/alert.hpp"

namespace netlof {

std::string_view rule_name(Rule rule) {
    switch (rule) {
        case Rule::AllowlistViolation: return "allowlist_violation";
        case Rule::ProcessMasquerade: return "process_masquerade";
        case Rule::NewProcess: return "new_process";
        case Rule::NewDestination: return "new_destination";
        case Rule::NewPort: return "new_port";
        case Rule::VolumeSpike: return "volume_spike";
        case Rule::ConnectionBurst: return "connection_burst";
        case Rule::FanOut: return "fan_out";
        case Rule::LongConnection: return "long_connection";
        case Rule::Beaconing: return "beaconing";
        case Rule::LofAnomaly: return "lof_anomaly";
        case Rule::SensorDrops: return "sensor_drops";
    }
    return "unknown";
}

std::string_view priority_name(Priority priority) {
    switch (priority) {
        case Priority::Emergency: return "Emergency";
        case Priority::Alert: return "Alert";
        case Priority::Critical: return "Critical";
        case Priority::Error: return "Error";
        case Priority::Warning: return "Warning";
        case Priority::Notice: return "Notice";
        case Priority::Informational: return "Informational";
        case Priority::Debug: return "Debug";
    }
    return "Debug";
}

Priority rule_priority(Rule rule) {
    switch (rule) {
        case Rule::AllowlistViolation:
        case Rule::ProcessMasquerade: return Priority::Warning;
        case Rule::SensorDrops: return Priority::Error;
        default: return Priority::Notice;
    }
}

bool sensor_drops_alerted(const SensorDrops& d) {
    return d.total() > d.missed_runs ||
           static_cast<double>(d.missed_runs) > kMissedRunsAlertShare * static_cast<double>(d.events + d.missed_runs);
}

}  // namespace netlof

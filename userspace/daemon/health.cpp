#include "userspace/daemon/health.hpp"

#include <algorithm>
#include <fmt/core.h>

namespace netlof {

std::optional<SensorDrops> DropWatch::update(const SensorCounters& c, double now, double fold_window_s, bool stopping) {
    pending_.ring_buffer_full += c.ringbuf_full - seen_.ringbuf_full;
    pending_.sockets_map_full += c.sockets_full - seen_.sockets_full;
    pending_.udp_map_full += c.udp_flows_full - seen_.udp_flows_full;
    pending_.malformed += c.malformed - seen_.malformed;
    pending_.events += c.events - seen_.events;
    pending_.missed_runs += c.missed_runs - seen_.missed_runs;
    seen_ = c;
    const bool capacity = pending_.total() > pending_.missed_runs;
    const double interval = capacity ? kReportInterval : std::max(kReportInterval, fold_window_s);
    if (pending_.total() == 0 || !(stopping || now - last_report_ >= interval)) return std::nullopt;
    SensorDrops report = pending_;
    report.time = now;
    last_report_ = now;
    pending_ = SensorDrops{};
    pending_.since = now;
    return report;
}

std::string stats_line(const SensorCounters& k, const Detector& detector, const AlertOutputs& outputs,
                       const DaemonCounts& daemon, double now) {
    const AlertOutput& alerts = *outputs.front();
    std::string others;  // each other output's own failure counts
    for (std::size_t i = 1; i < outputs.size(); ++i)
        others += fmt::format(", {} failed writes {} (lost {})", outputs[i]->name(), outputs[i]->failed_writes(),
                              outputs[i]->lost_lines());
    const DetectorStats& d = detector.stats();
    std::uint64_t alert_lines = 0;  // every rule's but the sensor's own
    for (std::size_t i = 0; i < kRuleCount; ++i)
        if (static_cast<Rule>(i) != Rule::SensorDrops) alert_lines += daemon.written[i];
    const std::uint64_t window_alerts =
        d.raised_of(Rule::VolumeSpike) + d.raised_of(Rule::ConnectionBurst) + d.raised_of(Rule::FanOut);
    return fmt::format(
        "stats: events {}, records {} (closes not seen, reported when the socket was reused: {}), scored {}, alerts allowlist_violation {}, process_masquerade {}, new_process {}, new_destination {}, new_port {}, "
        "long_connection {}, beaconing {}, lof_anomaly {} (lines written {}, folded repeats {}, sensor_drops {}, failed writes {}, lost {}{}), "
        "novelty not alerted (usual for a wandering program {}, judged by allowlist rules {}, baseline full {}), "
        "window alerts {} (programs let go to make room {}, connection-window pairs not judged, learning too short for the window: {}), "
        "beacon pairs let go to make room {}, "
        "lof muted {}, lof not scored (program learned fewer than k times) {}, unscorable {}, not learned {}, drops {} "
        "(ring buffer full {}, sockets map full {}, udp map full {}, missed program runs {}), malformed {}, "
        "exe unknown {} (exec records lost {}, exe table evictions {}), cgroups not named {}, udp datagrams received without a known sender {}, "
        "udp datagrams from peers the socket had not sent to (inbound) {}, "
        "record log failed writes {} (lost {}), reloads {} (refused {}), spans of learning kept {}, "
        "alerted past what following keeps out {}, model {}",
        k.events, k.records, k.close_unseen, d.scored, d.raised_of(Rule::AllowlistViolation),
        d.raised_of(Rule::ProcessMasquerade), d.raised_of(Rule::NewProcess), d.raised_of(Rule::NewDestination),
        d.raised_of(Rule::NewPort), d.raised_of(Rule::LongConnection), d.raised_of(Rule::Beaconing),
        d.raised_of(Rule::LofAnomaly), alert_lines, detector.folded(),
        daemon.written[static_cast<std::size_t>(Rule::SensorDrops)], alerts.failed_writes(), alerts.lost_lines(), others,
        d.novelty_expected, d.novelty_ruled, detector.reach_unlearned(), window_alerts, detector.window_evictions(),
        detector.windows_unjudged(), detector.beacon_evictions(), d.lof_muted, d.lof_sparse, d.unscorable,
        d.learn_skipped, k.drops(), k.ringbuf_full, k.sockets_full, k.udp_flows_full, k.missed_runs, k.malformed,
        k.exe_unknown, k.exec_lost, k.exe_evictions, k.cgroups_unknown, k.udp_recv_no_source, k.udp_recv_unsolicited,
        daemon.records_log_failed, daemon.records_log_lost, daemon.reloads, daemon.reloads_refused, detector.spans(),
        d.taint_overflow, detector.state(now));
}

}  // namespace netlof

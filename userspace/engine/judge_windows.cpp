// Windows: a program's sums over one and ten minutes (bytes sent,
// connections, networks reached) beyond what learning saw for it
// (rules/behaviour_windows.hpp).
#include <array>
#include <fmt/core.h>
#include <optional>

#include "userspace/engine/detector.hpp"
#include "userspace/engine/why_text.hpp"

namespace netlof {

namespace {

// "130.2 KiB" and the like: sums an operator reads at a glance.
std::string amount(WindowMetric m, double v) {
    if (m != WindowMetric::BytesSent) return fmt::format("{:.0f}", v);
    if (v < 1024) return fmt::format("{:.0f} B", v);
    if (v < 1024 * 1024) return fmt::format("{:.1f} KiB", v / 1024);
    return fmt::format("{:.1f} MiB", v / (1024 * 1024));
}

// "between 13:00 and 16:00 UTC" (the window's hour and either side) or "at any hour".
std::string hours_text(double ts, const WindowFinding& f) {
    if (f.hours >= kDayHours) return "at any hour";
    const std::size_t from = (hour_of_day(ts) + kDayHours - 1) % kDayHours;
    return fmt::format("between {:02}:00 and {:02}:00 UTC", from, (from + f.hours) % kDayHours);
}

Rule window_rule(WindowMetric m) {
    switch (m) {
        case WindowMetric::BytesSent: return Rule::VolumeSpike;
        case WindowMetric::Connections: return Rule::ConnectionBurst;
        case WindowMetric::Networks: return Rule::FanOut;
    }
    return Rule::VolumeSpike;
}

}  // namespace

void Detector::judge_windows(const ConnectionRecord& r, const ReachKey& key, double now) {
    // One alert per metric: a connection that pushes both window lengths
    // past their limits is one finding, its why naming both.
    std::array<std::optional<Alert>, kWindowMetrics> alerts;
    for (const WindowFinding& f : windows_.add(model_->windows, subject_, r.ts_end, r.bytes_sent, key)) {
        std::optional<Alert>& slot = alerts[static_cast<std::size_t>(f.metric)];
        if (!slot) slot = alert_for(r, window_rule(f.metric), now);
        Alert& a = *slot;
        const std::string who = program_text(r);
        const char* what = f.metric == WindowMetric::BytesSent ? "sent" : f.metric == WindowMetric::Connections
                                                                            ? "made connections:"
                                                                            : "reached networks:";
        // Bytes and connections are a destination network's; networks, the service's.
        const std::string where = f.metric == WindowMetric::Networks
                                      ? port_text(key)
                                      : fmt::format("{} to {}", port_text(key), network_text(key));
        a.why.push_back(fmt::format("{} {} {} on {} within {:g} s", who, what, amount(f.metric, f.value), where, f.seconds));
        if (!f.learned_service)
            a.why.push_back(fmt::format("it made no connection on {} while learning; the limit for such a service is {}",
                                        port_text(key), amount(f.metric, f.limit)));
        else
            a.why.push_back(fmt::format("while learning{}: at most {} in any {:g} s {} (mean {}, sd {}); the limit is {}",
                                        f.service_limits ? fmt::format(" (on {}, to any network)", port_text(key)) : "",
                                        amount(f.metric, f.learned.max), f.seconds, hours_text(r.ts_end, f),
                                        amount(f.metric, f.learned.mean), amount(f.metric, f.learned.sd),
                                        amount(f.metric, f.limit)));
    }
    for (std::optional<Alert>& a : alerts)
        if (a) raise(*a);
}

}  // namespace netlof

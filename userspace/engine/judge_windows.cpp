// Windows: a program's sums over one and ten minutes (bytes sent,
// connections, networks reached) beyond what learning saw for it
// (rules/behaviour_windows.hpp).
#include <fmt/core.h>

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
    for (const WindowFinding& f : windows_.add(model_->windows, subject_, r.ts_end, r.bytes_sent, key)) {
        Alert a = alert_for(r, window_rule(f.metric), now);
        const std::string who = program_text(r);
        const char* what = f.metric == WindowMetric::BytesSent ? "sent" : f.metric == WindowMetric::Connections
                                                                            ? "made connections:"
                                                                            : "reached networks:";
        a.why.push_back(fmt::format("{} {} {} within {:g} s", who, what, amount(f.metric, f.value), f.seconds));
        if (model_->windows.count(subject_) == 0)
            a.why.push_back(fmt::format("it made no connection while learning; the limit for such a program is {}",
                                        amount(f.metric, f.limit)));
        else
            a.why.push_back(fmt::format("while learning: at most {} in any {:g} s (mean {}, sd {}); the limit is {}",
                                        amount(f.metric, f.learned.max), f.seconds, amount(f.metric, f.learned.mean),
                                        amount(f.metric, f.learned.sd), amount(f.metric, f.limit)));
        raise(a);
    }
}

}  // namespace netlof

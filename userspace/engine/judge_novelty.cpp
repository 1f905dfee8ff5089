// Novelty: what learning never saw for a program (an executable, a name, a
// network, a port: rules/reach_baseline.hpp), a connection held far longer
// than any it learned, and beacons to destinations it never reached
// (rules/beacon_watch.hpp).
#include <fmt/core.h>
#include <fmt/ranges.h>

#include "userspace/engine/detector.hpp"
#include "userspace/engine/why_text.hpp"

namespace netlof {

namespace {

// What learning saw of m (counts above 0; 0 marks what joined since):
// "10.0.0.0/24, 10.9.0.0/24 and 3 more", at most five named.
template <typename Map, typename Text>
std::string learned_ones(const Map& m, Text text) {
    std::vector<std::string> shown;
    std::size_t learned = 0;
    for (const auto& [key, count] : m) {
        if (count == 0) continue;
        ++learned;
        if (shown.size() < 5) shown.push_back(text(key));
    }
    std::string s = shown.empty() ? std::string("nothing") : fmt::format("{}", fmt::join(shown, ", "));
    if (learned > shown.size()) s += fmt::format(" and {} more", learned - shown.size());
    return s;
}

}  // namespace

void Detector::judge_novelty(const ConnectionRecord& r, const ReachKey& key, AllowVerdict verdict, bool masquerade,
                             double now) {
    const Novelty n = model_->reach.observe(subject_, r.process_name, key, r.duration, r.ts_end);
    // How long a connection lasts is no allowlist's subject: judged whatever the rules say.
    if (n.long_hold) {
        Alert a = alert_for(r, Rule::LongConnection, now);
        a.why.push_back(fmt::format("{} held this connection {:.1f} s; its longest {}while learning was {:.3g} s, the limit {:.3g} s",
                                    program_text(r), r.duration,
                                    n.longest_on_port ? "on " + port_text(key) + " " : std::string(), n.longest,
                                    hold_limit(n.longest)));
        raise(a);
    }
    if (!n.learned_destination) judge_beacon(r, key, n.profile, now);
    if (n.expected_network || n.expected_port || n.expected_name) ++stats_.novelty_expected;
    if (!n.new_subject && !n.new_name && !n.new_network && !n.new_port) return;
    // The operator's rules speak for this process; a masquerade already said it.
    if (verdict != AllowVerdict::NoRules || masquerade) {
        ++stats_.novelty_ruled;
        return;
    }
    // The most telling novelty names the alert; its why lists every one.
    const Rule rule = n.new_subject || n.new_name ? Rule::NewProcess : n.new_network ? Rule::NewDestination : Rule::NewPort;
    Alert a = alert_for(r, rule, now);
    const std::string who = program_text(r);
    if (n.new_subject) {
        a.why.push_back(fmt::format("{} never made a connection while learning", who));
    } else {
        const ReachProfile& p = *n.profile;
        if (n.new_name) {
            std::vector<std::string_view> others;
            for (const std::string& name : p.names)
                if (name != r.process_name) others.push_back(name);
            a.why.push_back(fmt::format("{} never ran under this name while learning; it ran as {}", who,
                                        fmt::join(others, ", ")));
        }
        if (n.new_network) {
            a.why.push_back(fmt::format("{} never reached {} while learning; it reached {}", who, network_text(key),
                                        learned_ones(p.networks, [](const auto& net) {
                                            ReachKey k;
                                            k.family = net.first;
                                            k.addr = net.second;
                                            return network_text(k);
                                        })));
        }
        if (n.new_port) {
            a.why.push_back(fmt::format("{} never used {} while learning; it used {}", who, port_text(key),
                                        learned_ones(p.ports, [](const auto& port) {
                                            ReachKey k;
                                            k.proto = port.first;
                                            k.port = port.second;
                                            return port_text(k);
                                        })));
        }
    }
    raise(a);
}

void Detector::judge_beacon(const ConnectionRecord& r, const ReachKey& key, const ReachProfile* profile, double now) {
    const std::optional<BeaconScore> b = beacons_.add(subject_, key, r.ts_start, static_cast<double>(r.bytes_sent));
    if (!b) return;
    // A pool client's new server, polled as it polled the ones it learned: its normal.
    if (profile != nullptr && matches_cadence(*profile, b->interval_median, b->size_median)) {
        ++stats_.novelty_expected;
        return;
    }
    Alert a = alert_for(r, Rule::Beaconing, now);
    a.why.push_back(fmt::format("{} connected to {} every {:.1f} s (median; half within {:.2g} s of it), sending {:.0f} bytes "
                                "(half within {:.0f}), over its last {} connections; learning never saw it reach there",
                                program_text(r), destination_text(key), b->interval_median, b->interval_mad,
                                b->size_median, b->size_mad, b->connections));
    a.why.push_back(fmt::format("regularity (1 - MAD/median) of intervals {:.2f}, of sizes {:.2f}; a beacon is both at least {:g}",
                                b->interval_regularity, b->size_regularity, kBeaconRegularity));
    raise(a);
}

}  // namespace netlof

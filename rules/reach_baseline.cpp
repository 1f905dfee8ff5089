#include "rules/reach_baseline.hpp"

#include <algorithm>
#include <cmath>
#include <arpa/inet.h>
#include <charconv>
#include <fmt/core.h>
#include <iterator>
#include <netinet/in.h>
#include <set>
#include <yaml-cpp/yaml.h>

#include "common/text_table.hpp"
#include "rules/beacon_watch.hpp"
#include "rules/program_identity.hpp"

namespace netlof {

namespace {

constexpr std::size_t kMaxNamesPerSubject = 16;

std::array<std::uint8_t, 16> network_of(const ReachKey& k) {
    std::array<std::uint8_t, 16> n = k.addr;
    std::fill(n.begin() + (k.family == 4 ? 3 : 8), n.end(), std::uint8_t{0});
    return n;
}

std::string address_text(const ReachKey& k, const std::array<std::uint8_t, 16>& addr) {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(k.family == 4 ? AF_INET : AF_INET6, addr.data(), buf, sizeof buf);
    return buf;
}

// Adds name to the subject's names; while learning (and while the counts
// learning made are kept) its connections under each name are counted.
void add_name(ReachProfile& p, std::string_view name, bool learning) {
    const auto at = std::lower_bound(p.names.begin(), p.names.end(), name);
    const auto i = at - p.names.begin();
    const bool counted = p.name_connections.size() == p.names.size();  // not a loaded profile
    if (at != p.names.end() && *at == name) {
        if (learning && counted) ++p.name_connections[static_cast<std::size_t>(i)];
        return;
    }
    if (p.names.size() >= kMaxNamesPerSubject) return;
    p.names.emplace(at, name);
    if (counted) p.name_connections.insert(p.name_connections.begin() + i, learning ? 1 : 0);
}

// A path as a glob that matches only itself.
std::string literal_glob(std::string_view path) {
    std::string g;
    for (char c : path) {
        if (c == '*' || c == '?' || c == '[' || c == '\\') g += '\\';
        g += c;
    }
    return g;
}

// Good-Turing: the share of learned connections whose value was met once.
bool wanders(std::uint32_t met_once, std::uint64_t connections) {
    return met_once >= kWanderingEvidence && static_cast<double>(met_once) >= kWanderingShare * static_cast<double>(connections);
}

}  // namespace

std::uint8_t proto_number(std::string_view proto) {
    if (proto == "tcp") return IPPROTO_TCP;
    if (proto == "udp") return IPPROTO_UDP;
    return 0;
}

ReachKey reach_key(const Endpoint& dst, std::string_view proto) {
    ReachKey k;
    k.addr = dst.ip.bytes;
    k.family = dst.ip.family;
    k.proto = proto_number(proto);
    k.port = dst.port;
    return k;
}

NetworkKey network_key(const ReachKey& k) { return {k.family, network_of(k)}; }

void append_network_text(std::string& out, const ReachKey& k) {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(k.family == 4 ? AF_INET : AF_INET6, network_of(k).data(), buf, sizeof buf);
    fmt::format_to(std::back_inserter(out), "{}/{}", buf, k.family == 4 ? 24 : 64);
}

std::string network_text(const ReachKey& k) {
    std::string s;
    append_network_text(s, k);
    return s;
}

std::string destination_text(const ReachKey& k) {
    const std::string a = address_text(k, k.addr);
    return k.family == 4 ? fmt::format("{}:{}", a, k.port) : fmt::format("[{}]:{}", a, k.port);
}

void append_port_text(std::string& out, const ReachKey& k) {
    const char* proto = k.proto == IPPROTO_TCP ? "tcp/" : k.proto == IPPROTO_UDP ? "udp/" : "port ";
    fmt::format_to(std::back_inserter(out), "{}{}", proto, k.port);
}

std::string port_text(const ReachKey& k) {
    std::string s;
    append_port_text(s, k);
    return s;
}

void ReachBaseline::subject_into(std::string_view process_name, std::string_view exe, std::string_view unit,
                                 std::string& out) {
    program_key_into(process_name, exe, unit, out);
}

std::string ReachBaseline::subject_of(std::string_view process_name, std::string_view exe, std::string_view unit) {
    return program_key(process_name, exe, unit);
}

double hold_limit(double longest) { return std::max(kHoldFactor * longest, longest + kHoldSlack); }

double replace_allowance_per_day(const ReachProfile& p) {
    if (p.late_networks < kWanderingEvidence) return 0;
    const double days = std::max(1.0, (p.last_learned - p.first_learned - kReplaceWarmup) / 86400);
    return std::max<double>(kWanderingEvidence, kReplaceSlack * p.late_networks / days);
}

bool matches_cadence(const ReachProfile& p, double interval, double bytes) {
    for (const auto& [i, b] : p.cadences)
        if (std::abs(interval - i) <= 0.25 * i && std::abs(bytes - b) <= std::max(0.25 * b, 16.0)) return true;
    return false;
}

void ReachBaseline::learn(const std::string& subject, std::string_view name, const ReachKey& k, double duration,
                          double ts, double bytes) {
    ReachProfile& p = profiles_[subject];
    add_name(p, name, true);
    if (ts > 0) {
        if (p.learned_connections == 0 || ts < p.first_learned) p.first_learned = ts;
        p.last_learned = std::max(p.last_learned, ts);
        if (p.networks.emplace(network_key(k), 0).second && ts - p.first_learned > kReplaceWarmup) ++p.late_networks;
        if (!checkins_) checkins_ = std::make_shared<BeaconWatch>();
        if (const std::optional<BeaconScore> b = checkins_->add(subject, k, ts, bytes);
            b && p.cadences.size() < kMaxCadences && !matches_cadence(p, b->interval_median, b->size_median))
            p.cadences.emplace_back(b->interval_median, b->size_median);
    }
    ++p.learned_connections;
    p.longest = std::max(p.longest, duration);
    double& on_port = p.longest_on_port[{k.proto, k.port}];
    on_port = std::max(on_port, duration);
    const auto it = p.destinations.find(k);
    if (it != p.destinations.end()) {
        ++it->second;
    } else if (destinations_ < max_destinations_) {
        p.destinations.emplace(k, 1);
        ++destinations_;
    } else {
        ++unlearned_;
    }
}

void ReachBaseline::index() {
    checkins_.reset();  // learning's check-in watch (up to 6.5 MB): a model does not carry it
    for (auto& [subject, p] : profiles_) {
        p.networks.clear();
        p.ports.clear();
        for (const auto& [k, n] : p.destinations) {
            p.networks[network_key(k)] += n;
            p.ports[{k.proto, k.port}] += n;
        }
        const auto once = [](const auto& counts) {
            return static_cast<std::uint32_t>(
                std::count_if(counts.begin(), counts.end(), [](const auto& e) { return e.second == 1; }));
        };
        p.wanders_networks = wanders(once(p.networks), p.learned_connections);
        p.wanders_ports = wanders(once(p.ports), p.learned_connections);
        if (!p.name_connections.empty())  // learned here; a loaded profile keeps its saved count
            p.names_once = static_cast<std::uint32_t>(std::count(p.name_connections.begin(), p.name_connections.end(), 1u));
        // A full list of names cannot tell a new one: as if it wandered.
        p.wanders_names = wanders(p.names_once, p.learned_connections) || p.names.size() >= kMaxNamesPerSubject;
    }
}

Novelty ReachBaseline::observe(std::string_view subject, std::string_view name, const ReachKey& k, double duration,
                               double ts) {
    Novelty n;
    auto it = profiles_.find(subject);
    if (it == profiles_.end()) {
        if (destinations_ >= max_destinations_) {
            ++unlearned_;
            n.new_subject = n.new_network = n.new_port = n.unlearned = true;
            return n;
        }
        n.new_subject = true;
        it = profiles_.emplace(std::string(subject), ReachProfile{}).first;
    }
    ReachProfile& p = it->second;
    n.profile = &p;
    if (p.learned_connections > 0 && !std::binary_search(p.names.begin(), p.names.end(), name))
        (p.wanders_names ? n.expected_name : n.new_name) = true;
    add_name(p, name, false);
    // Judged against the subject's longest on this port (a program's
    // database pool holds for minutes, its cache calls for milliseconds); on
    // a port it never used, against its longest anywhere. Judged for
    // subjects learning saw; one first met later has no measure yet.
    const auto on_port = p.longest_on_port.find({k.proto, k.port});
    n.longest_on_port = on_port != p.longest_on_port.end();
    n.longest = n.longest_on_port ? on_port->second : p.longest;
    if (p.learned_connections > 0 && duration > hold_limit(n.longest)) {
        n.long_hold = true;
        p.longest = std::max(p.longest, duration);
        if (on_port != p.longest_on_port.end()) on_port->second = duration;
    }
    if (const auto d = p.destinations.find(k); d != p.destinations.end()) {
        n.learned_destination = d->second > 0;
        return n;
    }
    const NetworkKey net = network_key(k);
    const std::pair<std::uint8_t, std::uint16_t> port{k.proto, k.port};
    const bool network_known = p.networks.count(net) != 0, port_known = p.ports.count(port) != 0;
    (p.wanders_networks ? n.expected_network : n.new_network) = !network_known;
    // A pool client replacing a server at its learned rate: a token bucket
    // of a day's allowance, refilled as time passes.
    if (n.new_network && ts > 0) {
        const double per_day = replace_allowance_per_day(p);
        if (per_day > 0) {
            if (p.replace_allowance < 0) p.replace_allowance = per_day;
            else p.replace_allowance = std::min(per_day, p.replace_allowance + per_day * std::max(0.0, ts - p.allowance_at) / 86400);
            p.allowance_at = ts;
            if (p.replace_allowance >= 1) {
                p.replace_allowance -= 1;
                n.new_network = false;
                n.expected_network = n.replaced_network = true;
            }
        }
    }
    (p.wanders_ports ? n.expected_port : n.new_port) = !port_known;
    if (destinations_ >= max_destinations_) {
        n.unlearned = true;
        ++unlearned_;
        return n;
    }
    p.destinations.emplace(k, 0);
    ++destinations_;
    p.networks.emplace(net, 0);
    p.ports.emplace(port, 0);
    return n;
}

void ReachBaseline::merge(const ReachBaseline& other) {
    for (const auto& [subject, theirs] : other.profiles_) {
        ReachProfile& p = profiles_[subject];
        for (std::size_t i = 0; i < theirs.names.size(); ++i) {
            add_name(p, theirs.names[i], true);
            // The other span's connections under the name, beyond the one add_name counted.
            if (i < theirs.name_connections.size() && p.name_connections.size() == p.names.size()) {
                const auto at = std::lower_bound(p.names.begin(), p.names.end(), theirs.names[i]) - p.names.begin();
                if (at < static_cast<std::ptrdiff_t>(p.names.size()) && p.names[static_cast<std::size_t>(at)] == theirs.names[i])
                    p.name_connections[static_cast<std::size_t>(at)] += theirs.name_connections[i] - 1;
            }
        }
        p.names_once = std::max(p.names_once, theirs.names_once);
        if (theirs.learned_connections > 0) {
            p.first_learned = p.learned_connections > 0 ? std::min(p.first_learned, theirs.first_learned) : theirs.first_learned;
            p.last_learned = std::max(p.last_learned, theirs.last_learned);
        }
        p.late_networks += theirs.late_networks;
        for (const auto& [interval, bytes] : theirs.cadences)
            if (p.cadences.size() < kMaxCadences && !matches_cadence(p, interval, bytes)) p.cadences.emplace_back(interval, bytes);
        p.learned_connections += theirs.learned_connections;
        p.longest = std::max(p.longest, theirs.longest);
        for (const auto& [port, longest] : theirs.longest_on_port) {
            double& mine = p.longest_on_port[port];
            mine = std::max(mine, longest);
        }
        for (const auto& [k, count] : theirs.destinations) {
            const auto it = p.destinations.find(k);
            if (it != p.destinations.end()) {
                it->second += count;
            } else if (destinations_ < max_destinations_) {
                p.destinations.emplace(k, count);
                ++destinations_;
            } else {
                ++unlearned_;
            }
        }
    }
}

void ReachBaseline::forget(std::string_view subject, std::string_view network) {
    const auto it = profiles_.find(subject);
    if (it == profiles_.end()) return;
    if (network.empty()) {
        destinations_ -= it->second.destinations.size();
        profiles_.erase(it);
        return;
    }
    auto& d = it->second.destinations;
    bool forgot = false;
    for (auto k = d.begin(); k != d.end();) {
        if (network_text(k->first) == network) {
            k = d.erase(k);
            --destinations_;
            forgot = true;
        } else {
            ++k;
        }
    }
    // It may have been one of the late networks a pool client's rate counts: not any more.
    if (forgot && it->second.late_networks > 0) --it->second.late_networks;
}

void ReachBaseline::keep_only(const ReachBaseline& known) {
    for (auto it = profiles_.begin(); it != profiles_.end();) {
        const auto theirs = known.profiles_.find(it->first);
        if (theirs == known.profiles_.end()) {
            destinations_ -= it->second.destinations.size();
            it = profiles_.erase(it);
            continue;
        }
        it->second.late_networks = 0;  // nothing new was learned
        auto& d = it->second.destinations;
        for (auto k = d.begin(); k != d.end();) {
            if (theirs->second.destinations.count(k->first) == 0) {
                k = d.erase(k);
                --destinations_;
            } else {
                ++k;
            }
        }
        ++it;
    }
}

void ReachBaseline::restore(std::string subject, ReachProfile profile) {
    destinations_ += profile.destinations.size();
    profiles_[std::move(subject)] = std::move(profile);
}

bool ReachBaseline::operator==(const ReachBaseline& o) const {
    if (profiles_.size() != o.profiles_.size()) return false;
    for (auto a = profiles_.begin(), b = o.profiles_.begin(); a != profiles_.end(); ++a, ++b)
        if (a->first != b->first || a->second.names != b->second.names ||
            a->second.destinations != b->second.destinations ||
            a->second.learned_connections != b->second.learned_connections || a->second.longest != b->second.longest ||
            a->second.longest_on_port != b->second.longest_on_port || a->second.late_networks != b->second.late_networks ||
            a->second.cadences != b->second.cadences ||
            a->second.names_once != b->second.names_once)
            return false;
    return true;
}

ReachBaseline learn_reach(const TextTable& table) {
    ReachBaseline out;
    learn_reach_rows(table, out);
    out.index();
    return out;
}

void learn_reach_rows(const TextTable& table, ReachBaseline& out) {
    const auto name = table.column_index("process_name"), ip = table.column_index("dst_ip"),
               port = table.column_index("dst_port"), exe = table.column_index("exe"), proto = table.column_index("proto"),
               duration = table.column_index("duration"), unit = table.column_index("unit"),
               ts_start = table.column_index("ts_start"), sent = table.column_index("bytes_sent");
    if (!name || !ip || !port) return;
    std::string subject;  // one buffer for every row
    for (std::size_t row = 0; row < table.rows(); ++row) {
        const std::string_view port_cell = table.cell(row, *port);
        std::uint16_t p = 0;
        if (std::from_chars(port_cell.data(), port_cell.data() + port_cell.size(), p).ec != std::errc{}) continue;
        const std::optional<Endpoint> dst = parse_endpoint(table.cell(row, *ip), p);
        if (!dst) continue;
        const std::string_view process = table.cell(row, *name);
        const auto number = [&](std::optional<std::size_t> col) {
            double v = 0;
            if (!col) return 0.0;
            const std::string_view cell = table.cell(row, *col);
            return std::from_chars(cell.data(), cell.data() + cell.size(), v).ec == std::errc{} && std::isfinite(v) ? v : 0.0;
        };
        ReachBaseline::subject_into(process, exe ? table.cell(row, *exe) : std::string_view{},
                                    unit ? table.cell(row, *unit) : std::string_view{}, subject);
        out.learn(subject, process, reach_key(*dst, proto ? table.cell(row, *proto) : std::string_view{}), number(duration),
                  number(ts_start), number(sent));
    }
}

std::string suggest_allowlist(const ReachBaseline& baseline, std::string_view source) {
    // What an allowlist can say of a destination this program reached: where
    // it wanders, any address (or port) stands for the ones it met once.
    const auto rule_text = [](const ReachKey& k, const ReachProfile& p) {
        const bool v4 = k.family == 4;
        if (p.wanders_networks && p.wanders_ports) return std::string(v4 ? "0.0.0.0/0" : "::/0");
        if (p.wanders_networks) return v4 ? fmt::format("0.0.0.0/0:{}", k.port) : fmt::format("[::/0]:{}", k.port);
        if (p.wanders_ports) return address_text(k, k.addr);
        return destination_text(k);
    };
    struct Entry {
        std::set<std::string> exes;
        bool unknown_exe = false, wanders_networks = false, wanders_ports = false;
        std::uint64_t connections = 0;
        std::vector<std::string> allow;
        std::set<std::string> listed;
    };
    std::map<std::string, Entry> by_name;
    for (const auto& [subject, p] : baseline.profiles()) {
        for (const std::string& name : p.names) {
            Entry& e = by_name[name];
            const std::string_view exe = program_key_exe(subject);
            if (exe.empty()) e.unknown_exe = true;
            else e.exes.insert(literal_glob(exe));
            e.wanders_networks = e.wanders_networks || p.wanders_networks;
            e.wanders_ports = e.wanders_ports || p.wanders_ports;
            e.connections += p.learned_connections;
            for (const auto& [k, n] : p.destinations) {
                std::string text = rule_text(k, p);
                if (e.listed.insert(text).second) e.allow.push_back(std::move(text));
            }
        }
    }
    YAML::Emitter y;
    y << YAML::Comment(fmt::format(
        "Suggested by `netlof allowlist suggest` from {}: what each process reached while netlof learned.\n"
        "Review every entry before loading it; learning may have seen traffic that should not be allowed.",
        source));
    y << YAML::BeginMap << YAML::Key << "processes" << YAML::Value << YAML::BeginMap;
    for (const auto& [name, e] : by_name) {
        std::string note = fmt::format("{} connection{} while learning", e.connections, e.connections == 1 ? "" : "s");
        if (e.wanders_networks && e.wanders_ports) note += "; it met many networks and ports only once: any destination";
        else if (e.wanders_networks) note += "; it met many networks only once: any address on its ports";
        else if (e.wanders_ports) note += "; it met many ports only once: any port of its addresses";
        if (e.unknown_exe) note += "; not pinned: its executable was unknown for some connections";
        y << YAML::Key << name << YAML::Value;
        if (e.unknown_exe) {  // the short form: destinations only
            y << YAML::Flow << e.allow << YAML::Comment(note);
            continue;
        }
        y << YAML::Comment(note) << YAML::BeginMap;
        y << YAML::Key << "exe" << YAML::Value << YAML::Flow << std::vector<std::string>(e.exes.begin(), e.exes.end());
        y << YAML::Key << "allow" << YAML::Value << YAML::Flow << e.allow << YAML::EndMap;
    }
    y << YAML::EndMap << YAML::EndMap;
    return std::string(y.c_str()) + "\n";
}

}  // namespace netlof

#include "rules/allowlist.hpp"

#include <arpa/inet.h>
#include <algorithm>
#include <charconv>
#include <cstring>
#include <fnmatch.h>

#include "common/yaml_schema.hpp"

namespace netlof {

namespace {

bool parse_port(std::string_view s, std::uint16_t& out) {
    unsigned v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v < 1 || v > 65535) return false;
    out = static_cast<std::uint16_t>(v);
    return true;
}

}  // namespace

std::optional<Destination> parse_destination(std::string_view text, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<Destination> {
        if (error != nullptr) *error = std::move(why);
        return std::nullopt;
    };
    Destination d;
    d.text = std::string(text);
    std::string_view host = text, ports;
    if (!text.empty() && text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos) return fail("'[' without ']'");
        host = text.substr(1, close - 1);
        std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return fail("expected ':PORT' after ']'");
            ports = rest.substr(1);
            if (ports.empty()) return fail("empty port after ':'");
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {  // IPv4 with a port
        const std::size_t colon = text.find(':');
        host = text.substr(0, colon);
        ports = text.substr(colon + 1);
        if (ports.empty()) return fail("empty port after ':'");
    }
    std::string_view address = host;
    std::optional<int> prefix;
    if (const std::size_t slash = host.find('/'); slash != std::string_view::npos) {
        address = host.substr(0, slash);
        int p = -1;
        const std::string_view ps = host.substr(slash + 1);
        auto r = std::from_chars(ps.data(), ps.data() + ps.size(), p);
        if (ps.empty() || r.ec != std::errc() || r.ptr != ps.data() + ps.size()) return fail("prefix '" + std::string(ps) + "' is not a number");
        prefix = p;
    }
    const bool mapped = address.size() > 7 && (address.rfind("::ffff:", 0) == 0 || address.rfind("::FFFF:", 0) == 0) &&
                        address.find('.') != std::string_view::npos;
    const std::optional<IpAddress> ip = parse_ip(address);
    if (!ip) return fail("'" + std::string(address) + "' is not an IPv4 or IPv6 address");
    d.family = ip->family;
    d.addr = ip->bytes;
    const int max_prefix = d.family == 4 ? 32 : 128;
    if (prefix) {
        int p = *prefix;
        if (mapped) {
            if (p < 96 || p > 128) return fail("prefix of an IPv4-mapped address must be 96 to 128");
            p -= 96;
        }
        if (p < 0 || p > max_prefix)
            return fail("prefix /" + std::to_string(*prefix) + " is out of range (0 to " + std::to_string(max_prefix) + ")");
        d.prefix = p;
    } else {
        d.prefix = max_prefix;
    }
    if (!ports.empty()) {
        const std::size_t dash = ports.find('-');
        if (dash == std::string_view::npos) {
            if (!parse_port(ports, d.port_lo)) return fail("port '" + std::string(ports) + "' is not 1 to 65535");
            d.port_hi = d.port_lo;
        } else if (!parse_port(ports.substr(0, dash), d.port_lo) || !parse_port(ports.substr(dash + 1), d.port_hi) ||
                   d.port_lo > d.port_hi) {
            return fail("port range '" + std::string(ports) + "' is not LOW-HIGH within 1 to 65535");
        }
    }
    return d;
}

std::optional<Endpoint> parse_endpoint(std::string_view ip, std::uint16_t port) {
    const std::optional<IpAddress> a = parse_ip(ip);
    if (!a) return std::nullopt;
    return Endpoint{*a, port};
}

bool destination_matches(const Destination& d, const Endpoint& e) {
    if (d.family != e.ip.family || e.port < d.port_lo || e.port > d.port_hi) return false;
    const int full = d.prefix / 8, bits = d.prefix % 8;
    if (std::memcmp(d.addr.data(), e.ip.bytes.data(), static_cast<std::size_t>(full)) != 0) return false;
    if (bits == 0) return true;
    const std::uint8_t mask = static_cast<std::uint8_t>(0xFF << (8 - bits));
    return (d.addr[static_cast<std::size_t>(full)] & mask) == (e.ip.bytes[static_cast<std::size_t>(full)] & mask);
}

namespace {

bool subject_matches(const std::string& subject, bool by_executable, std::string_view process_name, std::string_view exe) {
    if (!by_executable) return subject == process_name;
    // FNM_PATHNAME: '*' stops at '/', so a glob names one directory's files.
    return !exe.empty() && fnmatch(subject.c_str(), std::string(exe).c_str(), FNM_PATHNAME) == 0;
}

std::vector<Destination> destinations(const YamlDocument& doc, const YAML::Node& list, const std::string& subject) {
    if (!list.IsSequence()) throw doc.error(list, subject, "expected a list of destinations, e.g. [10.0.0.0/8, \"192.0.2.1:443\"]");
    std::vector<Destination> out;
    for (const YAML::Node& item : list) {
        std::string why;
        auto d = parse_destination(doc.scalar(item, subject), &why);
        if (!d) throw doc.error(item, subject, why);
        out.push_back(std::move(*d));
    }
    return out;
}

}  // namespace

Allowlist Allowlist::parse(std::string_view text, const std::string& file) {
    YamlDocument doc(text, file);
    doc.check_map(doc.root(), "allowlist", {"description", "processes", "executables", "mute_lof"});
    Allowlist a;
    for (const auto& [key, by_exe] : {std::pair{"processes", false}, std::pair{"executables", true}}) {
        const YAML::Node section = doc.root()[key];
        if (!section.IsDefined() || section.IsNull()) continue;
        doc.check_unique_keys(section, key);
        for (const auto& kv : section) {
            AllowRule r;
            r.subject = kv.first.Scalar();
            r.by_executable = by_exe;
            if (!by_exe && kv.second.IsMap()) {
                doc.check_map(kv.second, r.subject, {"exe", "allow"});
                const YAML::Node exe = kv.second["exe"], allow = kv.second["allow"];
                if (!exe.IsDefined()) throw doc.error(kv.second, r.subject, "a process given as a map needs exe: the executable it must run");
                if (exe.IsSequence()) {
                    for (const YAML::Node& e : exe) r.pinned_exes.push_back(doc.scalar(e, "exe"));
                } else {
                    r.pinned_exes.push_back(doc.scalar(exe, "exe"));
                }
                if (r.pinned_exes.empty()) throw doc.error(exe, "exe", "expected an executable path or glob, or a list of them");
                for (const std::string& p : r.pinned_exes)
                    if (p.empty() || p[0] != '/') throw doc.error(exe, "exe", "'" + p + "' is not an absolute path or glob");
                r.checks_destinations = allow.IsDefined() && !allow.IsNull();
                if (r.checks_destinations) r.allowed = destinations(doc, allow, r.subject);
            } else {
                r.allowed = destinations(doc, kv.second, r.subject);
            }
            r.file = file;
            r.line = static_cast<std::size_t>(kv.first.Mark().line) + 1;
            a.rules_.push_back(std::move(r));
        }
    }
    const YAML::Node mutes = doc.root()["mute_lof"];
    if (mutes.IsDefined() && !mutes.IsNull()) {
        if (!mutes.IsSequence()) throw doc.error(mutes, "mute_lof", "expected a list of {process or executable, destination}");
        for (const YAML::Node& m : mutes) {
            doc.check_map(m, "mute_lof entry", {"process", "executable", "destination"});
            const bool has_process = m["process"].IsDefined(), has_exe = m["executable"].IsDefined();
            if (has_process == has_exe) throw doc.error(m, "mute_lof", "give exactly one of process or executable");
            MuteRule r;
            r.by_executable = has_exe;
            r.subject = doc.scalar(has_exe ? m["executable"] : m["process"], has_exe ? "executable" : "process");
            if (m["destination"].IsDefined()) {
                std::string why;
                r.destination = parse_destination(doc.scalar(m["destination"], "destination"), &why);
                if (!r.destination) throw doc.error(m["destination"], "destination", why);
            }
            r.file = file;
            r.line = static_cast<std::size_t>(m.Mark().line) + 1;
            a.mutes_.push_back(std::move(r));
        }
    }
    return a;
}

void Allowlist::merge(const Allowlist& other) {
    rules_.insert(rules_.end(), other.rules_.begin(), other.rules_.end());
    mutes_.insert(mutes_.end(), other.mutes_.begin(), other.mutes_.end());
}

AllowVerdict Allowlist::check(std::string_view process_name, std::string_view exe, const Endpoint& dst) const {
    bool named = false;
    for (const AllowRule& r : rules_) {
        if (!r.checks_destinations || !subject_matches(r.subject, r.by_executable, process_name, exe)) continue;
        named = true;
        for (const Destination& d : r.allowed)
            if (destination_matches(d, dst)) return AllowVerdict::Allowed;
    }
    return named ? AllowVerdict::Violation : AllowVerdict::NoRules;
}

std::vector<const AllowRule*> Allowlist::rules_for(std::string_view process_name, std::string_view exe) const {
    std::vector<const AllowRule*> out;
    for (const AllowRule& r : rules_)
        if (r.checks_destinations && subject_matches(r.subject, r.by_executable, process_name, exe)) out.push_back(&r);
    return out;
}

std::string_view without_deleted_suffix(std::string_view exe) {
    constexpr std::string_view kDeleted = " (deleted)";
    if (exe.size() > kDeleted.size() && exe.substr(exe.size() - kDeleted.size()) == kDeleted)
        exe.remove_suffix(kDeleted.size());
    return exe;
}

const AllowRule* Allowlist::masquerade(std::string_view process_name, std::string_view exe) const {
    const std::string path(without_deleted_suffix(exe));
    const AllowRule* pinned = nullptr;
    for (const AllowRule& r : rules_) {
        if (r.by_executable || r.pinned_exes.empty() || r.subject != process_name) continue;
        for (const std::string& glob : r.pinned_exes)
            if (!path.empty() && fnmatch(glob.c_str(), path.c_str(), FNM_PATHNAME) == 0) return nullptr;
        if (pinned == nullptr) pinned = &r;
    }
    return pinned;
}

bool Allowlist::lof_muted(std::string_view process_name, std::string_view exe, const Endpoint& dst) const {
    for (const MuteRule& m : mutes_)
        if (subject_matches(m.subject, m.by_executable, process_name, exe) &&
            (!m.destination || destination_matches(*m.destination, dst)))
            return true;
    return false;
}

}  // namespace netlof

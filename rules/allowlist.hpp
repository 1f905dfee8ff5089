// Allowlists: which destinations a process may reach, in the notebook's shape
// (process name -> destinations) and what servers need beyond it:
//
//   processes:                      # by process name (comm, 15 characters at most from the kernel)
//     chrome.exe: [151.101.1.69, 172.217.16.195]
//     curl: ["10.0.0.0/8", "192.0.2.10:443", "[2001:db8::1]:8000-8100", "2001:db8::/32"]
//     chronyd:                      # the name pinned to its executable (one glob or a list)
//       exe: /usr/sbin/chronyd
//       allow: ["0.0.0.0/0:123"]    # optional: without it, only the identity is checked
//   executables:                    # by executable path, shell glob (fnmatch)
//     "/usr/lib/firefox/*": ["0.0.0.0/0:443", "[::/0]:443"]
//   mute_lof:                       # known-noisy pairs: no lof_anomaly alerts
//     - {process: backup, destination: 10.1.0.3}
//     - {executable: "/opt/agent/*"}
//
// A process that some rule names and that reaches a destination none of its
// rules allow is a violation; a process no rule names has no verdict here.
// A process name is whatever the process says (prctl, argv[0]): a name whose
// rules pin executables, run by any other executable, is a masquerade.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_address.hpp"

namespace netlof {

// One allowed destination: an address or CIDR block, and a port range.
struct Destination {
    int family = 4;                       // 4 or 6
    std::array<std::uint8_t, 16> addr{};  // network order; IPv4 in the first 4 bytes
    int prefix = 32;                      // bits that must match
    std::uint16_t port_lo = 0, port_hi = 65535;
    std::string text;                     // as written, for messages
};

// Parses "ADDR", "ADDR/PREFIX", "ADDR:PORT", "ADDR:LO-HI", "[V6ADDR]:PORT",
// "[V6ADDR/PREFIX]:LO-HI". On failure returns nullopt and says why in error.
std::optional<Destination> parse_destination(std::string_view text, std::string* error);

// A connection's destination; IPv4-mapped IPv6 addresses compare as IPv4.
struct Endpoint {
    IpAddress ip;
    std::uint16_t port = 0;
};
std::optional<Endpoint> parse_endpoint(std::string_view ip, std::uint16_t port);
// A record's destination; nullopt when its address is not known.
inline std::optional<Endpoint> endpoint_of(const IpAddress& ip, std::uint16_t port) {
    if (ip.family != 4 && ip.family != 6) return std::nullopt;
    return Endpoint{ip, port};
}
bool destination_matches(const Destination& d, const Endpoint& e);

struct AllowRule {
    std::string subject;     // process name, or executable glob
    bool by_executable = false;
    std::vector<std::string> pinned_exes;  // process-name rules: globs its executable must match
    bool checks_destinations = true;       // false: a pin alone (no allow list)
    std::vector<Destination> allowed;
    std::string file;
    std::size_t line = 0;
};

struct MuteRule {
    std::string subject;
    bool by_executable = false;
    std::optional<Destination> destination;  // none: every destination
    std::string file;
    std::size_t line = 0;
};

enum class AllowVerdict { NoRules, Allowed, Violation };

class Allowlist {
public:
    // Parses one file; unknown keys, bad addresses, ports and prefixes throw
    // InputError with the file, line and column.
    static Allowlist parse(std::string_view text, const std::string& file);
    // Adds another file's rules (a config may name several).
    void merge(const Allowlist& other);

    AllowVerdict check(std::string_view process_name, std::string_view exe, const Endpoint& dst) const;
    // The rules that judge this process's destinations (what a violation broke).
    std::vector<const AllowRule*> rules_for(std::string_view process_name, std::string_view exe) const;
    bool lof_muted(std::string_view process_name, std::string_view exe, const Endpoint& dst) const;
    // The rule pinning process_name's executable when exe matches none of the
    // name's pins (an unknown exe matches none); nullptr when the name is not
    // pinned or exe is one of its executables. A " (deleted)" suffix is not
    // held against a path: a package upgrade leaves running daemons so.
    const AllowRule* masquerade(std::string_view process_name, std::string_view exe) const;

    const std::vector<AllowRule>& rules() const { return rules_; }
    const std::vector<MuteRule>& mutes() const { return mutes_; }

private:
    std::vector<AllowRule> rules_;
    std::vector<MuteRule> mutes_;
};

// exe without the " (deleted)" /proc adds to a file unlinked while it runs.
std::string_view without_deleted_suffix(std::string_view exe);

}  // namespace netlof

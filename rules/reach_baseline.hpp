// What each executable reached while learning: the baseline that novelty
// alerts (new_process, new_destination, new_port) compare a connection with,
// and what `netlof allowlist suggest` turns into rules for review.
//
// A subject is a program (rules/program_identity.hpp): its executable (what
// a process cannot fake with prctl; its name when that is unknown), its unit,
// and its name when the executable is an interpreter. A destination
// is new when its network (the address's /24, or /64 for IPv6) was never
// reached by that subject; a port when that protocol and port were never
// used by it. A new address inside a known network joins silently.
//
// Some programs reach somewhere new all the time (a proxy, a package
// manager on a CDN). How often a subject met something new while learning is
// estimated as Good and Turing did for unseen species: the share of its
// connections whose network (or port) it reached only once. A subject whose
// estimate is at least kWanderingShare (and rests on at least
// kWanderingEvidence such one-off networks) wanders: its new networks (or
// ports) are expected, counted and not alerted. The estimate is fixed by
// learning: traffic after learning cannot make a subject wander. A learned
// executable under a process name it never ran as (a multi-call binary's
// other applet, a renamed copy of a known tool) is a new process unless its
// names wander the same way.
//
// A connection held far longer than any the subject made on that port while
// learning (a shell or tunnel riding a known program, a stolen session kept
// open) is its own finding: longer than kHoldFactor times the longest
// learned and by at least kHoldSlack seconds. A score cannot say this: the neighbours of a
// long connection are the slowest learned ones, themselves sparse.
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rules/allowlist.hpp"

namespace netlof {

class TextTable;
class BeaconWatch;

// One destination as the baseline keeps it.
struct ReachKey {
    std::array<std::uint8_t, 16> addr{};  // network order; IPv4 in the first 4 bytes
    std::uint8_t family = 4;              // 4 or 6
    std::uint8_t proto = 0;               // IPPROTO_TCP, IPPROTO_UDP, or 0 when unknown
    std::uint16_t port = 0;
    bool operator==(const ReachKey&) const = default;
    // The order of the members in turn, the address byte by byte, as the
    // defaulted <=> would give; compared 8 bytes at a time instead of through
    // memcmp (a learning pass looks every record up in these maps).
    std::strong_ordering operator<=>(const ReachKey& o) const {
        for (std::size_t at = 0; at < addr.size(); at += 8)
            if (const auto c = big_endian(at) <=> o.big_endian(at); c != 0) return c;
        if (const auto c = family <=> o.family; c != 0) return c;
        if (const auto c = proto <=> o.proto; c != 0) return c;
        return port <=> o.port;
    }

private:
    std::uint64_t big_endian(std::size_t at) const {
        std::uint64_t v;
        std::memcpy(&v, addr.data() + at, sizeof v);
        return std::endian::native == std::endian::little ? __builtin_bswap64(v) : v;
    }
};
// "tcp" -> IPPROTO_TCP, "udp" -> IPPROTO_UDP, anything else -> 0.
std::uint8_t proto_number(std::string_view proto);
ReachKey reach_key(const Endpoint& dst, std::string_view proto);
// (family, masked address): the network novelty compares.
using NetworkKey = std::pair<std::uint8_t, std::array<std::uint8_t, 16>>;
NetworkKey network_key(const ReachKey& k);
// "10.1.2.0/24", "2001:db8:0:1::/64": the network novelty compares.
std::string network_text(const ReachKey& k);
// "10.1.2.3:443", "[2001:db8::1]:53": as an allowlist writes a destination.
std::string destination_text(const ReachKey& k);
// "tcp/443", "udp/53", "port 80" (protocol unknown).
std::string port_text(const ReachKey& k);
// The same two appended to out, reusing its buffer (per-connection keys).
void append_network_text(std::string& out, const ReachKey& k);
void append_port_text(std::string& out, const ReachKey& k);

inline constexpr double kWanderingShare = 0.01;
inline constexpr double kHoldFactor = 10;
inline constexpr double kHoldSlack = 60;
// The longest a subject's connection may last before it is a long hold.
double hold_limit(double longest);
inline constexpr std::uint32_t kWanderingEvidence = 2;
inline constexpr double kReplaceWarmup = 3600;
inline constexpr double kReplaceSlack = 2;
inline constexpr std::size_t kMaxCadences = 8;

struct ReachProfile {
    std::vector<std::string> names;  // process names it ran under (sorted, unique, at most 16)
    std::vector<std::uint32_t> name_connections;  // connections under each name while learning (not saved)
    std::uint32_t names_once = 0;    // names learning met in one connection only
    // Exact destinations -> connections while learning (0: joined after).
    std::map<ReachKey, std::uint32_t> destinations;
    // Derived from destinations (see ReachBaseline::index()).
    std::map<NetworkKey, std::uint32_t> networks;
    std::map<std::pair<std::uint8_t, std::uint16_t>, std::uint32_t> ports;                    // (proto, port)
    std::uint64_t learned_connections = 0;
    double longest = 0;  // seconds: the longest connection learned (or reported since)
    // A pool client (an NTP client, a CDN fetcher) replaces a server now and
    // then: networks first met more than kReplaceWarmup after the subject's
    // first connection, over the time it was learned, are its replacement
    // rate; new networks at up to kReplaceSlack times that rate are its
    // normal (expected, counted). Its learned check-ins (interval, bytes) make
    // a new server's regular polling its normal too.
    double first_learned = 0, last_learned = 0;
    std::uint32_t late_networks = 0;
    std::vector<std::pair<double, double>> cadences;  // (median interval s, median bytes sent), at most kMaxCadences
    double replace_allowance = -1, allowance_at = 0;   // detection: new networks it may still meet (-1: full)
    std::map<std::pair<std::uint8_t, std::uint16_t>, double> longest_on_port;  // the same per (proto, port)
    bool wanders_networks = false, wanders_ports = false, wanders_names = false;
};

// New networks a day a subject that replaces servers may meet unalerted (0: it does not).
double replace_allowance_per_day(const ReachProfile& p);
// Does a beacon of (interval, bytes) match one of the subject's learned check-ins (within 25%)?
bool matches_cadence(const ReachProfile& p, double interval, double bytes);

// What observe() found new about one connection.
struct Novelty {
    bool new_subject = false;
    bool new_name = false;                           // a learned executable under a name learning never saw
    bool new_network = false, new_port = false;      // alert-worthy (the subject does not wander there)
    bool expected_network = false, expected_port = false, expected_name = false;  // new, but usual for a wandering subject
    bool replaced_network = false;  // new, but within the subject's learned replacement rate (expected_network too)
    bool unlearned = false;  // the baseline was full: the new entry was not kept
    bool learned_destination = false;  // this exact destination was reached while learning
    bool long_hold = false;  // held past hold_limit(longest)
    double longest = 0;      // the subject's longest before this connection (on its port, when it used it)
    bool longest_on_port = false;
    const ReachProfile* profile = nullptr;  // the subject's, after the update
};

class ReachBaseline {
public:
    // The subject key of a connection: the program it belongs to
    // (rules/program_identity.hpp).
    static std::string subject_of(std::string_view process_name, std::string_view exe, std::string_view unit = {});
    // The same into out, reusing its buffer.
    static void subject_into(std::string_view process_name, std::string_view exe, std::string_view unit,
                             std::string& out);

    explicit ReachBaseline(std::size_t max_destinations = 200000) : max_destinations_(max_destinations) {}

    // Learning: one connection of subject (run under name) to k, held duration
    // seconds, started at ts (0: unknown) sending bytes.
    void learn(const std::string& subject, std::string_view name, const ReachKey& k, double duration = 0, double ts = 0,
               double bytes = 0);
    // Recomputes the derived maps and the wandering flags (after learning or
    // loading), and lets go of what only learning needs.
    void index();
    // Detection: what is new about this connection; anything new joins the
    // baseline (counted 0), so each new pair is reported once, and a long
    // hold becomes the subject's longest.
    Novelty observe(std::string_view subject, std::string_view name, const ReachKey& k, double duration = 0,
                    double ts = 0);
    // Adds what another span of learning saw (then call index()): counts
    // add up, the longest connections are the longer, names join.
    void merge(const ReachBaseline& other);
    // Forgets what a subject reached in a network ("10.0.2.0/24"), or the
    // whole subject when network is empty (then call index()).
    void forget(std::string_view subject, std::string_view network);
    // Keeps only the subjects and destinations `known` has (then call index()).
    void keep_only(const ReachBaseline& known);
    // Restores one profile as serialized (then call index()).
    void restore(std::string subject, ReachProfile profile);

    const std::map<std::string, ReachProfile, std::less<>>& profiles() const { return profiles_; }
    std::size_t destinations() const { return destinations_; }
    std::uint64_t unlearned() const { return unlearned_; }  // new entries the bound kept out
    bool operator==(const ReachBaseline& o) const;

private:
    std::map<std::string, ReachProfile, std::less<>> profiles_;
    std::size_t destinations_ = 0;
    std::size_t max_destinations_;
    std::uint64_t unlearned_ = 0;
    // Learning: each (subject, destination)'s check-ins, for the cadences
    // (shared by copies; only learning adds to it).
    std::shared_ptr<BeaconWatch> checkins_;
};

// The baseline of a table of connection records (columns process_name,
// dst_ip, dst_port; exe, proto and duration when present). Rows whose destination does
// not parse are left out.
ReachBaseline learn_reach(const TextTable& table);
// The same a part at a time: each part's rows learned into `into` (a part
// that lacks one of the three columns adds nothing); into.index() after the last.
void learn_reach_rows(const TextTable& part, ReachBaseline& into);

// The baseline as an allowlist for an operator to review: one entry per
// process name, pinned to the executables it ran, allowing what it reached.
std::string suggest_allowlist(const ReachBaseline& baseline, std::string_view source);

}  // namespace netlof

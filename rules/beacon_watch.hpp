// Beaconing: a program checking in with one destination again and again at
// a steady interval with steady sizes, as implants call their controller.
//
// Measured as RITA (Active Countermeasures) measures dispersion, with robust
// statistics a few late or odd connections cannot move: over the pair's last
// kBeaconSamples connections, the intervals between their starts and the
// bytes each sent each get a regularity, 1 - MAD / median (clamped at 0; 1
// when all are equal). A pair is a beacon when both are at least
// kBeaconRegularity (half the intervals within 20% of their median, and half
// the sizes). It is judged at kBeaconMinConnections connections and each
// doubling after (12, 24, 48, ...), not at every connection: the largest of
// many overlapping looks would find regularity in random arrivals. Median
// intervals under kBeaconMinInterval are bursts, which the windows judge.
// (RITA's skewness parts are left out: over a couple of dozen intervals they
// are noise, and they hid steady beacons.) Each pair alerts once.
//
// Only destinations learning did not see are watched: a program's learned
// check-ins (a metrics agent every 10 s) are its normal. A program that
// wanders, whose new addresses novelty expects and does not alert, is where
// a beacon hides; a new destination of a program that does not wander is
// alerted by novelty, and its beaconing then says how it behaves.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "rules/reach_baseline.hpp"

namespace netlof {

inline constexpr std::size_t kBeaconSamples = 24;
inline constexpr std::size_t kBeaconMinConnections = 12;
inline constexpr double kBeaconMinInterval = 10;  // seconds
inline constexpr double kBeaconRegularity = 0.8;

struct BeaconScore {
    double interval_regularity = 0, size_regularity = 0;  // 1 - MAD / median, in [0, 1]
    double interval_median = 0, interval_mad = 0;          // seconds
    double size_median = 0, size_mad = 0;                  // bytes sent
    std::size_t connections = 0;
    bool beacon() const { return interval_regularity >= kBeaconRegularity && size_regularity >= kBeaconRegularity; }
};

// The regularity of these connection start times (any order) and bytes sent;
// nullopt for fewer than kBeaconMinConnections, more than kBeaconSamples, or
// a median interval under kBeaconMinInterval.
std::optional<BeaconScore> beacon_score(const double* starts, const double* bytes, std::size_t n);

// The watched pairs, bounded: at most max_pairs at once (the one quiet
// longest makes room; counted). Each holds kBeaconSamples connections
// (about 400 bytes).
class BeaconWatch {
public:
    explicit BeaconWatch(std::size_t max_pairs = 16384) : max_pairs_(max_pairs) {}
    // One connection of subject to dst that started at ts; the pair's score
    // the first time it is judged a beacon, else nullopt.
    std::optional<BeaconScore> add(std::string_view subject, const ReachKey& dst, double ts, double bytes_sent);
    std::uint64_t evictions() const { return evictions_; }
    std::size_t pairs() const { return pairs_.size(); }

private:
    struct Pair {
        std::array<double, kBeaconSamples> start{}, bytes{};
        std::size_t count = 0;  // connections seen (the ring holds the last kBeaconSamples)
        double last = 0;
        bool fired = false;
    };
    // Keyed by the subject, a NUL and the destination's bytes (built in key_,
    // so a lookup does not allocate).
    std::map<std::string, Pair, std::less<>> pairs_;
    std::string key_;
    std::size_t max_pairs_;
    std::uint64_t evictions_ = 0;
};

}  // namespace netlof

#include "rules/beacon_watch.hpp"

#include <algorithm>
#include <cmath>

namespace netlof {

namespace {

// Quantile by linear interpolation (numpy's default) of sorted v[0..n).
double quantile(const double* v, std::size_t n, double q) {
    const double at = q * static_cast<double>(n - 1);
    const auto lo = static_cast<std::size_t>(std::floor(at));
    const std::size_t hi = std::min(lo + 1, n - 1);
    return v[lo] + (v[hi] - v[lo]) * (at - static_cast<double>(lo));
}

struct Robust {
    double median = 0, mad = 0, regularity = 0;
};

// Sorts v[0..n) in place: median, MAD, and 1 - MAD / median clamped to
// [0, 1] (1 when both are 0: all equal).
Robust robust(double* v, std::size_t n) {
    std::sort(v, v + n);
    Robust r;
    r.median = quantile(v, n, 0.5);
    std::array<double, kBeaconSamples> dev{};
    for (std::size_t i = 0; i < n; ++i) dev[i] = std::abs(v[i] - r.median);
    std::sort(dev.begin(), dev.begin() + static_cast<std::ptrdiff_t>(n));
    r.mad = quantile(dev.data(), n, 0.5);
    r.regularity = r.median > 0 ? std::max(0.0, 1 - r.mad / r.median) : (r.mad == 0 ? 1.0 : 0.0);
    return r;
}

}  // namespace

std::optional<BeaconScore> beacon_score(const double* starts, const double* bytes, std::size_t n) {
    if (n < kBeaconMinConnections || n > kBeaconSamples) return std::nullopt;
    std::array<double, kBeaconSamples> t{}, gaps{}, sizes{};
    std::copy(starts, starts + n, t.begin());
    std::sort(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(n));
    for (std::size_t i = 1; i < n; ++i) gaps[i - 1] = t[i] - t[i - 1];
    std::copy(bytes, bytes + n, sizes.begin());
    const Robust interval = robust(gaps.data(), n - 1);
    if (interval.median < kBeaconMinInterval) return std::nullopt;
    const Robust size = robust(sizes.data(), n);
    BeaconScore s;
    s.interval_regularity = interval.regularity;
    s.size_regularity = size.regularity;
    s.interval_median = interval.median;
    s.interval_mad = interval.mad;
    s.size_median = size.median;
    s.size_mad = size.mad;
    s.connections = n;
    return s;
}

std::optional<BeaconScore> BeaconWatch::add(std::string_view subject, const ReachKey& dst, double ts, double bytes_sent) {
    key_.assign(subject);
    key_.push_back('\0');
    key_.append(reinterpret_cast<const char*>(dst.addr.data()), dst.addr.size());
    key_.push_back(static_cast<char>(dst.family));
    key_.push_back(static_cast<char>(dst.proto));
    key_.push_back(static_cast<char>(dst.port >> 8));
    key_.push_back(static_cast<char>(dst.port & 0xff));
    auto it = pairs_.find(key_);
    if (it == pairs_.end()) {
        if (pairs_.size() >= max_pairs_) {
            const auto quietest = std::min_element(pairs_.begin(), pairs_.end(),
                                                   [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
            pairs_.erase(quietest);
            ++evictions_;
        }
        it = pairs_.emplace(key_, Pair{}).first;
    }
    Pair& p = it->second;
    p.start[p.count % kBeaconSamples] = ts;
    p.bytes[p.count % kBeaconSamples] = bytes_sent;
    ++p.count;
    p.last = std::max(p.last, ts);
    // Judged at 12, 24, 48, ... connections.
    const bool checkpoint = p.count >= kBeaconMinConnections && p.count % kBeaconMinConnections == 0 &&
                            ((p.count / kBeaconMinConnections) & (p.count / kBeaconMinConnections - 1)) == 0;
    if (p.fired || !checkpoint) return std::nullopt;
    const std::optional<BeaconScore> s = beacon_score(p.start.data(), p.bytes.data(), std::min(p.count, kBeaconSamples));
    if (!s || !s->beacon()) return std::nullopt;
    p.fired = true;
    return s;
}

}  // namespace netlof

// Beacon scores against numpy's quantiles and medians, and the watch's
// once-per-pair alert and bound.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "rules/beacon_watch.hpp"

using namespace netlof;

namespace {

ReachKey key(const char* ip, std::uint16_t port) { return reach_key(*parse_endpoint(ip, port), "tcp"); }

}  // namespace

TEST_CASE("beacon score: regularity of intervals and sizes, 1 - MAD / median, as numpy computes them", "[beacon]") {
    // numpy: m = np.median(v); mad = np.median(np.abs(v - m)); 1 - mad / m.
    const std::vector<double> starts = {0, 30, 61, 90, 120, 165, 195, 223, 253, 284, 314, 346};
    const std::vector<double> bytes = {300, 305, 301, 310, 300, 302, 900, 303, 304, 306, 305, 90};
    const auto s = beacon_score(starts.data(), bytes.data(), starts.size());
    REQUIRE(s.has_value());
    CHECK(s->interval_median == 30.0);
    CHECK(s->interval_mad == 1.0);
    CHECK(s->interval_regularity == Approx(0.9666666666666667).epsilon(1e-12));
    CHECK(s->size_median == 303.5);
    CHECK(s->size_mad == 2.5);
    CHECK(s->size_regularity == Approx(0.9917627677100495).epsilon(1e-12));
    CHECK(s->connections == 12);
    CHECK(s->beacon());  // one late check-in and two odd sizes do not hide it
    // The order connections arrive in does not matter.
    std::vector<double> shuffled = starts, shuffled_bytes = bytes;
    std::swap(shuffled[2], shuffled[7]);
    std::swap(shuffled_bytes[2], shuffled_bytes[7]);
    CHECK(beacon_score(shuffled.data(), shuffled_bytes.data(), 12)->interval_regularity == s->interval_regularity);
    // Half the intervals off by more than a fifth: not steady.
    const std::vector<double> loose = {0, 30, 70, 90, 140, 160, 210, 230, 280, 300, 350, 370};
    CHECK_FALSE(beacon_score(loose.data(), bytes.data(), 12)->beacon());
    // Too few, or too fast to be a check-in.
    CHECK_FALSE(beacon_score(starts.data(), bytes.data(), 11).has_value());
    std::vector<double> fast;
    for (int i = 0; i < 12; ++i) fast.push_back(i * 2.0);
    CHECK_FALSE(beacon_score(fast.data(), bytes.data(), 12).has_value());
}

TEST_CASE("beacon watch: a jittered beacon alerts once; Poisson arrivals do not, even of one size", "[beacon]") {
    std::mt19937 rng(7);
    BeaconWatch w;
    int alerts = 0;
    std::normal_distribution<double> jitter(0, 0.5);
    std::uniform_int_distribution<int> size(300, 310);
    for (int i = 0; i < 40; ++i)
        if (const auto s = w.add("/usr/bin/app", key("185.220.101.7", 443), 1000 + 60.0 * i + jitter(rng), size(rng))) {
            ++alerts;
            CHECK(i + 1 == static_cast<int>(kBeaconMinConnections));  // as soon as it can be judged
            CHECK(s->interval_regularity > 0.95);
            CHECK(s->interval_median == Approx(60).margin(1));
        }
    CHECK(alerts == 1);
    // Traffic that merely repeats: exponential gaps (mean 60 s), constant
    // sizes (the sizes cannot tell it from a beacon; the intervals must).
    for (unsigned seed = 1; seed <= 50; ++seed) {
        std::mt19937 r(seed);
        std::exponential_distribution<double> gap(1.0 / 60);
        BeaconWatch quiet;
        double t = 0;
        for (int i = 0; i < 1000; ++i) {
            t += gap(r);
            INFO("seed " << seed << ", connection " << i);
            CHECK_FALSE(quiet.add("/usr/sbin/nginx", key("10.0.1.14", 8080), t, 2500).has_value());
        }
    }
}

TEST_CASE("beacon watch: pairs are per program and destination, bounded, the quietest let go and counted", "[beacon]") {
    BeaconWatch w(2);
    w.add("/a", key("192.0.2.1", 443), 10, 100);
    w.add("/b", key("192.0.2.1", 443), 20, 100);
    w.add("/a", key("192.0.2.1", 443), 40, 100);
    CHECK(w.pairs() == 2);
    w.add("/a", key("192.0.2.1", 444), 50, 100);  // a third pair: /b (quiet since 20) makes room
    CHECK(w.pairs() == 2);
    CHECK(w.evictions() == 1);
    // /a's pair kept its history: ten more steady connections make twelve.
    std::optional<BeaconScore> s;
    for (int i = 0; i < 10; ++i) s = w.add("/a", key("192.0.2.1", 443), 70 + 30.0 * i, 100);
    REQUIRE(s.has_value());
    CHECK(s->connections == 12);
}

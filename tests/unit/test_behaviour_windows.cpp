#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "common/text_table.hpp"
#include "rules/behaviour_windows.hpp"

using namespace netlof;

namespace {

const ReachKey kDb = reach_key(*parse_endpoint("10.0.3.10", 8086), "tcp");

// An agent reporting 2,500 bytes every 10 s for two hours, from t0.
TextTable agent(double t0) {
    std::string csv = "process_name,exe,dst_ip,ts_end,bytes_sent\n";
    for (int i = 0; i < 720; ++i) csv += "agent,/usr/bin/agent,10.0.3.10," + std::to_string(t0 + 5 + i * 10.0) + ",2500\n";
    return TextTable::parse(csv, "r.csv");
}

}  // namespace

TEST_CASE("windows: learned sums per program over one and ten minutes", "[windows]") {
    const WindowBaseline b = learn_windows(agent(1764000000));
    REQUIRE(b.count("/usr/bin/agent") == 1);
    const LearnedWindows& w = b.at("/usr/bin/agent");
    CHECK(w[0][0].mean == 15000);  // 6 reports a minute
    CHECK(w[0][0].sd == 0);
    CHECK(w[0][1].max == 6);
    CHECK(w[1][0].mean == 150000);
    CHECK(w[1][2].max == 1);  // one network
    // The limit: the mean plus 8 sd, 1.25 times the largest, and the floor, whichever is highest.
    CHECK(window_limit(w[1][0], WindowMetric::BytesSent) == 187500);
    CHECK(window_limit(w[0][1], WindowMetric::Connections) == kFloor[1]);
    CHECK(window_limit({100, 10, 150}, WindowMetric::BytesSent) == kFloor[0]);
    CHECK(window_limit({100000, 10000, 150000}, WindowMetric::BytesSent) == 187500);
    CHECK(window_limit({100000, 20000, 150000}, WindowMetric::BytesSent) == 260000);
}

TEST_CASE("windows: a quiet program's extra uploads alert once per window; its usual traffic never", "[windows]") {
    const double t0 = 1764000000;
    const WindowBaseline b = learn_windows(agent(t0));
    WindowWatch watch;
    std::vector<WindowFinding> found;
    const auto add = [&](double ts, std::uint64_t bytes) {
        for (const WindowFinding& f : watch.add(b, "/usr/bin/agent", ts, bytes, kDb)) found.push_back(f);
    };
    // Two more hours as learned: nothing.
    for (int i = 0; i < 720; ++i) add(t0 + 7200 + 5 + i * 10.0, 2500);
    CHECK(found.empty());
    // Then, between reports, 20 uploads of three times a report in one ten-minute window.
    const double w = 600 * std::floor((t0 + 14400) / 600 + 1);
    for (int i = 0; i < 60; ++i) {
        add(w + 5 + i * 10.0, 2500);
        if (i < 20) add(w + 7 + i * 10.0, 7500);
    }
    // Within each minute that is little; over ten minutes, more bytes and
    // more connections (80) than learning ever saw (60).
    REQUIRE(found.size() == 2);
    for (const WindowFinding& f : found) CHECK(f.seconds == 600);
    CHECK(found[0].metric == WindowMetric::BytesSent);
    CHECK(found[0].value > 187500);
    CHECK(found[0].learned.mean == 150000);
    CHECK(found[1].metric == WindowMetric::Connections);
    CHECK(found[1].limit == 75);
}

TEST_CASE("windows: a burst of connections and a fan-out over many networks", "[windows]") {
    const WindowBaseline b = learn_windows(agent(1764000000));
    WindowWatch watch;
    std::vector<WindowFinding> found;
    for (int i = 0; i < 100; ++i)  // 100 tiny connections to 100 networks in one minute
        for (const WindowFinding& f : watch.add(b, "/usr/bin/agent", 1764100000 + i * 0.5, 10,
                                                reach_key(*parse_endpoint("10." + std::to_string(i) + ".0.1", 80), "tcp")))
            found.push_back(f);
    std::set<std::pair<WindowMetric, double>> metrics;
    for (const WindowFinding& f : found) metrics.insert({f.metric, f.seconds});
    CHECK(metrics == std::set<std::pair<WindowMetric, double>>{{WindowMetric::Connections, 60},
                                                               {WindowMetric::Networks, 60},
                                                               {WindowMetric::Connections, 600},
                                                               {WindowMetric::Networks, 600}});
}

TEST_CASE("windows: a program learning never saw is held to the limits for unlearned programs; the table is bounded",
          "[windows]") {
    const WindowBaseline none;
    WindowWatch watch(2);
    CHECK(watch.add(none, "/tmp/x", 1764000000, 60u << 20, kDb).empty());
    const std::vector<WindowFinding> f = watch.add(none, "/tmp/x", 1764000001, 8u << 20, kDb);
    REQUIRE(f.size() == 2);  // the minute and the ten minutes
    for (const WindowFinding& x : f) CHECK(x.limit == kUnlearned[0]);
    watch.add(none, "/a", 1764000002, 1, kDb);
    watch.add(none, "/b", 1764000003, 1, kDb);  // a third program: the quietest goes
    CHECK(watch.evictions() == 1);
}

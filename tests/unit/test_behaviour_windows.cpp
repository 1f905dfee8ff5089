#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <fmt/core.h>
#include <set>
#include <vector>

#include "common/text_table.hpp"
#include "rules/behaviour_windows.hpp"

using namespace netlof;

namespace {

const ReachKey kDb = reach_key(*parse_endpoint("10.0.3.10", 8086), "tcp");

// An agent reporting 2,500 bytes every 10 s for two hours, from t0.
TextTable agent(double t0) {
    std::string csv = "process_name,exe,dst_ip,dst_port,proto,ts_end,bytes_sent\n";
    for (int i = 0; i < 720; ++i)
        csv += "agent,/usr/bin/agent,10.0.3.10,8086,tcp," + std::to_string(t0 + 5 + i * 10.0) + ",2500\n";
    return TextTable::parse(csv, "r.csv");
}

}  // namespace

TEST_CASE("windows: learned sums per program over one and ten minutes", "[windows]") {
    const double t0 = 1764000000;  // 16:00 UTC
    const WindowBaseline b = learn_windows(agent(t0));
    REQUIRE(b.count("/usr/bin/agent\t:tcp/8086") == 1);  // the program's service
    REQUIRE(b.count("/usr/bin/agent\t:tcp/8086 10.0.3.0/24") == 1);  // and its destination on it
    const LearnedWindows& w = b.at("/usr/bin/agent\t:tcp/8086 10.0.3.0/24");
    // Two hours from 16:00: the one-minute windows strictly inside the span, by hour of the day.
    CHECK(w.whole[0][16] == 59);
    CHECK(w.whole[0][17] == 59);  // the last record at 17:59:55
    CHECK(w.whole[0][3] == 0);
    CHECK(w.sums[0][0][16].sum == 59 * 15000.0);
    CHECK(w.sums[0][0][16].active == 59);
    std::size_t hours = 0;
    const WindowLimit minute = learned_limit(w, 0, WindowMetric::BytesSent, t0 + 1800, &hours);
    CHECK(hours == 3);  // its hour and either side
    CHECK(minute.mean == 15000);  // 6 reports a minute
    CHECK(minute.sd == 0);
    CHECK(learned_limit(w, 0, WindowMetric::Connections, t0 + 1800).max == 6);
    CHECK(learned_limit(w, 1, WindowMetric::BytesSent, t0 + 1800).mean == 150000);
    CHECK(learned_limit(w, 1, WindowMetric::Networks, t0 + 1800).max == Approx(1.0).epsilon(0.01));  // one network
    // An hour learning never saw: every hour learned stands in.
    learned_limit(w, 0, WindowMetric::BytesSent, t0 + 12 * 3600, &hours);
    CHECK(hours == 24);
    // The limit: the mean plus 8 sd, 1.25 times the largest, and the floor, whichever is highest.
    CHECK(window_limit(learned_limit(w, 1, WindowMetric::BytesSent, t0), WindowMetric::BytesSent) == 187500);
    CHECK(window_limit(learned_limit(w, 0, WindowMetric::Connections, t0), WindowMetric::Connections) == kFloor[1]);
    CHECK(window_limit({100, 10, 150}, WindowMetric::BytesSent) == kFloor[0]);
    CHECK(window_limit({100000, 10000, 150000}, WindowMetric::BytesSent) == 187500);
    CHECK(window_limit({100000, 20000, 150000}, WindowMetric::BytesSent) == 260000);
}

TEST_CASE("windows: learning is bounded by programs, not by connections", "[windows]") {
    // 100,000 connections of one program and one each of three more, with room for two programs.
    std::string csv = "process_name,exe,dst_ip,ts_end,bytes_sent\n";
    for (int i = 0; i < 100000; ++i) csv += "agent,/usr/bin/agent,10.0.3.10," + std::to_string(1764000000 + i * 0.05) + ",100\n";
    for (const char* p : {"a", "b", "c"}) csv += std::string(p) + ",/usr/bin/" + p + ",10.0.3.10,1764004000,100\n";
    WindowLearner learner(2);
    learner.add(TextTable::parse(csv, "r.csv"));
    const WindowBaseline b = learner.finish();
    CHECK(b.size() == 2);  // agent's service and its destination
    CHECK(learner.programs_left_out() == 6);  // a, b and c: both of each
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
    CHECK(found[0].hours == kDayHours);  // 20:00: learning never saw those hours
    CHECK(found[1].metric == WindowMetric::Connections);
    CHECK(found[1].limit == 75);
}

TEST_CASE("windows: a fan-out over many networks", "[windows]") {
    const WindowBaseline b = learn_windows(agent(1764000000));
    WindowWatch watch;
    std::vector<WindowFinding> found;
    for (int i = 0; i < 100; ++i)  // 100 tiny connections to 100 networks in one minute
        for (const WindowFinding& f : watch.add(b, "/usr/bin/agent", 1764100000 + i * 0.5, 10,
                                                reach_key(*parse_endpoint("10." + std::to_string(i) + ".0.1", 8086), "tcp")))
            found.push_back(f);
    std::set<std::pair<WindowMetric, double>> metrics;
    for (const WindowFinding& f : found) metrics.insert({f.metric, f.seconds});
    // Networks per service; each network's own connections are one.
    CHECK(metrics == std::set<std::pair<WindowMetric, double>>{{WindowMetric::Networks, 60}, {WindowMetric::Networks, 600}});
}

TEST_CASE("windows: a program learning never saw is held to the limits for unlearned programs; the table is bounded",
          "[windows]") {
    const WindowBaseline none;
    WindowWatch watch(4);  // two programs: each watched per destination and per service
    for (int i = 0; i < 9; ++i) CHECK(watch.add(none, "/tmp/x", 1764000000 + i, 8u << 20, kDb).empty());
    const std::vector<WindowFinding> f = watch.add(none, "/tmp/x", 1764000009, 8u << 20, kDb);
    REQUIRE(f.size() == 2);  // the minute and the ten minutes: 72 MiB beside the largest
    for (const WindowFinding& x : f) CHECK(x.limit == kUnlearned[0]);
    watch.add(none, "/a", 1764000002, 1, kDb);
    watch.add(none, "/b", 1764000003, 1, kDb);  // a third program: the quietest two windows go
    CHECK(watch.evictions() == 2);
}

namespace {

// A table of (ts_end, bytes) connections of one program to one address.
TextTable connections(const std::vector<std::pair<double, double>>& c) {
    std::string csv = "process_name,exe,dst_ip,dst_port,proto,ts_end,bytes_sent\n";
    for (const auto& [ts, bytes] : c)
        csv += "web,/usr/sbin/web,10.0.3.10,8086,tcp," + fmt::format("{:.3f}", ts) + "," + fmt::format("{:.0f}", bytes) + "\n";
    return TextTable::parse(csv, "r.csv");
}

// One day from midnight (UTC): 100 connections a minute from 09:00 to 18:00,
// 10 a minute otherwise, each of 1,000 bytes; and a job at 02:00 making 300
// connections a minute for ten minutes.
std::vector<std::pair<double, double>> a_day(double midnight) {
    std::vector<std::pair<double, double>> c;
    for (int minute = 0; minute < 1440; ++minute) {
        const int n = minute >= 9 * 60 && minute < 18 * 60 ? 100 : 10;
        for (int i = 0; i < n; ++i) c.emplace_back(midnight + minute * 60 + (i + 0.5) * 60.0 / n, 1000);
        if (minute >= 120 && minute < 130)
            for (int i = 0; i < 300; ++i) c.emplace_back(midnight + minute * 60 + (i + 0.25) * 0.2, 10);
    }
    return c;
}

}  // namespace

TEST_CASE("windows: the day's rhythm: the afternoon's level is no burst at 14:00 but is at 04:00; a job at its hour is normal",
          "[windows]") {
    const double midnight = 1764547200;  // 2025-12-01T00:00:00Z
    const WindowBaseline b = learn_windows(connections(a_day(midnight)));
    const double day2 = midnight + 86400;
    WindowWatch watch;
    std::vector<WindowFinding> found;
    const auto replay = [&](const std::vector<std::pair<double, double>>& c) {
        found.clear();
        for (const auto& [ts, bytes] : c)
            for (const WindowFinding& f : watch.add(b, "/usr/sbin/web", ts, static_cast<std::uint64_t>(bytes), kDb))
                found.push_back(f);
    };
    // The same day again: nothing, the 02:00 job included.
    replay(a_day(day2));
    CHECK(found.empty());
    // The afternoon's 100 a minute at 04:00 on day 3: ten times that hour's level.
    std::vector<std::pair<double, double>> night;
    for (int i = 0; i < 100; ++i) night.emplace_back(day2 + 86400 + 4 * 3600 + 60 + i * 0.6, 1000);
    replay(night);
    const auto burst = std::find_if(found.begin(), found.end(), [](const WindowFinding& f) {
        return f.metric == WindowMetric::Connections && f.seconds == 60;
    });
    REQUIRE(burst != found.end());
    CHECK(burst->hours == 3);
    CHECK(burst->learned.mean == Approx(10).epsilon(0.01));
    // The 02:00 job's burst at 15:00: far beyond the afternoon's own.
    std::vector<std::pair<double, double>> job;
    for (int i = 0; i < 400; ++i) job.emplace_back(day2 + 86400 + 15 * 3600 + 60 + i * 0.1, 10);
    replay(job);
    CHECK(!found.empty());
}

TEST_CASE("windows: one large connection is not a volume spike; many medium ones are", "[windows]") {
    const double t0 = 1764000000;
    const WindowBaseline b = learn_windows(agent(t0));
    WindowWatch watch;
    const double w = 600 * std::floor((t0 + 14400) / 600 + 1);
    // One 50 MB upload beside the usual reports: its own bytes are LOF's to judge.
    CHECK(watch.add(b, "/usr/bin/agent", w + 5, 50u << 20, kDb).empty());
    // Forty uploads of 20 KB within a minute of the next window: 780 KB beside the largest.
    std::size_t spikes = 0;
    for (int i = 0; i < 40; ++i)
        for (const WindowFinding& f : watch.add(b, "/usr/bin/agent", w + 600 + 1 + i * 1.4, 20000, kDb))
            spikes += f.metric == WindowMetric::BytesSent;
    CHECK(spikes == 2);  // the minute and the ten minutes
}

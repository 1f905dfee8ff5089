// The report's numbers: alert lines parsed (and refused with their line and
// field), time buckets, busiest processes apart and the rest summed, top
// destinations, the score histogram.
#include <catch2/catch.hpp>
#include <numeric>

#include "common/diagnostic.hpp"
#include "tests/test_support.hpp"
#include "userspace/outputs/falco_json.hpp"
#include "userspace/report/report_data.hpp"

using namespace netlof;

namespace {

ConnectionRecord record(const std::string& process, const char* dst, std::uint16_t port, double ts_end,
                        std::uint64_t sent = 100, std::uint64_t received = 1000) {
    ConnectionRecord r;
    r.process_name = process;
    r.proto = "tcp";
    r.dst_ip = test::ip(dst);
    r.dst_port = port;
    r.ts_end = ts_end;
    r.bytes_sent = sent;
    r.bytes_received = received;
    return r;
}

std::string alert_json(const std::string& time, const std::string& rule, const std::string& process) {
    return R"({"time":")" + time + R"(","rule":")" + rule + R"(","priority":"Notice","source":"netlof","hostname":"h",)"
           R"("output":"what happened","output_fields":{"proc.name":")" + process + "\"}}\n";
}

Diagnostic refusal(const std::string& text) {
    return test::diagnostic_of([&] { parse_alert_lines(text, "alerts.jsonl"); });
}

}  // namespace

TEST_CASE("report: alert times read back what the alert writer writes", "[unit][report]") {
    for (double t : {0.0, 1764400000.0, 1764400000.25, 1764486399.999999}) {
        const std::optional<double> back = parse_iso8601_utc(iso8601_utc(t));
        REQUIRE(back);
        CHECK(*back == Approx(t).margin(1e-6));
    }
    for (const char* bad : {"", "2026-11-30 03:12:00Z", "2026-11-30T03:12:00", "2026-13-30T03:12:00Z",
                            "2026-11-30T03:12:00.Z", "2026-11-30T03:12:0xZ", "yesterday"})
        CHECK_FALSE(parse_iso8601_utc(bad));
}

TEST_CASE("report: alert lines parsed, bad ones refused with their line and field", "[unit][report]") {
    const std::string text = alert_json("2026-11-30T01:00:00.000000Z", "new_process", "miner") + "\n" +
                             alert_json("2026-11-30T01:00:05.500000Z", "lof_anomaly", "nginx");
    const std::vector<AlertLine> alerts = parse_alert_lines(text, "alerts.jsonl");
    REQUIRE(alerts.size() == 2);  // the blank line between them is skipped
    CHECK(alerts[0].rule == "new_process");
    CHECK(alerts[0].process == "miner");
    CHECK(alerts[1].time - alerts[0].time == Approx(5.5));
    CHECK(alerts[1].output == "what happened");

    Diagnostic d = refusal(text + "{not json\n");
    CHECK(d.file == "alerts.jsonl");
    CHECK(d.line == 4);
    d = refusal(alert_json("2026-11-30T01:00:00Z", "r", "p") + "[1,2]\n");
    CHECK(d.line == 2);
    d = refusal(R"({"time":"2026-11-30T01:00:00Z","priority":"Notice","output":"x"})" "\n");
    CHECK(d.line == 1);
    CHECK(d.field == "rule");
    d = refusal(alert_json("30/11/2026", "r", "p"));
    CHECK(d.field == "time");
}

TEST_CASE("report: buckets, busiest processes apart, the rest summed, top destinations", "[unit][report]") {
    std::vector<ConnectionRecord> records;
    const double t0 = 1764400000;
    // Ten processes; process i makes 10 * (10 - i) connections over 600 s.
    for (int i = 0; i < 10; ++i)
        for (int c = 0; c < 10 * (10 - i); ++c)
            records.push_back(record("p" + std::to_string(i), c % 4 == 0 ? "192.0.2.2" : "192.0.2.1", 443,
                                     t0 + 600.0 * c / (10 * (10 - i))));
    ReportLimits limits;
    limits.series = 4;
    limits.destinations_each = 1;
    const ReportData d = build_report_data(records, {}, nullptr, 0, limits);
    CHECK(d.records == records.size());
    CHECK(d.process_count == 10);
    CHECK(d.last - d.first == Approx(594));
    CHECK(d.bucket_s == 5);  // 594 s in at most 120 buckets
    CHECK(d.bucket_starts.size() == 119);
    REQUIRE(d.processes.size() == 4);
    CHECK(d.processes[0].name == "p0");
    CHECK(d.processes[2].name == "p2");
    CHECK(d.processes[3].name == "other processes");
    std::uint64_t total = 0;
    for (const ProcessSeries& s : d.processes) {
        total += s.total_connections;
        CHECK(std::accumulate(s.connections.begin(), s.connections.end(), 0.0) == Approx(s.total_connections));
        CHECK(s.total_bytes == s.total_connections * 1100);
    }
    CHECK(total == records.size());
    CHECK(d.processes[3].total_connections == 70 + 60 + 50 + 40 + 30 + 20 + 10);
    REQUIRE(d.destinations.size() == 6);
    CHECK(d.destinations[0].process == "p0");
    CHECK(d.destinations[0].distinct == 2);
    REQUIRE(d.destinations[0].top.size() == 1);
    CHECK(d.destinations[0].top[0].address == "192.0.2.1:443/tcp");
    CHECK(d.destinations[0].top[0].connections == 75);
    CHECK_FALSE(d.scores);
}

TEST_CASE("report: alerts by rule and in time order; the histogram counts every score", "[unit][report]") {
    std::vector<ConnectionRecord> records;
    std::vector<double> scores;
    for (int i = 0; i < 1000; ++i) {
        records.push_back(record("svc", "192.0.2.1", 80, 1764400000 + i));
        scores.push_back(i < 990 ? 1.0 + i / 10000.0 : 50.0 + i);
    }
    std::vector<AlertLine> alerts(3);
    alerts[0] = {1764400500, "new_port", "Notice", "svc", "b"};
    alerts[1] = {1764400100, "lof_anomaly", "Warning", "svc", "a"};
    alerts[2] = {1764400900, "lof_anomaly", "Warning", "svc", "c"};
    const ReportData d = build_report_data(records, alerts, &scores, 20.0);
    REQUIRE(d.alerts.size() == 3);
    CHECK(d.alerts[0].output == "a");
    CHECK(d.alerts[2].output == "c");
    REQUIRE(d.alerts_by_rule.size() == 2);
    CHECK(d.alerts_by_rule[0] == std::pair<std::string, std::uint64_t>{"lof_anomaly", 2});
    REQUIRE(d.scores);
    CHECK(d.scores->scored == 1000);
    CHECK(d.scores->above_threshold == 10);
    CHECK(std::accumulate(d.scores->counts.begin(), d.scores->counts.end(), 0.0) == 1000);
    CHECK(d.scores->edges.size() == d.scores->counts.size() + 1);
    CHECK(d.scores->edges.front() <= std::log10(1.0));
    CHECK(d.scores->edges.back() >= std::log10(1049.0) - 1e-12);
    CHECK(d.scores->max == 1049);
}

TEST_CASE("report: bucket widths are round and bounded", "[unit][report]") {
    CHECK(bucket_width(0, 120) == 1);
    CHECK(bucket_width(119, 120) == 1);
    CHECK(bucket_width(600, 120) == 10);
    CHECK(bucket_width(86400, 120) == 900);
    CHECK(bucket_width(30 * 86400, 120) == 43200);
    CHECK(30 * 86400 / bucket_width(30 * 86400, 120) < 120);
    CHECK(3650 * 86400 / bucket_width(3650 * 86400, 120) <= 120);
}

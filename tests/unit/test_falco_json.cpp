#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/test_support.hpp"
#include "userspace/engine/alert_folder.hpp"
#include "userspace/outputs/falco_json.hpp"

using namespace netlof;
using test::violation;

TEST_CASE("alerts keep Falco's shape and carry record, lof, threshold, why and count", "[alerts]") {
    Alert a = violation(1700000000.5);
    a.rule = Rule::LofAnomaly;
    a.lof = 3.2;
    a.threshold = 1.36;
    a.why = {"bytes_sent 50000 against a neighbour median of 480", "dst_ip '203.0.113.9' never seen in training"};
    const std::string line = format_alert(a, "web-1");
    REQUIRE(line.back() == '\n');
    const auto j = nlohmann::json::parse(line);
    CHECK(j["time"] == "2023-11-14T22:13:20.500000Z");
    CHECK(j["rule"] == "lof_anomaly");
    CHECK(j["priority"] == "Warning");
    CHECK(j["source"] == "netlof");
    CHECK(j["hostname"] == "web-1");
    CHECK(j["output_fields"]["proc.name"] == "curl");
    CHECK(j["output_fields"]["fd.sip"] == "203.0.113.9");
    CHECK(j["output_fields"]["fd.sport"] == 443);
    CHECK(j["record"]["bytes_sent"] == 50000);
    CHECK(j["lof"] == 3.2);
    CHECK(j["threshold"] == 1.36);
    CHECK(j["why"].size() == 2);
    CHECK(j["count"] == 1);
    const std::string out = j["output"];
    for (const char* part : {"curl", "pid 77", "/usr/bin/curl", "203.0.113.9:443", "50000 bytes sent", "1.500 s", "lof 3.2",
                             "threshold 1.36", "neighbour median of 480"})
        CHECK(out.find(part) != std::string::npos);
}

TEST_CASE("sensor_drops alerts carry counts by cause in Falco's shape", "[alerts]") {
    SensorDrops d;
    d.since = 1700000000;
    d.time = 1700000010;
    d.ring_buffer_full = 795;
    d.sockets_map_full = 5;
    d.missed_runs = 3;
    const nlohmann::json j = nlohmann::json::parse(format_sensor_drops(d, "host1"));
    CHECK(j["rule"] == "sensor_drops");
    CHECK(j["priority"] == "Error");
    CHECK(j["source"] == "netlof");
    CHECK(j["hostname"] == "host1");
    CHECK(j["time"] == "2023-11-14T22:13:30.000000Z");
    CHECK(j["count"] == 803);
    CHECK(j["output_fields"]["netlof.drops.ring_buffer_full"] == 795);
    CHECK(j["output_fields"]["netlof.drops.sockets_map_full"] == 5);
    CHECK(j["output_fields"]["netlof.drops.missed_program_runs"] == 3);
    CHECK(j["output_fields"]["netlof.drops.window_s"] == 10.0);
    CHECK(j["output"].get<std::string>().rfind("netlof lost 803 events in 10.0 s (ring buffer full 795", 0) == 0);
    // What to do about it: sizes for capacity drops; nothing for runs the kernel skipped.
    CHECK(sensor_drops_output(d).find("raise sensor.ringbuf_kib") != std::string::npos);
    SensorDrops skipped;
    skipped.missed_runs = 2;
    CHECK(sensor_drops_output(skipped).find("raise") == std::string::npos);
    CHECK(sensor_drops_output(skipped).find("no setting prevents these") != std::string::npos);
}

TEST_CASE("sensor_drops: capacity drops are always an alert line; skipped runs above 0.1% of events", "[alerts]") {
    SensorDrops d;
    d.events = 40000;
    d.missed_runs = 12;  // 0.03%: logged and counted, not an alert line
    CHECK_FALSE(sensor_drops_alerted(d));
    d.missed_runs = 41;
    CHECK(sensor_drops_alerted(d));
    d.missed_runs = 1;
    d.ring_buffer_full = 1;
    CHECK(sensor_drops_alerted(d));
    SensorDrops bad;
    bad.events = 1000000;
    bad.malformed = 1;
    CHECK(sensor_drops_alerted(bad));
    SensorDrops idle;  // skipped runs and nothing handed over: all were lost
    idle.missed_runs = 1;
    CHECK(sensor_drops_alerted(idle));
    CHECK(nlohmann::json::parse(format_sensor_drops(d, "h"))["output_fields"]["netlof.events"] == 40000);
}

TEST_CASE("a masquerade names both executables in output and output_fields, and folds per executable", "[alerts]") {
    Alert a;
    a.time = 1764100000;
    a.rule = Rule::ProcessMasquerade;
    a.priority = Priority::Warning;
    a.record.process_name = "chronyd";
    a.record.exe = "/tmp/x";
    a.record.dst_ip = test::ip("192.0.2.1");
    a.expected_exes = {"/usr/sbin/chronyd", "/usr/local/sbin/chronyd"};
    const auto j = nlohmann::json::parse(format_alert(a, "host"));
    CHECK(j["output_fields"]["netlof.expected_exe"] == "/usr/sbin/chronyd /usr/local/sbin/chronyd");
    CHECK(j["output_fields"]["proc.exepath"] == "/tmp/x");
    CHECK(j["output"].get<std::string>().find("the name chronyd belongs to /usr/sbin/chronyd, /usr/local/sbin/chronyd, not to /tmp/x") !=
          std::string::npos);
    AlertFolder f(60);
    CHECK(f.admit(a));
    a.record.dst_ip = test::ip("192.0.2.2");  // another destination, the same masquerade
    CHECK_FALSE(f.admit(a));
    a.record.exe = "/tmp/y";
    CHECK(f.admit(a));
}

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <unistd.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "common/diagnostic.hpp"
#include "tests/test_support.hpp"
#include "userspace/engine/alert.hpp"

using namespace netlof;

namespace {
Alert violation(double t, const char* process = "curl", const char* dst = "203.0.113.9", std::uint16_t port = 443) {
    Alert a;
    a.time = t;
    a.rule = "allowlist_violation";
    a.priority = "Warning";
    a.record.process_name = process;
    a.record.pid = 77;
    a.record.exe = "/usr/bin/curl";
    a.record.dst_ip = dst;
    a.record.dst_port = port;
    a.record.proto = "tcp";
    a.record.bytes_sent = 50000;
    a.record.duration = 1.5;
    a.record.outcome = "closed";
    return a;
}
}  // namespace

TEST_CASE("alerts keep Falco's shape and carry record, lof, threshold, why and count", "[alerts]") {
    Alert a = violation(1700000000.5);
    a.rule = "lof_anomaly";
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

TEST_CASE("a burst of identical alerts is folded into one more alert with its count", "[alerts]") {
    AlertFolder f(60);
    std::size_t written = 0;
    for (int i = 0; i < 100; ++i) written += f.admit(violation(1000 + i * 0.01));
    CHECK(written == 1);
    CHECK(f.folded() == 99);
    CHECK(f.expire(1030).empty());  // window still open
    auto s = f.expire(1061);
    REQUIRE(s.size() == 1);
    CHECK(s[0].count == 99);
    CHECK(format_alert(s[0], "h").find("\"count\":99") != std::string::npos);
    // Different destination, port or rule: separate windows.
    CHECK(f.admit(violation(2000)));
    CHECK(f.admit(violation(2000, "curl", "203.0.113.9", 80)));
    CHECK(f.admit(violation(2000, "wget")));
    CHECK_FALSE(f.admit(violation(2001)));
    // A new window after the old one ends reports the old repeats first.
    CHECK(f.admit(violation(2100)));
    auto early = f.expire(2100);
    REQUIRE(early.size() == 1);
    CHECK(early[0].count == 1);
    // Shutdown: everything pending comes out.
    CHECK_FALSE(f.admit(violation(2101)));
    CHECK(f.expire(2101, true).size() == 1);
}

TEST_CASE("a full fold table ends its oldest window early instead of losing repeats", "[alerts]") {
    AlertFolder f(60, 2);
    CHECK(f.admit(violation(1, "a")));
    CHECK_FALSE(f.admit(violation(2, "a")));
    CHECK(f.admit(violation(3, "b")));
    CHECK(f.admit(violation(4, "c")));  // evicts a's window
    CHECK(f.early_ends() == 1);
    auto s = f.expire(5);
    REQUIRE(s.size() == 1);
    CHECK(s[0].record.process_name == "a");
    CHECK(s[0].count == 1);
}

TEST_CASE("the alert file is appended 0640 and follows a rename after reopen", "[alerts]") {
    const std::string dir = test::temp_dir("alerts");
    FileLineSink sink(dir + "/alerts.jsonl");
    struct stat st {};
    REQUIRE(::stat((dir + "/alerts.jsonl").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
    CHECK(sink.write("one\n"));
    std::filesystem::rename(dir + "/alerts.jsonl", dir + "/alerts.jsonl.1");
    CHECK(sink.write("two\n"));  // still the renamed file, as logrotate expects until told
    CHECK(sink.reopen());
    CHECK(sink.write("three\n"));
    CHECK(test::read_text(dir + "/alerts.jsonl.1") == "one\ntwo\n");
    CHECK(test::read_text(dir + "/alerts.jsonl") == "three\n");
    CHECK(sink.failed_writes() == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("an alert log that cannot be opened is a diagnostic", "[alerts]") {
    CHECK_THROWS_AS(FileLineSink("/nonexistent-dir/alerts.jsonl"), InputError);
}

TEST_CASE("a log that cannot be written keeps a bounded backlog and counts what it loses", "[alerts]") {
    // /dev/full: every write fails with ENOSPC, as on a full disk.
    REQUIRE(::access("/dev/full", W_OK) == 0);
    FileLineSink sink("/dev/full", 64);
    CHECK_FALSE(sink.write("{\"a\":1}\n"));
    CHECK(sink.failed_writes() == 1);
    CHECK(sink.last_error() == ENOSPC);
    CHECK(sink.backlog_bytes() == 8);
    CHECK(sink.maintain() == FileLineSink::Event::Failing);  // reported once
    CHECK(sink.maintain() == FileLineSink::Event::None);
    CHECK_FALSE(sink.write(std::string(50, 'x') + "\n"));    // fits: 8 + 51 <= 64
    CHECK(sink.backlog_bytes() == 59);
    CHECK(sink.lost_lines() == 0);
    CHECK_FALSE(sink.write("{\"b\":2}\n"));                   // no room: lost, counted
    CHECK(sink.lost_lines() == 1);
    CHECK(sink.backlog_bytes() == 59);
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
    a.rule = "process_masquerade";
    a.priority = "Warning";
    a.record.process_name = "chronyd";
    a.record.exe = "/tmp/x";
    a.record.dst_ip = "192.0.2.1";
    a.expected_exes = {"/usr/sbin/chronyd", "/usr/local/sbin/chronyd"};
    const auto j = nlohmann::json::parse(format_alert(a, "host"));
    CHECK(j["output_fields"]["netlof.expected_exe"] == "/usr/sbin/chronyd /usr/local/sbin/chronyd");
    CHECK(j["output_fields"]["proc.exepath"] == "/tmp/x");
    CHECK(j["output"].get<std::string>().find("the name chronyd belongs to /usr/sbin/chronyd, /usr/local/sbin/chronyd, not to /tmp/x") !=
          std::string::npos);
    AlertFolder f(60);
    CHECK(f.admit(a));
    a.record.dst_ip = "192.0.2.2";  // another destination, the same masquerade
    CHECK_FALSE(f.admit(a));
    a.record.exe = "/tmp/y";
    CHECK(f.admit(a));
}

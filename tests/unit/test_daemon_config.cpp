#include <catch2/catch.hpp>
#include <fstream>

#include "common/diagnostic.hpp"
#include "tests/test_support.hpp"
#include "userspace/daemon/daemon_config.hpp"

using namespace netlof;

namespace {

const char* kGood = R"(# a complete config
model:
  path: state/model.bin
  pipeline: /etc/netlof/pipeline.yaml
  neighbors: 25
  contamination: auto
  reach_floor: 0.25
  learn: {records: 5000, duration: 24h}
allowlist: [allow.yaml, /etc/netlof/more.yaml]
alerts: {path: /var/log/netlof/alerts.jsonl, fold_window: 2m, budget: 2/hour}
records: {path: /var/log/netlof/records.jsonl}
sensor: {max_sockets: 1024, max_udp_flows: 512, ringbuf_kib: 1024, udp_idle: 10s, flush_interval: 1m}
stats_interval: 30s
)";

Diagnostic config_error(const std::string& text) {
    INFO(text);
    return test::diagnostic_of([&] { parse_daemon_config(text, "/etc/netlof/netlof.yaml"); });
}

std::string minimal(const std::string& extra = "") {
    return "model:\n  path: m.bin\n  pipeline: p.yaml\n  learn: {records: 100}\nalerts: {path: a.jsonl}\n" + extra;
}

}  // namespace

TEST_CASE("durations take s, m, h, d or plain seconds", "[daemon_config]") {
    CHECK(parse_duration("90") == 90.0);
    CHECK(parse_duration("1.5s") == 1.5);
    CHECK(parse_duration("5m") == 300.0);
    CHECK(parse_duration("2h") == 7200.0);
    CHECK(parse_duration("7d") == 604800.0);
    for (const char* bad : {"", "s", "5x", "-1s", "1e400", "five"}) CHECK_FALSE(parse_duration(bad));
}

TEST_CASE("a complete config reads into every field; relative paths follow the config", "[daemon_config]") {
    const DaemonConfig c = parse_daemon_config(kGood, "/etc/netlof/netlof.yaml");
    CHECK(c.model.path == "/etc/netlof/state/model.bin");
    CHECK(c.model.pipeline == "/etc/netlof/pipeline.yaml");
    CHECK(c.model.neighbors == 25);
    CHECK_FALSE(c.model.contamination);
    CHECK(c.model.learn_records == 5000);
    CHECK(c.model.learn_duration_s == 86400.0);
    CHECK(c.allowlists == std::vector<std::string>{"/etc/netlof/allow.yaml", "/etc/netlof/more.yaml"});
    CHECK(c.alerts.fold_window_s == 120.0);
    CHECK(c.alerts.budget_per_day == 48.0);
    CHECK(c.model.reach_floor == 0.25);
    CHECK(c.records_path == "/var/log/netlof/records.jsonl");
    CHECK(c.sensor.max_sockets == 1024);
    CHECK(c.sensor.ringbuf_kib == 1024);
    CHECK(c.sensor.flush_interval_s == 60.0);
    CHECK(c.stats_interval_s == 30.0);
    const DaemonConfig d = parse_daemon_config(minimal(), "/x/y.yaml");
    CHECK(d.model.contamination == 0.01);
    CHECK(d.records_path.empty());
    CHECK(d.alerts.budget_per_day == kDefaultBudgetPerDay);
    CHECK(d.model.reach_floor == kDefaultReachFloor);
    CHECK(parse_daemon_config("model:\n  path: m\n  pipeline: p\n  learn: {records: 9}\nalerts: {path: a, budget: off}\n",
                              "/x.yaml").alerts.budget_per_day == 0);
    CHECK(parse_daemon_config("model:\n  path: m\n  pipeline: p\n  learn: {records: 9}\nalerts: {path: a, budget: 0.5/day}\n",
                              "/x.yaml").alerts.budget_per_day == 0.5);
}

TEST_CASE("bad configs name line, column and field", "[daemon_config]") {
    Diagnostic d = config_error(minimal("extra: 1\n"));
    CHECK(d.field == "extra");
    CHECK(d.line == 6);
    CHECK(d.column == 1);
    CHECK(config_error("model:\n  path: m.bin\n  pipeline: p.yaml\n  learn: {records: 100}\n  nieghbors: 3\nalerts: {path: a}\n").line == 5);
    CHECK(config_error("alerts: {path: a}\n").field == "model");
    CHECK(config_error("model:\n  pipeline: p.yaml\n  learn: {records: 100}\nalerts: {path: a}\n").field == "path");
    CHECK(config_error(minimal("sensor: {ringbuf_kib: 1000}\n")).field == "ringbuf_kib");
    CHECK(config_error(minimal("sensor: {max_sockets: lots}\n")).field == "max_sockets");
    CHECK(config_error(minimal("stats_interval: soon\n")).field == "stats_interval");
    CHECK(config_error(minimal("allowlist: allow.yaml\n")).field == "allowlist");
    CHECK(config_error("model:\n  path: m\n  pipeline: p\n  learn: {}\nalerts: {path: a}\n").field == "learn");
    CHECK(config_error("model:\n  path: m\n  pipeline: p\n  contamination: 0.7\n  learn: {records: 9}\nalerts: {path: a}\n").line == 4);
    CHECK(config_error("model:\n  path: m\n  pipeline: p\n  neighbors: 0\n  learn: {records: 9}\nalerts: {path: a}\n").field == "neighbors");
    CHECK(config_error(minimal("model: {}\n")).field == "model");  // duplicate key
    for (const char* budget : {"5", "5/week", "0/day", "-1/day", "x/day", "/day", "5 /day"})
        CHECK(config_error("model:\n  path: m\n  pipeline: p\n  learn: {records: 9}\nalerts: {path: a, budget: \"" +
                           std::string(budget) + "\"}\n").field == "budget");
    CHECK(config_error("model:\n  path: m\n  pipeline: p\n  reach_floor: -1\n  learn: {records: 9}\nalerts: {path: a}\n").field ==
          "reach_floor");
    CHECK(config_error("").message.find("empty") != std::string::npos);
}

TEST_CASE("loading a config reads its allowlists and pipeline, and names the file at fault", "[daemon_config]") {
    const std::string dir = test::temp_dir("config");
    std::ofstream(dir + "/allow.yaml") << "processes:\n  curl: [10.0.0.0/8]\n";
    std::ofstream(dir + "/netlof.yaml") << "model:\n  path: m.bin\n  pipeline: " << test::source_path("configs/pipeline-seed.yaml")
                                        << "\n  learn: {records: 100}\nallowlist: [allow.yaml]\nalerts: {path: a.jsonl}\n";
    const LoadedConfig l = load_daemon_config(dir + "/netlof.yaml");
    CHECK(l.allowlist.rules().size() == 1);
    CHECK(l.pipeline.features.size() == 7);

    std::ofstream(dir + "/allow.yaml") << "processes:\n  curl: [10.0.0.0/8]\n  wget: [300.1.1.1]\n";
    try {
        load_daemon_config(dir + "/netlof.yaml");
        FAIL("accepted a broken allowlist");
    } catch (const InputError& e) {
        CHECK(e.diagnostic().file == dir + "/allow.yaml");
        CHECK(e.diagnostic().line == 3);
    }
}

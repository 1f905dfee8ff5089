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
    CHECK_FALSE(d.model.contamination);  // auto
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

TEST_CASE("only the model's path is required: a two-line config has every default", "[daemon_config]") {
    const DaemonConfig c = parse_daemon_config("model:\n  path: /var/lib/netlof/model.bin\n", "/etc/netlof/netlof.yaml");
    CHECK(c.model.path == "/var/lib/netlof/model.bin");
    CHECK(c.model.pipeline.empty());  // the built-in one
    CHECK(c.model.learn_records == 0);  // a whole day, whatever the rate
    CHECK(c.model.learn_duration_s == 86400);
    CHECK_FALSE(c.model.contamination);
    CHECK(c.alerts.path == "/var/log/netlof/alerts.jsonl");
    CHECK(c.alerts.fold_window_s == 300);
    CHECK(c.alerts.budget_per_day == kDefaultBudgetPerDay);
    CHECK(c.stats_interval_s == 300);
    CHECK(c.sensor == SensorOptions{});
    // A learn: that says one end leaves the other off.
    const DaemonConfig only = parse_daemon_config("model: {path: m, learn: {duration: 1h}}\n", "/x.yaml");
    CHECK(only.model.learn_records == 0);
    CHECK(only.model.learn_duration_s == 3600);
}

TEST_CASE("the built-in pipeline is the shipped pipeline-default.yaml", "[daemon_config]") {
    CHECK(builtin_pipeline_yaml() == test::read_text(test::source_path("configs/pipeline-default.yaml")));
    const std::string dir = test::temp_dir("builtin-pipeline");
    std::ofstream(dir + "/netlof.yaml") << "model: {path: m.bin}\n";
    const LoadedConfig l = load_daemon_config(dir + "/netlof.yaml");
    CHECK(l.pipeline.features.size() ==
          parse_pipeline_yaml(test::read_text(test::source_path("configs/pipeline-default.yaml")), "p").features.size());
    CHECK(learn_settings(l).pipeline_file == kBuiltinPipelineName);
}

TEST_CASE("the effective settings check-config prints read back as the same settings", "[daemon_config]") {
    for (const char* text : {kGood, "model: {path: /m.bin}\n",
                             "model: {path: m, pipeline: p.yaml}\nalerts: {path: a.jsonl, budget: off, fold_window: 0}\n",
                             "model: {path: m, learn: {duration: 90s}, contamination: 0.05}\n"
                             "alerts: {budget: 0.5/day}\nsensor: {udp_idle: 45s}\n"}) {
        INFO(text);
        const DaemonConfig c = parse_daemon_config(text, "/etc/netlof/netlof.yaml");
        const std::string effective = effective_config_yaml(c);
        INFO(effective);
        CHECK(parse_daemon_config(effective, "/etc/netlof/netlof.yaml") == c);
    }
}

TEST_CASE("the shipped netlof.yaml says what the defaults are", "[daemon_config]") {
    // Every setting it writes out is the default, so an operator's edits are
    // the only difference from a config that leaves them out.
    const DaemonConfig shipped =
        parse_daemon_config(test::read_text(test::source_path("configs/netlof.yaml")), "/etc/netlof/netlof.yaml");
    DaemonConfig defaults = parse_daemon_config("model: {path: /var/lib/netlof/model.bin}\n", "/etc/netlof/netlof.yaml");
    defaults.model.pipeline = shipped.model.pipeline;  // names the built-in one's file, installed beside it
    defaults.allowlists = shipped.allowlists;          // the example allowlist
    defaults.records_path = shipped.records_path;      // a record log is the operator's choice; the example keeps one
    CHECK(shipped == defaults);
}

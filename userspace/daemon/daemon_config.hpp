// The daemon's configuration (netlof.yaml): every key checked, unknown keys
// refused, errors with file, line and column. `netlof check-config` and
// `netlof run` read it the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/feature_pipeline.hpp"
#include "rules/allowlist.hpp"
#include "common/file_io.hpp"
#include "userspace/engine/learner.hpp"
#include "userspace/sensor/capture.hpp"

namespace netlof {

// Every setting but model.path has one default, written here and nowhere
// else in the code: the shipped configs/netlof.yaml, `check-config`'s
// effective settings and the README's reference say the same (a test holds
// the shipped config to these).

// model.reach_floor when the config leaves it out (make eval chose it).
inline constexpr double kDefaultReachFloor = 0.5;
// alerts.budget when the config leaves it out: false LOF alerts a day.
inline constexpr double kDefaultBudgetPerDay = 20;
// model.pipeline when the config leaves it out: configs/pipeline-default.yaml, built in.
inline constexpr const char* kBuiltinPipelineName = "built-in pipeline-default.yaml";
// The built-in pipeline's text.
std::string_view builtin_pipeline_yaml();

struct DaemonConfig {
    std::string file;
    struct Model {
        std::string path;      // the trained model; learned and written here when missing (required)
        std::string pipeline;  // pipeline YAML used when learning; empty: the built-in one
        std::size_t neighbors = 20;
        std::optional<double> contamination;      // nullopt: auto (lof above 1.5); used when alerts.budget is off
        double reach_floor = kDefaultReachFloor;  // see LofOptions::reach_floor
        // Learning ends at this many records or after this long, whichever
        // comes first (0: not that one); a config's learn: gives both or either.
        std::uint64_t learn_records = 0;
        double learn_duration_s = 86400;
        // Spans of learning the baseline keeps: after the first, each span's
        // traffic that raised no alert is learned and the model refitted on
        // the last `keep` spans. 0 freezes the baseline.
        std::uint64_t learn_keep = 7;
        bool operator==(const Model&) const = default;
    } model;
    std::vector<std::string> allowlists;  // files, resolved against the config's folder
    struct Alerts {
        std::string path = "/var/log/netlof/alerts.jsonl";
        double fold_window_s = 300;  // repeats of (process, destination, rule) folded this long
        // False LOF alerts a quiet day may hold: sets the LOF threshold (0: off,
        // model.contamination sets it instead).
        double budget_per_day = kDefaultBudgetPerDay;
        // alerts.syslog: each alert also to syslog (RFC 5424), when given.
        struct Syslog {
            bool enabled = false;
            std::string socket = "/dev/log";
            int facility = 16;  // local0
            bool operator==(const Syslog&) const = default;
        } syslog;
        bool operator==(const Alerts&) const = default;
    } alerts;
    std::string records_path;  // optional record log (empty: none)
    // Prometheus text for node_exporter's textfile collector, rewritten
    // (atomically) every stats interval (empty: none).
    std::string metrics_path;
    SensorOptions sensor;
    double stats_interval_s = 300;
    bool operator==(const DaemonConfig&) const = default;
};

// The settings in effect, defaults filled in, as a config a parser reads
// back to the same settings: what `netlof check-config` prints.
std::string effective_config_yaml(const DaemonConfig& c);

// Parses durations "90", "90s", "5m", "2h", "1d" (seconds); nullopt if malformed.
std::optional<double> parse_duration(std::string_view text);

// Checks the schema of one config text; paths are resolved against the
// folder of `file`. Throws InputError.
DaemonConfig parse_daemon_config(std::string_view text, const std::string& file);

// A config with everything it names read and checked: the allowlists and
// the pipeline. Throws InputError naming the file at fault.
struct LoadedConfig {
    DaemonConfig config;
    Allowlist allowlist;
    PipelineSpec pipeline;
};
LoadedConfig load_daemon_config(const std::string& path, FileTrust trust = FileTrust::Strict);

// What a config says about learning (model.pipeline, neighbors,
// contamination, reach_floor, learn; alerts.budget).
LearnSettings learn_settings(const LoadedConfig& config);

}  // namespace netlof

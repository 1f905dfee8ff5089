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

// model.reach_floor when the config leaves it out (make eval chose it).
inline constexpr double kDefaultReachFloor = 0.5;
// alerts.budget when the config leaves it out: false LOF alerts a day.
inline constexpr double kDefaultBudgetPerDay = 20;

struct DaemonConfig {
    std::string file;
    struct Model {
        std::string path;      // the trained model; learned and written here when missing
        std::string pipeline;  // pipeline YAML used when learning
        std::size_t neighbors = 20;
        std::optional<double> contamination = 0.01;  // nullopt: auto
        double reach_floor = kDefaultReachFloor;     // see LofOptions::reach_floor
        std::uint64_t learn_records = 0;             // learning ends at this many records...
        double learn_duration_s = 0;                 // ...or after this long (whichever is set first)
        bool operator==(const Model&) const = default;
    } model;
    std::vector<std::string> allowlists;  // files, resolved against the config's folder
    struct Alerts {
        std::string path;
        double fold_window_s = 60;  // repeats of (process, destination, rule) folded this long
        // False LOF alerts a quiet day may hold: sets the LOF threshold (0: off,
        // model.contamination sets it instead).
        double budget_per_day = kDefaultBudgetPerDay;
    } alerts;
    std::string records_path;  // optional record log
    SensorOptions sensor;
    double stats_interval_s = 60;
};

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

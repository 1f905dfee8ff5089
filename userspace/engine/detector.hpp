// The daemon's judgement, without the sensor or any file: records in, alerts
// out. It learns (collects records until model.learn is met, then fits the
// pipeline and LOF), then detects: every record is checked against the
// allowlists, against what its program reached while learning (novelty),
// and scored by LOF, and repeats are folded.
//
// Records are handled in batches (one per poll of the sensor): the LOF search
// for a batch runs once, into buffers that are reused between batches.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/model_file.hpp"
#include "rules/allowlist.hpp"
#include "rules/beacon_watch.hpp"
#include "userspace/engine/alert.hpp"
#include "userspace/records/record_cells.hpp"

namespace netlof {

struct LearnSettings {
    std::string pipeline_file;
    PipelineSpec pipeline;
    std::size_t neighbors = 20;
    std::optional<double> contamination = 0.01;
    double reach_floor = 0;
    double budget_per_day = 0;   // > 0: the LOF threshold from this alert budget (see model/tail_threshold.hpp)
    std::uint64_t records = 0;   // learning ends at this many records (0: not set)...
    double duration_s = 0;       // ...or after this long (0: not set), whichever comes first
    std::uint64_t max_records = 1000000;  // bound on what learning keeps in memory
};

struct LoadedConfig;
// What a daemon config says about learning (model.pipeline, neighbors,
// contamination, learn).
LearnSettings learn_settings(const LoadedConfig& config);

struct DetectorStats {
    std::uint64_t records = 0;
    std::uint64_t scored = 0;
    std::uint64_t lof_muted = 0;     // not scored: a mute_lof rule matched
    std::uint64_t lof_sparse = 0;    // not scored: learning saw the program fewer than k times
    std::uint64_t unscorable = 0;    // a value the pipeline cannot take
    std::uint64_t learn_skipped = 0; // not learned: an empty value in a one-hot column
    std::uint64_t allowlist_violations = 0;  // before folding
    std::uint64_t masquerades = 0;           // before folding
    std::uint64_t new_processes = 0;         // before folding
    std::uint64_t new_destinations = 0;      // before folding
    std::uint64_t new_ports = 0;             // before folding
    std::uint64_t long_holds = 0;            // long_connection, before folding
    std::uint64_t beacons = 0;               // beaconing, before folding
    std::uint64_t novelty_expected = 0;      // new, but usual for a program that wanders (not alerted)
    std::uint64_t novelty_ruled = 0;         // new, but an allowlist rule judges the process (not alerted)
    std::uint64_t window_alerts = 0;         // volume_spike, connection_burst and fan_out, before folding
    std::uint64_t lof_anomalies = 0;         // before folding
    std::uint64_t alerts = 0;                // written to the handler (incl. fold summaries)
};

class Detector {
public:
    using AlertHandler = std::function<void(const Alert&)>;

    Detector(Allowlist allowlist, double fold_window_s, LearnSettings learn, AlertHandler handler);

    // Detect with this model from now on (one from disk, or just learned).
    // Throws InputError when its pipeline reads columns records do not have.
    void use_model(TrainedModel model);
    bool detecting() const { return model_.has_value(); }
    // The LOF threshold in use and where it came from, for the log.
    double lof_threshold() const { return lof_threshold_; }
    const std::string& threshold_note() const { return threshold_note_; }

    // SIGHUP: a new alert budget sets the LOF threshold again (alerts.budget).
    void set_budget(double budget_per_day);
    // SIGHUP: new rules and fold window; folds in progress are reported first.
    void set_rules(Allowlist allowlist, double fold_window_s, double now);

    // Queues a record; process() judges the queue.
    void add(const ConnectionRecord& r);
    // Judges queued records at wall time `now`, learning from them while
    // learning, and reports fold windows that have ended.
    void process(double now);
    // At exit: every fold still open is reported.
    void flush_folds(double now);

    // Learning: has model.learn been met (with enough rows to fit)?
    bool learning_done(double now) const;
    std::uint64_t learned_records() const { return learned_; }
    // Fits the pipeline and LOF on what was learned. Does not switch to it:
    // the caller writes it to disk first, then calls use_model().
    TrainedModel fit_learned(std::vector<std::string>* warnings = nullptr) const;

    std::string state(double now) const;  // "learning 120/1000 records, 35/3600 s" or "detecting"
    const DetectorStats& stats() const { return stats_; }
    std::uint64_t folded() const { return folder_.folded(); }
    // New destinations the reach baseline had no room to keep.
    std::uint64_t reach_unlearned() const { return model_ ? model_->reach.unlearned() : 0; }
    // Programs the window table let go to make room.
    std::uint64_t window_evictions() const { return windows_.evictions(); }
    std::uint64_t beacon_evictions() const { return beacons_.evictions(); }
    // Connections whose window learning was too short to judge (per window length).
    std::uint64_t windows_unjudged() const { return windows_.unjudged(); }

private:
    bool learnable(const ConnectionRecord& r);
    AllowVerdict judge_rules(const ConnectionRecord& r, const std::optional<Endpoint>& dst, double now);
    // A process name run by an executable its pin (or, once learned, what
    // learning saw for the name) does not allow. True when it alerted.
    bool judge_identity(const ConnectionRecord& r, double now);
    void set_threshold();  // from the model and learn_.budget_per_day
    // An executable, network or port that learning never saw for this
    // program (see rules/reach_baseline.hpp).
    void judge_novelty(const ConnectionRecord& r, const ReachKey& key, AllowVerdict verdict, bool masquerade, double now);
    // Sums over one and ten minutes beyond what learning saw for this
    // program (see rules/behaviour_windows.hpp).
    void judge_beacon(const ConnectionRecord& r, const ReachKey& key, double now);
    void judge_windows(const ConnectionRecord& r, const ReachKey& key, double now);
    void score_batch(double now);
    void emit(Alert& a);

    Allowlist allowlist_;
    AlertFolder folder_;
    LearnSettings learn_;
    AlertHandler handler_;
    std::optional<TrainedModel> model_;
    double lof_threshold_ = 1.5;
    std::string threshold_note_;

    // Slots are reused between batches (assigning into a record keeps its
    // strings' capacity), so queuing does not allocate once warmed up.
    std::vector<ConnectionRecord> pending_;
    std::size_t pending_count_ = 0;
    std::vector<std::size_t> to_score_;  // indexes into pending_
    FeatureMatrix batch_;
    std::vector<LofScore> scores_;
    RecordCellsBuilder cells_;
    std::string subject_;  // reused: the reach baseline's key of the record being judged
    WindowWatch windows_;
    BeaconWatch beacons_;

    double learn_start_ = -1;  // wall time of the first learning batch
    std::uint64_t learned_ = 0;
    std::vector<std::size_t> learn_onehot_ids_;  // connection column ids the pipeline one-hot encodes
    std::string learned_csv_;  // what learning saw, as `netlof train` input
    DetectorStats stats_;
};

}  // namespace netlof

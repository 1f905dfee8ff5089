// The engine: a batch of records in, the alerts to write out; no sensor, no
// file. While learning it keeps records for the model (Learner) and judges
// them by the allowlists only; once a model is in use every record is judged
// in turn by
//   - identity:  a process name running an executable it is pinned to, or
//                learned with, not (judge_identity.cpp)
//   - rules:     the operator's allowlists (judge_identity.cpp)
//   - novelty:   an executable, name, network or port learning never saw for
//                the program, a connection held far longer than any it
//                learned, a beacon to a new destination (judge_novelty.cpp)
//   - windows:   sums over one and ten minutes beyond the learned ones
//                (judge_windows.cpp)
//   - LOF:       the batch's records scored at once (judge_lof.cpp)
// and repeats are folded (AlertFolder).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "rules/allowlist.hpp"
#include "rules/beacon_watch.hpp"
#include "rules/behaviour_windows.hpp"
#include "userspace/engine/alert.hpp"
#include "userspace/engine/alert_folder.hpp"
#include "userspace/engine/learner.hpp"
#include "userspace/engine/trained_model.hpp"
#include "userspace/records/record_cells.hpp"

namespace netlof {

struct DetectorStats {
    std::uint64_t records = 0;
    std::uint64_t scored = 0;
    std::uint64_t lof_muted = 0;     // not scored: a mute_lof rule matched
    std::uint64_t lof_sparse = 0;    // not scored: learning saw the program fewer than k times
    std::uint64_t unscorable = 0;    // a value the pipeline cannot take
    std::uint64_t learn_skipped = 0; // not learned: an empty value in a one-hot column
    RuleCounts raised{};             // alerts raised, per rule, before folding
    std::uint64_t novelty_expected = 0;      // new, but usual for a program that wanders (not alerted)
    std::uint64_t novelty_ruled = 0;         // new, but an allowlist rule judges the process (not alerted)
    std::uint64_t taint_overflow = 0;        // alerts past the bound on what following keeps out (nothing new learned)
    std::uint64_t alerts = 0;                // returned to be written (incl. fold summaries)
    std::uint64_t raised_of(Rule r) const { return raised[static_cast<std::size_t>(r)]; }
};

class Detector {
public:
    Detector(Allowlist allowlist, double fold_window_s, LearnSettings learn);

    // Detect with this model from now on (one from disk, or just learned).
    // Throws InputError when its pipeline reads columns records do not have.
    void use_model(TrainedModel model);
    bool detecting() const { return model_.has_value(); }
    // The LOF threshold in use and where it came from, for the log.
    double lof_threshold() const { return lof_threshold_; }
    const std::string& threshold_note() const { return threshold_note_; }

    // SIGHUP: a new alert budget sets the LOF threshold again (alerts.budget).
    void set_budget(double budget_per_day);
    // SIGHUP: new rules and fold window. Returns the folds in progress, ended.
    const std::vector<Alert>& set_rules(Allowlist allowlist, double fold_window_s, double now);

    // Judges records (in the order they ended) at wall time now, learning
    // from them while learning, and ends fold windows that are over. Returns
    // the alerts to write, valid until the next call.
    const std::vector<Alert>& judge(std::span<const ConnectionRecord> records, double now);
    // At exit: every fold still open, ended.
    const std::vector<Alert>& flush_folds(double now);

    // Learning: has model.learn been met (with enough rows to fit)?
    bool learning_done(double now) const { return !model_ && learner_.done(now); }
    // Records learned since the start: the spans finished and the one being learned.
    std::uint64_t learned_records() const { return learned_before_ + learner_.records(); }
    // Fits on what was learned. Does not switch to it: the caller writes it
    // to disk first, then calls use_model().
    TrainedModel fit_learned(std::vector<std::string>* warnings = nullptr) { return learner_.fit(warnings); }

    // The one switch from learning to detecting, and from one span's model to
    // the next, for the daemon and replay alike: when model.learn is met (or,
    // once detecting, another span of learning is), the model of the spans
    // kept, else nullopt. The model in use judges until the caller has
    // written the new one and handed it to use_model(); a caller that fails
    // to write it may call again later and gets the same. Throws InputError
    // for a learned record the pipeline cannot take.
    std::optional<TrainedModel> model_due(double now, std::vector<std::string>* warnings = nullptr);
    // What model_due()'s model was fitted on: "learned from 2 spans, 480211 records".
    const std::string& due_note() const { return due_note_; }
    // Learn again from now (after a deploy): the spans kept are forgotten and
    // the model in use judges until a span from now is learned.
    void relearn(double now);
    std::size_t spans() const { return spans_.size(); }

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
    // An alert about record r, raised now (counted, folded or let through); the caller adds why.
    Alert alert_for(const ConnectionRecord& r, Rule rule, double now);
    // Counts a, then lets it through or folds it.
    void raise(Alert& a);
    void emit(Alert&& a);
    void flush_into_out(double now);  // every fold, ended, into out_

    void set_threshold();  // from the model and budget_per_day_
    // judge_identity.cpp
    bool judge_identity(const ConnectionRecord& r, double now);  // true when it alerted
    AllowVerdict judge_rules(const ConnectionRecord& r, const std::optional<Endpoint>& dst, double now);
    // judge_novelty.cpp
    void judge_novelty(const ConnectionRecord& r, const ReachKey& key, AllowVerdict verdict, bool masquerade, double now);
    void judge_beacon(const ConnectionRecord& r, const ReachKey& key, const ReachProfile* profile, double now);
    // judge_windows.cpp
    void judge_windows(const ConnectionRecord& r, const ReachKey& key, double now);
    // judge_lof.cpp: whether r is one LOF can judge, and the batch's scores.
    bool lof_judges(const ConnectionRecord& r, const std::optional<Endpoint>& dst);
    void score_batch(std::span<const ConnectionRecord> records, double now);

    Allowlist allowlist_;
    AlertFolder folder_;
    double budget_per_day_;  // alerts.budget (0: off)
    LearnSettings settings_;
    Learner learner_;
    std::vector<LearnedSpan> spans_;        // the spans the model in use was fitted on (at most keep_spans)
    std::optional<LearnedSpan> pending_;    // the span model_due() fitted on, joining spans_ at use_model()
    bool fresh_ = false;                    // pending_ starts anew (first learning, relearn): spans_ are let go
    std::string due_note_;
    std::uint64_t learned_before_ = 0;      // records of the learners let go
    // While following: "<program key>" (a new process) or "<program key>\n<network>"
    // that raised an alert this span; forgotten from the span when it ends.
    static constexpr std::size_t kMaxTainted = 4096;
    std::set<std::string, std::less<>> tainted_;
    std::string taint_key_;
    void taint(const Alert& a);
    bool taint_overflowed_ = false;         // this span
    // Is a span being learned? Always but when frozen (keep 0) after a model is in use, unless relearning.
    bool learning_on() const { return !model_ || settings_.keep_spans > 0 || fresh_; }
    void forget_tainted(LearnedSpan& span) const;
    std::vector<std::uint8_t> alerted_;     // per record of the batch: raised an alert (not learned while following)
    std::size_t judging_ = 0;               // the batch index raise() marks
    std::optional<TrainedModel> model_;
    double lof_threshold_ = 1.5;
    std::string threshold_note_;

    std::vector<Alert> out_;  // what judge() returns
    // Reused between batches, so judging does not allocate once warmed up.
    std::vector<std::size_t> to_score_;  // indexes into the batch
    FeatureMatrix batch_;
    std::vector<LofScore> scores_;
    RecordCellsBuilder cells_;
    std::string subject_;  // the reach baseline's key of the record being judged
    WindowWatch windows_;
    BeaconWatch beacons_;
    DetectorStats stats_;
};

}  // namespace netlof

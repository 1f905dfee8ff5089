#include "userspace/engine/detector.hpp"

#include <fmt/core.h>

#include "common/diagnostic.hpp"

namespace netlof {

Detector::Detector(Allowlist allowlist, double fold_window_s, LearnSettings learn)
    : allowlist_(std::move(allowlist)),
      folder_(fold_window_s),
      budget_per_day_(learn.budget_per_day),
      learner_(std::move(learn)) {}

void Detector::use_model(TrainedModel model) {
    if (!model.pipeline.reads_connection_columns()) {
        Diagnostic d;
        d.file = model.pipeline_file;
        d.field = "features";
        d.message = "the model's pipeline reads a column that connection records do not have";
        throw InputError(std::move(d));
    }
    model_ = std::move(model);
    set_threshold();
    learner_.clear();
}

void Detector::set_budget(double budget_per_day) {
    budget_per_day_ = budget_per_day;
    if (model_) set_threshold();
}

void Detector::set_threshold() {
    LofThreshold t = netlof::lof_threshold(*model_, budget_per_day_);
    lof_threshold_ = t.value;
    threshold_note_ = std::move(t.note);
}

const std::vector<Alert>& Detector::set_rules(Allowlist allowlist, double fold_window_s, double now) {
    out_.clear();
    flush_into_out(now);
    allowlist_ = std::move(allowlist);
    folder_ = AlertFolder(fold_window_s);
    return out_;
}

Alert Detector::alert_for(const ConnectionRecord& r, Rule rule, double now) {
    Alert a;
    a.time = now;
    a.rule = rule;
    a.priority = rule_priority(rule);
    a.record = r;
    return a;
}

void Detector::raise(Alert& a) {
    ++stats_.raised[static_cast<std::size_t>(a.rule)];
    if (folder_.admit(a)) emit(std::move(a));
}

void Detector::emit(Alert&& a) {
    ++stats_.alerts;
    out_.push_back(std::move(a));
}

void Detector::flush_into_out(double now) {
    for (Alert& a : folder_.expire(now, true)) emit(std::move(a));
}

const std::vector<Alert>& Detector::judge(std::span<const ConnectionRecord> records, double now) {
    out_.clear();
    learner_.begin(now);
    to_score_.clear();
    for (std::size_t i = 0; i < records.size(); ++i) {
        const ConnectionRecord& r = records[i];
        const std::optional<Endpoint> dst = endpoint_of(r.dst_ip, r.dst_port);
        ++stats_.records;
        const bool masquerade = judge_identity(r, now);
        const AllowVerdict verdict = judge_rules(r, dst, now);
        if (!model_) {
            if (!learner_.add(r)) ++stats_.learn_skipped;
            continue;
        }
        if (dst) {
            ReachBaseline::subject_into(r.process_name, r.exe, subject_);
            const ReachKey key = reach_key(*dst, r.proto);
            judge_novelty(r, key, verdict, masquerade, now);
            judge_windows(r, key, now);
        }
        if (lof_judges(r, dst)) to_score_.push_back(i);
    }
    if (!to_score_.empty()) score_batch(records, now);
    for (Alert& a : folder_.expire(now)) emit(std::move(a));
    return out_;
}

const std::vector<Alert>& Detector::flush_folds(double now) {
    out_.clear();
    flush_into_out(now);
    return out_;
}

std::string Detector::state(double now) const { return model_ ? "detecting" : learner_.state(now); }

}  // namespace netlof

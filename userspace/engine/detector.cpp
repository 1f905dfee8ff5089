#include "userspace/engine/detector.hpp"

#include <algorithm>
#include <fmt/core.h>

#include "common/diagnostic.hpp"
#include "rules/program_identity.hpp"

namespace netlof {

namespace {

// A span's learning after the first: its share of the sample, so the spans
// kept hold about one first span's.
LearnSettings following(LearnSettings s) {
    const std::size_t spans = std::max<std::size_t>(1, s.keep_spans);
    s.sample_rows = std::max(s.sample_rows / spans, s.neighbors + 1);
    s.per_program = std::max(s.per_program / spans, s.neighbors + 1);
    return s;
}

}  // namespace

Detector::Detector(Allowlist allowlist, double fold_window_s, LearnSettings learn)
    : allowlist_(std::move(allowlist)),
      folder_(fold_window_s),
      budget_per_day_(learn.budget_per_day),
      settings_(learn),
      learner_(std::move(learn)),
      fresh_(true) {}

std::optional<TrainedModel> Detector::model_due(double now, std::vector<std::string>* warnings) {
    if (!pending_) {
        if (!learning_on()) return std::nullopt;  // frozen
        if (!learner_.done(now)) return std::nullopt;
        pending_ = learner_.finish_span();
        if (model_) forget_tainted(*pending_);
    }
    std::vector<const LearnedSpan*> spans;
    if (!fresh_) {
        const std::size_t keep = std::max<std::size_t>(1, settings_.keep_spans) - 1;  // room for pending_
        for (std::size_t i = spans_.size() > keep ? spans_.size() - keep : 0; i < spans_.size(); ++i) spans.push_back(&spans_[i]);
    }
    spans.push_back(&*pending_);
    std::uint64_t records = 0;
    for (const LearnedSpan* s : spans) records += s->rows;
    due_note_ = fmt::format("{} span{} of learning, {} records", spans.size(), spans.size() == 1 ? "" : "s", records);
    LofOptions options;
    options.neighbors = settings_.neighbors;
    options.contamination = settings_.contamination;
    options.reach_floor = settings_.reach_floor;
    LofTrainingResult result;
    TrainedModel m = fit_spans(spans, settings_.pipeline, settings_.pipeline_file, options, &result);
    if (warnings != nullptr) *warnings = result.warnings;
    return m;
}

void Detector::forget_tainted(LearnedSpan& span) const {
    if (taint_overflowed_) {
        // Past the bound nothing new is learned: only what the model knew.
        span.reach.keep_only(model_->reach);
    }
    for (const std::string& t : tainted_) {
        const std::size_t nl = t.find('\n');
        const std::string_view subject = std::string_view(t).substr(0, nl);
        if (nl == std::string::npos) {
            span.reach.forget(subject, {});
            for (auto it = span.windows.lower_bound(subject); it != span.windows.end() && it->first.rfind(subject, 0) == 0;)
                it = it->first.compare(subject.size(), 2, "\t:") == 0 ? span.windows.erase(it) : std::next(it);
            continue;
        }
        const std::string_view network = std::string_view(t).substr(nl + 1);
        span.reach.forget(subject, network);
        // The destination's own window sums (any service): "<subject>\t:<service> <network>".
        for (auto it = span.windows.lower_bound(subject); it != span.windows.end() && it->first.rfind(subject, 0) == 0;) {
            const std::string& k = it->first;
            const bool mine = k.size() > subject.size() + network.size() && k.compare(subject.size(), 2, "\t:") == 0 &&
                              k.compare(k.size() - network.size(), network.size(), network) == 0 &&
                              k[k.size() - network.size() - 1] == ' ';
            it = mine ? span.windows.erase(it) : std::next(it);
        }
    }
}

void Detector::relearn(double now) {
    pending_.reset();
    fresh_ = true;
    tainted_.clear();
    taint_overflowed_ = false;
    learned_before_ += learner_.records();
    learner_ = Learner(settings_);
    learner_.begin(now);
}

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
    if (pending_) {
        if (fresh_) spans_.clear();
        spans_.push_back(std::move(*pending_));
        while (spans_.size() > std::max<std::size_t>(1, settings_.keep_spans)) spans_.erase(spans_.begin());
        pending_.reset();
    }
    fresh_ = false;
    tainted_.clear();
    taint_overflowed_ = false;
    // What follows is learned as the next span (unless frozen).
    learned_before_ += learner_.records();
    learner_ = Learner(following(settings_));
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
    if (judging_ < alerted_.size()) alerted_[judging_] = 1;
    taint(a);
    if (folder_.admit(a)) emit(std::move(a));
}

void Detector::taint(const Alert& a) {
    // A connection that raised an alert is not learned while following
    // change. A destination or program that was new, or broke a rule, is
    // not learned at all that span, not even its connections before or
    // after the one alerted (a beacon's first check-ins, a miner's later
    // traffic): the operator allowlists it or learns again. (A known
    // destination's LOF, window or hold alert keeps out its connection
    // only.) Bounded: past the bound, following learns nothing new this
    // span (counted).
    if (!model_ || !learning_on()) return;
    switch (a.rule) {
        case Rule::NewProcess:
        case Rule::NewDestination:
        case Rule::NewPort:
        case Rule::Beaconing:
        case Rule::AllowlistViolation:
        case Rule::ProcessMasquerade: break;
        default: return;
    }
    if (tainted_.size() >= kMaxTainted) {
        ++stats_.taint_overflow;
        taint_overflowed_ = true;
        return;
    }
    program_key_into(a.record.process_name, a.record.exe, model_->keys_with_units ? std::string_view(a.record.unit) : "", taint_key_);
    if (a.rule != Rule::NewProcess && a.rule != Rule::ProcessMasquerade) {
        const std::optional<Endpoint> dst = endpoint_of(a.record.dst_ip, a.record.dst_port);
        if (!dst) return;
        taint_key_ += '\n';
        taint_key_ += network_text(reach_key(*dst, a.record.proto));
    }
    tainted_.insert(taint_key_);
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
    alerted_.assign(records.size(), 0);
    for (std::size_t i = 0; i < records.size(); ++i) {
        const ConnectionRecord& r = records[i];
        judging_ = i;
        const std::optional<Endpoint> dst = endpoint_of(r.dst_ip, r.dst_port);
        ++stats_.records;
        const bool masquerade = judge_identity(r, now);
        const AllowVerdict verdict = judge_rules(r, dst, now);
        if (!model_) {
            if (!learner_.add(r)) ++stats_.learn_skipped;
            continue;
        }
        if (dst) {
            if (model_->keys_with_units) program_key_into(r.process_name, r.exe, r.unit, subject_);
            else executable_key_into(r.process_name, r.exe, subject_);
            const ReachKey key = reach_key(*dst, r.proto);
            judge_novelty(r, key, verdict, masquerade, now);
            judge_windows(r, key, now);
        }
        if (lof_judges(r, dst)) to_score_.push_back(i);
    }
    if (!to_score_.empty()) score_batch(records, now);
    judging_ = records.size();
    // Following change: what raised no alert joins the span being learned.
    if (model_ && learning_on())
        for (std::size_t i = 0; i < records.size(); ++i)
            if (alerted_[i] == 0 && !learner_.add(records[i])) ++stats_.learn_skipped;
    for (Alert& a : folder_.expire(now)) emit(std::move(a));
    return out_;
}

const std::vector<Alert>& Detector::flush_folds(double now) {
    judging_ = alerted_.size();
    out_.clear();
    flush_into_out(now);
    return out_;
}

std::string Detector::state(double now) const { return model_ ? "detecting" : learner_.state(now); }

}  // namespace netlof

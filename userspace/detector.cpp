#include "userspace/detector.hpp"

#include <algorithm>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include "model/diagnostic.hpp"
#include "model/explanation.hpp"
#include "userspace/daemon_config.hpp"
#include "userspace/record_writer.hpp"

namespace netlof {

LearnSettings learn_settings(const LoadedConfig& l) {
    LearnSettings s;
    s.pipeline_file = l.config.model.pipeline;
    s.pipeline = l.pipeline;
    s.neighbors = l.config.model.neighbors;
    s.contamination = l.config.model.contamination;
    s.records = l.config.model.learn_records;
    s.duration_s = l.config.model.learn_duration_s;
    return s;
}

Detector::Detector(Allowlist allowlist, double fold_window_s, LearnSettings learn, AlertHandler handler)
    : allowlist_(std::move(allowlist)), folder_(fold_window_s), learn_(std::move(learn)), handler_(std::move(handler)) {
    pending_.reserve(1024);
    for (const FeatureSpec& f : learn_.pipeline.features)
        if (f.transform == Transform::OneHot) learn_onehot_ids_.push_back(*connection_column_id(f.column));
}

bool Detector::learnable(const ConnectionRecord& r) {
    // An empty category (exe of a process gone before it was read) is not a
    // value to learn: `netlof train` refuses it too.
    const RecordCells& cells = cells_.fill(r);
    for (std::size_t id : learn_onehot_ids_)
        if (cells.text[id].empty()) return false;
    return true;
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
    learned_csv_.clear();
    learned_csv_.shrink_to_fit();
}

void Detector::set_rules(Allowlist allowlist, double fold_window_s, double now) {
    for (Alert& a : folder_.expire(now, true)) emit(a);
    allowlist_ = std::move(allowlist);
    folder_ = AlertFolder(fold_window_s);
}

void Detector::emit(Alert& a) {
    ++stats_.alerts;
    handler_(a);
}

void Detector::add(const ConnectionRecord& r) {
    if (pending_count_ < pending_.size()) pending_[pending_count_] = r;
    else pending_.push_back(r);
    ++pending_count_;
}

void Detector::judge_rules(const ConnectionRecord& r, const std::optional<Endpoint>& dst, double now) {
    if (!dst || allowlist_.check(r.process_name, r.exe, *dst) != AllowVerdict::Violation) return;
    ++stats_.allowlist_violations;
    Alert a;
    a.time = now;
    a.rule = "allowlist_violation";
    a.priority = "Warning";
    a.record = r;
    // Which rules judged it and what they allow: the normal a violation leaves.
    for (const AllowRule* rule : allowlist_.rules_for(r.process_name, r.exe)) {
        std::vector<std::string_view> allowed;
        for (const Destination& d : rule->allowed) allowed.push_back(d.text);
        a.why.push_back(fmt::format("{}:{} allows {} {} only {}", rule->file, rule->line,
                                    rule->by_executable ? "executable" : "process", rule->subject,
                                    allowed.empty() ? std::string("nothing") : fmt::format("{}", fmt::join(allowed, ", "))));
    }
    if (folder_.admit(a)) emit(a);
}

void Detector::judge_identity(const ConnectionRecord& r, double now) {
    Alert a;
    const std::string& exe = r.exe.empty() ? std::string("an executable netlof could not name") : r.exe;
    if (const AllowRule* pin = allowlist_.masquerade(r.process_name, r.exe)) {
        a.expected_exes = pin->pinned_exes;
        a.why.push_back(fmt::format("process name '{}' is pinned to {} ({}:{}); this process runs {}", r.process_name,
                                    fmt::join(pin->pinned_exes, ", "), pin->file, pin->line, exe));
    } else if (model_ && !r.exe.empty()) {
        const auto it = model_->identities.find(r.process_name);
        if (it == model_->identities.end()) return;  // a name learning never saw: no identity to compare
        // As for pins: an upgraded, still running binary is still itself.
        if (std::binary_search(it->second.begin(), it->second.end(), without_deleted_suffix(r.exe))) return;
        a.expected_exes = it->second;
        a.why.push_back(fmt::format("process name '{}' ran only {} while learning; this process runs {}", r.process_name,
                                    fmt::join(it->second, ", "), exe));
    } else {
        return;
    }
    ++stats_.masquerades;
    a.time = now;
    a.rule = "process_masquerade";
    a.priority = "Warning";
    a.record = r;
    if (folder_.admit(a)) emit(a);
}

void Detector::process(double now) {
    if (learn_start_ < 0) learn_start_ = now;
    to_score_.clear();
    for (std::size_t i = 0; i < pending_count_; ++i) {
        const ConnectionRecord& r = pending_[i];
        const std::optional<Endpoint> dst = parse_endpoint(r.dst_ip, r.dst_port);
        ++stats_.records;
        judge_identity(r, now);
        judge_rules(r, dst, now);
        if (!model_) {
            if (!learnable(r)) {
                ++stats_.learn_skipped;
            } else if (learned_ < learn_.max_records) {
                if (learned_csv_.empty()) learned_csv_ = record_csv_header();
                append_record_csv(learned_csv_, r);
                ++learned_;
            }
            continue;
        }
        // LOF scores allowed records too: exfiltration to an allowed host is still exfiltration.
        if (dst && allowlist_.lof_muted(r.process_name, r.exe, *dst)) {
            ++stats_.lof_muted;
            continue;
        }
        to_score_.push_back(i);
    }
    if (!to_score_.empty()) score_batch(now);
    pending_count_ = 0;
    for (Alert& a : folder_.expire(now)) emit(a);
}

void Detector::score_batch(double now) {
    const TrainedModel& m = *model_;
    m.pipeline.shape(batch_, to_score_.size());
    std::size_t rows = 0;
    for (std::size_t i : to_score_) {
        if (!m.pipeline.transform_record(cells_.fill(pending_[i]), batch_, rows).empty()) {
            ++stats_.unscorable;
            continue;
        }
        to_score_[rows++] = i;
    }
    if (rows == 0) return;
    if (rows < to_score_.size()) {  // rare: drop the unscorable rows' space, keeping the rows written
        to_score_.resize(rows);
        batch_.numeric.conservativeResize(static_cast<Eigen::Index>(rows), batch_.numeric.cols());
        batch_.codes.resize(rows * batch_.categorical_dims());
    }
    scores_.resize(rows);
    // One thread: a batch is small, and the daemon should not take both cores.
    m.lof.score(batch_, scores_, 1);
    stats_.scored += rows;
    for (std::size_t row = 0; row < rows; ++row) {
        if (!scores_[row].anomaly) continue;
        ++stats_.lof_anomalies;
        const ConnectionRecord& r = pending_[to_score_[row]];
        Alert a;
        a.time = now;
        a.rule = "lof_anomaly";
        a.priority = "Notice";
        a.record = r;
        a.lof = scores_[row].lof;
        a.threshold = m.lof.threshold();
        // Explained before folding: a fold's summary carries its last repeat's why.
        const RecordCells& cells = cells_.fill(r);
        const auto text = [&cells](std::string_view column) {
            return std::string(cells.text[*connection_column_id(column)]);
        };
        for (const FeatureReason& reason : explain_row(m.pipeline, m.lof, batch_, row, text)) a.why.push_back(reason.text);
        if (folder_.admit(a)) emit(a);
    }
}

void Detector::flush_folds(double now) {
    for (Alert& a : folder_.expire(now, true)) emit(a);
}

bool Detector::learning_done(double now) const {
    if (model_ || learned_ < learn_.neighbors + 1) return false;  // too few rows for k neighbours
    if (learn_.records > 0 && learned_ >= learn_.records) return true;
    if (learn_.duration_s > 0 && learn_start_ >= 0 && now - learn_start_ >= learn_.duration_s) return true;
    return learned_ >= learn_.max_records;
}

TrainedModel Detector::fit_learned(std::vector<std::string>* warnings) const {
    const CsvTable table = CsvTable::parse(learned_csv_, "<records learned by the daemon>");
    FeatureMatrix features;
    FeaturePipeline pipeline = FeaturePipeline::fit(learn_.pipeline, table, &features);
    LofOptions options;
    options.neighbors = learn_.neighbors;
    options.contamination = learn_.contamination;
    LofTrainingResult result;
    LofModel lof = LofModel::fit(std::move(features), options, &result);
    if (warnings != nullptr) *warnings = result.warnings;
    return TrainedModel{learn_.pipeline_file, std::move(pipeline), std::move(lof), learn_identities(table)};
}

std::string Detector::state(double now) const {
    if (model_) return "detecting";
    std::string s = fmt::format("learning {}", learned_);
    if (learn_.records > 0) s += fmt::format("/{} records", learn_.records);
    else s += " records";
    if (learn_.duration_s > 0)
        s += fmt::format(", {:.0f}/{:g} s", learn_start_ < 0 ? 0.0 : now - learn_start_, learn_.duration_s);
    return s;
}

}  // namespace netlof

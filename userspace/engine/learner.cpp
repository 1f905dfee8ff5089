#include "userspace/engine/learner.hpp"

#include <fmt/core.h>

#include "model/lof_model.hpp"
#include "userspace/records/record_writer.hpp"

namespace netlof {

Learner::Learner(LearnSettings settings) : settings_(std::move(settings)) {
    for (const FeatureSpec& f : settings_.pipeline.features)
        if (f.transform == Transform::OneHot) onehot_ids_.push_back(*connection_column_id(f.column));
}

void Learner::begin(double now) {
    if (start_ < 0) start_ = now;
}

bool Learner::add(const ConnectionRecord& r) {
    const RecordCells& cells = cells_.fill(r);
    for (std::size_t id : onehot_ids_)
        if (cells.text[id].empty()) return false;
    if (learned_ >= settings_.max_records) return true;  // bounded: the fit takes the first max_records
    if (csv_.empty()) csv_ = record_csv_header();
    append_record_csv(csv_, r);
    ++learned_;
    return true;
}

bool Learner::done(double now) const {
    if (learned_ < settings_.neighbors + 1) return false;  // too few rows for k neighbours
    if (settings_.records > 0 && learned_ >= settings_.records) return true;
    if (settings_.duration_s > 0 && start_ >= 0 && now - start_ >= settings_.duration_s) return true;
    return learned_ >= settings_.max_records;
}

TrainedModel Learner::fit(std::vector<std::string>* warnings) const {
    TextTable table = TextTable::parse(csv_, "<records learned by the daemon>");
    LofOptions options;
    options.neighbors = settings_.neighbors;
    options.contamination = settings_.contamination;
    options.reach_floor = settings_.reach_floor;
    LofTrainingResult result;
    TrainedModel model = fit_model(std::move(table), settings_.pipeline, settings_.pipeline_file, options, &result);
    if (warnings != nullptr) *warnings = result.warnings;
    return model;
}

void Learner::clear() {
    csv_.clear();
    csv_.shrink_to_fit();
}

std::string Learner::state(double now) const {
    std::string s = fmt::format("learning {}", learned_);
    if (settings_.records > 0) s += fmt::format("/{} records", settings_.records);
    else s += " records";
    if (settings_.duration_s > 0) s += fmt::format(", {:.0f}/{:g} s", start_ < 0 ? 0.0 : now - start_, settings_.duration_s);
    return s;
}

}  // namespace netlof

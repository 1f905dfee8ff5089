#include "userspace/engine/learner.hpp"

#include <algorithm>
#include <fmt/core.h>

#include "model/lof_model.hpp"
#include "userspace/records/record_writer.hpp"

namespace netlof {

namespace {

constexpr const char* kLearnedFile = "<records learned by the daemon>";
// Records a batch of learning holds as text before it is read into the fit.
constexpr std::uint64_t kBatchRecords = 8192;

}  // namespace

Learner::Learner(LearnSettings settings)
    : settings_(std::move(settings)), fit_(std::make_unique<ModelFit>(settings_.pipeline, settings_.pipeline_file)) {
    for (const FeatureSpec& f : settings_.pipeline.features)
        if (f.transform == Transform::OneHot) onehot_ids_.push_back(*connection_column_id(f.column));
}

void Learner::add_batch() {
    if (batch_ == 0) return;
    // Line numbers as in one file of every record learned, the header line 1.
    const std::size_t first_line = lines_done_ + 1;
    lines_done_ += static_cast<std::size_t>(std::count(csv_.begin(), csv_.end(), '\n')) - 1;
    // A batch that cannot be read fails the fit, as a file with that record
    // fails `netlof train`; learning itself goes on.
    try {
        if (!error_) fit_->add(TextTable::parse(std::move(csv_), kLearnedFile, first_line));
    } catch (...) {
        error_ = std::current_exception();
    }
    csv_.clear();
    batch_ = 0;
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
    if (++batch_ == kBatchRecords) add_batch();
    return true;
}

bool Learner::done(double now) const {
    if (learned_ < settings_.neighbors + 1) return false;  // too few rows for k neighbours
    if (settings_.records > 0 && learned_ >= settings_.records) return true;
    if (settings_.duration_s > 0 && start_ >= 0 && now - start_ >= settings_.duration_s) return true;
    return learned_ >= settings_.max_records;
}

TrainedModel Learner::fit(std::vector<std::string>* warnings) {
    add_batch();
    if (error_) std::rethrow_exception(error_);
    LofOptions options;
    options.neighbors = settings_.neighbors;
    options.contamination = settings_.contamination;
    options.reach_floor = settings_.reach_floor;
    LofTrainingResult result;
    TrainedModel model = fit_->fit(options, &result);
    if (warnings != nullptr) *warnings = result.warnings;
    return model;
}

void Learner::clear() {
    csv_.clear();
    csv_.shrink_to_fit();
    batch_ = 0;
    lines_done_ = 1;
    error_ = nullptr;
    fit_ = std::make_unique<ModelFit>(settings_.pipeline, settings_.pipeline_file);
}

std::string Learner::state(double now) const {
    std::string s = fmt::format("learning {}", learned_);
    if (settings_.records > 0) s += fmt::format("/{} records", settings_.records);
    else s += " records";
    if (settings_.duration_s > 0) s += fmt::format(", {:.0f}/{:g} s", start_ < 0 ? 0.0 : now - start_, settings_.duration_s);
    return s;
}

}  // namespace netlof

#include "userspace/engine/learner.hpp"

#include <algorithm>
#include <fmt/core.h>

#include "model/lof_model.hpp"
#include "rules/program_identity.hpp"
#include "userspace/records/record_writer.hpp"

namespace netlof {

namespace {

constexpr const char* kLearnedFile = "<records learned by the daemon>";
// Records a batch of learning holds as text before it is read into the fit.
constexpr std::uint64_t kBatchRecords = 8192;

}  // namespace

Learner::Learner(LearnSettings settings)
    : settings_(std::move(settings)),
      random_(0x6e65746c6f66),
      fit_(std::make_unique<ModelFit>(settings_.pipeline, settings_.pipeline_file)) {
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
        if (!error_) fit_->add_baselines(TextTable::parse(std::move(csv_), kLearnedFile, first_line));
    } catch (...) {
        error_ = std::current_exception();
    }
    csv_.clear();
    batch_ = 0;
}

void Learner::begin(double now) {
    if (start_ < 0) start_ = now;
}

std::size_t Learner::program_cap() const {
    const std::size_t programs = std::max<std::size_t>(1, sample_.size());
    return std::min(settings_.per_program, std::max(settings_.sample_rows / programs, settings_.neighbors + 1));
}

void Learner::shrink_to(std::size_t cap) {
    for (auto& [key, r] : sample_) {
        // A uniform sample of a uniform sample is uniform: drop rows at random.
        while (r.rows.size() > cap) {
            std::swap(r.rows[random_() % r.rows.size()], r.rows.back());
            r.rows.pop_back();
            --sampled_;
        }
    }
}

bool Learner::add(const ConnectionRecord& r) {
    const RecordCells& cells = cells_.fill(r);
    for (std::size_t id : onehot_ids_)
        if (cells.text[id].empty()) return false;
    // One line of CSV for the baselines' batch and, if sampled, the sample.
    line_.clear();
    append_record_csv(line_, r);
    if (csv_.empty()) csv_ = record_csv_header();
    csv_ += line_;
    ++learned_;
    if (++batch_ == kBatchRecords) add_batch();

    program_key_into(r.process_name, r.exe, r.unit, key_);
    auto it = sample_.find(key_);
    if (it == sample_.end()) {
        // A new program needs room for its k neighbours; past what the sample
        // holds at that, its records teach only the baselines (counted).
        if ((sample_.size() + 1) * (settings_.neighbors + 1) > settings_.sample_rows) {
            ++records_unsampled_;
            return true;
        }
        it = sample_.emplace(key_, Reservoir{}).first;
        if (sampled_ + program_cap() > settings_.sample_rows) shrink_to(program_cap());
    }
    Reservoir& res = it->second;
    ++res.seen;
    const std::size_t cap = program_cap();
    if (res.rows.size() < cap) {
        res.rows.emplace_back(learned_, line_);
        ++sampled_;
    } else if (const std::uint64_t j = random_() % res.seen; j < cap) {
        res.rows[j] = {learned_, line_};
    }
    return true;
}

bool Learner::done(double now) const {
    if (sampled_ < settings_.neighbors + 1) return false;  // too few rows for k neighbours
    if (settings_.records > 0 && learned_ >= settings_.records) return true;
    return settings_.duration_s > 0 && start_ >= 0 && now - start_ >= settings_.duration_s;
}

LearnedSpan Learner::finish_span() {
    add_batch();
    if (error_) std::rethrow_exception(error_);
    LearnedSpan span = fit_->span();
    std::vector<std::pair<std::uint64_t, const std::string*>> rows;
    rows.reserve(sampled_);
    for (const auto& [key, r] : sample_)
        for (const auto& [place, line] : r.rows) rows.emplace_back(place, &line);
    std::sort(rows.begin(), rows.end());
    span.sample_csv = record_csv_header();
    for (const auto& [place, line] : rows) span.sample_csv += *line;
    return span;
}

TrainedModel Learner::fit(std::vector<std::string>* warnings) {
    const LearnedSpan span = finish_span();
    LofOptions options;
    options.neighbors = settings_.neighbors;
    options.contamination = settings_.contamination;
    options.reach_floor = settings_.reach_floor;
    LofTrainingResult result;
    TrainedModel model = fit_spans({&span}, settings_.pipeline, settings_.pipeline_file, options, &result);
    if (warnings != nullptr) *warnings = result.warnings;
    return model;
}

std::string Learner::state(double now) const {
    std::string s = fmt::format("learning {}", learned_);
    if (settings_.records > 0) s += fmt::format("/{} records", settings_.records);
    else s += " records";
    s += fmt::format(" ({} sampled)", sampled_);
    if (settings_.duration_s > 0) s += fmt::format(", {:.0f}/{:g} s", start_ < 0 ? 0.0 : now - start_, settings_.duration_s);
    return s;
}

}  // namespace netlof

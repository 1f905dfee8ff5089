// Learning in the daemon: learns from every record until model.learn is
// met (by default a whole day, whatever the connection rate), in memory that
// does not grow with the rate, then fits the pipeline, LOF and the baselines
// the rules compare with, as `netlof train` fits them:
//   - the rules' baselines (reach, windows, identities, the rate) are
//     running sums over every record, each bounded (rules/);
//   - the LOF is fitted on a sample: per program (rules/program_identity.hpp)
//     a uniform reservoir of its records (Vitter's algorithm R), at most
//     per_program rows each and sample_rows in all, shared out evenly when
//     many programs learn, so a rare program keeps every row it made (its k
//     neighbours) and a busy one a uniform sample of its day.
#pragma once

#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <random>
#include <optional>
#include <string>
#include <vector>

#include "model/feature_pipeline.hpp"
#include "userspace/engine/trained_model.hpp"
#include "userspace/records/connection_record.hpp"
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
    std::size_t sample_rows = 100000;  // the LOF's sample, in all
    std::size_t per_program = 5000;    // and per program
    // After the first span the baseline follows change: each span's records
    // that raised no alert are learned and the model refitted on the last
    // keep_spans spans (what none of them saw has aged out). 0: frozen.
    std::size_t keep_spans = 7;
};

class Learner {
public:
    explicit Learner(LearnSettings settings);

    // Learning's duration counts from the first batch judged.
    void begin(double now);
    // Learns r. False when r cannot be learned: an empty value in a column
    // the pipeline one-hot encodes (an executable that could not be named),
    // which `netlof train` refuses too.
    bool add(const ConnectionRecord& r);
    // Has model.learn been met, with enough rows for k neighbours?
    bool done(double now) const;
    std::uint64_t records() const { return learned_; }
    std::size_t sampled() const { return sampled_; }
    // Records of programs the sample had no room for (they still teach the baselines).
    std::uint64_t records_unsampled() const { return records_unsampled_; }
    // What was learned, as a span to fit (fit_spans) alone or with others.
    // Does not forget it: the caller may fail to write the model and try
    // again later. Throws InputError for a record the pipeline cannot take.
    LearnedSpan finish_span();
    // The model of this span alone.
    TrainedModel fit(std::vector<std::string>* warnings = nullptr);
    const LearnSettings& settings() const { return settings_; }
    // "learning 120 records (118 sampled), 35/86400 s"
    std::string state(double now) const;

private:
    // Each program's reservoir: its sampled records as CSV lines, with
    // their place among the records learned (the fit takes them in that
    // order: a sample that kept everything is what `netlof train` reads).
    struct Reservoir {
        std::vector<std::pair<std::uint64_t, std::string>> rows;
        std::uint64_t seen = 0;
    };
    std::size_t program_cap() const;  // rows a program may keep now
    void shrink_to(std::size_t cap);  // drops rows at random from every reservoir over cap
    void add_batch();

    LearnSettings settings_;
    double start_ = -1;  // wall time of the first record offered
    std::uint64_t learned_ = 0;
    std::vector<std::size_t> onehot_ids_;  // connection column ids the pipeline one-hot encodes
    RecordCellsBuilder cells_;
    std::map<std::string, Reservoir, std::less<>> sample_;
    std::size_t sampled_ = 0;
    std::uint64_t records_unsampled_ = 0;
    std::mt19937_64 random_;  // seeded alike every run: replay is deterministic
    std::string key_, line_;
    // The baselines learn every record, as `netlof train` reads it: a batch
    // at a time written as the CSV a file would hold and read by the same
    // ModelFit a file's parts go through. Only the current batch is kept as text.
    std::unique_ptr<ModelFit> fit_;
    std::string csv_;
    std::uint64_t batch_ = 0;       // records in csv_
    std::uint64_t lines_done_ = 1;  // lines of the batches read so far, with the header's
    std::exception_ptr error_;      // why a batch could not be read: fit() throws it
};

}  // namespace netlof

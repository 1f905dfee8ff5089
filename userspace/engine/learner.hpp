// Learning in the daemon: keeps the records a model will be fitted on until
// model.learn is met, then fits the pipeline, LOF and the baselines the
// rules compare with, exactly as `netlof train` fits them on a file.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
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
    std::uint64_t max_records = 1000000;  // bound on what learning keeps in memory
};

class Learner {
public:
    explicit Learner(LearnSettings settings);

    // Learning's duration counts from the first batch judged.
    void begin(double now);
    // Keeps r (up to max_records). False when r cannot be learned: an empty
    // value in a column the pipeline one-hot encodes (an executable that
    // could not be named), which `netlof train` refuses too.
    bool add(const ConnectionRecord& r);
    // Has model.learn been met, with enough rows for k neighbours?
    bool done(double now) const;
    std::uint64_t records() const { return learned_; }
    // Fits on what was kept. Does not forget it: the caller may fail to
    // write the model and try again later. Throws InputError for a record
    // the pipeline cannot take.
    TrainedModel fit(std::vector<std::string>* warnings = nullptr);
    const LearnSettings& settings() const { return settings_; }
    // Forgets what was kept, once a model is in use.
    void clear();
    // "learning 120/1000 records, 35/3600 s"
    std::string state(double now) const;

private:
    LearnSettings settings_;
    double start_ = -1;  // wall time of the first record offered
    std::uint64_t learned_ = 0;
    std::vector<std::size_t> onehot_ids_;  // connection column ids the pipeline one-hot encodes
    RecordCellsBuilder cells_;
    // What learning saw, as `netlof train` reads it: each batch of records
    // is written as the CSV a file would hold and read by the same ModelFit
    // a file's parts go through, so the daemon's model equals train's. Only
    // the current batch is kept as text.
    void add_batch();
    std::unique_ptr<ModelFit> fit_;
    std::string csv_;
    std::uint64_t batch_ = 0;       // records in csv_
    std::uint64_t lines_done_ = 1;  // lines of the batches read so far, with the header's
    std::exception_ptr error_;      // why a batch could not be read: fit() throws it
};

}  // namespace netlof

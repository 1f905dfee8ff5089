// A trained model as the engine uses it: the model's part (model/
// model_file.hpp) and what the rules learned beside it, the reach baseline
// and the learned windows, in one file.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "model/model_file.hpp"
#include "rules/behaviour_windows.hpp"
#include "rules/reach_baseline.hpp"

namespace netlof {

struct TrainedModel : ScoringModel {
    ReachBaseline reach;     // what each executable reached while learning
    WindowBaseline windows;  // each program's sums over one and ten minutes while learning
    // Models before format 5 key programs by executable alone: records are
    // looked up in them without their unit.
    bool keys_with_units = true;
};

// Records that come a part at a time (a file read in bounded memory): each
// call gives the next part, or nullopt after the last.
using RecordParts = std::function<std::optional<TextTable>()>;

// Fits everything a model holds on connection records: the pipeline and LOF
// (result: the training scores), the identities, the score tail, the reach
// baseline and the windows. `netlof train` and the daemon's learning both
// fit here, so a learned model equals a trained one. The records are read
// in one pass, a part at a time: what is kept of them is their features and
// what the rules learn, and each part is let go before the next is read.
// Throws InputError for bad records and for fewer than 2 of them.
// phase("features"), phase("fit") mark the steps for --timings ("features"
// once per part).
TrainedModel fit_model(const RecordParts& parts, const PipelineSpec& spec, const std::string& pipeline_file,
                       const LofOptions& options, LofTrainingResult* result,
                       const std::function<void(const char*)>& phase = {});
// One span of learning (a day, by default), finished: the rules' baselines
// and the LOF's sample, kept to be merged with the spans before and after it
// (a baseline that follows change: see userspace/engine/learner.hpp).
struct LearnedSpan {
    LearnedIdentities identities;
    std::uint64_t rows = 0;      // records learned
    double first = 0, last = 0;  // their end times
    ReachBaseline reach;         // not indexed
    WindowBaseline windows;
    std::string sample_csv;      // the LOF's sample: a CSV header and rows
};
// The model of these spans: their baselines merged, the pipeline and LOF
// fitted on their samples together. Throws InputError as fit_model does.
TrainedModel fit_spans(const std::vector<const LearnedSpan*>& spans, const PipelineSpec& spec,
                       const std::string& pipeline_file, const LofOptions& options, LofTrainingResult* result);

// fit_model for records that come to the caller a part at a time (the
// daemon's learning): add() each part as it comes, then fit(). The const
// fit() keeps what was added, so more parts may follow and it may be called
// again (a model that failed to be written is fitted again later, on what
// was learned since); the other lets it go before the LOF fit.
class ModelFit {
public:
    ModelFit(const PipelineSpec& spec, std::string pipeline_file);
    ModelFit(const ModelFit&) = delete;  // pipeline_ points into spec_
    ModelFit& operator=(const ModelFit&) = delete;

    // Reads one part: the pipeline's columns on both cores, the rules'
    // baselines beside them. Throws InputError naming a bad cell, after
    // which the fit holds some of the part and is not to be used further.
    void add(const TextTable& part);
    // Reads one part into the rules' baselines only: the daemon's learning
    // gives every record here and fits the LOF on a sample of them.
    void add_baselines(const TextTable& part);
    std::uint64_t rows() const { return pipeline_.rows(); }
    // Throws InputError for fewer than 2 records. phase as fit_model's.
    TrainedModel fit(const LofOptions& options, LofTrainingResult* result) const;
    TrainedModel fit(const LofOptions& options, LofTrainingResult* result,
                     const std::function<void(const char*)>& phase) &&;
    // The baselines added so far, as a span (sample_csv left empty).
    LearnedSpan span() const;

private:
    struct Learned;  // what fit() sums up before the LOF fit
    Learned learned(const PipelineFit& pipeline) const;
    static TrainedModel fit_lof(Learned learned, const LofOptions& options, LofTrainingResult* result,
                                const std::function<void(const char*)>& phase);

    PipelineSpec spec_;
    std::string pipeline_file_, file_;
    PipelineFit pipeline_;
    IdentityLearner identities_;
    RateLearner rate_;
    ReachBaseline reach_;
    WindowLearner windows_;
};

// The same on a table, as one part.
TrainedModel fit_model(TextTable table, const PipelineSpec& spec, const std::string& pipeline_file,
                       const LofOptions& options, LofTrainingResult* result,
                       const std::function<void(const char*)>& phase = {});

// The LOF threshold a model is used with, and where it came from (for the
// log): from the alert budget (false LOF alerts a day; 0: off) through the
// training scores' tail when the model holds what that needs, otherwise the
// model's contamination.
struct LofThreshold {
    double value = 1.5;
    std::string note;
};
LofThreshold lof_threshold(const ScoringModel& model, double budget_per_day);

std::string serialize_model(const TrainedModel& model);
// What to tell whoever trained a model file of `bytes` on `rows` records
// that the daemon, replay and report would refuse (over kMaxModelBytes):
// about how many rows would fit. Empty when it is loadable.
std::string model_size_warning(std::size_t bytes, std::size_t rows);
// Throws InputError naming `file` and the field that is wrong.
TrainedModel deserialize_model(std::string_view bytes, const std::string& file);

}  // namespace netlof

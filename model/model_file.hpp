// The one file a trained model lives in: the fitted feature pipeline, the
// LOF state needed to score new rows without refitting, the executables
// each process name was seen running while learning, and what each reached.
//
// Layout (little-endian): a 32-byte header {magic "NETLOFMD", u32 version,
// u32 header size, u64 payload size, u32 CRC-32 of the payload, u32 zero}
// followed by the payload. A truncated, corrupted, foreign or newer file is
// refused with a diagnostic that names the field at fault.
#pragma once

#include <map>
#include <string>
#include <vector>
#include <string_view>

#include "common/text_table.hpp"
#include "model/feature_pipeline.hpp"
#include "model/lof_model.hpp"
#include "model/tail_threshold.hpp"
#include "rules/behaviour_windows.hpp"
#include "rules/reach_baseline.hpp"

namespace netlof {

// 2 added the learned identities, 3 the LOF reachability floor, the training
// scores' tail, the reach baseline and the learned windows, 4 the log transform
// and feature units; older files are still read (without what they lack).
inline constexpr std::uint32_t kModelFormatVersion = 4;

// Process name -> the executables (paths, sorted, unique) it ran in training.
using LearnedIdentities = std::map<std::string, std::vector<std::string>>;

struct TrainedModel {
    std::string pipeline_file;  // which pipeline YAML it was fitted with
    FeaturePipeline pipeline;
    LofModel lof;
    LearnedIdentities identities;
    ScoreTail tail;       // the training scores' tail, for a threshold from an alert budget
    ReachBaseline reach;  // what each executable reached while learning
    WindowBaseline windows;  // each program's sums over one and ten minutes while learning
};

// Connections a second in a table of records (by ts_end); 0 when it cannot say.
double learned_rate(const TextTable& table);

// The identities of a table of connection records (columns process_name and
// exe; none when it lacks them, as the notebook's CSV does). Unknown (empty)
// executables are left out.
LearnedIdentities learn_identities(const TextTable& table);

std::string serialize_model(const TrainedModel& model);
// Throws InputError naming `file` and the field that is wrong.
TrainedModel deserialize_model(std::string_view bytes, const std::string& file);

}  // namespace netlof

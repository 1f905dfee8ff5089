// The one file a trained model lives in: the fitted feature pipeline and the
// LOF state needed to score new rows without refitting.
//
// Layout (little-endian): a 32-byte header {magic "NETLOFMD", u32 version,
// u32 header size, u64 payload size, u32 CRC-32 of the payload, u32 zero}
// followed by the payload. A truncated, corrupted, foreign or newer file is
// refused with a diagnostic that names the field at fault.
#pragma once

#include <string>
#include <string_view>

#include "model/feature_pipeline.hpp"
#include "model/lof_model.hpp"

namespace netlof {

inline constexpr std::uint32_t kModelFormatVersion = 1;

struct TrainedModel {
    std::string pipeline_file;  // which pipeline YAML it was fitted with
    FeaturePipeline pipeline;
    LofModel lof;
};

std::string serialize_model(const TrainedModel& model);
// Throws InputError naming `file` and the field that is wrong.
TrainedModel deserialize_model(std::string_view bytes, const std::string& file);

}  // namespace netlof

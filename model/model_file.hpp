// The file a trained model lives in, and the model's own part of it: the
// fitted feature pipeline, the LOF state needed to score new rows without
// refitting, the training scores' tail and the executables each process
// name was seen running while learning. What the rules learned is written
// after it by whoever owns the whole file (the engine's trained_model.hpp).
//
// Layout (little-endian): a 32-byte header {magic "NETLOFMD", u32 version,
// u32 header size, u64 payload size, u32 CRC-32 of the payload, u32 zero}
// followed by the payload. A truncated, corrupted, foreign or newer file is
// refused with a diagnostic that names the field at fault.
#pragma once

#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/binary_io.hpp"
#include "common/text_table.hpp"
#include "model/feature_pipeline.hpp"
#include "model/lof_model.hpp"
#include "model/tail_threshold.hpp"

namespace netlof {

// 2 added the learned identities, 3 the LOF reachability floor, the training
// scores' tail, the reach baseline and the learned windows, 4 the log transform
// and feature units, 5 program keys with units and interpreters' names
// (rules/program_identity.hpp) and windows by hour of the day; older files
// are still read (without what they lack).
inline constexpr std::uint32_t kModelFormatVersion = 5;

// Process name -> the executables (paths, sorted, unique) it ran in training.
using LearnedIdentities = std::map<std::string, std::vector<std::string>, std::less<>>;

struct ScoringModel {
    std::string pipeline_file;  // which pipeline YAML it was fitted with
    FeaturePipeline pipeline;
    LofModel lof;
    LearnedIdentities identities;
    ScoreTail tail;  // the training scores' tail, for a threshold from an alert budget
};

// Connections a second in a table of records (by ts_end); 0 when it cannot say.
double learned_rate(const TextTable& table);
// The same over records that come a part at a time.
class RateLearner {
public:
    void add(const TextTable& part);
    double rate() const;
    std::uint64_t rows() const { return rows_; }
    double first() const { return lo_; }
    double last() const { return hi_; }

private:
    double lo_ = std::numeric_limits<double>::infinity(), hi_ = -std::numeric_limits<double>::infinity();
    std::uint64_t rows_ = 0;
};

// The identities of a table of connection records (columns process_name and
// exe; none when it lacks them, as the notebook's CSV does). Unknown (empty)
// executables are left out.
LearnedIdentities learn_identities(const TextTable& table);
// The same over records that come a part at a time (a part that lacks
// either column adds nothing); more parts may follow a finish().
class IdentityLearner {
public:
    void add(const TextTable& part);
    LearnedIdentities finish() const;

private:
    LearnedIdentities seen_;  // executables unsorted until finish()
};

// The model's part of the payload.
void write_scoring_model(ByteWriter& w, const ScoringModel& m);
// Reads it from the payload of a file of this format version; throws
// InputError naming the file and the field that is wrong.
ScoringModel read_scoring_model(ByteReader& r, std::uint32_t version, std::size_t max_items);

// A model file is written in one buffer: start_model_file() leaves room for
// the header, the payload is written after it, and finish_model_file() fills
// the header in (sizes, checksum) and returns the whole file's bytes. A
// training's payload is hundreds of MB: it is never copied.
ByteWriter start_model_file(std::size_t payload_bytes_expected = 0);
std::string finish_model_file(ByteWriter&& file);
// Checks the header (magic, version, sizes, checksum) and returns the
// payload's reader (its offsets count from the file's start) and version.
struct ModelPayload {
    std::uint32_t version;
    std::string_view bytes;
    ByteReader reader() const;
    std::string file;
};
ModelPayload open_model_file(std::string_view bytes, const std::string& file);

}  // namespace netlof

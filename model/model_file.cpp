#include "model/model_file.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <zlib.h>

#include "model/connection_columns.hpp"
#include "common/diagnostic.hpp"

namespace netlof {

namespace {

constexpr char kMagic[8] = {'N', 'E', 'T', 'L', 'O', 'F', 'M', 'D'};
constexpr std::size_t kHeaderSize = 32;

}  // namespace

void write_scoring_model(ByteWriter& w, const ScoringModel& model) {
    w.str(model.pipeline_file);
    const auto& num = model.pipeline.numeric();
    w.put<std::uint64_t>(num.size());
    for (const NumericFeature& f : num) {
        w.str(f.column);
        w.put<std::uint8_t>(static_cast<std::uint8_t>(f.transform));
        w.put(f.mean);
        w.put(f.scale);
        w.put(f.unit);
    }
    const auto& cat = model.pipeline.categorical();
    w.put<std::uint64_t>(cat.size());
    for (const CategoricalFeature& f : cat) {
        w.str(f.column);
        w.put<std::uint64_t>(f.categories.size());
        for (const std::string& c : f.categories) w.str(c);
        w.put(f.weight);
    }
    const LofModel& lof = model.lof;
    const FeatureMatrix& t = lof.training();
    w.put<std::uint64_t>(t.rows());
    w.put<std::uint64_t>(lof.neighbors());
    w.put<std::uint8_t>(lof.contamination() ? 0 : 1);  // 1: "auto"
    w.put<double>(lof.contamination().value_or(0.0));
    w.put<double>(lof.offset());
    w.array(t.numeric.data(), static_cast<std::size_t>(t.numeric.size()));
    w.array(t.codes.data(), t.codes.size());
    w.array(lof.k_distance().data(), lof.k_distance().size());
    w.array(lof.lrd().data(), lof.lrd().size());
    w.put<double>(lof.reach_floor());
    w.put<std::uint64_t>(model.tail.rows);
    w.put<double>(model.tail.rate_per_s);
    w.put<double>(model.tail.initial);
    w.put<std::uint64_t>(model.tail.top.size());
    w.array(model.tail.top.data(), model.tail.top.size());
    w.put<std::uint64_t>(model.identities.size());
    for (const auto& [name, exes] : model.identities) {
        w.str(name);
        w.put<std::uint64_t>(exes.size());
        for (const std::string& e : exes) w.str(e);
    }
}

ByteWriter start_model_file(std::size_t payload_bytes_expected) {
    ByteWriter w;
    w.out.reserve(kHeaderSize + payload_bytes_expected);
    w.out.assign(kHeaderSize, '\0');
    return w;
}

std::string finish_model_file(ByteWriter&& file) {
    std::string out = std::move(file.out);
    const std::size_t payload = out.size() - kHeaderSize;
    // zlib's crc32 takes at most 4 GiB a call.
    uLong crc = crc32(0L, Z_NULL, 0);
    for (std::size_t at = kHeaderSize; at < out.size();) {
        const std::size_t n = std::min<std::size_t>(out.size() - at, std::size_t{1} << 30);
        crc = crc32(crc, reinterpret_cast<const Bytef*>(out.data() + at), static_cast<uInt>(n));
        at += n;
    }
    ByteWriter h;
    h.out.assign(kMagic, sizeof kMagic);
    h.put<std::uint32_t>(kModelFormatVersion);
    h.put<std::uint32_t>(kHeaderSize);
    h.put<std::uint64_t>(payload);
    h.put<std::uint32_t>(static_cast<std::uint32_t>(crc));
    h.put<std::uint32_t>(0);
    std::copy(h.out.begin(), h.out.end(), out.begin());
    return out;
}

ByteReader ModelPayload::reader() const { return ByteReader(bytes, kHeaderSize, file); }

ModelPayload open_model_file(std::string_view bytes, const std::string& file) {
    auto fail = [&](std::string field, std::string message) -> InputError {
        Diagnostic d;
        d.file = file;
        d.field = std::move(field);
        d.message = std::move(message);
        return InputError(std::move(d));
    };
    if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
        throw fail("magic", "not a netlof model file (it does not start with NETLOFMD)");
    ByteReader header(bytes.substr(sizeof kMagic), sizeof kMagic, file);
    const auto version = header.get<std::uint32_t>("version");
    if (version < 1 || version > kModelFormatVersion)
        throw fail("version", "model format version " + std::to_string(version) + " is not supported (this netlof reads 1 to " +
                                  std::to_string(kModelFormatVersion) + "): retrain it with `netlof train`");
    const auto header_size = header.get<std::uint32_t>("header_size");
    const auto payload_size = header.get<std::uint64_t>("payload_size");
    const auto checksum = header.get<std::uint32_t>("checksum");
    if (header_size != kHeaderSize) throw fail("header_size", "unexpected header size " + std::to_string(header_size));
    if (bytes.size() < kHeaderSize || payload_size != bytes.size() - kHeaderSize)
        throw fail("payload_size", "file is truncated or has trailing data: header says " + std::to_string(payload_size) +
                                       " payload bytes, file has " +
                                       std::to_string(bytes.size() < kHeaderSize ? 0 : bytes.size() - kHeaderSize));
    const std::string_view payload = bytes.substr(kHeaderSize);
    const auto actual = static_cast<std::uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size())));
    if (actual != checksum) throw fail("checksum", "checksum mismatch: the file is corrupted");

    return ModelPayload{version, payload, file};
}

ScoringModel read_scoring_model(ByteReader& r, std::uint32_t version, std::size_t max_items) {
    std::string pipeline_file = r.str("pipeline_file");
    std::vector<NumericFeature> numeric(r.count("numeric_features", max_items));
    for (NumericFeature& f : numeric) {
        f.column = r.str("numeric_features.column");
        const auto t = r.get<std::uint8_t>("numeric_features.transform");
        const bool known = t == static_cast<std::uint8_t>(Transform::Standard) ||
                           t == static_cast<std::uint8_t>(Transform::LogStandard) ||
                           (version >= 4 && t == static_cast<std::uint8_t>(Transform::Log));
        if (!known) r.fail("numeric_features.transform", "unknown numeric transform " + std::to_string(t));
        f.transform = static_cast<Transform>(t);
        f.mean = r.get<double>("numeric_features.mean");
        f.scale = r.get<double>("numeric_features.scale");
        f.unit = version >= 4 ? r.get<double>("numeric_features.unit") : 1.0;
        if (!std::isfinite(f.unit) || !(f.unit > 0))
            r.fail("numeric_features.unit", "unit of '" + f.column + "' is not finite and positive");
        if (find_connection_column(f.column) == nullptr) r.fail("numeric_features.column", "unknown column '" + f.column + "'");
        if (!std::isfinite(f.mean) || !(f.scale > 0) || !std::isfinite(f.scale))
            r.fail("numeric_features.scale", "scaler of '" + f.column + "' is not finite and positive");
    }
    std::vector<CategoricalFeature> categorical(r.count("categorical_features", max_items));
    for (CategoricalFeature& f : categorical) {
        f.column = r.str("categorical_features.column");
        if (find_connection_column(f.column) == nullptr)
            r.fail("categorical_features.column", "unknown column '" + f.column + "'");
        f.categories.resize(r.count("categorical_features.categories", max_items));
        for (std::string& c : f.categories) c = r.str("categorical_features.categories");
        for (std::size_t i = 1; i < f.categories.size(); ++i)
            if (!(f.categories[i - 1] < f.categories[i]))
                r.fail("categorical_features.categories", "categories of '" + f.column + "' are not sorted and unique");
        f.weight = version >= 5 ? r.get<double>("categorical_features.weight") : 1.0;
        if (!(f.weight > 0) || !std::isfinite(f.weight))
            r.fail("categorical_features.weight", "weight of '" + f.column + "' is not finite and positive");
    }
    const std::size_t rows = r.count("lof.rows", max_items);
    const std::size_t k = r.count("lof.neighbors", max_items);
    const bool auto_contamination = r.get<std::uint8_t>("lof.contamination_auto") != 0;
    const double contamination = r.get<double>("lof.contamination");
    const double offset = r.get<double>("lof.offset");
    if (!auto_contamination && !(contamination > 0 && contamination <= 0.5))
        r.fail("lof.contamination", "contamination is outside (0, 0.5]");

    FeatureMatrix train;
    train.numeric.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(numeric.size()));
    r.array(train.numeric.data(), rows * numeric.size(), "lof.training_numeric");
    train.codes.resize(rows * categorical.size());
    r.array(train.codes.data(), train.codes.size(), "lof.training_codes");
    for (const CategoricalFeature& f : categorical) {
        train.category_counts.push_back(static_cast<std::uint32_t>(f.categories.size()));
        train.category_weights.push_back(f.weight);
    }
    std::vector<double> kdist(rows), lrd(rows);
    r.array(kdist.data(), rows, "lof.k_distance");
    r.array(lrd.data(), rows, "lof.lrd");
    const double reach_floor = version >= 3 ? r.get<double>("lof.reach_floor") : 0.0;
    ScoreTail tail;
    if (version >= 3) {
        tail.rows = r.get<std::uint64_t>("tail.rows");
        tail.rate_per_s = r.get<double>("tail.rate_per_s");
        tail.initial = r.get<double>("tail.initial");
        tail.top.resize(r.count("tail.top", std::min<std::size_t>(max_items, tail.rows)));
        r.array(tail.top.data(), tail.top.size(), "tail.top");
        if (!(tail.rate_per_s >= 0 && std::isfinite(tail.rate_per_s)) || !std::isfinite(tail.initial))
            r.fail("tail.rate_per_s", "the learned rate or the tail's start is not a finite number");
        for (std::size_t i = 0; i < tail.top.size(); ++i)
            if (!(tail.top[i] > tail.initial && std::isfinite(tail.top[i])) || (i > 0 && tail.top[i] > tail.top[i - 1]))
                r.fail("tail.top", "the tail's scores are not finite, above its start and descending");
    }
    LearnedIdentities identities;
    if (version >= 2) {
        const std::size_t names = r.count("identities", max_items);
        for (std::size_t i = 0; i < names; ++i) {
            std::string name = r.str("identities.process_name");
            std::vector<std::string> exes(r.count("identities.exes", max_items));
            for (std::string& e : exes) e = r.str("identities.exes");
            for (std::size_t j = 1; j < exes.size(); ++j)
                if (!(exes[j - 1] < exes[j])) r.fail("identities.exes", "executables of '" + name + "' are not sorted and unique");
            if (!identities.emplace(std::move(name), std::move(exes)).second)
                r.fail("identities.process_name", "a process name is listed twice");
        }
    }
    try {
        return ScoringModel{std::move(pipeline_file), FeaturePipeline(std::move(numeric), std::move(categorical)),
                            LofModel::from_parts(std::move(train), k,
                                                 auto_contamination ? std::nullopt : std::optional<double>(contamination),
                                                 offset, std::move(kdist), std::move(lrd), reach_floor),
                            std::move(identities), std::move(tail)};
    } catch (const std::invalid_argument& e) {
        Diagnostic d;
        d.file = r.file();
        d.field = "lof";
        d.message = std::string("corrupted model: ") + e.what();
        throw InputError(std::move(d));
    }
}

void RateLearner::add(const TextTable& part) {
    rows_ += part.rows();
    const auto col = part.column_index("ts_end");
    if (!col) return;
    for (std::size_t row = 0; row < part.rows(); ++row) {
        const std::string_view cell = part.cell(row, *col);
        double v = 0;
        if (std::from_chars(cell.data(), cell.data() + cell.size(), v).ec != std::errc{}) continue;
        lo_ = std::min(lo_, v);
        hi_ = std::max(hi_, v);
    }
}

double RateLearner::rate() const {
    return rows_ >= 2 && hi_ > lo_ ? static_cast<double>(rows_ - 1) / (hi_ - lo_) : 0;
}

double learned_rate(const TextTable& table) {
    RateLearner learner;
    learner.add(table);
    return learner.rate();
}

void IdentityLearner::add(const TextTable& part) {
    const auto name = part.column_index("process_name"), exe = part.column_index("exe");
    if (!name || !exe) return;
    // A program has a few executables across many records: each (name, exe)
    // is kept once, found without building a string (the run of rows with the
    // previous row's name reuses its entry).
    std::vector<std::string>* exes = nullptr;
    std::string_view exes_of;
    for (std::size_t row = 0; row < part.rows(); ++row) {
        const std::string_view e = part.cell(row, *exe);
        if (e.empty()) continue;
        const std::string_view n = part.cell(row, *name);
        if (exes == nullptr || n != exes_of) {
            auto it = seen_.find(n);
            if (it == seen_.end()) it = seen_.emplace(std::string(n), std::vector<std::string>{}).first;
            exes = &it->second;
            exes_of = n;
        }
        if (std::find(exes->begin(), exes->end(), e) == exes->end()) exes->emplace_back(e);
    }
}

LearnedIdentities IdentityLearner::finish() const {
    LearnedIdentities out = seen_;
    for (auto& [n, list] : out) std::sort(list.begin(), list.end());
    return out;
}

LearnedIdentities learn_identities(const TextTable& table) {
    IdentityLearner learner;
    learner.add(table);
    return learner.finish();
}

}  // namespace netlof

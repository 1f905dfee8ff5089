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

class Writer {
public:
    template <typename T>
    void put(T v) {
        static_assert(std::is_arithmetic_v<T>);
        char b[sizeof(T)];
        std::memcpy(b, &v, sizeof(T));  // x86-64 and arm64 are little-endian
        out.append(b, sizeof(T));
    }
    void str(std::string_view s) {
        put<std::uint32_t>(static_cast<std::uint32_t>(s.size()));
        out.append(s);
    }
    template <typename T>
    void array(const T* p, std::size_t n) {
        out.append(reinterpret_cast<const char*>(p), n * sizeof(T));
    }
    std::string out;
};

class Reader {
public:
    Reader(std::string_view data, std::size_t base, const std::string& file) : data_(data), base_(base), file_(file) {}

    [[noreturn]] void fail(std::string_view field, const std::string& message) const {
        Diagnostic d;
        d.file = file_;
        d.field = std::string(field);
        d.message = "corrupted model: " + message + " (at byte " + std::to_string(base_ + pos_) + ")";
        throw InputError(std::move(d));
    }
    void need(std::size_t bytes, std::string_view field) const {
        if (bytes > data_.size() - pos_)
            fail(field, "needs " + std::to_string(bytes) + " more bytes, only " + std::to_string(data_.size() - pos_) +
                            " left");
    }
    template <typename T>
    T get(std::string_view field) {
        need(sizeof(T), field);
        T v;
        std::memcpy(&v, data_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }
    std::string str(std::string_view field) {
        const auto len = get<std::uint32_t>(field);
        need(len, field);
        std::string s(data_.substr(pos_, len));
        pos_ += len;
        return s;
    }
    // Reads count elements; the size is checked before anything is allocated,
    // so a corrupted count cannot ask for gigabytes.
    template <typename T>
    void array(T* out, std::size_t count, std::string_view field) {
        if (count > (data_.size() - pos_) / sizeof(T)) need(data_.size() + 1, field);
        if (count == 0) return;  // out may be an empty vector's null data(): memcpy must not see it
        std::memcpy(out, data_.data() + pos_, count * sizeof(T));
        pos_ += count * sizeof(T);
    }
    std::size_t count(std::string_view field, std::size_t max) {
        const auto n = get<std::uint64_t>(field);
        if (n > max) fail(field, "count " + std::to_string(n) + " is impossible here");
        return static_cast<std::size_t>(n);
    }
    bool done() const { return pos_ == data_.size(); }

private:
    std::string_view data_;
    std::size_t base_;
    std::size_t pos_ = 0;
    const std::string& file_;
};

}  // namespace

std::string serialize_model(const TrainedModel& model) {
    Writer w;
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
    w.put<std::uint64_t>(model.reach.profiles().size());
    for (const auto& [subject, p] : model.reach.profiles()) {
        w.str(subject);
        w.put<std::uint64_t>(p.learned_connections);
        w.put(p.longest);
        w.put(p.names_once);
        w.put<std::uint64_t>(p.names.size());
        for (const std::string& n : p.names) w.str(n);
        w.put<std::uint64_t>(p.destinations.size());
        for (const auto& [k, count] : p.destinations) {
            w.array(k.addr.data(), k.addr.size());
            w.put(k.family);
            w.put(k.proto);
            w.put(k.port);
            w.put(count);
        }
    }
    w.put<std::uint64_t>(model.windows.size());
    for (const auto& [subject, learned] : model.windows) {
        w.str(subject);
        for (const auto& scale : learned)
            for (const WindowLimit& l : scale) {
                w.put(l.mean);
                w.put(l.sd);
                w.put(l.max);
                w.put(l.whole);
            }
    }

    std::string out(kMagic, sizeof kMagic);
    Writer h;
    h.put<std::uint32_t>(kModelFormatVersion);
    h.put<std::uint32_t>(kHeaderSize);
    h.put<std::uint64_t>(w.out.size());
    h.put<std::uint32_t>(static_cast<std::uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(w.out.data()), static_cast<uInt>(w.out.size()))));
    h.put<std::uint32_t>(0);
    out += h.out;
    out += w.out;
    return out;
}

double learned_rate(const TextTable& table) {
    const auto col = table.column_index("ts_end");
    if (!col || table.rows() < 2) return 0;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (std::size_t row = 0; row < table.rows(); ++row) {
        const std::string_view cell = table.cell(row, *col);
        double v = 0;
        if (std::from_chars(cell.data(), cell.data() + cell.size(), v).ec != std::errc{}) continue;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    return hi > lo ? static_cast<double>(table.rows() - 1) / (hi - lo) : 0;
}

LearnedIdentities learn_identities(const TextTable& table) {
    LearnedIdentities out;
    const auto name = table.column_index("process_name"), exe = table.column_index("exe");
    if (!name || !exe) return out;
    for (std::size_t row = 0; row < table.rows(); ++row) {
        const std::string_view e = table.cell(row, *exe);
        if (!e.empty()) out[std::string(table.cell(row, *name))].emplace_back(e);
    }
    for (auto& [n, exes] : out) {
        std::sort(exes.begin(), exes.end());
        exes.erase(std::unique(exes.begin(), exes.end()), exes.end());
    }
    return out;
}

TrainedModel deserialize_model(std::string_view bytes, const std::string& file) {
    auto fail = [&](std::string field, std::string message) -> InputError {
        Diagnostic d;
        d.file = file;
        d.field = std::move(field);
        d.message = std::move(message);
        return InputError(std::move(d));
    };
    if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
        throw fail("magic", "not a netlof model file (it does not start with NETLOFMD)");
    Reader header(bytes.substr(sizeof kMagic), sizeof kMagic, file);
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

    // The checksum guards against accidents; the checks below still refuse a
    // well-formed file with impossible contents.
    Reader r(payload, kHeaderSize, file);
    const std::size_t max_items = payload.size();
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
    for (const CategoricalFeature& f : categorical) train.category_counts.push_back(static_cast<std::uint32_t>(f.categories.size()));
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
    ReachBaseline reach;
    if (version >= 3) {
        const std::size_t subjects = r.count("reach", max_items);
        std::string previous;
        for (std::size_t i = 0; i < subjects; ++i) {
            std::string subject = r.str("reach.subject");
            if (i > 0 && !(previous < subject)) r.fail("reach.subject", "subjects are not sorted and unique");
            ReachProfile p;
            p.learned_connections = r.get<std::uint64_t>("reach.learned_connections");
            // Older models did not learn durations: no hold is judged against them.
            p.longest = version >= 4 ? r.get<double>("reach.longest") : std::numeric_limits<double>::infinity();
            if (!(p.longest >= 0)) r.fail("reach.longest", "longest connection of '" + subject + "' is not a duration");
            // Older models did not count names: all their names count as met often.
            p.names_once = version >= 4 ? r.get<std::uint32_t>("reach.names_once") : 0;
            p.names.resize(r.count("reach.names", max_items));
            for (std::string& n : p.names) n = r.str("reach.names");
            for (std::size_t j = 1; j < p.names.size(); ++j)
                if (!(p.names[j - 1] < p.names[j])) r.fail("reach.names", "names of '" + subject + "' are not sorted and unique");
            const std::size_t n = r.count("reach.destinations", max_items);
            for (std::size_t j = 0; j < n; ++j) {
                ReachKey k;
                r.array(k.addr.data(), k.addr.size(), "reach.destinations.addr");
                k.family = r.get<std::uint8_t>("reach.destinations.family");
                k.proto = r.get<std::uint8_t>("reach.destinations.proto");
                k.port = r.get<std::uint16_t>("reach.destinations.port");
                const auto count = r.get<std::uint32_t>("reach.destinations.count");
                if (k.family != 4 && k.family != 6) r.fail("reach.destinations.family", "address family is not 4 or 6");
                if (!p.destinations.empty() && !(p.destinations.rbegin()->first < k))
                    r.fail("reach.destinations", "destinations of '" + subject + "' are not sorted and unique");
                p.destinations.emplace_hint(p.destinations.end(), k, count);
            }
            previous = subject;
            reach.restore(std::move(subject), std::move(p));
        }
        reach.index();
    }
    WindowBaseline windows;
    if (version >= 3) {
        const std::size_t subjects = r.count("windows", max_items);
        for (std::size_t i = 0; i < subjects; ++i) {
            std::string subject = r.str("windows.subject");
            LearnedWindows learned;
            for (auto& scale : learned)
                for (WindowLimit& l : scale) {
                    l.mean = r.get<double>("windows.mean");
                    l.sd = r.get<double>("windows.sd");
                    l.max = r.get<double>("windows.max");
                    l.whole = r.get<std::uint32_t>("windows.whole");
                    if (!(l.mean >= 0 && l.sd >= 0 && l.max >= 0 && std::isfinite(l.mean + l.sd + l.max)))
                        r.fail("windows", "a learned window of '" + subject + "' is not finite and 0 or more");
                }
            if (!windows.emplace(std::move(subject), learned).second) r.fail("windows.subject", "a subject is listed twice");
        }
    }
    if (!r.done()) r.fail("payload", "unexpected bytes after the last field");
    try {
        return TrainedModel{std::move(pipeline_file), FeaturePipeline(std::move(numeric), std::move(categorical)),
                            LofModel::from_parts(std::move(train), k,
                                                 auto_contamination ? std::nullopt : std::optional<double>(contamination),
                                                 offset, std::move(kdist), std::move(lrd), reach_floor),
                            std::move(identities), std::move(tail), std::move(reach), std::move(windows)};
    } catch (const std::invalid_argument& e) {
        throw fail("lof", std::string("corrupted model: ") + e.what());
    }
}

}  // namespace netlof

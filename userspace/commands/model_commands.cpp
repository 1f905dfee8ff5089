#include "userspace/commands/model_commands.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <cmath>
#include <filesystem>
#include <fast_float/fast_float.h>
#include <fmt/core.h>
#include <optional>

#include "common/table_chunks.hpp"
#include "common/text_table.hpp"
#include "common/diagnostic.hpp"
#include "model/explanation.hpp"
#include "userspace/commands/option_error.hpp"
#include "userspace/commands/progress.hpp"
#include "model/feature_pipeline.hpp"
#include "model/lof_model.hpp"
#include "userspace/engine/trained_model.hpp"
#include "common/file_io.hpp"

namespace netlof {

namespace {

// Wall-clock phases, printed to stderr with --timings (used by `make bench`):
// each phase's time summed over its marks (a streamed score reads, scores
// and writes part by part), printed in the order phases first ended.
class PhaseTimer {
public:
    explicit PhaseTimer(bool enabled) : enabled_(enabled) {}
    ~PhaseTimer() {
        if (enabled_)
            for (const auto& [phase, seconds] : phases_) fmt::print(stderr, "timing: {} {:.6f}\n", phase, seconds);
    }
    void mark(const char* phase) {
        const auto now = std::chrono::steady_clock::now();
        const double seconds = std::chrono::duration<double>(now - last_).count();
        last_ = now;
        for (auto& [name, total] : phases_)
            if (name == phase) {
                total += seconds;
                return;
            }
        phases_.emplace_back(phase, seconds);
    }

private:
    bool enabled_;
    std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
    std::vector<std::pair<std::string, double>> phases_;
};

// A part of the file to score: about 30,000 rows of seed-shaped CSV.
constexpr std::size_t kScoreChunkBytes = std::size_t{4} << 20;
// A part of the file to train on: about 60,000 rows, so that a file of
// 100,000 is two parts, parsed on both cores (TableChunks).
constexpr std::size_t kTrainChunkBytes = std::size_t{8} << 20;

std::string count_text(std::uint64_t n) {
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::optional<double> parse_contamination(const std::string& text) {
    if (text == "auto") return std::nullopt;
    double v = 0;
    auto r = fast_float::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size() || !(v > 0.0 && v <= 0.5))
        option_error("--contamination", "'" + text + "' is neither a fraction in (0, 0.5] nor auto");
    return v;
}

}  // namespace

int run_synth(const SynthCommand& cmd) {
    write_output_file(cmd.out, connections_to_csv(generate_notebook_connections(cmd.seed, cmd.sizes)));
    return 0;
}

int run_train(const TrainCommand& cmd) {
    if (cmd.neighbors < 1) option_error("--neighbors", "must be at least 1");
    LofOptions options;
    options.neighbors = cmd.neighbors;
    options.contamination = parse_contamination(cmd.contamination);
    options.threads = cmd.threads;
    if (!(cmd.reach_floor >= 0 && std::isfinite(cmd.reach_floor))) option_error("--reach-floor", "must be 0 or more");
    options.reach_floor = cmd.reach_floor;

    PhaseTimer timer(cmd.timings);
    const PipelineSpec spec = parse_pipeline_yaml(read_input_file(cmd.pipeline), cmd.pipeline);
    // One pass over the records, a part at a time (standard input too): what
    // training keeps is their features and what the rules learn, not the text.
    TableChunks chunks(cmd.in, kTrainChunkBytes);
    LofTrainingResult result;
    Progress progress;
    std::atomic<std::uint64_t> rows{0}, bytes{0}, found{0};
    std::atomic<bool> all_read{false};
    const std::uint64_t file_size = chunks.file_size();
    options.progress = &found;
    std::optional<TrainedModel> fitted;
    {
        ProgressTicker ticker(progress, [&] {
            const std::uint64_t read = rows.load(std::memory_order_relaxed), done = found.load(std::memory_order_relaxed);
            if (!all_read.load(std::memory_order_relaxed))
                return file_size > 0
                           ? fmt::format("netlof train: {} rows read ({:.0f}% of {})", count_text(read),
                                         100.0 * static_cast<double>(bytes.load(std::memory_order_relaxed)) / static_cast<double>(file_size), cmd.in)
                           : fmt::format("netlof train: {} rows read", count_text(read));
            return done == 0 ? fmt::format("netlof train: {} rows read; features", count_text(read))
                             : fmt::format("netlof train: {} rows read; neighbours found for {} ({:.0f}%)", count_text(read),
                                           count_text(done), 100.0 * static_cast<double>(done) / static_cast<double>(read));
        });
        const RecordParts parts = [&]() -> std::optional<TextTable> {
            std::optional<TextTable> part = chunks.next();
            timer.mark("read");
            bytes.store(chunks.bytes_read(), std::memory_order_relaxed);
            if (part) rows.fetch_add(part->rows(), std::memory_order_relaxed);
            else all_read.store(true, std::memory_order_relaxed);
            return part;
        };
        fitted = fit_model(parts, spec, cmd.pipeline, options, &result, [&](const char* phase) { timer.mark(phase); });
    }
    progress.clear();
    const TrainedModel& model = *fitted;
    for (const std::string& w : result.warnings) fmt::print(stderr, "netlof: warning: {}\n", w);
    const std::string model_bytes = serialize_model(model);
    if (const std::string w = model_size_warning(model_bytes.size(), result.lof.size()); !w.empty())
        fmt::print(stderr, "netlof: warning: {}\n", w);
    write_output_file(cmd.out, model_bytes);
    if (!cmd.labels_out.empty()) {
        std::string csv = "lof,anomaly\n";
        csv.reserve(result.lof.size() * 24);
        for (std::size_t i = 0; i < result.lof.size(); ++i) {
            append_double(csv, result.lof[i]);
            csv += result.anomaly[i] ? ",1\n" : ",0\n";
        }
        write_output_file(cmd.labels_out, csv);
    }
    timer.mark("write");
    std::size_t anomalies = 0;
    for (std::uint8_t a : result.anomaly) anomalies += a;
    fmt::print("training anomalies: {}\n", anomalies);
    return 0;
}

int run_score(const ScoreCommand& cmd) {
    PhaseTimer timer(cmd.timings);
    Progress progress;
    const TrainedModel model = deserialize_model(read_input_file(cmd.model), cmd.model);
    // Standard input and pipes (`--in <(zcat x.jsonl.gz)`) cannot be read
    // twice: they are read whole, as one part.
    std::error_code ec;
    const bool read_once = cmd.in == "-" || !std::filesystem::is_regular_file(cmd.in, ec);
    TableChunks chunks(cmd.in, read_once ? std::numeric_limits<std::size_t>::max() : kScoreChunkBytes);
    std::optional<TextTable> part = chunks.next();
    timer.mark("read");
    // The output's columns are the input's. JSON lines may bring a key late (a
    // failed connection's `error`), so their keys are read from the whole file
    // first: a first pass that keeps nothing else.
    std::vector<std::string> columns = part->columns();
    if (chunks.jsonl() && !read_once) {
        TableChunks keys(cmd.in, kScoreChunkBytes);
        while (std::optional<TextTable> t = keys.next()) {
            for (const std::string& c : t->columns())
                if (std::find(columns.begin(), columns.end(), c) == columns.end()) columns.push_back(c);
            progress.show(fmt::format("netlof score: reading the keys of {}: {:.0f}%", cmd.in,
                                      100.0 * static_cast<double>(keys.bytes_read()) / static_cast<double>(std::max<std::uint64_t>(1, keys.file_size()))));
        }
        timer.mark("read");
    }

    OutputFile out(cmd.out);
    std::string csv;
    for (const std::string& c : columns) {
        append_csv_field(csv, c);
        csv += ',';
    }
    csv += cmd.explain ? "lof,anomaly,why\n" : "lof,anomaly\n";
    std::uint64_t rows = 0, anomalies = 0;
    std::vector<std::optional<std::size_t>> source(columns.size());  // each output column in this part
    std::vector<LofScore> scores;
    while (part) {
        const TextTable& table = *part;
        const FeatureMatrix features = model.pipeline.transform(table);
        timer.mark("features");
        scores.assign(table.rows(), LofScore{});
        model.lof.score(features, scores, cmd.threads);
        timer.mark("score");
        for (std::size_t c = 0; c < columns.size(); ++c) source[c] = table.column_index(columns[c]);
        csv.reserve(csv.size() + table.rows() * 128);
        for (std::size_t r = 0; r < table.rows(); ++r) {
            for (const std::optional<std::size_t>& c : source) {
                if (c) append_csv_field(csv, table.cell(r, *c));
                csv += ',';
            }
            append_double(csv, scores[r].lof);
            csv += scores[r].anomaly ? ",1" : ",0";
            if (cmd.explain) {
                std::string why;
                if (scores[r].anomaly)
                    for (const FeatureReason& reason : explain_row(model.pipeline, model.lof, features, r, csv_row_text(table, r)))
                        why += (why.empty() ? "" : "; ") + reason.text;
                csv += ',';
                append_csv_field(csv, why);
            }
            csv += '\n';
            anomalies += scores[r].anomaly;
        }
        rows += table.rows();
        out.write(csv);
        csv.clear();
        timer.mark("write");
        progress.show(chunks.file_size() > 0
                          ? fmt::format("netlof score: {} rows scored ({:.0f}% of {})", count_text(rows),
                                        100.0 * static_cast<double>(chunks.bytes_read()) / static_cast<double>(chunks.file_size()), cmd.in)
                          : fmt::format("netlof score: {} rows scored", count_text(rows)));
        part = chunks.next();
        timer.mark("read");
    }
    out.commit();
    timer.mark("write");
    progress.clear();
    fmt::print(stderr, "scored {} rows: {} anomalies (lof above {:.10g})\n", rows, anomalies, model.lof.threshold());
    return 0;
}

int run_allowlist_suggest(const SuggestCommand& cmd) {
    const TrainedModel model = deserialize_model(read_input_file(cmd.model), cmd.model);
    write_output_file(cmd.out, suggest_allowlist(model.reach, cmd.model));
    return 0;
}

}  // namespace netlof

#include "userspace/commands/model_commands.hpp"

#include <chrono>
#include <cmath>
#include <fast_float/fast_float.h>
#include <fmt/core.h>
#include <optional>

#include "common/text_table.hpp"
#include "common/diagnostic.hpp"
#include "model/explanation.hpp"
#include "userspace/commands/option_error.hpp"
#include "model/feature_pipeline.hpp"
#include "model/lof_model.hpp"
#include "userspace/engine/trained_model.hpp"
#include "common/file_io.hpp"

namespace netlof {

namespace {

// Wall-clock phases, printed to stderr with --timings (used by `make bench`).
class PhaseTimer {
public:
    explicit PhaseTimer(bool enabled) : enabled_(enabled) {}
    void mark(const char* phase) {
        const auto now = std::chrono::steady_clock::now();
        if (enabled_) fmt::print(stderr, "timing: {} {:.6f}\n", phase, std::chrono::duration<double>(now - last_).count());
        last_ = now;
    }

private:
    bool enabled_;
    std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

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
    TextTable table = TextTable::parse_records(read_input_file(cmd.in), cmd.in);
    if (table.rows() < 2) {
        Diagnostic d;
        d.file = cmd.in;
        d.message = "needs at least 2 data rows to train, found " + std::to_string(table.rows());
        throw InputError(std::move(d));
    }
    timer.mark("read");
    LofTrainingResult result;
    const TrainedModel model =
        fit_model(std::move(table), spec, cmd.pipeline, options, &result, [&](const char* phase) { timer.mark(phase); });
    for (const std::string& w : result.warnings) fmt::print(stderr, "netlof: warning: {}\n", w);
    write_output_file(cmd.out, serialize_model(model));
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
    const TrainedModel model = deserialize_model(read_input_file(cmd.model), cmd.model);
    const TextTable table = TextTable::parse_records(read_input_file(cmd.in), cmd.in);
    timer.mark("read");
    const FeatureMatrix features = model.pipeline.transform(table);
    timer.mark("features");
    std::vector<LofScore> scores(table.rows());
    model.lof.score(features, scores, cmd.threads);
    timer.mark("score");

    std::string csv;
    csv.reserve(table.rows() * 128);
    for (std::size_t c = 0; c < table.columns().size(); ++c) {
        append_csv_field(csv, table.columns()[c]);
        csv += ',';
    }
    csv += cmd.explain ? "lof,anomaly,why\n" : "lof,anomaly\n";
    std::size_t anomalies = 0;
    for (std::size_t r = 0; r < table.rows(); ++r) {
        for (std::size_t c = 0; c < table.columns().size(); ++c) {
            append_csv_field(csv, table.cell(r, c));
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
    write_output_file(cmd.out, csv);
    timer.mark("write");
    fmt::print(stderr, "scored {} rows: {} anomalies (lof above {:.10g})\n", table.rows(), anomalies,
               model.lof.threshold());
    return 0;
}

int run_allowlist_suggest(const SuggestCommand& cmd) {
    const TrainedModel model = deserialize_model(read_input_file(cmd.model), cmd.model);
    write_output_file(cmd.out, suggest_allowlist(model.reach, cmd.model));
    return 0;
}

}  // namespace netlof

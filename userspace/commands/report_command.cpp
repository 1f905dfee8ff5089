#include "userspace/commands/report_command.hpp"

#include <ctime>
#include <filesystem>
#include <fmt/core.h>

#include "common/file_io.hpp"
#include "common/log.hpp"
#include "common/text_table.hpp"
#include "userspace/daemon/daemon_config.hpp"
#include "userspace/engine/trained_model.hpp"
#include "userspace/outputs/alert_output.hpp"
#include "userspace/records/record_reader.hpp"
#include "userspace/report/report_page.hpp"

namespace netlof {

namespace {

LearningSummary summarize(const TrainedModel& m, const std::string& file, const LofThreshold& threshold) {
    LearningSummary l;
    l.model_file = file;
    l.training_rows = m.lof.training().rows();
    l.neighbors = m.lof.neighbors();
    l.reach_floor = m.lof.reach_floor();
    l.pipeline_file = m.pipeline_file;
    for (const NumericFeature& f : m.pipeline.numeric())
        l.features.push_back(fmt::format("{} ({})", f.column, transform_name(f.transform)));
    for (const CategoricalFeature& f : m.pipeline.categorical())
        l.features.push_back(fmt::format("{} (one-hot, {} categories)", f.column, f.categories.size()));
    l.learned_rate_per_s = m.tail.rate_per_s;
    l.learned_programs = m.identities.size();
    l.threshold = threshold.value;
    l.threshold_note = threshold.note;
    return l;
}

}  // namespace

int run_report(const ReportCommand& cmd) {
    const FileTrust trust = cmd.insecure_files ? FileTrust::Relaxed : FileTrust::Strict;
    std::string model_path = cmd.model;
    double budget_per_day = kDefaultBudgetPerDay;
    if (!cmd.config.empty()) {
        const LoadedConfig loaded = load_daemon_config(cmd.config, trust);
        budget_per_day = loaded.config.alerts.budget_per_day;
        std::error_code ec;
        if (model_path.empty() && std::filesystem::exists(loaded.config.model.path, ec)) model_path = loaded.config.model.path;
    }

    std::string text = read_input_file(cmd.records);
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
        // An empty record log (a fresh install, a rotated file) has nothing to report.
        Diagnostic d;
        d.file = cmd.records;
        d.message = "no records: the file is empty";
        throw InputError(std::move(d));
    }
    const TextTable table = TextTable::parse_records(std::move(text), cmd.records);
    const RecordReader reader(table);
    std::vector<ConnectionRecord> records(table.rows());
    for (std::size_t row = 0; row < table.rows(); ++row) reader.read(row, records[row]);
    std::vector<AlertLine> alerts;
    if (!cmd.alerts.empty()) alerts = parse_alert_lines(read_input_file(cmd.alerts), cmd.alerts);

    std::optional<LearningSummary> learning;
    std::vector<double> scores;
    if (!model_path.empty()) {
        const TrainedModel m = deserialize_model(read_trusted_file(model_path, trust, kMaxModelBytes), model_path);
        learning = summarize(m, model_path, lof_threshold(m, budget_per_day));
        if (table.rows() > 0) {
            const FeatureMatrix features = m.pipeline.transform(table);
            std::vector<LofScore> lof(table.rows());
            m.lof.score(features, lof);
            scores.reserve(lof.size());
            for (const LofScore& s : lof) scores.push_back(s.lof);
        }
    }
    const ReportData data = build_report_data(records, std::move(alerts), scores.empty() ? nullptr : &scores,
                                              learning ? learning->threshold : 0.0);
    ReportSources sources;
    sources.records_file = cmd.records;
    sources.alerts_file = cmd.alerts;
    sources.host = host_name();
    sources.version = cmd.version;
    sources.generated_at = static_cast<double>(std::time(nullptr));
    write_output_file(cmd.out, render_report_html(data, learning, sources), 0644);
    log_line(fmt::format("report: {} records, {} alert lines{} -> {}", data.records, data.alerts.size(),
                         learning ? fmt::format(", {} scored by {}", scores.size(), model_path) : ", no model", cmd.out));
    return 0;
}

}  // namespace netlof

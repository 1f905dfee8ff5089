#include "userspace/commands/replay_command.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fmt/core.h>
#include <map>
#include <unistd.h>

#include "common/diagnostic.hpp"
#include "common/log.hpp"
#include "userspace/outputs/alert_output.hpp"
#include "userspace/outputs/falco_json.hpp"
#include "userspace/sensor/capture.hpp"
#include "userspace/daemon/daemon_config.hpp"
#include "userspace/engine/detector.hpp"
#include "common/file_io.hpp"
#include "userspace/records/record_reader.hpp"

namespace netlof {

namespace {

// The daemon judges what each 10 ms poll brought as one batch; replay
// groups records the same way, by the time they ended.
constexpr double kBatchSeconds = kPollMs / 1000.0;

}  // namespace

int run_replay(const ReplayCommand& cmd) {
    const FileTrust trust = cmd.insecure_files ? FileTrust::Relaxed : FileTrust::Strict;
    LoadedConfig loaded = load_daemon_config(cmd.config, trust);
    const TextTable table = TextTable::parse_records(read_input_file(cmd.in), cmd.in);
    const RecordReader reader(table);
    std::vector<ConnectionRecord> records(table.rows());
    for (std::size_t row = 0; row < table.rows(); ++row) reader.read(row, records[row]);
    // In the order they ended, as the sensor delivers them; ties keep the file's order.
    std::stable_sort(records.begin(), records.end(),
                     [](const ConnectionRecord& a, const ConnectionRecord& b) { return a.ts_end < b.ts_end; });

    const std::string host = host_name();
    std::string lines;
    RuleCounts by_rule{};
    auto write = [&](const std::vector<Alert>& alerts) {
        for (const Alert& a : alerts) {
            lines += format_alert(a, host);
            ++by_rule[static_cast<std::size_t>(a.rule)];
        }
    };
    Detector detector(std::move(loaded.allowlist), loaded.config.alerts.fold_window_s, learn_settings(loaded));
    const std::string model_path = cmd.model.empty() ? loaded.config.model.path : cmd.model;
    std::error_code ec;
    if (!cmd.model.empty() || std::filesystem::exists(model_path, ec)) {
        TrainedModel m = deserialize_model(read_trusted_file(model_path, trust, kMaxModelBytes), model_path);
        log_line(fmt::format("replay: using model {} ({} training rows)", model_path, m.lof.training().rows()));
        detector.use_model(std::move(m));
        log_line("replay: " + detector.threshold_note());
    } else {
        log_line(fmt::format("replay: no model at {}: learning from the replayed records as the daemon would", model_path));
    }

    double now = records.empty() ? 0 : records.front().ts_end;
    for (std::size_t i = 0; i < records.size();) {
        const double batch_end = records[i].ts_end + kBatchSeconds;
        const std::size_t first = i;
        while (i < records.size() && records[i].ts_end < batch_end) ++i;
        now = records[i - 1].ts_end;
        write(detector.judge(std::span(records).subspan(first, i - first), now));
        if (!detector.detecting() && detector.learning_done(now)) {
            std::vector<std::string> warnings;
            TrainedModel m = detector.fit_learned(&warnings);
            for (const std::string& w : warnings) log_line("replay: learning: " + w);
            log_line(fmt::format("replay: learned from {} records; detecting from the next record on",
                                 detector.learned_records()));
            if (!cmd.model_out.empty()) write_output_file(cmd.model_out, serialize_model(m), 0600);
            detector.use_model(std::move(m));
            log_line("replay: " + detector.threshold_note());
        }
    }
    write(detector.flush_folds(now));

    if (cmd.out == "-") {
        std::fwrite(lines.data(), 1, lines.size(), stdout);
        std::fflush(stdout);
    } else {
        write_output_file(cmd.out, lines, 0640);
    }
    std::string rules;
    for (std::size_t r = 0; r < kRuleCount; ++r)
        if (by_rule[r] > 0) rules += fmt::format("{}{} {}", rules.empty() ? "" : ", ", rule_name(static_cast<Rule>(r)), by_rule[r]);
    const DetectorStats& d = detector.stats();
    log_line(fmt::format("replay: {} records, scored {}, alert lines {}{}{}, novelty not alerted (usual for a wandering "
                         "program {}, judged by allowlist rules {}, baseline full {}), window alerts {} (programs let go {}, not judged: learning too short {}), beacon pairs let go {}, model {}",
                         records.size(), d.scored, d.alerts, rules.empty() ? "" : " (", rules.empty() ? "" : rules + ")",
                         d.novelty_expected, d.novelty_ruled, detector.reach_unlearned(), d.raised_of(Rule::VolumeSpike) + d.raised_of(Rule::ConnectionBurst) + d.raised_of(Rule::FanOut),
                         detector.window_evictions(), detector.windows_unjudged(), detector.beacon_evictions(),
                         detector.detecting() ? "detecting" : "still learning at the end"));
    return 0;
}

}  // namespace netlof

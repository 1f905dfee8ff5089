#include "userspace/commands/replay_command.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fmt/core.h>
#include <map>
#include <optional>
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
#include "common/table_chunks.hpp"

namespace netlof {

namespace {

// The daemon judges what each 10 ms poll brought as one batch; replay
// groups records the same way, by the time they ended.
constexpr double kBatchSeconds = kPollMs / 1000.0;

// A records file's records in the order they ended (ties in the file's
// order), as the sensor delivers them, without holding the file: a first
// pass reads each record's end time and ranks them; the second reads the
// file again a part at a time and hands records out by rank, holding only
// those read before their turn (in a record log, those a few seconds out of
// order). Standard input and pipes (`--in <(zcat log.gz)`) cannot be read
// twice: their parts are kept instead.
class RecordsInEndOrder {
public:
    explicit RecordsInEndOrder(std::string path) : path_(std::move(path)) {
        std::vector<std::pair<double, std::uint32_t>> ends;  // (ts_end, place in the file)
        TableChunks chunks(path_, kPartBytes);
        keep_ = path_ == "-" || chunks.file_size() == 0;  // not a regular file (or an empty one)
        ConnectionRecord r;
        while (std::optional<TextTable> part = chunks.next()) {
            const RecordReader reader(*part);  // bad records are refused here, in the file's order
            for (std::size_t row = 0; row < part->rows(); ++row) {
                reader.read(row, r);
                ends.emplace_back(r.ts_end, static_cast<std::uint32_t>(ends.size()));
            }
            if (keep_) kept_.push_back(std::move(*part));
        }
        std::sort(ends.begin(), ends.end());
        rank_.resize(ends.size());
        for (std::size_t i = 0; i < ends.size(); ++i) rank_[ends[i].second] = static_cast<std::uint32_t>(i);
    }

    std::size_t size() const { return rank_.size(); }

    // The next record, or nullptr after the last; valid until the next call.
    ConnectionRecord* next() {
        while (waiting_.empty() || waiting_.begin()->first != handed_out_) {
            if (handed_out_ == rank_.size() || !read_part()) return nullptr;
        }
        auto node = waiting_.extract(waiting_.begin());
        current_ = std::move(node.mapped());
        ++handed_out_;
        return &current_;
    }

private:
    static constexpr std::size_t kPartBytes = std::size_t{8} << 20;

    bool read_part() {
        std::optional<TextTable> part;
        if (keep_) {
            if (next_kept_ == kept_.size()) return false;
            part = std::move(kept_[next_kept_++]);
        } else {
            if (!chunks_) chunks_.emplace(path_, kPartBytes);
            part = chunks_->next();
            if (!part) return false;
        }
        const RecordReader reader(*part);
        for (std::size_t row = 0; row < part->rows() && read_ < rank_.size(); ++row)
            reader.read(row, waiting_[rank_[read_++]]);
        return true;
    }

    std::string path_;
    std::vector<std::uint32_t> rank_;  // each record's place in end order, by its place in the file
    bool keep_ = false;
    std::vector<TextTable> kept_;      // the parts of an input that cannot be read again
    std::size_t next_kept_ = 0;
    std::optional<TableChunks> chunks_;
    std::size_t read_ = 0, handed_out_ = 0;
    std::map<std::uint32_t, ConnectionRecord> waiting_;  // read, by rank, before their turn
    ConnectionRecord current_;
};

}  // namespace

int run_replay(const ReplayCommand& cmd) {
    const FileTrust trust = cmd.insecure_files ? FileTrust::Relaxed : FileTrust::Strict;
    LoadedConfig loaded = load_daemon_config(cmd.config, trust);
    RecordsInEndOrder records(cmd.in);

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

    ConnectionRecord* r = records.next();
    double now = r != nullptr ? r->ts_end : 0;
    std::vector<ConnectionRecord> batch;
    while (r != nullptr) {
        const double batch_end = r->ts_end + kBatchSeconds;
        batch.clear();
        for (; r != nullptr && r->ts_end < batch_end; r = records.next()) batch.push_back(std::move(*r));
        now = batch.back().ts_end;
        write(detector.judge(batch, now));
        const bool first = !detector.detecting();
        std::vector<std::string> warnings;
        if (std::optional<TrainedModel> m = detector.model_due(now, &warnings)) {
            for (const std::string& w : warnings) log_line("replay: learning: " + w);
            if (first)
                log_line(fmt::format("replay: learned from {} records; detecting from the next record on",
                                     detector.learned_records()));
            else
                log_line(fmt::format("replay: refitted on {} at {}", detector.due_note(), iso8601_utc(now)));
            if (!cmd.model_out.empty()) write_output_file(cmd.model_out, serialize_model(*m), 0600);
            detector.use_model(std::move(*m));
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
                         "program {}, judged by allowlist rules {}, baseline full {}), window alerts {} (programs let go {}, not judged: learning too short {}), beacon pairs let go {}, spans of learning kept {}, alerted past what following keeps out {}, model {}",
                         records.size(), d.scored, d.alerts, rules.empty() ? "" : " (", rules.empty() ? "" : rules + ")",
                         d.novelty_expected, d.novelty_ruled, detector.reach_unlearned(), d.raised_of(Rule::VolumeSpike) + d.raised_of(Rule::ConnectionBurst) + d.raised_of(Rule::FanOut),
                         detector.window_evictions(), detector.windows_unjudged(), detector.beacon_evictions(),
                         detector.spans(), d.taint_overflow, detector.detecting() ? "detecting" : "still learning at the end"));
    return 0;
}

}  // namespace netlof

#include "userspace/engine/detector.hpp"

#include <algorithm>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include "common/diagnostic.hpp"
#include "model/explanation.hpp"
#include "userspace/daemon/daemon_config.hpp"
#include "userspace/records/record_writer.hpp"

namespace netlof {

namespace {

// An alert about record r, raised now; the caller adds why.
Alert alert_for(const ConnectionRecord& r, std::string_view rule, std::string_view priority, double now) {
    Alert a;
    a.time = now;
    a.rule = rule;
    a.priority = priority;
    a.record = r;
    return a;
}

}  // namespace

LearnSettings learn_settings(const LoadedConfig& l) {
    LearnSettings s;
    s.pipeline_file = l.config.model.pipeline;
    s.pipeline = l.pipeline;
    s.neighbors = l.config.model.neighbors;
    s.contamination = l.config.model.contamination;
    s.reach_floor = l.config.model.reach_floor;
    s.budget_per_day = l.config.alerts.budget_per_day;
    s.records = l.config.model.learn_records;
    s.duration_s = l.config.model.learn_duration_s;
    return s;
}

Detector::Detector(Allowlist allowlist, double fold_window_s, LearnSettings learn, AlertHandler handler)
    : allowlist_(std::move(allowlist)), folder_(fold_window_s), learn_(std::move(learn)), handler_(std::move(handler)) {
    pending_.reserve(1024);
    for (const FeatureSpec& f : learn_.pipeline.features)
        if (f.transform == Transform::OneHot) learn_onehot_ids_.push_back(*connection_column_id(f.column));
}

bool Detector::learnable(const ConnectionRecord& r) {
    // An empty category (exe of a process gone before it was read) is not a
    // value to learn: `netlof train` refuses it too.
    const RecordCells& cells = cells_.fill(r);
    for (std::size_t id : learn_onehot_ids_)
        if (cells.text[id].empty()) return false;
    return true;
}

void Detector::use_model(TrainedModel model) {
    if (!model.pipeline.reads_connection_columns()) {
        Diagnostic d;
        d.file = model.pipeline_file;
        d.field = "features";
        d.message = "the model's pipeline reads a column that connection records do not have";
        throw InputError(std::move(d));
    }
    model_ = std::move(model);
    set_threshold();
    learned_csv_.clear();
    learned_csv_.shrink_to_fit();
}

void Detector::set_budget(double budget_per_day) {
    learn_.budget_per_day = budget_per_day;
    if (model_) set_threshold();
}

void Detector::set_threshold() {
    lof_threshold_ = model_->lof.threshold();
    BudgetThreshold b;
    if (learn_.budget_per_day > 0 && budget_threshold(model_->tail, learn_.budget_per_day, &b)) {
        lof_threshold_ = b.threshold;
        threshold_note_ = fmt::format(
            "threshold lof > {:.4g} from the alert budget of {:g} a day at the learned {:.3g} connections/s (the "
            "training scores' tail above {:.4g}: generalized Pareto shape {:.3g}, scale {:.3g}; expected {:.2g} a day)",
            b.threshold, learn_.budget_per_day, model_->tail.rate_per_s, b.fit.t, b.fit.xi, b.fit.sigma, b.expected_per_day);
    } else if (learn_.budget_per_day > 0) {
        threshold_note_ = fmt::format("threshold lof > {:.4g} from the model's contamination: it does not hold what an "
                                      "alert budget needs (a learned connection rate and a tail of at least 10 scores)",
                                      lof_threshold_);
    } else {
        threshold_note_ = fmt::format("threshold lof > {:.4g} from the model's contamination (alerts.budget is off)",
                                      lof_threshold_);
    }
}

void Detector::set_rules(Allowlist allowlist, double fold_window_s, double now) {
    for (Alert& a : folder_.expire(now, true)) emit(a);
    allowlist_ = std::move(allowlist);
    folder_ = AlertFolder(fold_window_s);
}

void Detector::emit(Alert& a) {
    ++stats_.alerts;
    handler_(a);
}

void Detector::add(const ConnectionRecord& r) {
    if (pending_count_ < pending_.size()) pending_[pending_count_] = r;
    else pending_.push_back(r);
    ++pending_count_;
}

AllowVerdict Detector::judge_rules(const ConnectionRecord& r, const std::optional<Endpoint>& dst, double now) {
    if (!dst) return AllowVerdict::NoRules;
    const AllowVerdict verdict = allowlist_.check(r.process_name, r.exe, *dst);
    if (verdict != AllowVerdict::Violation) return verdict;
    ++stats_.allowlist_violations;
    Alert a = alert_for(r, "allowlist_violation", "Warning", now);
    // Which rules judged it and what they allow: the normal a violation leaves.
    for (const AllowRule* rule : allowlist_.rules_for(r.process_name, r.exe)) {
        std::vector<std::string_view> allowed;
        for (const Destination& d : rule->allowed) allowed.push_back(d.text);
        a.why.push_back(fmt::format("{}:{} allows {} {} only {}", rule->file, rule->line,
                                    rule->by_executable ? "executable" : "process", rule->subject,
                                    allowed.empty() ? std::string("nothing") : fmt::format("{}", fmt::join(allowed, ", "))));
    }
    if (folder_.admit(a)) emit(a);
    return verdict;
}

bool Detector::judge_identity(const ConnectionRecord& r, double now) {
    Alert a;
    const std::string& exe = r.exe.empty() ? std::string("an executable netlof could not name") : r.exe;
    if (const AllowRule* pin = allowlist_.masquerade(r.process_name, r.exe)) {
        a.expected_exes = pin->pinned_exes;
        a.why.push_back(fmt::format("process name '{}' is pinned to {} ({}:{}); this process runs {}", r.process_name,
                                    fmt::join(pin->pinned_exes, ", "), pin->file, pin->line, exe));
    } else if (model_ && !r.exe.empty()) {
        const auto it = model_->identities.find(r.process_name);
        if (it == model_->identities.end()) return false;  // a name learning never saw: no identity to compare
        // As for pins: an upgraded, still running binary is still itself.
        if (std::binary_search(it->second.begin(), it->second.end(), without_deleted_suffix(r.exe))) return false;
        a.expected_exes = it->second;
        a.why.push_back(fmt::format("process name '{}' ran only {} while learning; this process runs {}", r.process_name,
                                    fmt::join(it->second, ", "), exe));
    } else {
        return false;
    }
    ++stats_.masquerades;
    a.time = now;
    a.rule = "process_masquerade";
    a.priority = "Warning";
    a.record = r;
    if (folder_.admit(a)) emit(a);
    return true;
}

namespace {

// "/usr/bin/curl (process name 'curl')": the program novelty and windows speak of.
std::string program_text(const ConnectionRecord& r) {
    return r.exe.empty() ? fmt::format("process '{}' (executable unknown)", r.process_name)
                         : fmt::format("{} (process name '{}')", r.exe, r.process_name);
}

// What learning saw of m (counts above 0; 0 marks what joined since):
// "10.0.0.0/24, 10.9.0.0/24 and 3 more", at most five named.
template <typename Map, typename Text>
std::string learned_ones(const Map& m, Text text) {
    std::vector<std::string> shown;
    std::size_t learned = 0;
    for (const auto& [key, count] : m) {
        if (count == 0) continue;
        ++learned;
        if (shown.size() < 5) shown.push_back(text(key));
    }
    std::string s = shown.empty() ? std::string("nothing") : fmt::format("{}", fmt::join(shown, ", "));
    if (learned > shown.size()) s += fmt::format(" and {} more", learned - shown.size());
    return s;
}

}  // namespace

void Detector::judge_novelty(const ConnectionRecord& r, const ReachKey& key, AllowVerdict verdict, bool masquerade,
                             double now) {
    const Novelty n = model_->reach.observe(subject_, r.process_name, key, r.duration);
    // How long a connection lasts is no allowlist's subject: judged whatever the rules say.
    if (n.long_hold) {
        ++stats_.long_holds;
        Alert a = alert_for(r, "long_connection", "Notice", now);
        a.why.push_back(fmt::format("{} held this connection {:.1f} s; its longest while learning was {:.3g} s, the limit {:.3g} s",
                                    program_text(r), r.duration, n.longest, hold_limit(n.longest)));
        if (folder_.admit(a)) emit(a);
    }
    if (!n.learned_destination) judge_beacon(r, key, now);
    if (n.expected_network || n.expected_port || n.expected_name) ++stats_.novelty_expected;
    if (!n.new_subject && !n.new_name && !n.new_network && !n.new_port) return;
    // The operator's rules speak for this process; a masquerade already said it.
    if (verdict != AllowVerdict::NoRules || masquerade) {
        ++stats_.novelty_ruled;
        return;
    }
    Alert a = alert_for(r, "", "Notice", now);
    const std::string who = program_text(r);
    if (n.new_subject) {
        ++stats_.new_processes;
        a.rule = "new_process";
        a.why.push_back(fmt::format("{} never made a connection while learning", who));
    } else {
        const ReachProfile& p = *n.profile;
        if (n.new_name) {
            ++stats_.new_processes;
            a.rule = "new_process";
            std::vector<std::string_view> others;
            for (const std::string& name : p.names)
                if (name != r.process_name) others.push_back(name);
            a.why.push_back(fmt::format("{} never ran under this name while learning; it ran as {}", who,
                                        fmt::join(others, ", ")));
        }
        if (n.new_network) {
            if (a.rule.empty()) {
                ++stats_.new_destinations;
                a.rule = "new_destination";
            }
            a.why.push_back(fmt::format("{} never reached {} while learning; it reached {}", who, network_text(key),
                                        learned_ones(p.networks, [](const auto& net) {
                                            ReachKey k;
                                            k.family = net.first;
                                            k.addr = net.second;
                                            return network_text(k);
                                        })));
        }
        if (n.new_port) {
            if (a.rule.empty()) {
                ++stats_.new_ports;
                a.rule = "new_port";
            }
            a.why.push_back(fmt::format("{} never used {} while learning; it used {}", who, port_text(key),
                                        learned_ones(p.ports, [](const auto& port) {
                                            ReachKey k;
                                            k.proto = port.first;
                                            k.port = port.second;
                                            return port_text(k);
                                        })));
        }
    }
    if (folder_.admit(a)) emit(a);
}

void Detector::judge_beacon(const ConnectionRecord& r, const ReachKey& key, double now) {
    const std::optional<BeaconScore> b = beacons_.add(subject_, key, r.ts_start, static_cast<double>(r.bytes_sent));
    if (!b) return;
    ++stats_.beacons;
    Alert a = alert_for(r, "beaconing", "Notice", now);
    a.why.push_back(fmt::format("{} connected to {} every {:.1f} s (median; half within {:.2g} s of it), sending {:.0f} bytes "
                                "(half within {:.0f}), over its last {} connections; learning never saw it reach there",
                                program_text(r), destination_text(key), b->interval_median, b->interval_mad,
                                b->size_median, b->size_mad, b->connections));
    a.why.push_back(fmt::format("regularity (1 - MAD/median) of intervals {:.2f}, of sizes {:.2f}; a beacon is both at least {:g}",
                                b->interval_regularity, b->size_regularity, kBeaconRegularity));
    if (folder_.admit(a)) emit(a);
}

namespace {

// "130.2 KiB" and the like: sums an operator reads at a glance.
std::string amount(WindowMetric m, double v) {
    if (m != WindowMetric::BytesSent) return fmt::format("{:.0f}", v);
    if (v < 1024) return fmt::format("{:.0f} B", v);
    if (v < 1024 * 1024) return fmt::format("{:.1f} KiB", v / 1024);
    return fmt::format("{:.1f} MiB", v / (1024 * 1024));
}

}  // namespace

void Detector::judge_windows(const ConnectionRecord& r, const ReachKey& key, double now) {
    for (const WindowFinding& f : windows_.add(model_->windows, subject_, r.ts_end, r.bytes_sent, key)) {
        ++stats_.window_alerts;
        Alert a = alert_for(r, window_rule(f.metric), "Notice", now);
        const std::string who = program_text(r);
        const char* what = f.metric == WindowMetric::BytesSent ? "sent" : f.metric == WindowMetric::Connections
                                                                            ? "made connections:"
                                                                            : "reached networks:";
        a.why.push_back(fmt::format("{} {} {} within {:g} s", who, what, amount(f.metric, f.value), f.seconds));
        if (model_->windows.count(subject_) == 0)
            a.why.push_back(fmt::format("it made no connection while learning; the limit for such a program is {}",
                                        amount(f.metric, f.limit)));
        else
            a.why.push_back(fmt::format("while learning: at most {} in any {:g} s (mean {}, sd {}); the limit is {}",
                                        amount(f.metric, f.learned.max), f.seconds, amount(f.metric, f.learned.mean),
                                        amount(f.metric, f.learned.sd), amount(f.metric, f.limit)));
        if (folder_.admit(a)) emit(a);
    }
}

void Detector::process(double now) {
    if (learn_start_ < 0) learn_start_ = now;
    to_score_.clear();
    for (std::size_t i = 0; i < pending_count_; ++i) {
        const ConnectionRecord& r = pending_[i];
        const std::optional<Endpoint> dst = parse_endpoint(r.dst_ip, r.dst_port);
        ++stats_.records;
        const bool masquerade = judge_identity(r, now);
        const AllowVerdict verdict = judge_rules(r, dst, now);
        if (!model_) {
            if (!learnable(r)) {
                ++stats_.learn_skipped;
            } else if (learned_ < learn_.max_records) {
                if (learned_csv_.empty()) learned_csv_ = record_csv_header();
                append_record_csv(learned_csv_, r);
                ++learned_;
            }
            continue;
        }
        if (dst) {
            ReachBaseline::subject_into(r.process_name, r.exe, subject_);
            const ReachKey key = reach_key(*dst, r.proto);
            judge_novelty(r, key, verdict, masquerade, now);
            judge_windows(r, key, now);
        }
        // LOF scores allowed records too: exfiltration to an allowed host is still exfiltration.
        if (dst && allowlist_.lof_muted(r.process_name, r.exe, *dst)) {
            ++stats_.lof_muted;
            continue;
        }
        // LOF needs k learned neighbours of the program's own. For a program
        // learning saw fewer times its neighbours are other programs, and its
        // score says only that it is rare: novelty and the windows judge it.
        // (A model without a reach baseline, from an older netlof, scores all.)
        if (dst && !model_->reach.profiles().empty()) {
            const auto p = model_->reach.profiles().find(subject_);
            if (p == model_->reach.profiles().end() || p->second.learned_connections < model_->lof.neighbors()) {
                ++stats_.lof_sparse;
                continue;
            }
        }
        to_score_.push_back(i);
    }
    if (!to_score_.empty()) score_batch(now);
    pending_count_ = 0;
    for (Alert& a : folder_.expire(now)) emit(a);
}

void Detector::score_batch(double now) {
    const TrainedModel& m = *model_;
    m.pipeline.shape(batch_, to_score_.size());
    std::size_t rows = 0;
    for (std::size_t i : to_score_) {
        if (!m.pipeline.transform_record(cells_.fill(pending_[i]), batch_, rows).empty()) {
            ++stats_.unscorable;
            continue;
        }
        to_score_[rows++] = i;
    }
    if (rows == 0) return;
    if (rows < to_score_.size()) {  // rare: drop the unscorable rows' space, keeping the rows written
        to_score_.resize(rows);
        batch_.numeric.conservativeResize(static_cast<Eigen::Index>(rows), batch_.numeric.cols());
        batch_.codes.resize(rows * batch_.categorical_dims());
    }
    scores_.resize(rows);
    // One thread: a batch is small, and the daemon should not take both cores.
    m.lof.score(batch_, scores_, 1);
    stats_.scored += rows;
    for (std::size_t row = 0; row < rows; ++row) {
        if (!(scores_[row].lof > lof_threshold_)) continue;
        ++stats_.lof_anomalies;
        const ConnectionRecord& r = pending_[to_score_[row]];
        Alert a = alert_for(r, "lof_anomaly", "Notice", now);
        a.lof = scores_[row].lof;
        a.threshold = lof_threshold_;
        // Explained before folding: a fold's summary carries its last repeat's why.
        const RecordCells& cells = cells_.fill(r);
        const auto text = [&cells](std::string_view column) {
            return std::string(cells.text[*connection_column_id(column)]);
        };
        for (const FeatureReason& reason : explain_row(m.pipeline, m.lof, batch_, row, text)) a.why.push_back(reason.text);
        if (folder_.admit(a)) emit(a);
    }
}

void Detector::flush_folds(double now) {
    for (Alert& a : folder_.expire(now, true)) emit(a);
}

bool Detector::learning_done(double now) const {
    if (model_ || learned_ < learn_.neighbors + 1) return false;  // too few rows for k neighbours
    if (learn_.records > 0 && learned_ >= learn_.records) return true;
    if (learn_.duration_s > 0 && learn_start_ >= 0 && now - learn_start_ >= learn_.duration_s) return true;
    return learned_ >= learn_.max_records;
}

TrainedModel Detector::fit_learned(std::vector<std::string>* warnings) const {
    const TextTable table = TextTable::parse(learned_csv_, "<records learned by the daemon>");
    FeatureMatrix features;
    FeaturePipeline pipeline = FeaturePipeline::fit(learn_.pipeline, table, &features);
    LofOptions options;
    options.neighbors = learn_.neighbors;
    options.contamination = learn_.contamination;
    options.reach_floor = learn_.reach_floor;
    LofTrainingResult result;
    LofModel lof = LofModel::fit(std::move(features), options, &result);
    if (warnings != nullptr) *warnings = result.warnings;
    return TrainedModel{learn_.pipeline_file, std::move(pipeline), std::move(lof), learn_identities(table),
                        score_tail(result.lof, learned_rate(table)), learn_reach(table), learn_windows(table)};
}

std::string Detector::state(double now) const {
    if (model_) return "detecting";
    std::string s = fmt::format("learning {}", learned_);
    if (learn_.records > 0) s += fmt::format("/{} records", learn_.records);
    else s += " records";
    if (learn_.duration_s > 0)
        s += fmt::format(", {:.0f}/{:g} s", learn_start_ < 0 ? 0.0 : now - learn_start_, learn_.duration_s);
    return s;
}

}  // namespace netlof

#include "userspace/daemon/daemon.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fmt/core.h>
#include <map>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "common/diagnostic.hpp"
#include "userspace/sensor/capture.hpp"
#include "userspace/sensor/record_builder.hpp"
#include "userspace/daemon/daemon_config.hpp"
#include "userspace/engine/detector.hpp"
#include "common/file_io.hpp"
#include "userspace/records/record_writer.hpp"
#include "userspace/sensor/sensor.hpp"

namespace netlof {

namespace {

double wall_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string hostname() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
    return buf;
}

// SIGHUP, SIGUSR1, SIGTERM and SIGINT arrive through a descriptor the loop
// reads between polls, so no handler runs in the middle of anything.
class SignalQueue {
public:
    SignalQueue() {
        sigemptyset(&mask_);
        for (int s : {SIGHUP, SIGUSR1, SIGTERM, SIGINT}) sigaddset(&mask_, s);
        if (sigprocmask(SIG_BLOCK, &mask_, nullptr) != 0 || (fd_ = signalfd(-1, &mask_, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
            throw std::runtime_error(std::string("failed to set up signal handling: ") + std::strerror(errno));
    }
    ~SignalQueue() {
        ::close(fd_);
        sigprocmask(SIG_UNBLOCK, &mask_, nullptr);
    }
    // The next pending signal, or 0.
    int next() {
        signalfd_siginfo si{};
        return ::read(fd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si) ? static_cast<int>(si.ssi_signo) : 0;
    }

private:
    sigset_t mask_;
    int fd_ = -1;
};

SensorOptions sensor_options(const DaemonConfig& c, bool verbose) {
    SensorOptions o;
    o.max_sockets = c.sensor.max_sockets;
    o.max_udp_flows = c.sensor.max_udp_flows;
    o.ringbuf_bytes = c.sensor.ringbuf_kib * 1024u;
    o.flush_interval_ns = static_cast<std::uint64_t>(c.sensor.flush_interval_s * 1e9);
    o.verbose = verbose;
    return o;
}

std::unique_ptr<FileLineSink> open_optional_sink(const std::string& path) {
    if (path.empty()) return nullptr;
    return std::make_unique<FileLineSink>(path);
}

class Daemon {
public:
    Daemon(const RunCommand& cmd, LoadedConfig loaded)
        : cmd_(cmd),
          config_(std::move(loaded.config)),
          hostname_(hostname()),
          alerts_(std::make_unique<FileLineSink>(config_.alerts.path)),
          records_log_(open_optional_sink(config_.records_path)),
          detector_(std::move(loaded.allowlist), config_.alerts.fold_window_s, learn_settings(loaded),
                    [this](const Alert& a) { write_alert(a); }),
          table_(KernelClock(), 16384, [this](const ConnectionRecord& r) { on_record(r); }) {
        load_model_if_present();
    }

    int run();

private:
    FileTrust trust() const { return cmd_.insecure_files ? FileTrust::Relaxed : FileTrust::Strict; }
    void load_model_if_present();
    void on_record(const ConnectionRecord& r);
    void write_alert(const Alert& a);
    void finish_learning();
    void reload(double now);
    void reopen_logs();
    void flush_records_log();
    void maintain(double now, bool stopping);
    void maintain_sink(FileLineSink& sink, const char* what);
    std::string stats_line(double now) const;

    const RunCommand& cmd_;
    DaemonConfig config_;
    std::string hostname_;
    std::unique_ptr<FileLineSink> alerts_;
    std::unique_ptr<FileLineSink> records_log_;
    std::string records_buf_;  // one write per poll
    Detector detector_;
    RecordBuilder table_;
    std::unique_ptr<Sensor> sensor_;
    std::map<std::string, std::uint64_t> written_by_rule_;
    std::uint64_t reloads_ = 0, reloads_refused_ = 0;
    double next_learn_try_ = 0;  // after a failed fit or model write: when to try again
    double next_maintenance_ = 0;
    // Drops are read from the kernel's counters each second and reported (log
    // line, and a sensor_drops alert when sensor_drops_alerted()) at most once
    // per interval; program runs the kernel skipped, when nothing else was
    // lost, at most once per fold window: no setting prevents them, and a line
    // every ten seconds would bury alerts.
    static constexpr double kDropsReportInterval = 10;
    std::array<std::uint64_t, NETLOF_STAT_COUNT> seen_stats_{};
    std::uint64_t seen_malformed_ = 0;
    std::uint64_t seen_missed_ = 0;
    SensorDrops pending_drops_;
    double last_drops_report_ = -1e300;
};

void Daemon::load_model_if_present() {
    std::error_code ec;
    // A model write killed midway (kill -9, power loss) leaves only its
    // temporary file: the model itself is renamed into place whole or not at all.
    const std::filesystem::path model(config_.model.path);
    const std::string stale_prefix = model.filename().string() + ".tmp.";
    for (const auto& e : std::filesystem::directory_iterator(model.parent_path().empty() ? "." : model.parent_path(), ec))
        if (e.path().filename().string().rfind(stale_prefix, 0) == 0 && std::filesystem::remove(e.path(), ec))
            log_line("removed " + e.path().string() + ", left by a model write that did not finish");
    if (!std::filesystem::exists(config_.model.path, ec)) {
        std::string until;
        if (config_.model.learn_records > 0) until = fmt::format("{} records", config_.model.learn_records);
        if (config_.model.learn_duration_s > 0)
            until += fmt::format("{}{:g} s", until.empty() ? "" : " or ", config_.model.learn_duration_s);
        log_line(fmt::format("no model at {}: learning normal traffic for {} with pipeline {}", config_.model.path,
                             until, config_.model.pipeline));
        return;
    }
    // A model that is there but unreadable is the operator's to fix: refusing
    // to start beats silently learning over it.
    TrainedModel m = deserialize_model(read_trusted_file(config_.model.path, trust(), kMaxModelBytes), config_.model.path);
    log_line(fmt::format("loaded model {}: {} training rows, k {}, pipeline {}", config_.model.path,
                         m.lof.training().rows(), m.lof.neighbors(), m.pipeline_file));
    detector_.use_model(std::move(m));
    log_line(detector_.threshold_note());
}

void Daemon::on_record(const ConnectionRecord& r) {
    if (records_log_) append_record_json(records_buf_, r);
    detector_.add(r);
}

void Daemon::write_alert(const Alert& a) {
    ++written_by_rule_[a.rule];
    alerts_->write(format_alert(a, hostname_));  // a failure is counted by the sink
}

void Daemon::flush_records_log() {
    if (records_log_ && !records_buf_.empty()) {
        records_log_->write(records_buf_);  // a failure is kept in its backlog and counted by the sink
        records_buf_.clear();
    }
}

void Daemon::maintain_sink(FileLineSink& sink, const char* what) {
    switch (sink.maintain()) {
    case FileLineSink::Event::Failing:
        log_line(fmt::format("failed to write the {} {}: {}; lines wait in memory (up to 4 MiB) and detection goes on",
                             what, sink.path(), std::strerror(sink.last_error())));
        break;
    case FileLineSink::Event::Recovered:
        log_line(fmt::format("writing the {} {} again: {} failed writes so far, {} lines lost", what, sink.path(),
                             sink.failed_writes(), sink.lost_lines()));
        break;
    case FileLineSink::Event::Recreated:
        log_line(fmt::format("the {} {} was removed; created it again", what, sink.path()));
        break;
    case FileLineSink::Event::None:
        break;
    }
}

void Daemon::maintain(double now, bool stopping) {
    const auto k = sensor_->kernel_stats();
    const std::uint64_t malformed = sensor_->malformed_records();
    pending_drops_.ring_buffer_full += k[NETLOF_STAT_RINGBUF_FULL] - seen_stats_[NETLOF_STAT_RINGBUF_FULL];
    pending_drops_.sockets_map_full += k[NETLOF_STAT_SOCKETS_FULL] - seen_stats_[NETLOF_STAT_SOCKETS_FULL];
    pending_drops_.udp_map_full += k[NETLOF_STAT_UDP_FLOWS_FULL] - seen_stats_[NETLOF_STAT_UDP_FLOWS_FULL];
    pending_drops_.malformed += malformed - seen_malformed_;
    pending_drops_.events += k[NETLOF_STAT_EVENTS] - seen_stats_[NETLOF_STAT_EVENTS];
    const std::uint64_t missed = sensor_->missed_runs();
    pending_drops_.missed_runs += missed - seen_missed_;
    seen_stats_ = k;
    seen_malformed_ = malformed;
    seen_missed_ = missed;
    const bool capacity = pending_drops_.total() > pending_drops_.missed_runs;
    const double interval = capacity ? kDropsReportInterval : std::max(kDropsReportInterval, config_.alerts.fold_window_s);
    if (pending_drops_.total() > 0 && (stopping || now - last_drops_report_ >= interval)) {
        pending_drops_.time = now;
        log_line(sensor_drops_output(pending_drops_));
        if (sensor_drops_alerted(pending_drops_)) {
            alerts_->write(format_sensor_drops(pending_drops_, hostname_));
            ++written_by_rule_["sensor_drops"];
        }
        last_drops_report_ = now;
        pending_drops_ = SensorDrops{};
        pending_drops_.since = now;
    }
    maintain_sink(*alerts_, "alert log");
    if (records_log_) maintain_sink(*records_log_, "record log");
}

void Daemon::finish_learning() {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> warnings;
    TrainedModel m = detector_.fit_learned(&warnings);
    for (const std::string& w : warnings) log_line("learning: " + w);
    const std::string bytes = serialize_model(m);
    const std::filesystem::path dir = std::filesystem::path(config_.model.path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir);
    // Written (atomically) before it is used: a restart finds what is detecting now.
    write_output_file(config_.model.path, bytes, 0600);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    log_line(fmt::format("learned from {} records in {:.2f} s; model written to {}; detecting",
                         detector_.learned_records(), secs, config_.model.path));
    detector_.use_model(std::move(m));
    log_line(detector_.threshold_note());
    sd_notify(0, "STATUS=detecting");
}

void Daemon::reload(double now) {
    ++reloads_;
    LoadedConfig next;
    try {
        next = load_daemon_config(cmd_.config, trust());
    } catch (const InputError& e) {
        ++reloads_refused_;
        log_line("reload refused, the previous configuration keeps running: " + format_diagnostic(e.diagnostic()));
        return;
    }
    // New log paths are opened before anything changes, so a bad one refuses the whole reload.
    std::unique_ptr<FileLineSink> alerts, records;
    try {
        if (next.config.alerts.path != config_.alerts.path) alerts = std::make_unique<FileLineSink>(next.config.alerts.path);
        if (next.config.records_path != config_.records_path) records = open_optional_sink(next.config.records_path);
    } catch (const InputError& e) {
        ++reloads_refused_;
        log_line("reload refused, the previous configuration keeps running: " + format_diagnostic(e.diagnostic()));
        return;
    }
    if (!(config_.model == next.config.model))
        log_line("reload: model settings changed; they take effect at the next start");
    if (!(config_.sensor == next.config.sensor))
        log_line("reload: sensor settings changed; they take effect at the next start");
    if (config_.alerts.budget_per_day != next.config.alerts.budget_per_day) {
        detector_.set_budget(next.config.alerts.budget_per_day);
        if (detector_.detecting()) log_line("reload: " + detector_.threshold_note());
    }
    if (alerts) alerts_ = std::move(alerts);
    if (next.config.records_path != config_.records_path) {
        flush_records_log();
        records_log_ = std::move(records);
    }
    const std::size_t rules = next.allowlist.rules().size(), mutes = next.allowlist.mutes().size();
    detector_.set_rules(std::move(next.allowlist), next.config.alerts.fold_window_s, now);
    config_.allowlists = next.config.allowlists;
    config_.alerts = next.config.alerts;
    config_.records_path = next.config.records_path;
    config_.stats_interval_s = next.config.stats_interval_s;
    log_line(fmt::format("reloaded {}: {} allowlist rule(s), {} LOF mute(s), alerts to {}", cmd_.config, rules, mutes,
                         config_.alerts.path));
}

void Daemon::reopen_logs() {
    flush_records_log();
    bool ok = alerts_->reopen();
    if (records_log_) ok = records_log_->reopen() && ok;
    log_line(ok ? "reopened the log files" : std::string("failed to reopen a log file: ") + std::strerror(errno) +
                                                  "; writing to the old one");
}

std::string Daemon::stats_line(double now) const {
    const auto k = sensor_->kernel_stats();
    const std::uint64_t missed = sensor_->missed_runs();
    const RecordBuilderStats& t = table_.stats();
    const DetectorStats& d = detector_.stats();
    auto written = [&](const char* rule) {
        auto it = written_by_rule_.find(rule);
        return it == written_by_rule_.end() ? 0 : it->second;
    };
    std::uint64_t alert_lines = 0;  // every rule's but the sensor's own
    for (const auto& [rule, n] : written_by_rule_)
        if (rule != "sensor_drops") alert_lines += n;
    return fmt::format(
        "stats: events {}, records {} (closes not seen, reported when the socket was reused: {}), scored {}, alerts allowlist_violation {}, process_masquerade {}, new_process {}, new_destination {}, new_port {}, "
        "long_connection {}, beaconing {}, lof_anomaly {} (lines written {}, folded repeats {}, sensor_drops {}, failed writes {}, lost {}), "
        "novelty not alerted (usual for a wandering program {}, judged by allowlist rules {}, baseline full {}), "
        "window alerts {} (programs let go to make room {}, not judged: learning too short for the window {}), "
        "beacon pairs let go to make room {}, "
        "lof muted {}, lof not scored (program learned fewer than k times) {}, unscorable {}, not learned {}, drops {} "
        "(ring buffer full {}, sockets map full {}, udp map full {}, missed program runs {}), malformed {}, "
        "exe unknown {} (exec records lost {}, exe table evictions {}), cgroups not named {}, udp datagrams received without a known sender {}, "
        "udp datagrams from peers the socket had not sent to (inbound) {}, "
        "record log failed writes {} (lost {}), reloads {} (refused {}), model {}",
        k[NETLOF_STAT_EVENTS], t.records, k[NETLOF_STAT_CLOSE_UNSEEN], d.scored, d.allowlist_violations, d.masquerades, d.new_processes,
        d.new_destinations, d.new_ports, d.long_holds, d.beacons, d.lof_anomalies, alert_lines, detector_.folded(), written("sensor_drops"),
        alerts_->failed_writes(), alerts_->lost_lines(), d.novelty_expected, d.novelty_ruled, detector_.reach_unlearned(), d.window_alerts,
        detector_.window_evictions(), detector_.windows_unjudged(), detector_.beacon_evictions(), d.lof_muted, d.lof_sparse,
        d.unscorable, d.learn_skipped,
        kernel_drops(k, missed),
        k[NETLOF_STAT_RINGBUF_FULL], k[NETLOF_STAT_SOCKETS_FULL], k[NETLOF_STAT_UDP_FLOWS_FULL], missed,
        sensor_->malformed_records(), table_.exes().stats().unknown, k[NETLOF_STAT_EXEC_LOST],
        table_.exes().stats().evictions, table_.cgroups().unknown(), k[NETLOF_STAT_UDP_RECV_NO_SOURCE],
        k[NETLOF_STAT_UDP_RECV_UNSOLICITED], records_log_ ? records_log_->failed_writes() : 0,
        records_log_ ? records_log_->lost_lines() : 0,
        reloads_, reloads_refused_, detector_.state(now));
}

int Daemon::run() {
    SignalQueue signals;
    sensor_ = Sensor::start(sensor_options(config_, cmd_.verbose), table_, log_line);
    table_.exes().scan_running();  // after the exec program is attached: no process falls between
    log_line(fmt::format("running: alerts to {}{}; {}", config_.alerts.path,
                         config_.records_path.empty() ? "" : ", records to " + config_.records_path,
                         detector_.state(wall_now())));
    sd_notify(0, fmt::format("READY=1\nSTATUS={}", detector_.state(wall_now())).c_str());

    Capture capture(*sensor_, table_, config_.sensor.udp_idle_s);
    double next_stats = wall_now() + config_.stats_interval_s;
    pending_drops_.since = wall_now();
    bool stop = false;
    while (!stop) {
        capture.poll();
        const double now = wall_now();
        flush_records_log();
        detector_.process(now);
        if (now >= next_learn_try_ && detector_.learning_done(now)) {
            // A full disk or an unwritable model path must not end the daemon:
            // it keeps learning (and checking allowlists) and tries again.
            try {
                finish_learning();
            } catch (const InputError& e) {
                log_line("failed to finish learning, trying again in 60 s: " + format_diagnostic(e.diagnostic()));
                next_learn_try_ = now + 60;
            } catch (const std::exception& e) {
                log_line(std::string("failed to finish learning, trying again in 60 s: ") + e.what());
                next_learn_try_ = now + 60;
            }
        }
        for (int sig; (sig = signals.next()) != 0;) {
            if (sig == SIGHUP) reload(now);
            else if (sig == SIGUSR1) reopen_logs();
            else {
                log_line(fmt::format("{}: stopping", strsignal(sig)));
                stop = true;
            }
        }
        if (now >= next_maintenance_) {
            maintain(now, false);
            next_maintenance_ = now + 1;
        }
        if (now >= next_stats) {
            log_line(stats_line(now));
            next_stats = now + config_.stats_interval_s;
        }
    }

    // Nothing the kernel still holds is lost: it is reported, scored and alerted on.
    sd_notify(0, "STOPPING=1");
    capture.finish();
    const double now = wall_now();
    flush_records_log();
    detector_.process(now);
    detector_.flush_folds(now);
    maintain(now, true);
    log_line("final " + stats_line(now));
    return 0;
}

}  // namespace

int run_daemon(const RunCommand& cmd) {
    LoadedConfig loaded = load_daemon_config(cmd.config, cmd.insecure_files ? FileTrust::Relaxed : FileTrust::Strict);
    Daemon daemon(cmd, std::move(loaded));
    return daemon.run();
}

}  // namespace netlof

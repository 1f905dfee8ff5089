#include "userspace/daemon/daemon.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fmt/core.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "common/diagnostic.hpp"
#include "common/file_io.hpp"
#include "common/log.hpp"
#include "userspace/daemon/daemon_config.hpp"
#include "userspace/daemon/health.hpp"
#include "userspace/daemon/metrics.hpp"
#include "userspace/daemon/model_store.hpp"
#include "userspace/engine/detector.hpp"
#include "userspace/outputs/alert_output.hpp"
#include "userspace/outputs/falco_json.hpp"
#include "userspace/outputs/line_sink.hpp"
#include "userspace/outputs/syslog_output.hpp"
#include "userspace/records/record_writer.hpp"
#include "userspace/sensor/capture.hpp"

namespace netlof {

namespace {

// log_line as the sensor and the outputs take it.
void log_at(LogLevel level, const std::string& message) { log_line(level, message); }

double wall_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// SIGHUP, SIGUSR1, SIGUSR2, SIGTERM and SIGINT arrive through a descriptor the loop
// reads between polls, so no handler runs in the middle of anything.
class SignalQueue {
public:
    SignalQueue() {
        sigemptyset(&mask_);
        for (int s : {SIGHUP, SIGUSR1, SIGUSR2, SIGTERM, SIGINT}) sigaddset(&mask_, s);
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

std::unique_ptr<AlertOutput> open_syslog(const DaemonConfig::Alerts::Syslog& s, const std::string& hostname) {
    if (!s.enabled) return nullptr;
    return std::make_unique<SyslogOutput>(s.socket, s.facility, hostname);
}

std::unique_ptr<FileLineSink> open_optional_sink(const std::string& path) {
    if (path.empty()) return nullptr;
    return std::make_unique<FileLineSink>(path);
}

// The daemon's lifecycle: start the sensor, then each poll: the batch of
// records goes to the record log and the engine, the engine's alerts to the
// alert output; between polls learning ends, signals are handled, health is
// checked and stats are logged; at stop everything the kernel still holds
// is judged too.
class Daemon {
public:
    Daemon(const RunCommand& cmd, LoadedConfig loaded)
        : cmd_(cmd),
          config_(std::move(loaded.config)),
          hostname_(host_name()),
          alerts_(std::make_unique<AlertFile>(config_.alerts.path, hostname_)),
          syslog_(open_syslog(config_.alerts.syslog, hostname_)),
          records_log_(open_optional_sink(config_.records_path)),
          detector_(std::move(loaded.allowlist), config_.alerts.fold_window_s, learn_settings(loaded)) {
        load_model_if_present();
    }

    int run();

private:
    FileTrust trust() const { return cmd_.insecure_files ? FileTrust::Relaxed : FileTrust::Strict; }
    void load_model_if_present();
    void step(const RecordBatch& batch, double now);
    void write_alerts(const std::vector<Alert>& alerts);
    void try_finish_learning(double now);
    void reload(double now);
    void reopen_logs();
    void check_health(double now, bool stopping);
    // systemd's STATUS= (`systemctl status`): learning progress, then what detection has written.
    void update_status(double now);
    std::string stats(double now);
    // The stats line, and the metrics file when one is configured.
    void report(double now, bool final);

    const RunCommand& cmd_;
    DaemonConfig config_;
    std::string hostname_;
    std::unique_ptr<AlertOutput> alerts_;  // the alert log
    std::unique_ptr<AlertOutput> syslog_;  // alerts.syslog, when given
    AlertOutputs outputs() const {
        AlertOutputs o{alerts_.get()};
        if (syslog_) o.push_back(syslog_.get());
        return o;
    }
    std::unique_ptr<FileLineSink> records_log_;
    std::string records_buf_;  // one write per poll
    Detector detector_;
    std::unique_ptr<Capture> capture_;
    DaemonCounts counts_;
    std::optional<DropWatch> drops_;  // from the sensor's start
    double next_learn_try_ = 0;  // after a failed fit or model write: when to try again
    std::string status_;         // the last STATUS= sent
};

void Daemon::load_model_if_present() {
    std::optional<TrainedModel> m = load_model(config_.model.path, trust());
    if (!m) {
        std::string until;
        if (config_.model.learn_records > 0) until = fmt::format("{} records", config_.model.learn_records);
        if (config_.model.learn_duration_s > 0)
            until += fmt::format("{}{:g} s", until.empty() ? "" : " or ", config_.model.learn_duration_s);
        log_line(LogLevel::Notice, fmt::format("no model at {}: learning normal traffic for {} with pipeline {}",
                                               config_.model.path, until,
                                               config_.model.pipeline.empty() ? kBuiltinPipelineName : config_.model.pipeline));
        return;
    }
    log_line(LogLevel::Notice, fmt::format("loaded model {}: {} training rows, k {}, pipeline {}", config_.model.path,
                         m->lof.training().rows(), m->lof.neighbors(), m->pipeline_file));
    detector_.use_model(std::move(*m));
    log_line(detector_.threshold_note());
}

void Daemon::step(const RecordBatch& batch, double now) {
    if (records_log_ && !batch.empty()) {
        for (const ConnectionRecord& r : batch) append_record_json(records_buf_, r);
        records_log_->write(records_buf_);  // a failure is kept in its backlog and counted by the sink
        records_buf_.clear();
    }
    write_alerts(detector_.judge(batch, now));
}

void Daemon::write_alerts(const std::vector<Alert>& alerts) {
    for (const Alert& a : alerts) {
        ++counts_.written[static_cast<std::size_t>(a.rule)];
        alerts_->write(a);
        if (syslog_) syslog_->write(a);
    }
}

void Daemon::try_finish_learning(double now) {
    if (now < next_learn_try_) return;
    // A full disk or an unwritable model path must not end the daemon: it
    // keeps learning (and checking allowlists, or detecting with the model
    // in use) and tries again.
    try {
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<std::string> warnings;
        const bool first = !detector_.detecting();
        std::optional<TrainedModel> m = detector_.model_due(now, &warnings);
        if (!m) return;
        for (const std::string& w : warnings) log_line(LogLevel::Warning, "learning: " + w);
        // Written before it is used: a restart finds what is detecting now.
        save_model(config_.model.path, *m);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (first)
            log_line(LogLevel::Notice, fmt::format("learned from {} records in {:.2f} s; model written to {}; detecting",
                                                   detector_.learned_records(), secs, config_.model.path));
        else
            log_line(LogLevel::Notice, fmt::format("refitted on {} in {:.2f} s; model written to {}",
                                                   detector_.due_note(), secs, config_.model.path));
        detector_.use_model(std::move(*m));
        log_line(detector_.threshold_note());
        update_status(now);
    } catch (const InputError& e) {
        log_line(LogLevel::Error, "failed to finish learning, trying again in 60 s: " + format_diagnostic(e.diagnostic()));
        next_learn_try_ = now + 60;
    } catch (const std::exception& e) {
        log_line(LogLevel::Error, std::string("failed to finish learning, trying again in 60 s: ") + e.what());
        next_learn_try_ = now + 60;
    }
}

void Daemon::reload(double now) {
    ++counts_.reloads;
    LoadedConfig next;
    try {
        next = load_daemon_config(cmd_.config, trust());
    } catch (const InputError& e) {
        ++counts_.reloads_refused;
        log_line(LogLevel::Error, "reload refused, the previous configuration keeps running: " +
                                      format_diagnostic(e.diagnostic()));
        return;
    }
    // New log paths are opened before anything changes, so a bad one refuses the whole reload.
    std::unique_ptr<AlertOutput> alerts;
    std::unique_ptr<FileLineSink> records;
    try {
        if (next.config.alerts.path != config_.alerts.path) alerts = std::make_unique<AlertFile>(next.config.alerts.path, hostname_);
        if (next.config.records_path != config_.records_path) records = open_optional_sink(next.config.records_path);
    } catch (const InputError& e) {
        ++counts_.reloads_refused;
        log_line(LogLevel::Error, "reload refused, the previous configuration keeps running: " +
                                      format_diagnostic(e.diagnostic()));
        return;
    }
    if (!(config_.model == next.config.model))
        log_line(LogLevel::Warning, "reload: model settings changed; they take effect at the next start");
    if (!(config_.sensor == next.config.sensor))
        log_line(LogLevel::Warning, "reload: sensor settings changed; they take effect at the next start");
    if (config_.alerts.budget_per_day != next.config.alerts.budget_per_day) {
        detector_.set_budget(next.config.alerts.budget_per_day);
        if (detector_.detecting()) log_line("reload: " + detector_.threshold_note());
    }
    if (alerts) alerts_ = std::move(alerts);
    if (!(next.config.alerts.syslog == config_.alerts.syslog)) syslog_ = open_syslog(next.config.alerts.syslog, hostname_);
    if (next.config.records_path != config_.records_path) {
        records_log_ = std::move(records);
    }
    const std::size_t rules = next.allowlist.rules().size(), mutes = next.allowlist.mutes().size();
    write_alerts(detector_.set_rules(std::move(next.allowlist), next.config.alerts.fold_window_s, now));
    config_.allowlists = next.config.allowlists;
    config_.alerts = next.config.alerts;
    config_.records_path = next.config.records_path;
    config_.metrics_path = next.config.metrics_path;
    config_.stats_interval_s = next.config.stats_interval_s;
    log_line(LogLevel::Notice, fmt::format("reloaded {}: {} allowlist rule(s), {} LOF mute(s), alerts to {}", cmd_.config, rules, mutes,
                         config_.alerts.path));
}

void Daemon::reopen_logs() {
    bool ok = alerts_->reopen();
    if (syslog_) ok = syslog_->reopen() && ok;
    if (records_log_) ok = records_log_->reopen() && ok;
    if (ok) log_line("reopened the log files");
    else log_line(LogLevel::Error, std::string("failed to reopen a log file: ") + std::strerror(errno) + "; writing to the old one");
}

void Daemon::check_health(double now, bool stopping) {
    if (std::optional<SensorDrops> d = drops_->update(capture_->counters(), now, config_.alerts.fold_window_s, stopping)) {
        // Lost events an operator must act on (or that are too many) are
        // errors; a few skipped program runs are only worth a notice.
        log_line(sensor_drops_alerted(*d) ? LogLevel::Error : LogLevel::Notice, sensor_drops_output(*d));
        if (sensor_drops_alerted(*d)) {
            alerts_->write(*d);
            if (syslog_) syslog_->write(*d);
            ++counts_.written[static_cast<std::size_t>(Rule::SensorDrops)];
        }
    }
    alerts_->maintain(log_at);
    if (syslog_) syslog_->maintain(log_at);
    if (records_log_) maintain_sink(*records_log_, "record log", log_at);
}

void Daemon::update_status(double now) {
    std::string status = detector_.state(now);
    if (detector_.detecting()) {
        std::uint64_t lines = 0;
        for (std::size_t i = 0; i < kRuleCount; ++i)
            if (static_cast<Rule>(i) != Rule::SensorDrops) lines += counts_.written[i];
        status = fmt::format("detecting: {} alert lines, {} events lost; threshold lof > {:.3g}", lines,
                             capture_->counters().drops() + capture_->counters().malformed, detector_.lof_threshold());
    }
    if (status == status_) return;
    status_ = status;
    sd_notify(0, ("STATUS=" + status).c_str());
}

std::string Daemon::stats(double now) {
    counts_.records_log_failed = records_log_ ? records_log_->failed_writes() : 0;
    counts_.records_log_lost = records_log_ ? records_log_->lost_lines() : 0;
    return stats_line(capture_->counters(), detector_, outputs(), counts_, now);
}

void Daemon::report(double now, bool final) {
    log_line((final ? "final " : "") + stats(now));
    if (config_.metrics_path.empty()) return;
    try {
        write_output_file(config_.metrics_path, metrics_text(capture_->counters(), detector_, outputs(), counts_), 0644);
    } catch (const InputError& e) {
        log_line(LogLevel::Warning, "failed to write the metrics file: " + format_diagnostic(e.diagnostic()));
    } catch (const std::exception& e) {
        log_line(LogLevel::Warning, std::string("failed to write the metrics file: ") + e.what());
    }
}

int Daemon::run() {
    SignalQueue signals;
    SensorOptions sensor = config_.sensor;
    sensor.verbose = cmd_.verbose;
    capture_ = Capture::start(sensor, log_at);
    log_line(LogLevel::Notice, fmt::format("running: alerts to {}{}; {}", config_.alerts.path,
                         config_.records_path.empty() ? "" : ", records to " + config_.records_path,
                         detector_.state(wall_now())));
    status_ = detector_.state(wall_now());
    sd_notify(0, fmt::format("READY=1\nSTATUS={}", status_).c_str());

    double next_stats = wall_now() + config_.stats_interval_s;
    double next_health = 0;
    drops_.emplace(wall_now());
    bool stop = false;
    while (!stop) {
        const RecordBatch& batch = capture_->poll();
        const double now = wall_now();
        step(batch, now);
        try_finish_learning(now);
        for (int sig; (sig = signals.next()) != 0;) {
            if (sig == SIGHUP) reload(now);
            else if (sig == SIGUSR1) reopen_logs();
            else if (sig == SIGUSR2) {
                detector_.relearn(now);
                log_line(LogLevel::Notice, fmt::format("SIGUSR2: learning again from now for {:g} s; the model in use "
                                                       "judges until then", config_.model.learn_duration_s));
            }
            else {
                log_line(LogLevel::Notice, fmt::format("{}: stopping", strsignal(sig)));
                stop = true;
            }
        }
        if (now >= next_health) {
            check_health(now, false);
            update_status(now);
            next_health = now + 1;
        }
        if (now >= next_stats) {
            report(now, false);
            next_stats = now + config_.stats_interval_s;
        }
    }

    // Nothing the kernel still holds is lost: it is reported, scored and alerted on.
    sd_notify(0, "STOPPING=1");
    const RecordBatch& last = capture_->finish();
    const double now = wall_now();
    step(last, now);
    write_alerts(detector_.flush_folds(now));
    check_health(now, true);
    report(now, true);
    return 0;
}

}  // namespace

int run_daemon(const RunCommand& cmd) {
    LoadedConfig loaded = load_daemon_config(cmd.config, cmd.insecure_files ? FileTrust::Relaxed : FileTrust::Strict);
    Daemon daemon(cmd, std::move(loaded));
    return daemon.run();
}

}  // namespace netlof

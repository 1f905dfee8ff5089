#include "userspace/daemon/metrics.hpp"

#include <fmt/core.h>
#include <fstream>
#include <sys/resource.h>
#include <unistd.h>

namespace netlof {

namespace {

// One metric family: HELP and TYPE once, then its samples.
class Family {
public:
    Family(std::string& out, const char* name, const char* type, const char* help) : out_(out), name_(name) {
        out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    }
    Family& sample(double v) {
        out_ += fmt::format("{} {}\n", name_, v);
        return *this;
    }
    Family& sample(const char* label, std::string_view value, double v) {
        out_ += fmt::format("{}{{{}=\"{}\"}} {}\n", name_, label, value, v);
        return *this;
    }

private:
    std::string& out_;
    const char* name_;
};

double resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    double size = 0, resident = 0;
    statm >> size >> resident;
    return resident * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

double cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

std::string metrics_text(const SensorCounters& k, const Detector& detector, const AlertOutputs& outputs,
                         const DaemonCounts& daemon) {
    const DetectorStats& d = detector.stats();
    std::string out;
    auto d64 = [](std::uint64_t v) { return static_cast<double>(v); };
    Family(out, "netlof_events_total", "counter", "Connection events the kernel handed over.").sample(d64(k.events));
    Family(out, "netlof_records_total", "counter", "Connection records built.").sample(d64(k.records));
    Family(out, "netlof_records_scored_total", "counter", "Records LOF scored.").sample(d64(d.scored));
    Family(out, "netlof_records_not_scored_total", "counter", "Records LOF did not score, by reason.")
        .sample("reason", "muted", d64(d.lof_muted))
        .sample("reason", "program_learned_fewer_than_k", d64(d.lof_sparse))
        .sample("reason", "unscorable", d64(d.unscorable));
    Family raised(out, "netlof_alerts_raised_total", "counter", "Alerts raised, by rule, before folding.");
    for (std::size_t i = 0; i < kRuleCount; ++i)
        if (static_cast<Rule>(i) != Rule::SensorDrops) raised.sample("rule", rule_name(static_cast<Rule>(i)), d64(d.raised[i]));
    Family lines(out, "netlof_alert_lines_total", "counter", "Alert lines written, by rule (fold summaries included).");
    for (std::size_t i = 0; i < kRuleCount; ++i) lines.sample("rule", rule_name(static_cast<Rule>(i)), d64(daemon.written[i]));
    Family(out, "netlof_alerts_folded_total", "counter", "Repeats folded into a later summary line.")
        .sample(d64(detector.folded()));
    Family(out, "netlof_sensor_lost_events_total", "counter", "Events the sensor lost, by cause.")
        .sample("cause", "ring_buffer_full", d64(k.ringbuf_full))
        .sample("cause", "sockets_map_full", d64(k.sockets_full))
        .sample("cause", "udp_map_full", d64(k.udp_flows_full))
        .sample("cause", "missed_program_runs", d64(k.missed_runs))
        .sample("cause", "malformed", d64(k.malformed));
    Family(out, "netlof_unknowns_total", "counter", "Records with something netlof could not name, by what.")
        .sample("what", "exe", d64(k.exe_unknown))
        .sample("what", "cgroup", d64(k.cgroups_unknown))
        .sample("what", "udp_sender", d64(k.udp_recv_no_source));
    Family(out, "netlof_evictions_total", "counter", "Entries let go to keep a table within its bound, by table.")
        .sample("table", "exe", d64(k.exe_evictions))
        .sample("table", "windows", d64(detector.window_evictions()))
        .sample("table", "beacons", d64(detector.beacon_evictions()))
        .sample("table", "reach_baseline", d64(detector.reach_unlearned()));
    Family failed(out, "netlof_output_failed_writes_total", "counter", "Writes that failed, by output.");
    for (const AlertOutput* o : outputs) failed.sample("output", o->name(), d64(o->failed_writes()));
    failed.sample("output", "record_log", d64(daemon.records_log_failed));
    Family lost(out, "netlof_output_lost_lines_total", "counter", "Lines lost past the write backlog, by output.");
    for (const AlertOutput* o : outputs) lost.sample("output", o->name(), d64(o->lost_lines()));
    lost.sample("output", "record_log", d64(daemon.records_log_lost));
    Family(out, "netlof_reloads_total", "counter", "SIGHUP reloads, by result.")
        .sample("result", "applied", d64(daemon.reloads - daemon.reloads_refused))
        .sample("result", "refused", d64(daemon.reloads_refused));
    Family(out, "netlof_detecting", "gauge", "1 once a model is in use, 0 while learning.").sample(detector.detecting() ? 1 : 0);
    Family(out, "netlof_learned_records", "gauge", "Records learned since the start: every span of learning, the one under way included.")
        .sample(d64(detector.learned_records()));
    Family(out, "netlof_lof_threshold", "gauge", "The LOF score above which a record is an anomaly (0 while learning).")
        .sample(detector.detecting() ? detector.lof_threshold() : 0);
    Family(out, "netlof_resident_memory_bytes", "gauge", "The daemon's resident memory.").sample(resident_bytes());
    Family(out, "netlof_cpu_seconds_total", "counter", "CPU time the daemon used, user and system.").sample(cpu_seconds());
    return out;
}

}  // namespace netlof

// Alerts: what the operator tailing the log reads. One JSON object a line in
// Falco's shape (time, rule, priority, source, hostname, output,
// output_fields) so tools built for Falco can read it, plus the full record,
// lof, threshold, why and count.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "userspace/records/connection_record.hpp"

namespace netlof {

struct Alert {
    double time = 0;        // unix seconds
    std::string rule;       // allowlist_violation, process_masquerade, new_process, new_destination, new_port, volume_spike,
                            // connection_burst, fan_out, long_connection, beaconing, lof_anomaly
    std::string priority;   // Falco's: Emergency .. Debug
    ConnectionRecord record;
    std::optional<double> lof, threshold;
    std::vector<std::string> why;
    std::vector<std::string> expected_exes;  // process_masquerade: what the name should run
    std::uint64_t count = 1;      // >1: a fold of repeats
    double fold_window_s = 0;     // the window the repeats fell in
};

// The human sentence: process, pid, exe, destination, bytes, duration, LOF.
std::string alert_output(const Alert& a);
// One JSON line (with its newline) for the alert log.
std::string format_alert(const Alert& a, std::string_view hostname);
// Events the sensor lost in a window: the kernel's ring buffer or maps were
// full, or user space rejected a record. Connections went unseen, which an
// operator must know as surely as an anomaly.
struct SensorDrops {
    double since = 0, time = 0;  // unix seconds: the window
    std::uint64_t ring_buffer_full = 0, sockets_map_full = 0, udp_map_full = 0, missed_runs = 0, malformed = 0;
    std::uint64_t events = 0;    // events the kernel handed over in the window
    std::uint64_t total() const { return ring_buffer_full + sockets_map_full + udp_map_full + missed_runs + malformed; }
};
// Program runs the kernel skipped (an interrupt re-entering a program on the
// same CPU) are a blind spot no setting closes; a few in tens of thousands
// of events are logged and counted, and become an alert line above this
// share of the window's events, as Falco's drop threshold does.
inline constexpr double kMissedRunsAlertShare = 0.001;
// Whether a window's drops are an alert line (always logged and counted):
// anything a setting or a bug explains, or skipped runs above the share.
bool sensor_drops_alerted(const SensorDrops& d);
// One JSON line (rule sensor_drops, priority Error) in the alerts' shape.
std::string format_sensor_drops(const SensorDrops& d, std::string_view hostname);
// The human sentence, also the daemon's log line.
std::string sensor_drops_output(const SensorDrops& d);
// "2026-11-25T22:21:00.123456Z"
std::string iso8601_utc(double unix_seconds);

// Where alert lines (and the daemon's record log) go. write() appends whole
// lines in one write(2) and flushes them, so `tail -f` shows them at once;
// reopen() follows a rotated or removed file.
class LineSink {
public:
    virtual ~LineSink() = default;
    virtual bool write(std::string_view line) = 0;
    virtual bool reopen() = 0;
};

class FileLineSink : public LineSink {
public:
    // Opens path for appending (created 0640). Throws InputError if it cannot.
    // A failed write (disk full, I/O error) is never fatal: the lines wait in
    // a bounded backlog and go out, in order, once writing works again; lines
    // past the bound are counted as lost.
    explicit FileLineSink(std::string path, std::size_t max_backlog_bytes = 4u << 20);
    ~FileLineSink() override;
    bool write(std::string_view line) override;
    bool reopen() override;

    // What maintain() found: for the caller's log, once per change.
    enum class Event { None, Failing, Recovered, Recreated };
    // Called about once a second: retries the backlog, and recreates the
    // file when someone removed it (writes to an unlinked file reach no one).
    Event maintain();

    const std::string& path() const { return path_; }
    std::uint64_t failed_writes() const { return failed_writes_; }  // write(2) calls that failed
    std::uint64_t lost_lines() const { return lost_lines_; }        // lines the backlog had no room for
    std::size_t backlog_bytes() const { return backlog_.size(); }
    int last_error() const { return last_errno_; }

private:
    bool flush_backlog();  // true when the backlog is empty afterwards

    std::string path_;
    int fd_ = -1;
    std::size_t max_backlog_;
    std::string backlog_;  // unwritten bytes, whole lines (the first may be a remainder)
    bool failing_ = false, reported_failing_ = false;
    int last_errno_ = 0;
    std::uint64_t failed_writes_ = 0, lost_lines_ = 0;
};

// Folds repeats of the same (process, destination, rule) inside a window (for
// process_masquerade, the novelty rules and the window rules: the same
// process name and executable, any destination): the
// first is let through at once, the rest are counted, and when the window
// ends one more alert carries their count. Nothing is dropped silently; the
// table is bounded, and a full table ends the oldest window early.
class AlertFolder {
public:
    AlertFolder(double window_s, std::size_t max_keys = 4096) : window_s_(window_s), max_keys_(max_keys) {}
    // True: write this alert now. False: counted into its window.
    bool admit(const Alert& a);
    // Summary alerts for windows that ended by `now` (or, with force, all).
    std::vector<Alert> expire(double now, bool force = false);
    std::uint64_t folded() const { return folded_; }
    std::uint64_t early_ends() const { return early_ends_; }

private:
    using Key = std::tuple<std::string, std::string, std::uint16_t, std::string>;
    struct Window {
        double start = 0;
        Alert last;        // the latest repeat, reported with the count
        std::uint64_t repeats = 0;
    };
    // Appends the summary of a window's repeats, if it folded any.
    void close_window(const Window& w, std::vector<Alert>& out) const;

    double window_s_;
    std::size_t max_keys_;
    std::map<Key, Window> windows_;
    std::vector<Alert> early_;  // summaries of windows ended early by a full table
    std::uint64_t folded_ = 0, early_ends_ = 0;
};

}  // namespace netlof

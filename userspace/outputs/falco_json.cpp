#include "userspace/engine/alert.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <fmt/core.h>
#include <unistd.h>

#include "common/diagnostic.hpp"
#include "common/json_line.hpp"
#include "userspace/records/record_writer.hpp"

namespace netlof {

std::string iso8601_utc(double unix_seconds) {
    const double whole = std::floor(unix_seconds);
    const std::time_t t = static_cast<std::time_t>(whole);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    const int micros = std::min(999999, static_cast<int>((unix_seconds - whole) * 1e6));
    return std::string(buf, n) + fmt::format(".{:06d}Z", micros);
}

std::string alert_output(const Alert& a) {
    const ConnectionRecord& r = a.record;
    std::string s = fmt::format("{} (pid {}, exe {}{}{}) {} {}:{} over {}: {} bytes sent, {} received in {:.3f} s",
                                r.process_name, r.pid, r.exe.empty() ? "unknown" : r.exe,
                                r.unit.empty() ? "" : ", unit " + r.unit,
                                r.container_id.empty() ? "" : ", container " + r.container_id,
                                r.outcome == "refused" || r.outcome == "failed" ? "tried to reach" : "talked to",
                                r.family == 6 ? "[" + r.dst_ip + "]" : r.dst_ip, r.dst_port, r.proto.empty() ? "?" : r.proto,
                                r.bytes_sent, r.bytes_received, r.duration);
    if (a.rule == "allowlist_violation") s += "; no allowlist rule for this process allows that destination";
    if (a.rule == "process_masquerade") {
        s += fmt::format("; the name {} belongs to ", r.process_name);
        for (std::size_t i = 0; i < a.expected_exes.size(); ++i) s += (i > 0 ? ", " : "") + a.expected_exes[i];
        s += ", not to " + (r.exe.empty() ? std::string("an executable netlof could not name") : r.exe);
    }
    if (a.lof) s += fmt::format("; lof {:.4g} above threshold {:.4g}", *a.lof, a.threshold.value_or(0));
    if (!a.why.empty()) {
        s += "; why: " + a.why.front();
        for (std::size_t i = 1; i < a.why.size(); ++i) s += ", " + a.why[i];
    }
    if (a.count > 1) s += fmt::format(" (x{} within {:g} s)", a.count, a.fold_window_s);
    return s;
}

namespace {
// The fields every alert line starts with, in Falco's shape; output_fields
// is already JSON (without its newline).
JsonLine& falco_fields(JsonLine& j, double time, std::string_view rule, std::string_view priority,
                       std::string_view hostname, std::string_view output, std::string_view output_fields) {
    return j.field("time", iso8601_utc(time))
        .field("rule", rule)
        .field("priority", priority)
        .field("source", "netlof")
        .field("hostname", hostname)
        .field("output", output)
        .raw("output_fields", output_fields);
}
}  // namespace

std::string format_alert(const Alert& a, std::string_view hostname) {
    const ConnectionRecord& r = a.record;
    std::string fields;
    JsonLine f(fields);
    // Falco's field names where one exists, netlof.* for the rest.
    f.field("evt.time", iso8601_utc(r.ts_end))
        .field("proc.name", r.process_name)
        .field("proc.pid", r.pid)
        .field("proc.ppid", r.ppid)
        .field("proc.exepath", r.exe)
        .field("user.uid", r.uid)
        .field("container.id", r.container_id.empty() ? std::string_view("host") : std::string_view(r.container_id))
        .field("netlof.unit", r.unit)
        .field("fd.l4proto", r.proto)
        .field("fd.cip", r.src_ip)
        .field("fd.cport", r.src_port)
        .field("fd.sip", r.dst_ip)
        .field("fd.sport", r.dst_port)
        .field("netlof.bytes_sent", r.bytes_sent)
        .field("netlof.bytes_received", r.bytes_received)
        .field("netlof.duration", r.duration)
        .field("netlof.count", a.count);
    if (a.lof) f.field("netlof.lof", *a.lof);
    if (!a.expected_exes.empty()) {
        std::string expected;
        for (const std::string& e : a.expected_exes) expected += (expected.empty() ? "" : " ") + e;
        f.field("netlof.expected_exe", expected);
    }
    f.end();
    fields.pop_back();  // newline

    // The same record object as the record log's lines.
    std::string record;
    append_record_json(record, r);
    record.pop_back();  // newline

    std::string why = "[";
    for (std::size_t i = 0; i < a.why.size(); ++i) {
        if (i > 0) why += ',';
        append_json_string(why, a.why[i]);
    }
    why += ']';

    std::string out;
    JsonLine j(out);
    falco_fields(j, a.time, a.rule, a.priority, hostname, alert_output(a), fields).raw("record", record);
    if (a.lof) j.field("lof", *a.lof);
    if (a.threshold) j.field("threshold", *a.threshold);
    j.raw("why", why).field("count", a.count);
    j.end();
    return out;
}

std::string sensor_drops_output(const SensorDrops& d) {
    const bool capacity = d.ring_buffer_full + d.sockets_map_full + d.udp_map_full > 0;
    return fmt::format("netlof lost {} events in {:.1f} s (ring buffer full {}, sockets map full {}, udp map full {}, "
                       "missed program runs {}, malformed {}): connections went unseen; {}",
                       d.total(), d.time - d.since, d.ring_buffer_full, d.sockets_map_full, d.udp_map_full, d.missed_runs,
                       d.malformed,
                       capacity ? "raise sensor.ringbuf_kib, max_sockets or max_udp_flows"
                                : "no setting prevents these (the kernel skips a program that an interrupt re-enters "
                                  "on the same CPU)");
}

bool sensor_drops_alerted(const SensorDrops& d) {
    return d.total() > d.missed_runs ||
           static_cast<double>(d.missed_runs) > kMissedRunsAlertShare * static_cast<double>(d.events + d.missed_runs);
}

std::string format_sensor_drops(const SensorDrops& d, std::string_view hostname) {
    std::string fields;
    JsonLine f(fields);
    f.field("evt.time", iso8601_utc(d.time))
        .field("netlof.drops.ring_buffer_full", d.ring_buffer_full)
        .field("netlof.drops.sockets_map_full", d.sockets_map_full)
        .field("netlof.drops.udp_map_full", d.udp_map_full)
        .field("netlof.drops.missed_program_runs", d.missed_runs)
        .field("netlof.drops.malformed", d.malformed)
        .field("netlof.drops.window_s", d.time - d.since)
        .field("netlof.events", d.events);
    f.end();
    fields.pop_back();
    std::string out;
    JsonLine j(out);
    falco_fields(j, d.time, "sensor_drops", "Error", hostname, sensor_drops_output(d), fields).field("count", d.total());
    j.end();
    return out;
}

FileLineSink::FileLineSink(std::string path, std::size_t max_backlog_bytes)
    : path_(std::move(path)), max_backlog_(max_backlog_bytes) {
    if (!reopen()) {
        Diagnostic d;
        d.file = path_;
        d.message = std::string("cannot open for appending: ") + std::strerror(errno);
        throw InputError(std::move(d));
    }
}

FileLineSink::~FileLineSink() {
    flush_backlog();
    if (fd_ >= 0) ::close(fd_);
}

bool FileLineSink::reopen() {
    const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return false;
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
    return true;
}

namespace {
// A record log write carries a whole poll's lines: count each one lost.
std::uint64_t lines_in(std::string_view text) {
    return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n')));
}
}  // namespace

bool FileLineSink::flush_backlog() {
    // Partial writes leave the rest of a line first in the backlog; it is
    // written before anything else, so the file still gets whole lines.
    std::size_t done = 0;
    while (done < backlog_.size()) {
        const ssize_t n = fd_ < 0 ? -1 : ::write(fd_, backlog_.data() + done, backlog_.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            last_errno_ = fd_ < 0 ? EBADF : errno;
            ++failed_writes_;
            failing_ = true;
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    backlog_.erase(0, done);
    if (backlog_.empty()) failing_ = false;
    return backlog_.empty();
}

bool FileLineSink::write(std::string_view line) {
    // Lines wait behind an unwritten backlog, so order is kept.
    if (!backlog_.empty() && !flush_backlog()) {
        if (backlog_.size() + line.size() <= max_backlog_) backlog_.append(line);
        else lost_lines_ += lines_in(line);
        return false;
    }
    // One write(2) per line on an O_APPEND file: readers never see half a line.
    while (!line.empty()) {
        const ssize_t n = fd_ < 0 ? -1 : ::write(fd_, line.data(), line.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            last_errno_ = fd_ < 0 ? EBADF : errno;
            ++failed_writes_;
            failing_ = true;
            if (line.size() <= max_backlog_) backlog_.assign(line);
            else lost_lines_ += lines_in(line);
            return false;
        }
        line.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

FileLineSink::Event FileLineSink::maintain() {
    Event e = Event::None;
    struct stat st {};
    if (fd_ >= 0 && ::fstat(fd_, &st) == 0 && st.st_nlink == 0 && reopen()) e = Event::Recreated;
    if (!backlog_.empty()) flush_backlog();
    if (failing_ && !reported_failing_) {
        reported_failing_ = true;
        return Event::Failing;
    }
    if (!failing_ && reported_failing_) {
        reported_failing_ = false;
        return Event::Recovered;
    }
    return e;
}

void AlertFolder::close_window(const Window& w, std::vector<Alert>& out) const {
    if (w.repeats == 0) return;  // nothing was folded into it
    Alert s = w.last;
    s.count = w.repeats;
    s.fold_window_s = window_s_;
    out.push_back(std::move(s));
}

bool AlertFolder::admit(const Alert& a) {
    // A masquerade and novelty are about the process, wherever it connects
    // (each new destination is new once: its repeats would never fold).
    const bool per_process = a.rule == "process_masquerade" || a.rule == "new_process" || a.rule == "new_destination" ||
                             a.rule == "new_port" || a.rule == "volume_spike" || a.rule == "connection_burst" ||
                             a.rule == "fan_out";
    const Key key = per_process ? Key{a.record.process_name, a.record.exe, 0, a.rule}
                                : Key{a.record.process_name, a.record.dst_ip, a.record.dst_port, a.rule};
    auto it = windows_.find(key);
    if (it != windows_.end() && a.time - it->second.start < window_s_) {
        it->second.last = a;
        ++it->second.repeats;
        ++folded_;
        return false;
    }
    if (it != windows_.end()) {  // its window ended: report its repeats first
        close_window(it->second, early_);
        windows_.erase(it);
    }
    if (windows_.size() >= max_keys_) {
        // Full: end the oldest window now rather than forget its repeats.
        auto oldest = std::min_element(windows_.begin(), windows_.end(),
                                       [](const auto& x, const auto& y) { return x.second.start < y.second.start; });
        close_window(oldest->second, early_);
        windows_.erase(oldest);
        ++early_ends_;
    }
    windows_.emplace(key, Window{a.time, a, 0});
    return true;
}

std::vector<Alert> AlertFolder::expire(double now, bool force) {
    std::vector<Alert> out = std::move(early_);
    early_.clear();
    for (auto it = windows_.begin(); it != windows_.end();) {
        if (!force && now - it->second.start < window_s_) {
            ++it;
            continue;
        }
        close_window(it->second, out);
        it = windows_.erase(it);
    }
    return out;
}

}  // namespace netlof

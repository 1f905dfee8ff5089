#include "userspace/outputs/falco_json.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fmt/core.h>

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
                                r.outcome == Outcome::Refused || r.outcome == Outcome::Failed ? "tried to reach" : "talked to",
                                r.family() == 6 ? "[" + ip_text(r.dst_ip) + "]" : ip_text(r.dst_ip), r.dst_port, r.proto.empty() ? "?" : r.proto,
                                r.bytes_sent, r.bytes_received, r.duration);
    if (a.rule == Rule::AllowlistViolation) s += "; no allowlist rule for this process allows that destination";
    if (a.rule == Rule::ProcessMasquerade) {
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
        .field("fd.cip", ip_text(r.src_ip))
        .field("fd.cport", r.src_port)
        .field("fd.sip", ip_text(r.dst_ip))
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
    falco_fields(j, a.time, rule_name(a.rule), priority_name(a.priority), hostname, alert_output(a), fields).raw("record", record);
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
    falco_fields(j, d.time, rule_name(Rule::SensorDrops), priority_name(rule_priority(Rule::SensorDrops)), hostname,
                 sensor_drops_output(d), fields)
        .field("count", d.total());
    j.end();
    return out;
}

}  // namespace netlof

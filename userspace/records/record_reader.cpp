#include "userspace/records/record_reader.hpp"

#include <ctime>

namespace netlof {

RecordReader::RecordReader(const TextTable& t) : t_(t) {
    for (std::size_t i = 0; i < kConnectionColumnCount; ++i) cols_[i] = t.column_index(kConnectionColumns[i].name);
    for (std::string_view required : {"process_name", "dst_ip", "dst_port"}) t.require_column(required, "replay");
    if (!col("ts_end")) t.require_column("timestamp", "replay (a record needs ts_end, or timestamp and duration)");
}

double RecordReader::number(std::size_t row, std::string_view column) const {
    const auto& c = col(column);
    if (!c || t_.cell(row, *c).empty()) return 0;
    return t_.number(row, *c);
}

IpAddress RecordReader::address(std::size_t row, std::string_view column, bool required) const {
    const auto& c = col(column);
    if (!c || t_.cell(row, *c).empty()) {
        if (required) t_.fail(row, c.value_or(0), "expected an IPv4 or IPv6 address, found nothing");
        return IpAddress{};
    }
    const std::optional<IpAddress> a = parse_ip(t_.cell(row, *c));
    if (!a) t_.fail(row, *c, "expected an IPv4 or IPv6 address");
    return *a;
}

void RecordReader::read(std::size_t row, ConnectionRecord& r) const {
    auto text = [&](std::string& out, std::string_view column) {
        if (const auto& c = col(column)) out.assign(t_.cell(row, *c));
        else out.clear();
    };
    auto whole = [&](std::string_view column, double max) {
        const double v = number(row, column);
        if (v < 0 || v > max || v != static_cast<double>(static_cast<std::uint64_t>(v)))
            t_.fail(row, *col(column), "expected a whole number from 0 to " + std::to_string(static_cast<std::uint64_t>(max)));
        return static_cast<std::uint64_t>(v);
    };
    constexpr double kExact = 9007199254740992.0;  // 2^53: integers a double holds exactly
    r.duration = number(row, "duration");
    if (col("ts_end")) {
        r.ts_end = number(row, "ts_end");
        r.ts_start = col("ts_start") ? number(row, "ts_start") : r.ts_end - r.duration;
    } else {
        std::tm tm{};
        const std::string cell(t_.cell(row, *col("timestamp")));
        const char* end = strptime(cell.c_str(), "%Y-%m-%d %H:%M:%S", &tm);
        if (end == nullptr || *end != '\0') t_.fail(row, *col("timestamp"), "expected a time as YYYY-MM-DD HH:MM:SS (UTC)");
        r.ts_start = static_cast<double>(timegm(&tm));
        r.ts_end = r.ts_start + r.duration;
    }
    r.pid = static_cast<std::uint32_t>(whole("pid", UINT32_MAX));
    r.ppid = static_cast<std::uint32_t>(whole("ppid", UINT32_MAX));
    r.uid = static_cast<std::uint32_t>(whole("uid", UINT32_MAX));
    text(r.process_name, "process_name");
    text(r.exe, "exe");
    r.cgroup_id = whole("cgroup_id", kExact);
    text(r.unit, "unit");
    text(r.container_id, "container_id");
    text(r.proto, "proto");
    r.src_ip = address(row, "src_ip", false);
    r.src_port = static_cast<std::uint16_t>(whole("src_port", 65535));
    r.dst_ip = address(row, "dst_ip", true);
    r.dst_port = static_cast<std::uint16_t>(whole("dst_port", 65535));
    r.bytes_sent = whole("bytes_sent", kExact);
    r.bytes_received = whole("bytes_received", kExact);
    r.outcome = Outcome::Closed;  // the notebook's CSV has no outcome
    if (const auto& c = col("outcome"); c && !t_.cell(row, *c).empty()) {
        const std::optional<Outcome> o = parse_outcome(t_.cell(row, *c));
        if (!o) t_.fail(row, *c, "expected closed, refused, failed or active");
        r.outcome = *o;
    }
    r.error = 0;
}

}  // namespace netlof

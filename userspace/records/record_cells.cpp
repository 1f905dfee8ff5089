#include "userspace/records/record_cells.hpp"

#include <charconv>

namespace netlof {

namespace {

// Column ids checked at compile time: a renamed column breaks the build here.
template <std::size_t N>
constexpr std::size_t id(const char (&name)[N]) {
    return connection_column_id(std::string_view(name, N - 1)).value();
}

}  // namespace

const RecordCells& RecordCellsBuilder::fill(const ConnectionRecord& r) {
    auto number = [&](std::size_t col, auto v) {
        cells_.number[col] = static_cast<double>(v);
        char* b = text_[col].data();
        const auto res = std::to_chars(b, b + text_[col].size(), v);  // as the CSV writer: shortest round trip
        cells_.text[col] = std::string_view(b, static_cast<std::size_t>(res.ptr - b));
    };
    auto text = [&](std::size_t col, std::string_view v) { cells_.text[col] = v; };
    auto address = [&](std::size_t col, const IpAddress& a) {
        char* b = text_[col].data();
        cells_.text[col] = std::string_view(b, static_cast<std::size_t>(ip_to_chars(b, a) - b));
    };

    static_assert(id("pid") == 0 && id("container_id") == kConnectionColumnCount - 1);
    number(id("pid"), r.pid);
    text(id("process_name"), r.process_name);
    address(id("src_ip"), r.src_ip);
    number(id("src_port"), r.src_port);
    address(id("dst_ip"), r.dst_ip);
    number(id("dst_port"), r.dst_port);
    number(id("duration"), r.duration);
    number(id("bytes_sent"), r.bytes_sent);
    number(id("bytes_received"), r.bytes_received);
    number(id("ppid"), r.ppid);
    number(id("uid"), r.uid);
    text(id("exe"), r.exe);
    number(id("cgroup_id"), r.cgroup_id);
    number(id("family"), r.family());
    text(id("proto"), r.proto);
    text(id("outcome"), outcome_name(r.outcome));
    number(id("ts_start"), r.ts_start);
    number(id("ts_end"), r.ts_end);
    text(id("unit"), r.unit);
    text(id("container_id"), r.container_id);
    return cells_;
}

}  // namespace netlof

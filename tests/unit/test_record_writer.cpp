#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>
#include <nlohmann/json.hpp>

#include "model/connection_columns.hpp"
#include "common/text_table.hpp"
#include "common/json_line.hpp"
#include "tests/test_support.hpp"
#include "userspace/records/record_writer.hpp"

using namespace netlof;

namespace {

std::string csv_of(const ConnectionRecord& r) {
    std::string s;
    append_record_csv(s, r);
    return s;
}
ConnectionRecord sample() {
    ConnectionRecord r;
    r.ts_start = 1700000000.25;
    r.ts_end = 1700000002.5;
    r.duration = 2.25;
    r.pid = 10;
    r.process_name = "we,ird \"name\"";
    r.exe = "/opt/x,y/bin";
    r.proto = "tcp";
    r.src_ip = test::ip("10.0.0.1");
    r.dst_ip = test::ip("2001:db8::1");
    r.src_port = 5;
    r.dst_port = 443;
    r.bytes_sent = 123;
    r.outcome = Outcome::Closed;
    return r;
}
}  // namespace

TEST_CASE("record CSV has the connection columns in order and parses back", "[record_writer]") {
    const TextTable t = TextTable::parse(record_csv_header() + csv_of(sample()), "rec.csv");
    REQUIRE(t.columns().size() == std::size(kConnectionColumns));
    for (std::size_t i = 0; i < t.columns().size(); ++i) CHECK(t.columns()[i] == kConnectionColumns[i].name);
    CHECK(t.cell(0, 1) == "we,ird \"name\"");
    CHECK(t.cell(0, 12) == "/opt/x,y/bin");
    CHECK(t.number(0, 6) == 2.25);
    CHECK(t.cell(0, 9) == "2023-11-14 22:13:20");
}

TEST_CASE("record JSON carries every field, invalid UTF-8 replaced", "[record_writer]") {
    ConnectionRecord r = sample();
    r.process_name = "bad\xff";
    r.error = 111;
    const auto j = nlohmann::json::parse(test::record_json(r));
    CHECK(j["bytes_sent"] == 123);
    CHECK(j["dst_ip"] == "2001:db8::1");
    CHECK(j["error"] == "Connection refused");
    CHECK(j["process_name"].get<std::string>().rfind("bad", 0) == 0);
    CHECK(j.size() == 21);
}

// The record line is written field by field without JsonLine (it runs once
// per connection); it must be exactly what JsonLine writes.
TEST_CASE("record JSON is byte for byte the JsonLine form, extremes included", "[record_writer]") {
    auto reference = [](const ConnectionRecord& r) {
        std::string out;
        JsonLine j(out);
        j.field("ts_start", r.ts_start).field("ts_end", r.ts_end).field("duration", r.duration);
        j.field("pid", r.pid).field("ppid", r.ppid).field("uid", r.uid);
        j.field("process_name", r.process_name);
        if (r.exe.empty()) j.raw("exe", "null");  // an executable not known
        else j.field("exe", r.exe);
        j.field("cgroup_id", r.cgroup_id).field("unit", r.unit).field("container_id", r.container_id);
        j.field("family", r.family()).field("proto", r.proto).field("src_ip", ip_text(r.src_ip)).field("src_port", r.src_port);
        j.field("dst_ip", ip_text(r.dst_ip)).field("dst_port", r.dst_port);
        j.field("bytes_sent", r.bytes_sent).field("bytes_received", r.bytes_received).field("outcome", outcome_name(r.outcome));
        if (r.error != 0) j.field("error", std::strerror(r.error));
        j.end();
        return out;
    };
    std::vector<ConnectionRecord> cases(4, sample());
    cases[1].error = 111;
    cases[1].process_name = std::string("\x01\"\\\xff\xc3\xa9", 6);
    cases[1].exe = std::string(300, '\x7f') + std::string(200, '\n');  // every byte escaped
    cases[1].unit = "a\"b.service";
    cases[1].container_id = "0123456789ab";
    cases[2].ts_start = -1.2345678901234567e-300;  // the longest shortest forms
    cases[2].ts_end = std::numeric_limits<double>::infinity();
    cases[2].duration = std::nan("");
    cases[2].pid = cases[2].ppid = cases[2].uid = UINT32_MAX;
    cases[2].cgroup_id = cases[2].bytes_sent = cases[2].bytes_received = UINT64_MAX;
    cases[2].dst_ip = test::ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");  // the longest address text
    cases[2].outcome = Outcome::Refused;
    cases[2].src_port = cases[2].dst_port = UINT16_MAX;
    cases[2].error = -5;  // strerror's "Unknown error -5"
    cases[3] = ConnectionRecord{};  // empty strings, addresses not known
    std::string lines = "prefix kept\n", expected = lines;
    for (const ConnectionRecord& r : cases) {
        const std::string one = reference(r);
        std::string mine;
        append_record_json(mine, r);
        CHECK(mine == one);
        append_record_json(lines, r);  // appends after what is there
        expected += one;
    }
    CHECK(lines == expected);
    CHECK(nlohmann::json::parse(test::record_json(cases[2]))["ts_end"].is_null());
    CHECK(nlohmann::json::parse(test::record_json(cases[3]))["exe"].is_null());
}

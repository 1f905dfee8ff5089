#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "model/connection_columns.hpp"
#include "model/csv_table.hpp"
#include "userspace/record_writer.hpp"

using namespace netlof;

namespace {
ConnectionRecord sample() {
    ConnectionRecord r;
    r.ts_start = 1700000000.25;
    r.ts_end = 1700000002.5;
    r.duration = 2.25;
    r.pid = 10;
    r.process_name = "we,ird \"name\"";
    r.exe = "/opt/x,y/bin";
    r.proto = "tcp";
    r.src_ip = "10.0.0.1";
    r.dst_ip = "2001:db8::1";
    r.family = 6;
    r.src_port = 5;
    r.dst_port = 443;
    r.bytes_sent = 123;
    r.outcome = "closed";
    return r;
}
}  // namespace

TEST_CASE("record CSV has the connection columns in order and parses back", "[record_writer]") {
    const CsvTable t = CsvTable::parse(record_csv_header() + record_to_csv(sample()), "rec.csv");
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
    const auto j = nlohmann::json::parse(record_to_json(r));
    CHECK(j["bytes_sent"] == 123);
    CHECK(j["dst_ip"] == "2001:db8::1");
    CHECK(j["error"] == "Connection refused");
    CHECK(j["process_name"].get<std::string>().rfind("bad", 0) == 0);
    CHECK(j.size() == 19);
}

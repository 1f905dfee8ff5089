#include <catch2/catch.hpp>

#include "common/text_table.hpp"
#include "tests/test_support.hpp"
#include "common/diagnostic.hpp"
#include "model/feature_pipeline.hpp"
#include "userspace/records/record_writer.hpp"

using namespace netlof;

namespace {
ConnectionRecord record(int i) {
    ConnectionRecord r;
    r.ts_start = 1700000000.25 + i;
    r.ts_end = r.ts_start + 0.001 * i;
    r.duration = 0.001 * i;
    r.pid = 100 + i;
    r.process_name = i % 3 ? "curl" : "we,ird \"näme\"";
    r.exe = "/usr/bin/curl";
    r.proto = i % 2 ? "tcp" : "udp";
    r.src_ip = test::ip("10.0.0.1");
    r.dst_ip = test::ip("2001:db8::1");
    r.dst_port = static_cast<std::uint16_t>(443 + i);
    r.bytes_sent = 123456789012ull * i;
    r.bytes_received = 7 * i;
    r.outcome = i == 4 ? Outcome::Refused : Outcome::Closed;
    r.error = i == 4 ? 111 : 0;  // only refused records carry "error"
    return r;
}

Diagnostic diagnostic_of(const std::string& text) {
    try {
        TextTable::parse_jsonl(text, "rec.jsonl");
    } catch (const InputError& e) {
        return e.diagnostic();
    }
    FAIL("no error for: " << text);
    return {};
}
}  // namespace

TEST_CASE("records written as JSON lines read back with the values the CSV form gives", "[jsonl_table]") {
    std::string jsonl, csv = record_csv_header();
    for (int i = 0; i < 9; ++i) {
        append_record_json(jsonl, record(i));
        append_record_csv(csv, record(i));
    }
    const TextTable j = TextTable::parse_records(jsonl, "rec.jsonl");
    const TextTable c = TextTable::parse_records(csv, "rec.csv");
    REQUIRE(j.rows() == 9);
    for (const char* col : {"process_name", "proto", "dst_ip", "outcome"})
        for (std::size_t r = 0; r < 9; ++r)
            CHECK(j.cell(r, *j.column_index(col)) == c.cell(r, *c.column_index(col)));
    for (const char* col : {"duration", "bytes_sent", "bytes_received", "dst_port", "pid"})
        for (std::size_t r = 0; r < 9; ++r)
            CHECK(j.number(r, *j.column_index(col)) == c.number(r, *c.column_index(col)));
    // "error" appears first on line 5; other lines have it empty.
    const std::size_t err = *j.column_index("error");
    CHECK(j.cell(4, err) == "Connection refused");
    CHECK(j.cell(0, err).empty());
    CHECK(j.line_of(8) == 9);

    // The default pipeline gives identical features from either form.
    const PipelineSpec spec = parse_pipeline_yaml(
        "features:\n  - {column: process_name, transform: onehot}\n  - {column: dst_port, transform: onehot}\n"
        "  - {column: bytes_sent, transform: log_standard}\n  - {column: duration, transform: log_standard}\n",
        "p.yaml");
    FeatureMatrix fj, fc;
    FeaturePipeline::fit(spec, j, &fj);
    FeaturePipeline::fit(spec, c, &fc);
    CHECK(fj.to_dense() == fc.to_dense());
}

TEST_CASE("bad JSON lines are named by line and field", "[jsonl_table]") {
    const std::string good = R"({"process_name":"a","bytes_sent":1})" "\n";
    Diagnostic d = diagnostic_of(good + "\n" + R"({"process_name":"a","bytes_sent":1)" "\n");
    CHECK(d.line == 3);
    CHECK(d.message == "not a JSON value");
    d = diagnostic_of(good + "[1,2]\n");
    CHECK(d.line == 2);
    CHECK(d.message == "expected one JSON object a line");
    d = diagnostic_of(good + R"({"process_name":"a", "bytes_sent":[1]})" "\n");
    CHECK(d.line == 2);
    CHECK(d.field == "bytes_sent");
    CHECK(d.column == 22);
    CHECK(d.message == "expected a string or a number, found array");
    d = diagnostic_of(good + R"({"process_name":"a","process_name":"b"})" "\n");
    CHECK(d.line == 2);
    CHECK(d.field == "process_name");
    CHECK(diagnostic_of("\n \n").message == "no records (empty file)");

    // A line without a column the pipeline reads fails where it is read.
    const TextTable t = TextTable::parse_jsonl(good + R"({"process_name":"b"})" "\n", "rec.jsonl");
    try {
        t.number(1, *t.column_index("bytes_sent"));
        FAIL("no error");
    } catch (const InputError& e) {
        CHECK(e.diagnostic().line == 2);
        CHECK(e.diagnostic().field == "bytes_sent");
        CHECK(e.diagnostic().message == "empty value, expected a number");
    }
}

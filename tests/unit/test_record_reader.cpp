#include <catch2/catch.hpp>

#include "common/diagnostic.hpp"
#include "tests/test_support.hpp"
#include "userspace/records/record_reader.hpp"
#include "userspace/records/record_writer.hpp"

using namespace netlof;

namespace {

ConnectionRecord full_record() {
    ConnectionRecord r;
    r.ts_start = 1700000000.25;
    r.ts_end = 1700000002.5;
    r.duration = 2.25;
    r.pid = 10;
    r.ppid = 1;
    r.uid = 33;
    r.process_name = "we,ird \"name\"";
    r.exe = "/opt/x,y/bin";
    r.cgroup_id = 4242;
    r.unit = "nginx.service";
    r.container_id = "0123456789ab";
    r.proto = "udp";
    r.src_ip = test::ip("2001:db8::2");
    r.src_port = 5;
    r.dst_ip = test::ip("2001:db8::1");
    r.dst_port = 443;
    r.bytes_sent = 123;
    r.bytes_received = 9007199254740991;  // 2^53 - 1: the largest a double holds exactly
    r.outcome = Outcome::Active;
    return r;
}
}  // namespace

TEST_CASE("records read back as written, from JSON lines and from CSV", "[record_reader]") {
    const ConnectionRecord r = full_record();
    std::string jsonl, csv = record_csv_header();
    append_record_json(jsonl, r);
    append_record_csv(csv, r);
    for (const TextTable& t : {TextTable::parse_records(jsonl, "r.jsonl"), TextTable::parse_records(csv, "r.csv")}) {
        INFO(t.file());
        ConnectionRecord back;
        RecordReader(t).read(0, back);
        CHECK(test::record_json(back) == test::record_json(r));
    }
}

TEST_CASE("a CSV with the notebook's timestamp and duration instead of ts_start and ts_end", "[record_reader]") {
    const TextTable t = TextTable::parse(
        "pid,process_name,src_ip,src_port,dst_ip,dst_port,duration,bytes_sent,bytes_received,timestamp\n"
        "7,curl,10.0.0.1,40000,192.0.2.1,443,1.5,100,200,2023-11-14 22:13:20\n", "n.csv");
    ConnectionRecord r;
    RecordReader(t).read(0, r);
    CHECK(r.ts_start == 1700000000);
    CHECK(r.ts_end == 1700000001.5);
    CHECK(r.outcome == Outcome::Closed);
    CHECK(r.bytes_received == 200);
    const TextTable bad = TextTable::parse("process_name,dst_ip,dst_port,timestamp\ncurl,192.0.2.1,443,yesterday\n", "b.csv");
    CHECK(test::diagnostic_of([&] { RecordReader(bad).read(0, r); }).field == "timestamp");
}

TEST_CASE("a record that cannot be read names its line and field", "[record_reader]") {
    const auto error_of = [](const std::string& jsonl) {
        return test::diagnostic_of([&] {
            const TextTable t = TextTable::parse_records(jsonl, "r.jsonl");
            const RecordReader reader(t);
            ConnectionRecord r;
            for (std::size_t row = 0; row < t.rows(); ++row) reader.read(row, r);
        });
    };
    const std::string ok = R"({"ts_end": 5, "process_name": "a", "dst_ip": "192.0.2.1", "dst_port": 80})" "\n";
    Diagnostic d = error_of(ok + R"({"ts_end": 5, "process_name": "a", "dst_ip": "192.0.2.1", "dst_port": -1})" "\n");
    CHECK(d.line == 2);
    CHECK(d.field == "dst_port");
    CHECK(error_of(ok + R"({"ts_end": "soon", "process_name": "a", "dst_ip": "x", "dst_port": 1})" "\n").field == "ts_end");
    CHECK(error_of(ok + R"({"ts_end": 5, "process_name": "a", "dst_ip": "x", "dst_port": 1, "pid": 1.5})" "\n").field == "pid");
    CHECK(error_of(R"({"ts_end": 5, "process_name": "a", "dst_port": 80})" "\n").field == "dst_ip");
    CHECK(error_of(R"({"process_name": "a", "dst_ip": "x", "dst_port": 80})" "\n").field == "timestamp");
    // Addresses are kept binary: text that is no address is refused, not carried along.
    d = error_of(ok + ok + R"({"ts_end": 5, "process_name": "a", "dst_ip": "192.0.2.300", "dst_port": 1})" "\n");
    CHECK(d.line == 3);
    CHECK(d.field == "dst_ip");
    CHECK(error_of(R"({"ts_end": 5, "process_name": "a", "dst_ip": "", "dst_port": 1})" "\n").field == "dst_ip");
    CHECK(error_of(R"({"ts_end": 5, "process_name": "a", "src_ip": "host", "dst_ip": "::1", "dst_port": 1})" "\n").field ==
          "src_ip");
    CHECK(error_of(R"({"ts_end": 5, "process_name": "a", "dst_ip": "::1", "dst_port": 1, "outcome": "odd"})" "\n").field ==
          "outcome");
}

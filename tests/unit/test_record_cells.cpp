#include <catch2/catch.hpp>
#include <random>

#include "model/feature_pipeline.hpp"
#include "tests/test_support.hpp"
#include "userspace/records/record_cells.hpp"
#include "userspace/records/record_writer.hpp"

using namespace netlof;

namespace {

std::vector<ConnectionRecord> varied_records(std::size_t n) {
    std::mt19937 rng(7);
    const char* names[] = {"nginx", "curl", "postgres", "a,b \"quoted\""};
    std::vector<ConnectionRecord> out;
    for (std::size_t i = 0; i < n; ++i) {
        ConnectionRecord r;
        r.pid = 100 + rng() % 50;
        r.ppid = 1;
        r.uid = rng() % 3 == 0 ? 0 : 33;
        r.process_name = names[rng() % 4];
        r.exe = "/usr/bin/" + r.process_name;
        r.proto = rng() % 5 == 0 ? "udp" : "tcp";
        r.src_ip = test::ip("10.0.0.1");
        r.src_port = static_cast<std::uint16_t>(32768 + rng() % 28000);
        r.dst_ip = test::ip("192.0.2." + std::to_string(rng() % 9));
        r.dst_port = rng() % 2 ? 443 : 5432;
        r.bytes_sent = rng() % 100000;
        r.bytes_received = rng() % 3 == 0 ? 0 : rng() % 10000000;
        r.ts_start = 1764100000.0 + i * 0.37;
        r.duration = std::uniform_real_distribution<double>(0, 30)(rng);
        r.ts_end = r.ts_start + r.duration;
        r.outcome = Outcome::Closed;
        out.push_back(r);
    }
    return out;
}

}  // namespace

TEST_CASE("records become the same features directly as through the CSV netlof train reads", "[record_cells]") {
    const auto records = varied_records(400);
    std::string csv = record_csv_header();
    for (const auto& r : records) append_record_csv(csv, r);
    const TextTable table = TextTable::parse(csv, "records.csv");
    const PipelineSpec spec = parse_pipeline_yaml(R"(features:
  - {column: process_name, transform: onehot}
  - {column: dst_port, transform: onehot}
  - {column: uid, transform: onehot}
  - {column: proto, transform: onehot}
  - {column: exe, transform: onehot}
  - {column: bytes_sent, transform: log_standard}
  - {column: bytes_received, transform: log_standard}
  - {column: duration, transform: standard}
  - {column: src_port, transform: standard}
  - {column: ts_start, transform: standard}
)", "p.yaml");
    const FeaturePipeline pipeline = FeaturePipeline::fit(spec, table);
    REQUIRE(pipeline.reads_connection_columns());
    const FeatureMatrix via_csv = pipeline.transform(table);

    FeatureMatrix direct;
    pipeline.shape(direct, records.size());
    RecordCellsBuilder builder;
    for (std::size_t i = 0; i < records.size(); ++i)
        REQUIRE(pipeline.transform_record(builder.fill(records[i]), direct, i).empty());
    CHECK(direct.category_counts == via_csv.category_counts);
    CHECK(direct.codes == via_csv.codes);
    CHECK(direct.numeric == via_csv.numeric);  // bit for bit: the same text, the same arithmetic

    // Values training never saw become the unknown category, as with CSV.
    ConnectionRecord odd = records[0];
    odd.process_name = "never-seen";
    odd.dst_port = 4444;
    odd.exe = "";
    pipeline.transform_record(builder.fill(odd), direct, 0);
    CHECK(direct.codes_row(0)[0] == kUnknownCategory);
    CHECK(direct.codes_row(0)[1] == kUnknownCategory);
    CHECK(direct.codes_row(0)[4] == kUnknownCategory);
}

TEST_CASE("a value a transform cannot take is named, not scored", "[record_cells]") {
    const FeaturePipeline p({{"duration", Transform::LogStandard, 0, 1}}, {});
    FeatureMatrix m;
    p.shape(m, 1);
    ConnectionRecord r;
    r.duration = -2;  // log1p is undefined below -1
    RecordCellsBuilder b;
    CHECK(p.transform_record(b.fill(r), m, 0) == "duration");
    r.duration = 0.5;
    CHECK(p.transform_record(b.fill(r), m, 0).empty());
    CHECK(m.numeric(0, 0) == std::log1p(0.5));
}

TEST_CASE("a pipeline reading a column records do not have is recognised", "[record_cells]") {
    CHECK_FALSE(FeaturePipeline({{"timestamp", Transform::Standard, 0, 1}}, {}).reads_connection_columns());
    CHECK_FALSE(FeaturePipeline({{"bogus", Transform::Standard, 0, 1}}, {}).reads_connection_columns());
    CHECK_FALSE(FeaturePipeline({{"exe", Transform::Standard, 0, 1}}, {}).reads_connection_columns());
    CHECK(FeaturePipeline({{"bytes_sent", Transform::Standard, 0, 1}}, {{"exe", {"/bin/x"}}}).reads_connection_columns());
}

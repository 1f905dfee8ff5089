#include <catch2/catch.hpp>
#include <cstring>
#include <zlib.h>

#include "common/diagnostic.hpp"
#include "userspace/engine/trained_model.hpp"
#include "tests/test_support.hpp"

using namespace netlof;

namespace {

TrainedModel small_model() {
    const std::string dir = test::source_path("tests/data/lof/clusters/");
    const PipelineSpec spec = parse_pipeline_yaml(test::read_text(dir + "pipeline.yaml"), "pipeline.yaml");
    const TextTable train = test::read_csv(dir + "train.csv");
    FeaturePipeline p = FeaturePipeline::fit(spec, train);
    LofTrainingResult result;
    LofModel lof = LofModel::fit(p.transform(train), {10, 0.05, 1, 0.25}, &result);
    const TextTable records = TextTable::parse("process_name,exe,dst_ip,dst_port,proto,ts_end,bytes_sent\n"
                                             "chronyd,/usr/sbin/chronyd,192.0.2.1,123,udp,1764000000,48\n"
                                             "chronyd,/usr/sbin/chronyd,192.0.2.1,123,udp,1764000064,48\n"
                                             "nl,/a,2001:db8::7,443,tcp,1764000100,900\n"
                                             "nl,,::ffff:198.51.100.4,80,tcp,1764000700,1200\n", "r.csv");
    return TrainedModel{"pipeline.yaml", std::move(p), std::move(lof),
                        {{"chronyd", {"/usr/sbin/chronyd"}}, {"nl", {"/a", "/b"}}}, score_tail(result.lof, 2.5),
                        learn_reach(records), learn_windows(records)};
}

Diagnostic load_error(const std::string& bytes) {
    return test::diagnostic_of([&] { deserialize_model(bytes, "m.bin"); });
}

// Rewrites the header's checksum so a deliberately wrong payload gets past it.
void fix_checksum(std::string& bytes) {
    const auto crc = static_cast<std::uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(bytes.data() + 32), static_cast<uInt>(bytes.size() - 32)));
    std::memcpy(bytes.data() + 24, &crc, 4);
}

// The bytes of a version 3 file with this model's content: version 4 added
// a unit after each numeric feature's scale (and each profile's longest
// connection, which a model without a reach baseline has none of).
std::string without_units(std::string bytes, const TrainedModel& m) {
    std::size_t at = 32 + 4 + m.pipeline_file.size() + 8;
    for (const NumericFeature& f : m.pipeline.numeric()) {
        at += 4 + f.column.size() + 1 + 8 + 8;
        bytes.erase(at, 8);
    }
    return bytes;
}

}  // namespace

TEST_CASE("the log transform's unit and the learned longest connections are saved", "[model_file]") {
    const PipelineSpec spec = parse_pipeline_yaml(
        "features:\n  - {column: duration, transform: log, unit: 0.001}\n  - {column: bytes_sent, transform: log}\n", "p.yaml");
    std::string csv = "process_name,exe,dst_ip,dst_port,proto,ts_end,duration,bytes_sent\n";
    for (int i = 0; i < 30; ++i)
        csv += "app,/usr/bin/app,192.0.2.1,443,tcp," + std::to_string(1764000000 + i) + "," + std::to_string(0.01 * (i + 1)) +
               "," + std::to_string(100 + 7 * i) + "\n";
    const TextTable train = TextTable::parse(csv, "r.csv");
    FeaturePipeline p = FeaturePipeline::fit(spec, train);
    LofTrainingResult result;
    LofModel lof = LofModel::fit(p.transform(train), {5, 0.05, 1, 0.5}, &result);
    const TrainedModel m{"p.yaml", std::move(p), std::move(lof), {}, score_tail(result.lof, 1), learn_reach(train), learn_windows(train)};
    const TrainedModel back = deserialize_model(serialize_model(m), "m.bin");
    REQUIRE(back.pipeline.numeric().size() == 2);
    CHECK(back.pipeline.numeric()[0].transform == Transform::Log);
    CHECK(back.pipeline.numeric()[0].unit == 0.001);
    CHECK(back.pipeline.numeric()[1].unit == 1);
    CHECK(back.reach.profiles().at("/usr/bin/app").longest == 0.3);
    CHECK(back.reach == m.reach);
    std::vector<LofScore> a(train.rows()), b(train.rows());
    m.lof.score(m.pipeline.transform(train), a);
    back.lof.score(back.pipeline.transform(train), b);
    for (std::size_t i = 0; i < train.rows(); ++i) CHECK(a[i].lof == b[i].lof);
    CHECK(serialize_model(back) == serialize_model(m));
}

TEST_CASE("a saved model scores exactly as the model it was saved from", "[model_file]") {
    const TrainedModel m = small_model();
    const std::string bytes = serialize_model(m);
    const TrainedModel back = deserialize_model(bytes, "m.bin");
    CHECK(back.pipeline_file == "pipeline.yaml");
    CHECK(back.lof.neighbors() == m.lof.neighbors());
    CHECK(back.lof.offset() == m.lof.offset());
    CHECK(back.identities == m.identities);
    CHECK(back.reach == m.reach);
    CHECK(back.windows == m.windows);
    CHECK(back.windows.size() == 3);
    CHECK(back.lof.reach_floor() == 0.25);
    CHECK(back.tail.top == m.tail.top);
    CHECK(back.tail.rate_per_s == 2.5);
    CHECK(back.reach.profiles().size() == 3);
    CHECK(back.reach.profiles().at("/a").names_once == 1);
    CHECK(serialize_model(back) == bytes);
    const TextTable q = test::read_csv(test::source_path("tests/data/lof/clusters/query.csv"));
    std::vector<LofScore> a(q.rows()), b(q.rows());
    m.lof.score(m.pipeline.transform(q), a);
    back.lof.score(back.pipeline.transform(q), b);
    for (std::size_t i = 0; i < q.rows(); ++i) {
        CHECK(a[i].lof == b[i].lof);
        CHECK(a[i].anomaly == b[i].anomaly);
    }
}

TEST_CASE("truncated, corrupted, foreign and newer model files are refused", "[model_file]") {
    const std::string good = serialize_model(small_model());
    SECTION("every truncation") {
        for (std::size_t len = 0; len < good.size(); len += (len < 64 ? 1 : 97)) {
            INFO("length " << len);
            const Diagnostic d = load_error(good.substr(0, len));
            CHECK(d.file == "m.bin");
            CHECK_FALSE(d.field.empty());
        }
    }
    SECTION("a flipped bit anywhere in the payload fails the checksum") {
        for (std::size_t pos = 32; pos < good.size(); pos += 131) {
            std::string bad = good;
            bad[pos] ^= 0x10;
            CHECK(load_error(bad).field == "checksum");
        }
    }
    SECTION("foreign files") {
        CHECK(load_error("pid,process_name\n1,x\n").field == "magic");
        CHECK(load_error("").field == "magic");
    }
    SECTION("a newer format version") {
        std::string bad = good;
        bad[8] = static_cast<char>(kModelFormatVersion + 1);
        CHECK(load_error(bad).field == "version");
    }
    SECTION("learned identities out of order") {
        std::string bad = good;
        const std::size_t at = bad.rfind("/b");
        bad[at + 1] = '0';  // "/0" sorts before "/a"
        fix_checksum(bad);
        CHECK(load_error(bad).field == "identities.exes");
    }
    SECTION("reach baseline subjects out of order") {
        std::string bad = good;
        const std::size_t at = bad.find("name:nl");  // the last subject, after "/usr/sbin/chronyd"
        REQUIRE(at != std::string::npos);
        bad[at] = '!';  // sorts before '/'
        fix_checksum(bad);
        CHECK(load_error(bad).field == "reach.subject");
    }
    SECTION("a reach baseline address family that is neither 4 nor 6") {
        std::string bad = good;
        const std::size_t at = bad.find("name:nl") + 7 + 8 + 8 + 4 + 8 + 4 + 2 + 8 + 16;  // connections, longest, names once, names, "nl", count, addr
        REQUIRE(bad[at] == 4);
        bad[at] = 5;
        fix_checksum(bad);
        CHECK(load_error(bad).field == "reach.destinations.family");
    }
    SECTION("trailing data") { CHECK(load_error(good + "x").field == "payload_size"); }
    SECTION("impossible contents behind a valid checksum") {
        // The neighbour count sits right after the row count; make it exceed the rows.
        std::string bad = good;
        const std::size_t rows_at = bad.find("10.9.9.9") + 8;  // the last category, then rows (u64), k (u64)
        std::uint64_t rows = 0;
        std::memcpy(&rows, bad.data() + rows_at, 8);
        REQUIRE(rows == 475);
        const std::uint64_t k = rows + 5;
        std::memcpy(bad.data() + rows_at + 8, &k, 8);
        fix_checksum(bad);
        CHECK(load_error(bad).field == "lof");
    }
}

TEST_CASE("version 1, 2 and 3 files (no identities, no reach baseline, no units) are still read", "[model_file]") {
    TrainedModel m = small_model();
    m.identities.clear();
    m.reach = ReachBaseline{};
    m.windows.clear();
    const std::string v3 = without_units(serialize_model(m), m);
    // Version 3 put the floor and the tail between the LOF state and the
    // identities, and ends with the identity, reach and window counts (all 0 here).
    const std::size_t tail_bytes = 8 + 8 + 8 + 8 + 8 + 8 * m.tail.top.size();
    const std::size_t lof_end = v3.size() - 24 - tail_bytes;
    const auto with_version = [](std::string bytes, char version) {
        bytes[8] = version;
        const std::uint64_t payload = bytes.size() - 32;
        std::memcpy(bytes.data() + 16, &payload, 8);
        fix_checksum(bytes);
        return bytes;
    };
    const TrainedModel read3 = deserialize_model(with_version(v3, 3), "v3.bin");
    CHECK(read3.pipeline.numeric()[0].unit == 1);
    CHECK(read3.pipeline.numeric()[0].mean == m.pipeline.numeric()[0].mean);
    CHECK(read3.lof.offset() == m.lof.offset());
    const TrainedModel v2 = deserialize_model(with_version(v3.substr(0, lof_end) + v3.substr(lof_end + tail_bytes, 8), 2), "v2.bin");
    CHECK(v2.reach.profiles().empty());
    CHECK(v2.tail.top.empty());
    CHECK(v2.lof.reach_floor() == 0);
    const std::string v1 = with_version(v3.substr(0, lof_end), 1);
    const TrainedModel back = deserialize_model(v1, "old.bin");
    CHECK(back.identities.empty());
    CHECK(back.lof.offset() == m.lof.offset());
}

TEST_CASE("identities are learned from records' process names and executables", "[model_file]") {
    const TextTable t = TextTable::parse("process_name,exe,bytes_sent\nnginx,/usr/sbin/nginx,1\nnginx,/usr/sbin/nginx,2\n"
                                       "nginx,/opt/nginx,3\ncurl,,4\n", "r.csv");
    const LearnedIdentities ids = learn_identities(t);
    CHECK(ids == LearnedIdentities{{"nginx", {"/opt/nginx", "/usr/sbin/nginx"}}});  // an unknown exe is not learned
    CHECK(learn_identities(TextTable::parse("process_name,bytes_sent\nx,1\n", "n.csv")).empty());
}

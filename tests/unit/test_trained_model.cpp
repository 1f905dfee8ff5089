#include <array>
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <optional>
#include <zlib.h>

#include "common/diagnostic.hpp"
#include "common/file_io.hpp"
#include "common/table_chunks.hpp"
#include "userspace/records/record_writer.hpp"
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
    // Nor did it weigh one-hot columns (version 5).
    at += 8;
    for (const CategoricalFeature& f : m.pipeline.categorical()) {
        at += 4 + f.column.size() + 8;
        for (const std::string& c : f.categories) at += 4 + c.size();
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
    CHECK(back.windows.size() == 6);  // three programs, each by destination and by service
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
        const std::size_t rows_at = bad.find("10.9.9.9") + 8 + 8;  // the last category, its column's weight, then rows (u64), k (u64)
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

namespace {

// Records of a few programs over 50 minutes, in the shapes that make reading
// in parts differ from reading the whole if anything is carried wrong across
// a part: a program and ports first seen near the end (their category codes
// come last but sort first), an "error" key on one JSON line only, unknown
// executables (null), one program under two executables.
std::string records_text(bool jsonl) {
    std::string text = jsonl ? "" : record_csv_header();
    for (int i = 0; i < 600; ++i) {
        ConnectionRecord r;
        const int program = i >= 520 ? 4 : i % 4;
        r.ts_start = 1764000000 + i * 5.0;
        r.duration = 0.001 * (1 + (i * 37) % 900);
        r.ts_end = r.ts_start + r.duration;
        r.pid = 100 + static_cast<std::uint32_t>(program);
        r.process_name = std::array{"nginx", "curl", "sshd", "curl", "aaa-late"}[program];
        r.exe = std::array{"/usr/sbin/nginx", "/usr/bin/curl", "", "/opt/curl", "/tmp/aaa"}[program];
        r.proto = i % 9 == 0 ? "udp" : "tcp";
        r.src_ip = test::ip("10.0.0.5");
        r.src_port = static_cast<std::uint16_t>(40000 + i);
        r.dst_ip = test::ip(program == 4 ? "203.0.113.9" : i % 3 ? "192.0.2.10" : "2001:db8::20");
        r.dst_port = static_cast<std::uint16_t>(program == 4 ? 22 + i % 2 : 443 + 8 * (i % 3));
        r.bytes_sent = static_cast<std::uint64_t>(200 + (i * 7919) % 50000);
        r.bytes_received = static_cast<std::uint64_t>((i * 104729) % 900000);
        r.outcome = i == 450 ? Outcome::Refused : Outcome::Closed;
        r.error = i == 450 ? 111 : 0;
        if (jsonl) append_record_json(text, r);
        else append_record_csv(text, r);
    }
    return text;
}

LofOptions small_options() {
    LofOptions o;
    o.neighbors = 5;
    o.contamination = 0.05;
    o.threads = 1;
    o.reach_floor = 0.1;
    return o;
}

}  // namespace

TEST_CASE("a model fitted a part at a time equals the one fitted on the whole file", "[model_file][trained_model]") {
    const std::string pipeline = test::source_path("configs/pipeline-default.yaml");
    const PipelineSpec spec = parse_pipeline_yaml(test::read_text(pipeline), pipeline);
    for (const bool jsonl : {true, false}) {
        const std::string text = records_text(jsonl);
        const std::string path = test::temp_dir("fit_parts") + (jsonl ? "/r.jsonl" : "/r.csv");
        std::ofstream(path, std::ios::binary) << text;
        LofTrainingResult whole_result;
        const TrainedModel whole =
            fit_model(TextTable::parse_records(text, path), spec, pipeline, small_options(), &whole_result);
        REQUIRE(whole_result.lof.size() == 600);
        REQUIRE(whole.pipeline.categorical()[0].categories.front() == "aaa-late");
        REQUIRE(whole.identities.at("curl") == std::vector<std::string>{"/opt/curl", "/usr/bin/curl"});
        REQUIRE(whole.windows.lower_bound("/tmp/aaa\t") != whole.windows.end());
        REQUIRE(whole.windows.lower_bound("/tmp/aaa\t")->first.rfind("/tmp/aaa\t:", 0) == 0);  // the program, by service
        for (const std::size_t bytes : {1, 700, 5000, 1 << 20}) {
            INFO((jsonl ? "JSON lines" : "CSV") << " in parts of " << bytes << " bytes");
            TableChunks chunks(path, bytes);
            std::size_t parts = 0;
            LofTrainingResult result;
            const TrainedModel model = fit_model(
                [&] {
                    std::optional<TextTable> part = chunks.next();
                    parts += part.has_value();
                    return part;
                },
                spec, pipeline, small_options(), &result);
            if (bytes <= 5000) CHECK(parts > 10);
            CHECK(serialize_model(model) == serialize_model(whole));
            CHECK(result.lof == whole_result.lof);
            CHECK(result.anomaly == whole_result.anomaly);
        }
    }
}

TEST_CASE("fitting in parts refuses a bad record with its line in the file", "[model_file][trained_model]") {
    const std::string pipeline = test::source_path("configs/pipeline-default.yaml");
    const PipelineSpec spec = parse_pipeline_yaml(test::read_text(pipeline), pipeline);
    const auto fit_parts = [&](const std::string& name, const std::string& text) {
        const std::string path = test::temp_dir("fit_parts_bad") + "/" + name;
        std::ofstream(path, std::ios::binary) << text;
        TableChunks chunks(path, 600);
        LofTrainingResult result;
        return test::diagnostic_of([&] { fit_model([&] { return chunks.next(); }, spec, pipeline, small_options(), &result); });
    };
    std::string text = records_text(true);
    std::size_t at = 0;
    for (int line = 1; line < 400; ++line) at = text.find('\n', at) + 1;
    const std::string line400 = text.substr(at, text.find('\n', at) - at);

    SECTION("a value the transform cannot take") {
        std::string bad = line400;
        const std::size_t key = bad.find("\"bytes_sent\":");
        REQUIRE(key != std::string::npos);
        bad.replace(key, bad.find(',', key) - key, "\"bytes_sent\":-5");
        const Diagnostic d = fit_parts("neg.jsonl", std::string(text).replace(at, line400.size(), bad));
        CHECK(d.line == 400);
        CHECK(d.field == "bytes_sent");
    }
    SECTION("a key the pipeline needs missing from every record of a later part") {
        std::string bad = line400;
        const std::size_t key = bad.find(",\"proto\":");
        REQUIRE(key != std::string::npos);
        bad.erase(key, bad.find(',', key + 1) - key);
        // A part of 600 bytes holds this record alone (the key is absent from
        // the part) or with one more (the cell is empty): refused at its line either way.
        const Diagnostic d = fit_parts("noproto.jsonl", std::string(text).replace(at, line400.size(), bad));
        CHECK(d.line == 400);
        CHECK(d.field == "proto");
        CHECK(d.file.find("noproto.jsonl") != std::string::npos);
    }
    SECTION("fewer than 2 records") {
        const Diagnostic d = fit_parts("one.jsonl", text.substr(0, text.find('\n') + 1));
        CHECK(d.message == "needs at least 2 data rows to train, found 1");
    }
}

TEST_CASE("train warns of a model file too large for the daemon to load", "[model_file][trained_model]") {
    CHECK(model_size_warning(kMaxModelBytes, 16000000).empty());
    const std::string w = model_size_warning(kMaxModelBytes + kMaxModelBytes / 4, 20000000);
    CHECK(w.find("1280 MiB") != std::string::npos);
    CHECK(w.find("at most 1024 MiB") != std::string::npos);
    CHECK(w.find("about 16000000 training rows") != std::string::npos);
}

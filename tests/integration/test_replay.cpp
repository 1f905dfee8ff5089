// `netlof replay` against records written as the sensor writes them: the
// daemon's judgement (learning, allowlists, identities, LOF, folding) at
// the records' own times, deterministic, and bad records refused with their
// line and field.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "tests/test_support.hpp"
#include "userspace/daemon/daemon_config.hpp"
#include "userspace/records/record_writer.hpp"

using nlohmann::json;
using namespace netlof;

namespace {

constexpr double kStart = 1764400000;

// 300 records of three services with their own sizes, 0.2 s apart.
std::vector<ConnectionRecord> normal_traffic() { return test::service_traffic(300, kStart, 0.2, 7); }

struct Setup {
    std::string dir = test::temp_dir("replay");
    Setup() {
        std::ofstream(dir + "/allow.yaml") << "processes:\n  nginx: [\"192.0.2.10:8080\"]\n  sshd: {exe: /usr/sbin/sshd}\n";
        std::filesystem::copy_file(test::source_path("configs/pipeline-default.yaml"), dir + "/pipeline.yaml");
        std::ofstream(dir + "/netlof.yaml") << "model:\n  path: " << dir << "/absent/model.bin\n  pipeline: " << dir
                                             << "/pipeline.yaml\n  neighbors: 20\n  contamination: auto\n"
                                                "  learn: {records: 300}\nallowlist: [" << dir
                                             << "/allow.yaml]\nalerts: {path: " << dir << "/unused.jsonl, fold_window: 60s}\n";
    }
    ~Setup() { std::filesystem::remove_all(dir); }
    void write_records(const std::vector<ConnectionRecord>& rs) const {
        std::string text;
        for (const ConnectionRecord& r : rs) append_record_json(text, r);
        std::ofstream(dir + "/records.jsonl") << text;
    }
    test::RunResult replay(std::vector<std::string> extra = {}) const {
        std::vector<std::string> args{"replay", "--config", dir + "/netlof.yaml", "--in", dir + "/records.jsonl"};
        args.insert(args.end(), extra.begin(), extra.end());
        return test::run_netlof(args);
    }
};

}  // namespace

TEST_CASE("replay learns as the daemon does, then alerts at the records' own times, the same every run", "[replay]") {
    Setup s;
    std::vector<ConnectionRecord> rs = normal_traffic();
    // After learning: a normal connection, a violation, an upload of 5 MB by
    // a known process to a new host (new, and an anomaly), nginx from another
    // binary, and 20 repeats of the violation (folded).
    ConnectionRecord normal = rs[0], violation = rs[0], exfil = rs[1], fake = rs[0];
    normal.ts_end = kStart + 100;
    violation.dst_ip = test::ip("198.51.100.7");
    violation.ts_end = kStart + 101;
    exfil.dst_ip = test::ip("203.0.113.9");
    exfil.bytes_sent = 5000000;
    exfil.ts_end = kStart + 102;
    fake.exe = "/tmp/nginx";
    fake.ts_end = kStart + 103;
    for (ConnectionRecord* r : {&normal, &violation, &exfil, &fake}) rs.push_back(*r);
    for (int i = 0; i < 20; ++i) {
        violation.ts_end = kStart + 104 + i;
        rs.push_back(violation);
    }
    std::reverse(rs.begin(), rs.end());  // replay orders them by when they ended
    s.write_records(rs);

    const auto first = s.replay({"--out", s.dir + "/alerts.jsonl", "--model-out", s.dir + "/learned.bin"});
    INFO(first.err);
    REQUIRE(first.status == 0);
    CHECK(first.err.find("learned from 300 records") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(s.dir + "/absent/model.bin"));  // the config's model is never written
    std::vector<json> alerts;
    std::ifstream in(s.dir + "/alerts.jsonl");
    for (std::string line; std::getline(in, line);) alerts.push_back(json::parse(line));
    std::map<std::string, std::vector<json>> by_rule;
    for (const json& a : alerts) by_rule[a["rule"]].push_back(a);
    REQUIRE(by_rule["allowlist_violation"].size() == 2);  // the first, then the fold of 20 more
    CHECK(by_rule["allowlist_violation"][0]["time"] == "2025-11-29T07:08:21.000000Z");  // the record's end, not the clock
    CHECK(by_rule["allowlist_violation"][1]["count"] == 20);
    bool exfil_found = false;
    for (const json& a : by_rule["lof_anomaly"]) exfil_found = exfil_found || a["output_fields"]["fd.sip"] == "203.0.113.9";
    CHECK(exfil_found);
    REQUIRE(by_rule["process_masquerade"].size() == 1);
    CHECK(by_rule["process_masquerade"][0]["output_fields"]["proc.exepath"] == "/tmp/nginx");
    for (const json& a : alerts)  // the normal connection raised nothing (the fake nginx reached the same place)
        if (a["output_fields"]["proc.exepath"] == "/usr/sbin/nginx") CHECK(a["output_fields"]["fd.sip"] != "192.0.2.10");
    REQUIRE(by_rule["new_destination"].size() == 1);  // it never reached 203.0.113.0/24 while learning
    CHECK(by_rule["new_destination"][0]["output_fields"]["fd.sip"] == "203.0.113.9");
    // Learning lasted a minute and saw no window whole: windows are not
    // judged (counted in the summary), so the upload is not a volume_spike.
    CHECK(by_rule["volume_spike"].empty());
    CHECK(first.err.find("not judged: learning too short 0)") == std::string::npos);
    CHECK(alerts.size() == 5);
    // The same bytes again; and the learned model is what `netlof train` fits from the same 300 records.
    const auto second = s.replay({"--out", s.dir + "/again.jsonl"});
    REQUIRE(second.status == 0);
    CHECK(test::read_text(s.dir + "/again.jsonl") == test::read_text(s.dir + "/alerts.jsonl"));
    s.write_records(normal_traffic());
    const auto trained = test::run_netlof({"train", "--pipeline", s.dir + "/pipeline.yaml", "--in", s.dir + "/records.jsonl",
                                           "--out", s.dir + "/trained.bin", "--contamination", "auto",
                                           "--reach-floor", std::to_string(kDefaultReachFloor)});
    REQUIRE(trained.status == 0);
    CHECK(test::read_text(s.dir + "/trained.bin") == test::read_text(s.dir + "/learned.bin"));
    // That model given back: no learning, the same alerts for what followed learning.
    s.write_records(rs);
    const auto with_model = s.replay({"--model", s.dir + "/learned.bin", "--out", s.dir + "/with-model.jsonl"});
    INFO(with_model.err);
    REQUIRE(with_model.status == 0);
    CHECK(with_model.err.find("using model " + s.dir + "/learned.bin") != std::string::npos);
    auto after_learning = [&](const std::string& file) {
        std::vector<std::string> out;
        std::ifstream f(file);
        for (std::string line; std::getline(f, line);) {
            const json a = json::parse(line);
            if (a["record"]["ts_end"].get<double>() >= kStart + 100)
                out.push_back(a["rule"].get<std::string>() + " " + a["output"].get<std::string>());
        }
        return out;
    };
    CHECK(after_learning(s.dir + "/with-model.jsonl") == after_learning(s.dir + "/alerts.jsonl"));
}

TEST_CASE("replay refuses a bad record with its file, line and field, and exit status 2", "[replay]") {
    Setup s;
    std::vector<ConnectionRecord> rs = normal_traffic();
    s.write_records({rs.begin(), rs.begin() + 5});
    {
        std::ofstream out(s.dir + "/records.jsonl", std::ios::app);
        out << R"({"ts_end": 1764400001, "process_name": "x", "dst_ip": "192.0.2.1", "dst_port": 70000})" << '\n';
    }
    const auto r = s.replay();
    CHECK(r.status == 2);
    CHECK(r.err.find(s.dir + "/records.jsonl:6:") != std::string::npos);
    CHECK(r.err.find("field 'dst_port'") != std::string::npos);
    std::ofstream(s.dir + "/records.jsonl") << R"({"ts_end": 1, "process_name": "x", "dst_port": 80})" << '\n';
    const auto missing = s.replay();
    CHECK(missing.status == 2);
    CHECK(missing.err.find("dst_ip") != std::string::npos);
}

TEST_CASE("replay reads a file larger than its parts in end order, from a file or standard input", "[replay]") {
    Setup s;
    // 300 records to learn from, then 30,000 more (about 11 MB of JSON
    // lines: two parts); among them a violation every 1,000.
    std::vector<ConnectionRecord> rs = normal_traffic();
    for (ConnectionRecord r : test::service_traffic(30000, kStart + 100, 0.01, 11)) {
        if (rs.size() % 1000 == 0) r.dst_ip = test::ip("198.51.100.7");
        rs.push_back(r);
    }
    s.write_records(rs);
    const auto in_order = s.replay({"--out", s.dir + "/in-order.jsonl"});
    INFO(in_order.err);
    REQUIRE(in_order.status == 0);
    const std::string want = test::read_text(s.dir + "/in-order.jsonl");
    CHECK(want.find("\"rule\":\"allowlist_violation\"") != std::string::npos);  // the violations (folded)

    // Reversed: every record's turn comes only once the whole file is read.
    // Pairs swapped: each record is one ahead or behind, across the parts too.
    std::vector<ConnectionRecord> reversed(rs.rbegin(), rs.rend()), swapped = rs;
    for (std::size_t i = 0; i + 1 < swapped.size(); i += 2) std::swap(swapped[i], swapped[i + 1]);
    for (const auto& [name, records] : {std::pair{"reversed", reversed}, std::pair{"swapped", swapped}}) {
        INFO(name);
        s.write_records(records);
        const auto r = s.replay({"--out", s.dir + "/out.jsonl"});
        REQUIRE(r.status == 0);
        CHECK(test::read_text(s.dir + "/out.jsonl") == want);
        CHECK(r.err.find("30300 records") != std::string::npos);
    }
    const auto piped = test::run_program({"/bin/sh", "-c", std::string(NETLOF_BINARY) + " replay --config '" + s.dir +
                                                           "/netlof.yaml' --in - < '" + s.dir + "/records.jsonl'"});
    INFO(piped.err);
    REQUIRE(piped.status == 0);
    CHECK(piped.out == want);
    // A pipe by its path, as `--in <(zcat log.gz)` gives one: read once, too.
    const auto fifo = test::run_program({"/bin/sh", "-c", "cat '" + s.dir + "/records.jsonl' | " + std::string(NETLOF_BINARY) +
                                                          " replay --config '" + s.dir + "/netlof.yaml' --in /dev/stdin"});
    INFO(fifo.err);
    REQUIRE(fifo.status == 0);
    CHECK(fifo.out == want);
}

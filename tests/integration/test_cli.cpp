// The netlof binary end to end: synth -> train -> score as the issue states
// it, and bad input getting one diagnostic and exit status 2.
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>

#include "tests/test_support.hpp"

using namespace netlof;
using test::run_netlof;

namespace {

void write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

// Exit status 2 and a first stderr line "file[:line[:col]]: error: ...".
void check_diagnostic(const test::RunResult& r, const std::string& file, int line = 0) {
    INFO(r.err);
    CHECK(r.status == 2);
    const std::string first = r.err.substr(0, r.err.find('\n'));
    CHECK(std::regex_search(first, std::regex("^" + std::regex_replace(file, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                                                  (line > 0 ? ":" + std::to_string(line) + "(:[0-9]+)?" : "(:[0-9]+){0,2}") +
                                                  ": error: ")));
    CHECK(r.err.find("terminate") == std::string::npos);
}

}  // namespace

TEST_CASE("notebook end to end: 205 training anomalies and the three verdicts", "[cli]") {
    const std::string dir = test::temp_dir("cli-notebook");
    REQUIRE(run_netlof({"synth", "--seed", "42", "--out", dir + "/train.csv"}).status == 0);
    const auto train = run_netlof({"train", "--pipeline", test::source_path("configs/pipeline-seed.yaml"), "--in",
                                   dir + "/train.csv", "--out", dir + "/model.bin", "--neighbors", "20",
                                   "--contamination", "0.1", "--labels-out", dir + "/labels.csv"});
    INFO(train.err);
    REQUIRE(train.status == 0);
    CHECK(train.out == "training anomalies: 205\n");
    const TextTable labels = test::read_csv(dir + "/labels.csv");
    CHECK(labels.columns() == std::vector<std::string>{"lof", "anomaly"});
    CHECK(labels.rows() == 2050);

    const auto score = run_netlof({"score", "--model", dir + "/model.bin", "--in",
                                   test::source_path("tests/data/notebook-examples.csv"), "--out", dir + "/scored.csv"});
    REQUIRE(score.status == 0);
    const TextTable scored = test::read_csv(dir + "/scored.csv");
    REQUIRE(scored.rows() == 3);
    REQUIRE(scored.columns().size() == 12);
    CHECK(scored.columns()[10] == "lof");
    CHECK(scored.cell(0, 1) == "unknown_process.exe");
    const double want[] = {2.5371372321, 3.4932099283, 1.0140249608};
    const char* verdict[] = {"1", "1", "0"};
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(scored.number(i, 10) == Approx(want[i]).epsilon(1e-10));
        CHECK(scored.cell(i, 11) == verdict[i]);
    }
}

TEST_CASE("score --explain adds why for anomalies only", "[cli]") {
    const std::string dir = test::temp_dir("cli-explain");
    REQUIRE(run_netlof({"synth", "--seed", "42", "--out", dir + "/train.csv"}).status == 0);
    REQUIRE(run_netlof({"train", "--pipeline", test::source_path("configs/pipeline-seed.yaml"), "--in", dir + "/train.csv",
                        "--out", dir + "/model.bin"}).status == 0);
    const auto r = run_netlof({"score", "--model", dir + "/model.bin", "--in",
                               test::source_path("tests/data/notebook-examples.csv"), "--explain"});
    REQUIRE(r.status == 0);
    const TextTable t = TextTable::parse(r.out, "stdout");
    REQUIRE(t.columns().back() == "why");
    CHECK(t.cell(0, 12).find("bytes_sent 50000 against a neighbour median of") != std::string::npos);
    CHECK(t.cell(1, 12) == "dst_ip '198.51.100.2' shared by 0 of 20 neighbours");
    CHECK(t.cell(2, 12).empty());
}

TEST_CASE("synth writes the notebook's header and sizes to stdout", "[cli]") {
    const auto r = run_netlof({"synth", "--seed", "1", "--out", "-", "--normal", "2", "--anomalous-legit", "1",
                               "--anomalous-unknown", "0"});
    REQUIRE(r.status == 0);
    const TextTable t = TextTable::parse(r.out, "stdout");
    CHECK(r.out.rfind("pid,process_name,src_ip,src_port,dst_ip,dst_port,duration,bytes_sent,bytes_received,timestamp\n", 0) == 0);
    CHECK(t.rows() == 9);
}

TEST_CASE("k above the row count is clipped with a warning", "[cli]") {
    const std::string dir = test::temp_dir("cli-clip");
    const std::string tiny = test::source_path("tests/data/lof/tiny_k_clipped/train.csv");
    const auto r = run_netlof({"train", "--pipeline", test::source_path("configs/pipeline-seed.yaml"), "--in", tiny,
                               "--out", dir + "/m.bin", "--contamination", "auto"});
    CHECK(r.status == 0);
    CHECK(r.err.find("warning") != std::string::npos);
    CHECK(r.out == "training anomalies: 0\n");
}

TEST_CASE("bad input: one diagnostic naming file and line, exit status 2", "[cli]") {
    const std::string dir = test::temp_dir("cli-bad");
    const std::string pipeline = test::source_path("configs/pipeline-seed.yaml");
    REQUIRE(run_netlof({"synth", "--seed", "3", "--out", dir + "/good.csv", "--normal", "20"}).status == 0);
    const std::string good = test::read_text(dir + "/good.csv");
    auto train = [&](const std::string& in, const std::string& pipe) {
        return run_netlof({"train", "--pipeline", pipe, "--in", in, "--out", dir + "/m.bin"});
    };

    SECTION("missing column") {
        write(dir + "/nocol.csv", "pid,process_name,src_ip,src_port,dst_ip,duration,bytes_sent,bytes_received\n1,a,b,2,c,1,1,1\n1,a,b,2,c,1,1,1\n");
        const auto r = train(dir + "/nocol.csv", pipeline);
        check_diagnostic(r, dir + "/nocol.csv", 1);
        CHECK(r.err.find("dst_port") != std::string::npos);
    }
    SECTION("non-numeric and NaN fields") {
        std::string bad = good;
        bad.replace(bad.find(",192.168.1.100,", bad.find('\n', bad.find('\n') + 1)) + 15, 1, "x");  // line 3 src_port
        write(dir + "/nonnum.csv", bad);
        const auto r = train(dir + "/nonnum.csv", pipeline);
        check_diagnostic(r, dir + "/nonnum.csv", 3);
        CHECK(r.err.find("src_port") != std::string::npos);
        write(dir + "/nan.csv", good.substr(0, good.find('\n') + 1) + "1,a,b,2,c,3,nan,1,1,t\n" + good.substr(good.find('\n') + 1));
        const auto n = train(dir + "/nan.csv", pipeline);
        check_diagnostic(n, dir + "/nan.csv", 2);
        CHECK(n.err.find("duration") != std::string::npos);
    }
    SECTION("empty file, header only, missing file") {
        write(dir + "/empty.csv", "");
        check_diagnostic(train(dir + "/empty.csv", pipeline), dir + "/empty.csv");
        write(dir + "/header.csv", good.substr(0, good.find('\n') + 1));
        check_diagnostic(train(dir + "/header.csv", pipeline), dir + "/header.csv");
        check_diagnostic(train(dir + "/absent.csv", pipeline), dir + "/absent.csv");
    }
    SECTION("pipeline with an unknown transform or column") {
        write(dir + "/p1.yaml", "features:\n  - {column: duration, transform: minmax}\n");
        check_diagnostic(train(dir + "/good.csv", dir + "/p1.yaml"), dir + "/p1.yaml", 2);
        write(dir + "/p2.yaml", "features:\n  - {column: duration, transform: standard}\n  - {column: bytes, transform: standard}\n");
        check_diagnostic(train(dir + "/good.csv", dir + "/p2.yaml"), dir + "/p2.yaml", 3);
    }
    SECTION("truncated, corrupted and foreign model files") {
        REQUIRE(train(dir + "/good.csv", pipeline).status == 0);
        const std::string model = test::read_text(dir + "/m.bin");
        auto score = [&](const std::string& m) { return run_netlof({"score", "--model", m, "--in", dir + "/good.csv"}); };
        CHECK(score(dir + "/m.bin").status == 0);
        write(dir + "/trunc.bin", model.substr(0, model.size() / 2));
        check_diagnostic(score(dir + "/trunc.bin"), dir + "/trunc.bin");
        std::string corrupt = model;
        corrupt[corrupt.size() / 2] ^= 1;
        write(dir + "/corrupt.bin", corrupt);
        check_diagnostic(score(dir + "/corrupt.bin"), dir + "/corrupt.bin");
        check_diagnostic(score(dir + "/good.csv"), dir + "/good.csv");
    }
    SECTION("bad options") {
        const auto r = run_netlof({"train", "--pipeline", pipeline, "--in", dir + "/good.csv", "--out", dir + "/m.bin",
                                   "--contamination", "0.7"});
        CHECK(r.status == 2);
        CHECK(r.err.find("--contamination") != std::string::npos);
        CHECK(run_netlof({"train", "--bogus"}).status == 2);
        CHECK(run_netlof({}).status == 2);
    }
}

TEST_CASE("check-config: ok with counts, or the broken file's diagnostic and exit status 2", "[cli]") {
    const std::string dir = test::temp_dir("cli-config");
    write(dir + "/allow.yaml", "processes:\n  curl: [10.0.0.0/8]\n  wget: [300.1.1.1]\n");
    write(dir + "/netlof.yaml", "model:\n  path: m.bin\n  pipeline: " + test::source_path("configs/pipeline-seed.yaml") +
                                    "\n  learn: {records: 100}\nallowlist: [allow.yaml]\nalerts: {path: a.jsonl}\n");
    check_diagnostic(run_netlof({"check-config", dir + "/netlof.yaml"}), dir + "/allow.yaml", 3);
    write(dir + "/allow.yaml", "processes:\n  curl: [10.0.0.0/8]\n");
    const auto good = run_netlof({"check-config", dir + "/netlof.yaml"});
    CHECK(good.status == 0);
    CHECK(good.out.find("ok: 1 allowlist rule(s)") != std::string::npos);
    check_diagnostic(run_netlof({"check-config", dir + "/missing.yaml"}), dir + "/missing.yaml");
    write(dir + "/netlof.yaml", "model: {path: m, neighbors: 0}\n");
    check_diagnostic(run_netlof({"check-config", dir + "/netlof.yaml"}), dir + "/netlof.yaml", 1);
    // Only the model's path is required; the output shows every default in effect.
    write(dir + "/netlof.yaml", "model: {path: m.bin}\n");
    const auto minimal = run_netlof({"check-config", dir + "/netlof.yaml"});
    INFO(minimal.err);
    CHECK(minimal.status == 0);
    CHECK(minimal.out.find("pipeline built-in pipeline-default.yaml") != std::string::npos);
    for (const char* setting : {"  learn: {duration: 24h, keep: 7}\n", "  contamination: auto\n",
                                "  path: \"/var/log/netlof/alerts.jsonl\"\n", "  fold_window: 5m\n", "  budget: 20/day\n",
                                "stats_interval: 5m\n"})
        CHECK(minimal.out.find(setting) != std::string::npos);
}

TEST_CASE("--version names the version", "[cli]") {
    const auto r = run_netlof({"--version"});
    CHECK(r.status == 0);
    CHECK(std::regex_match(r.out, std::regex("netlof [0-9]+\\.[0-9]+\\.[0-9]+\n")));
}

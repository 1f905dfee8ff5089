// Records files larger than one part of `netlof score`'s streamed reading:
// the output is what scoring each half alone gives, JSON lines keep a key
// first seen at their end, and progress shows on a terminal only, changing
// nothing in the files.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "tests/test_support.hpp"
#include "userspace/records/record_writer.hpp"

using namespace netlof;
using test::run_netlof;

namespace {

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// Runs argv on a pseudo-terminal (util-linux script): what the terminal showed.
test::RunResult on_terminal(const std::vector<std::string>& args) {
    std::string command = NETLOF_BINARY;
    for (const std::string& a : args) command += " '" + a + "'";
    return test::run_program({"/usr/bin/script", "-qec", command, "/dev/null"});
}

}  // namespace

TEST_CASE("score streams a file larger than one part: the same lines as its halves scored alone", "[cli][scale]") {
    const std::string dir = test::temp_dir("scale-csv");
    REQUIRE(run_netlof({"synth", "--seed", "42", "--out", dir + "/train.csv"}).status == 0);
    REQUIRE(run_netlof({"train", "--pipeline", test::source_path("configs/pipeline-seed.yaml"), "--in", dir + "/train.csv",
                        "--out", dir + "/model.bin"})
                .status == 0);
    // About 7 MB: more than one 4 MiB part.
    REQUIRE(run_netlof({"synth", "--seed", "7", "--out", dir + "/big.csv", "--normal", "13000", "--anomalous-legit", "700",
                        "--anomalous-unknown", "1000"})
                .status == 0);
    const std::string big = test::read_text(dir + "/big.csv");
    REQUIRE(big.size() > (std::size_t{6} << 20));
    const auto whole = run_netlof({"score", "--model", dir + "/model.bin", "--in", dir + "/big.csv", "--out", dir + "/whole.csv"});
    INFO(whole.err);
    REQUIRE(whole.status == 0);
    CHECK(whole.err.find("\r") == std::string::npos);  // not a terminal: no progress line
    CHECK(whole.err.find("rows scored") == std::string::npos);

    const std::vector<std::string> in = lines_of(big);
    const std::size_t half = in.size() / 2;
    std::string a = in[0] + "\n", b = in[0] + "\n";
    for (std::size_t i = 1; i < in.size(); ++i) (i < half ? a : b) += in[i] + "\n";
    write(dir + "/a.csv", a);
    write(dir + "/b.csv", b);
    REQUIRE(run_netlof({"score", "--model", dir + "/model.bin", "--in", dir + "/a.csv", "--out", dir + "/a.out"}).status == 0);
    REQUIRE(run_netlof({"score", "--model", dir + "/model.bin", "--in", dir + "/b.csv", "--out", dir + "/b.out"}).status == 0);
    const std::string b_out = test::read_text(dir + "/b.out");
    const std::string joined = test::read_text(dir + "/a.out") + b_out.substr(b_out.find('\n') + 1);
    const std::string got = test::read_text(dir + "/whole.csv");
    CHECK(lines_of(got).size() == in.size());
    CHECK(got == joined);

    // From standard input (read whole, as one part): the same lines.
    const auto piped = test::run_program({"/bin/sh", "-c", std::string(NETLOF_BINARY) + " score --model '" + dir +
                                                           "/model.bin' --in - < '" + dir + "/big.csv'"});
    INFO(piped.err);
    REQUIRE(piped.status == 0);
    CHECK(piped.out == got);

    // On a terminal: progress shows there, and the output file is the same.
    const auto tty = on_terminal({"score", "--model", dir + "/model.bin", "--in", dir + "/big.csv", "--out", dir + "/tty.csv"});
    INFO(tty.out);
    REQUIRE(tty.status == 0);
    CHECK(tty.out.find("rows scored") != std::string::npos);
    CHECK(test::read_text(dir + "/tty.csv") == got);
    const auto train_tty = on_terminal({"train", "--pipeline", test::source_path("configs/pipeline-seed.yaml"), "--in",
                                        dir + "/big.csv", "--out", dir + "/tty.bin"});
    REQUIRE(train_tty.status == 0);
    CHECK(train_tty.out.find("netlof train: ") != std::string::npos);
    const auto train = run_netlof({"train", "--pipeline", test::source_path("configs/pipeline-seed.yaml"), "--in",
                                   dir + "/big.csv", "--out", dir + "/plain.bin"});
    REQUIRE(train.status == 0);
    CHECK(train.err.find("netlof train: ") == std::string::npos);
    CHECK(test::read_text(dir + "/tty.bin") == test::read_text(dir + "/plain.bin"));
}

TEST_CASE("score streams JSON lines: a key first seen in the last line is a column of every row", "[cli][scale]") {
    const std::string dir = test::temp_dir("scale-jsonl");
    std::string small, big;
    for (int i = 0; i < 20000; ++i) {
        ConnectionRecord r;
        r.ts_start = 1764400000 + i * 0.01;
        r.ts_end = r.ts_start + 0.002;
        r.duration = 0.002;
        r.pid = 100;
        r.process_name = i % 2 ? "nginx" : "postgres";
        r.exe = "/usr/sbin/" + r.process_name;
        r.proto = "tcp";
        r.src_ip = test::ip("10.0.0.1");
        r.dst_ip = test::ip("192.0.2.10");
        r.dst_port = i % 2 ? 8080 : 5432;
        r.bytes_sent = 300 + i % 97;
        r.bytes_received = 5000 + i % 89;
        r.outcome = i == 19999 ? Outcome::Refused : Outcome::Closed;
        r.error = i == 19999 ? 111 : 0;  // the only line with an "error" key
        append_record_json(big, r);
        if (i == 999) small = big;
    }
    REQUIRE(big.size() > (std::size_t{6} << 20));
    write(dir + "/small.jsonl", small);
    write(dir + "/big.jsonl", big);
    REQUIRE(run_netlof({"train", "--pipeline", test::source_path("configs/pipeline-default.yaml"), "--in",
                        dir + "/small.jsonl", "--out", dir + "/model.bin"})
                .status == 0);
    const auto score = run_netlof({"score", "--model", dir + "/model.bin", "--in", dir + "/big.jsonl", "--out", dir + "/out.csv"});
    INFO(score.err);
    REQUIRE(score.status == 0);
    const TextTable out = test::read_csv(dir + "/out.csv");
    REQUIRE(out.rows() == 20000);
    const std::size_t error = out.require_column("error", "this test");
    CHECK(out.cell(0, error).empty());
    CHECK(out.cell(19999, error) == "Connection refused");
    CHECK(out.cell(19999, out.require_column("outcome", "this test")) == "refused");
    // A pipe by its path (`--in <(zcat records.jsonl.gz)`) cannot be read
    // twice for its keys: it is read whole, as standard input is.
    const auto piped = test::run_program({"/bin/sh", "-c", "cat '" + dir + "/big.jsonl' | " + std::string(NETLOF_BINARY) +
                                                           " score --model '" + dir + "/model.bin' --in /dev/stdin"});
    INFO(piped.err);
    REQUIRE(piped.status == 0);
    CHECK(piped.out == test::read_text(dir + "/out.csv"));
}

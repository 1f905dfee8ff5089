// Broken configs, allowlists and pipelines through `netlof check-config`, the
// same loader `netlof run` starts and reloads with: each gets exit status 2
// and a first line "file[:line[:col]]: error: ..." naming the file at fault,
// the line when there is one, and what is wrong.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/test_support.hpp"

namespace fs = std::filesystem;

namespace {

struct BrokenCase {
    const char* name;
    const char* file;        // which file the case breaks: netlof.yaml, allow.yaml or pipeline.yaml
    std::string text;        // its content
    std::size_t line;        // the line the diagnostic must name (0: none)
    const char* message;     // text the diagnostic must hold
};

const char* kConfig = "model: {path: m.bin, pipeline: pipeline.yaml, learn: {records: 100}}\n"
                      "allowlist: [allow.yaml]\nalerts: {path: a.jsonl}\n";
const char* kAllow = "processes:\n  curl: [10.0.0.1]\n";
const char* kPipeline = "features:\n  - {column: bytes_sent, transform: log_standard}\n";

std::string config_with(const std::string& line) { return std::string(kConfig) + line + "\n"; }

std::vector<BrokenCase> cases() {
    std::string garbage;
    for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 7919 + 13) % 256));
    return {
        // daemon config
        {"empty config", "netlof.yaml", "", 0, "empty"},
        {"config is a list", "netlof.yaml", "- a\n- b\n", 1, "mapping"},
        {"unknown top-level key", "netlof.yaml", config_with("alert: {path: x}"), 4, "unknown key"},
        {"unknown nested key", "netlof.yaml", config_with("sensor: {max_socket: 10}"), 4, "unknown key"},
        {"duplicate key", "netlof.yaml", config_with("alerts: {path: b.jsonl}"), 4, "duplicate key"},
        {"missing model", "netlof.yaml", "allowlist: [allow.yaml]\nalerts: {path: a.jsonl}\n", 1, "model"},
        {"neighbors is text", "netlof.yaml",
         "model: {path: m.bin, pipeline: pipeline.yaml, neighbors: many, learn: {records: 100}}\nalerts: {path: a.jsonl}\n", 1,
         "neighbors"},
        {"neighbors zero", "netlof.yaml",
         "model: {path: m.bin, pipeline: pipeline.yaml, neighbors: 0, learn: {records: 100}}\nalerts: {path: a.jsonl}\n", 1,
         "neighbors"},
        {"contamination out of range", "netlof.yaml",
         "model: {path: m.bin, pipeline: pipeline.yaml, contamination: 0.9, learn: {records: 100}}\nalerts: {path: a.jsonl}\n",
         1, "contamination"},
        {"bad duration", "netlof.yaml", config_with("stats_interval: 5 minutes"), 4, "stats_interval"},
        {"negative duration", "netlof.yaml", config_with("stats_interval: -5s"), 4, "stats_interval"},
        {"ring buffer not a power of two", "netlof.yaml", config_with("sensor: {ringbuf_kib: 1000}"), 4, "power of two"},
        {"max_sockets too large", "netlof.yaml", config_with("sensor: {max_sockets: 99999999999}"), 4, "max_sockets"},
        {"allowlist is a string", "netlof.yaml",
         "model: {path: m.bin, pipeline: pipeline.yaml, learn: {records: 100}}\nallowlist: {a: 1}\nalerts: {path: a.jsonl}\n",
         2, "allowlist"},
        {"unterminated flow", "netlof.yaml", "model: {path: m.bin\n", 0, "YAML"},
        {"tab indentation", "netlof.yaml", "model:\n\tpath: m.bin\n", 0, "YAML"},
        {"binary garbage config", "netlof.yaml", garbage, 0, ""},
        {"huge config", "netlof.yaml", std::string(17u << 20, '#'), 0, "more than the 16 MiB"},
        // allowlists
        {"empty allowlist", "allow.yaml", "", 0, "empty"},
        {"bad IPv4", "allow.yaml", "processes:\n  curl: [10.0.0.300]\n", 2, "10.0.0.300"},
        {"bad IPv6", "allow.yaml", "processes:\n  curl: [\"2001:db8:::1\"]\n", 2, "2001:db8:::1"},
        {"CIDR prefix too long", "allow.yaml", "processes:\n  curl: [10.0.0.0/33]\n", 2, "prefix"},
        {"IPv6 prefix too long", "allow.yaml", "processes:\n  curl: [\"2001:db8::/129\"]\n", 2, "prefix"},
        {"port out of range", "allow.yaml", "processes:\n  curl: [\"10.0.0.1:70000\"]\n", 2, "port"},
        {"port range reversed", "allow.yaml", "processes:\n  curl: [\"10.0.0.1:90-80\"]\n", 2, "port"},
        {"hostname instead of address", "allow.yaml", "processes:\n  curl: [example.com]\n", 2, "example.com"},
        {"destinations not a list", "allow.yaml", "processes:\n  curl: 10.0.0.1\n", 2, "list"},
        {"unknown allowlist key", "allow.yaml", "process:\n  curl: [10.0.0.1]\n", 1, "unknown key"},
        {"duplicate process", "allow.yaml", "processes:\n  curl: [10.0.0.1]\n  curl: [10.0.0.2]\n", 3, "duplicate key"},
        {"mute without subject", "allow.yaml", "mute_lof:\n  - {destination: 10.0.0.1}\n", 2, "process"},
        {"mute unknown key", "allow.yaml", "mute_lof:\n  - {process: a, dest: 10.0.0.1}\n", 2, "unknown key"},
        {"binary garbage allowlist", "allow.yaml", garbage, 0, ""},
        {"huge allowlist", "allow.yaml", std::string(17u << 20, ' '), 0, "more than the 16 MiB"},
        // pipeline
        {"unknown transform", "pipeline.yaml", "features:\n  - {column: bytes_sent, transform: sqrt}\n", 2, "sqrt"},
        {"unknown pipeline key", "pipeline.yaml", "feature:\n  - {column: bytes_sent, transform: standard}\n", 1,
         "unknown key"},
        {"no features", "pipeline.yaml", "features: []\n", 1, "feature"},
    };
}

}  // namespace

TEST_CASE("at least 30 broken configs, allowlists and pipelines: exit 2, file, line and what", "[config_errors]") {
    const std::string dir = netlof::test::temp_dir("config-errors");
    const std::vector<BrokenCase> all = cases();
    REQUIRE(all.size() >= 30);
    for (const BrokenCase& c : all) {
        INFO("case: " << c.name);
        std::ofstream(dir + "/netlof.yaml", std::ios::trunc | std::ios::binary) << kConfig;
        std::ofstream(dir + "/allow.yaml", std::ios::trunc | std::ios::binary) << kAllow;
        std::ofstream(dir + "/pipeline.yaml", std::ios::trunc | std::ios::binary) << kPipeline;
        std::ofstream(dir + "/" + c.file, std::ios::trunc | std::ios::binary) << c.text;
        const auto r = netlof::test::run_netlof({"check-config", dir + "/netlof.yaml"});
        INFO(r.err);
        CHECK(r.status == 2);
        const std::string first = r.err.substr(0, r.err.find('\n'));
        const std::string at = dir + "/" + c.file + (c.line ? ":" + std::to_string(c.line) + ":" : ":");
        CHECK(first.rfind(at, 0) == 0);
        CHECK(first.find("error: ") != std::string::npos);
        CHECK(first.find(c.message) != std::string::npos);
        CHECK(r.err.find("terminate") == std::string::npos);
    }
    fs::remove_all(dir);
}

TEST_CASE("config files that cannot be read as files: missing, a directory, a FIFO", "[config_errors]") {
    const std::string dir = netlof::test::temp_dir("config-unreadable");
    std::ofstream(dir + "/netlof.yaml") << "model: {path: m.bin, pipeline: pipeline.yaml, learn: {records: 100}}\n"
                                           "allowlist: [allow.yaml]\nalerts: {path: a.jsonl}\n";
    std::ofstream(dir + "/pipeline.yaml") << kPipeline;
    struct {
        const char* name;
        std::function<void()> make;
        const char* message;
    } unreadable[] = {
        {"missing", [] {}, "cannot open: No such file or directory"},
        {"directory", [&] { fs::create_directory(dir + "/allow.yaml"); }, "is a directory"},
        {"fifo", [&] { REQUIRE(::mkfifo((dir + "/allow.yaml").c_str(), 0644) == 0); }, "is not a regular file"},
    };
    for (auto& u : unreadable) {
        INFO(u.name);
        fs::remove_all(dir + "/allow.yaml");
        u.make();
        const auto r = netlof::test::run_netlof({"check-config", dir + "/netlof.yaml"});
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK(r.err.rfind(dir + "/allow.yaml: error: ", 0) == 0);
        CHECK(r.err.find(u.message) != std::string::npos);
    }
    fs::remove_all(dir);
}

TEST_CASE("files others could write are refused, as sshd's StrictModes; --insecure-files relaxes it", "[config_errors]") {
    const std::string dir = netlof::test::temp_dir("config-strict");
    std::ofstream(dir + "/netlof.yaml") << kConfig;
    std::ofstream(dir + "/allow.yaml") << kAllow;
    std::ofstream(dir + "/pipeline.yaml") << kPipeline;
    ::chmod((dir + "/netlof.yaml").c_str(), 0644);
    ::chmod((dir + "/allow.yaml").c_str(), 0644);
    ::chmod((dir + "/pipeline.yaml").c_str(), 0644);
    REQUIRE(netlof::test::run_netlof({"check-config", dir + "/netlof.yaml"}).status == 0);
    struct {
        const char* file;
        mode_t mode;
        uid_t uid;
        const char* message;
    } weak[] = {
        {"netlof.yaml", 0666, 0, "is writable by group or others (mode 0666)"},
        {"allow.yaml", 0664, 0, "is writable by group or others (mode 0664)"},
        {"pipeline.yaml", 0646, 0, "is writable by group or others (mode 0646)"},
        {"allow.yaml", 0644, 65534, "is owned by uid 65534"},
    };
    for (const auto& w : weak) {
        INFO(w.file << " " << w.message);
        const std::string path = dir + "/" + w.file;
        REQUIRE(::chmod(path.c_str(), w.mode) == 0);
        REQUIRE(::chown(path.c_str(), w.uid, 0) == 0);
        auto r = netlof::test::run_netlof({"check-config", dir + "/netlof.yaml"});
        CHECK(r.status == 2);
        CHECK(r.err.rfind(path + ": error: " + w.message, 0) == 0);
        r = netlof::test::run_netlof({"check-config", "--insecure-files", dir + "/netlof.yaml"});
        CHECK(r.status == 0);
        ::chmod(path.c_str(), 0644);
        ::chown(path.c_str(), 0, 0);
    }
    fs::remove_all(dir);
}

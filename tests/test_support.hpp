// Helpers shared by the tests: fixture paths, running the netlof binary, and
// the relative tolerance the LOF fixtures are held to.
#pragma once

#include <chrono>
#include <cmath>
#include <string>
#include <sys/types.h>
#include <vector>

#include <catch2/catch.hpp>

#include "common/text_table.hpp"
#include "common/diagnostic.hpp"
#include "userspace/engine/alert.hpp"

namespace netlof::test {

inline std::string source_path(const std::string& rel) { return std::string(NETLOF_SOURCE_DIR) + "/" + rel; }
std::string read_text(const std::string& path);
TextTable read_csv(const std::string& path);
// A fresh, empty directory under /tmp for one test, removed when the test
// binary exits unless NETLOF_KEEP_TEST_DIRS is set.
std::string temp_dir(const std::string& name);

struct RunResult {
    int status = -1;  // exit status, or 128 + signal
    std::string out, err;
};
// Runs a program (argv[0] a path, no shell), capturing both streams.
RunResult run_program(std::vector<std::string> argv);
// Runs build/netlof with args (no shell), capturing both streams.
RunResult run_netlof(const std::vector<std::string>& args);
// The same as user nobody, through setpriv (for privilege checks).
RunResult run_netlof_as_nobody(const std::vector<std::string>& args);

// A program in the background (argv[0] a path), its stderr kept in a file:
// netlof's sensor never traces itself, so eBPF tests run it as its own process.
class BackgroundProcess {
public:
    BackgroundProcess(std::vector<std::string> argv, std::string stderr_path);
    ~BackgroundProcess();  // SIGKILL if it still runs
    BackgroundProcess(const BackgroundProcess&) = delete;
    BackgroundProcess& operator=(const BackgroundProcess&) = delete;

    std::string log() const;  // its stderr so far
    // Waits until its stderr holds text; false on timeout or once it exited.
    bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout);
    bool running();
    pid_t pid() const { return pid_; }
    void signal(int sig);
    // Sends sig and waits up to 15 s for the exit status; one that does not
    // stop is killed and fails the test instead of hanging CI.
    int stop(int sig);

private:
    pid_t pid_ = -1;
    int status_ = -1;
    std::string stderr_path_;
};

// CI=true: the machine is root on a BPF-capable kernel.
bool in_ci();
// True when the sensor started. Otherwise a failure under CI=true, and
// elsewhere (not root, no BPF) a warning that the test was skipped.
bool sensor_started(bool started, const std::string& why);

// The Diagnostic of the InputError fn throws; a test failure if it throws none.
template <typename Fn>
Diagnostic diagnostic_of(Fn&& fn) {
    try {
        fn();
    } catch (const InputError& e) {
        return e.diagnostic();
    }
    FAIL("no InputError was thrown");
    return {};
}

// |a - b| <= rel * max(|a|, |b|), the fixtures' tolerance.
inline bool close_rel(double a, double b, double rel = 1e-9) {
    return std::abs(a - b) <= rel * std::max(std::abs(a), std::abs(b));
}

// A record's JSON line (as the record log writes it), without its newline.
std::string record_json(const ConnectionRecord& r);

// The address of text (which must be one).
IpAddress ip(std::string_view text);

// Records of three services (nginx, postgres, apt, in turn), each with its own
// destination and sizes, spread log-normally from a seeded generator:
// `count` of them from `start`, `spacing` seconds apart.
std::vector<ConnectionRecord> service_traffic(int count, double start, double spacing, unsigned seed);

// An allowlist_violation alert of curl (by default) to 203.0.113.9:443 at time t.
Alert violation(double t, const char* process = "curl", const char* dst = "203.0.113.9", std::uint16_t port = 443);

}  // namespace netlof::test

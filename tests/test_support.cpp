#include "tests/test_support.hpp"

#include <csignal>
#include <fcntl.h>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <spawn.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/file_io.hpp"
#include "userspace/records/record_writer.hpp"

extern char** environ;

namespace netlof::test {

std::string read_text(const std::string& path) { return read_input_file(path); }

TextTable read_csv(const std::string& path) { return TextTable::parse(read_text(path), path); }

namespace {
// Every directory temp_dir made, removed when the test binary exits (kept
// for a look when NETLOF_KEEP_TEST_DIRS is set).
struct TempDirs {
    std::mutex lock;
    std::set<std::filesystem::path> made;
    ~TempDirs() {
        if (std::getenv("NETLOF_KEEP_TEST_DIRS") != nullptr) return;
        std::error_code ec;
        for (const auto& p : made) std::filesystem::remove_all(p, ec);
    }
};
TempDirs temp_dirs;
}  // namespace

std::string temp_dir(const std::string& name) {
    const std::filesystem::path p = std::filesystem::temp_directory_path() / ("netlof-test-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(p);
    std::filesystem::create_directories(p);
    const std::lock_guard<std::mutex> hold(temp_dirs.lock);
    temp_dirs.made.insert(p);
    return p.string();
}

RunResult run_program(std::vector<std::string> argv_s) {
    const std::string dir = temp_dir("run");
    const std::string out_path = dir + "/stdout", err_path = dir + "/stderr";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    RunResult r;
    if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) == 0) {
        int st = 0;
        ::waitpid(pid, &st, 0);
        r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    posix_spawn_file_actions_destroy(&fa);
    r.out = read_text(out_path);
    r.err = read_text(err_path);
    std::filesystem::remove_all(dir);
    return r;
}

RunResult run_netlof(const std::vector<std::string>& args) {
    std::vector<std::string> argv{NETLOF_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(std::move(argv));
}

RunResult run_netlof_as_nobody(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                  "--inh-caps=-all", "--bounding-set=-all", NETLOF_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(std::move(argv));
}

BackgroundProcess::BackgroundProcess(std::vector<std::string> argv_s, std::string stderr_path)
    : stderr_path_(std::move(stderr_path)) {
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    // fork + exec rather than posix_spawn, for PR_SET_PDEATHSIG: a test
    // binary that dies on a fatal signal (no destructors) must not leave a
    // sensor attached behind it. Only async-signal-safe calls before exec.
    // The log is truncated here, before the constructor returns, so
    // wait_for_log() never reads an earlier run's lines.
    const pid_t parent = ::getpid();
    const int err = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_ = err < 0 || in < 0 ? -1 : ::fork();
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent || ::dup2(err, STDERR_FILENO) < 0 || ::dup2(in, STDIN_FILENO) < 0) ::_exit(127);
        ::execve(argv[0], argv.data(), environ);
        ::_exit(127);
    }
    if (err >= 0) ::close(err);
    if (in >= 0) ::close(in);
}

BackgroundProcess::~BackgroundProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

std::string BackgroundProcess::log() const {
    try {
        return read_text(stderr_path_);
    } catch (const InputError&) {
        return {};
    }
}

bool BackgroundProcess::running() {
    if (pid_ <= 0) return false;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) != pid_) return true;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    pid_ = -1;
    return false;
}

bool BackgroundProcess::wait_for_log(const std::string& text, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (log().find(text) != std::string::npos) return true;
        if (!running() || std::chrono::steady_clock::now() >= end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void BackgroundProcess::signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
}

int BackgroundProcess::stop(int sig) {
    signal(sig);
    for (int i = 0; i < 1500 && running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const bool stopped = !running();
    CHECK(stopped);
    if (!stopped) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
        return -1;
    }
    return status_;
}

bool in_ci() {
    const char* ci = std::getenv("CI");
    return ci != nullptr && std::string(ci) == "true";
}

bool sensor_started(bool started, const std::string& why) {
    if (started) return true;
    if (in_ci()) FAIL(why);  // CI is root on a BPF-capable kernel: this is a failure
    WARN("SKIPPED (not CI): " << why);
    return false;
}

std::string record_json(const ConnectionRecord& r) {
    std::string s;
    append_record_json(s, r);
    s.pop_back();
    return s;
}

IpAddress ip(std::string_view text) {
    const std::optional<IpAddress> a = parse_ip(text);
    REQUIRE(a);
    return *a;
}

std::vector<ConnectionRecord> service_traffic(int count, double start, double spacing, unsigned seed) {
    struct Shape {
        const char* name;
        const char* dst;
        std::uint16_t port;
        double sent, received;
    };
    const Shape shapes[] = {{"nginx", "192.0.2.10", 8080, 800, 30000},
                            {"postgres", "192.0.2.20", 5432, 300, 5000},
                            {"apt", "192.0.2.30", 443, 500, 2000000}};
    std::mt19937 rng(seed);
    std::lognormal_distribution<double> spread(0, 0.4);
    std::vector<ConnectionRecord> out;
    for (int i = 0; i < count; ++i) {
        const Shape& s = shapes[i % 3];
        ConnectionRecord r;
        r.pid = 1000 + static_cast<std::uint32_t>(i % 3);
        r.process_name = s.name;
        r.exe = std::string("/usr/sbin/") + s.name;
        r.proto = "tcp";
        r.src_ip = ip("10.0.0.1");
        r.src_port = static_cast<std::uint16_t>(40000 + i);
        r.dst_ip = ip(s.dst);
        r.dst_port = s.port;
        r.bytes_sent = static_cast<std::uint64_t>(s.sent * spread(rng));
        r.bytes_received = static_cast<std::uint64_t>(s.received * spread(rng));
        r.duration = 0.05 * spread(rng);
        r.ts_start = start + spacing * i;
        r.ts_end = r.ts_start + r.duration;
        r.outcome = Outcome::Closed;
        out.push_back(r);
    }
    return out;
}

Alert violation(double t, const char* process, const char* dst, std::uint16_t port) {
    Alert a;
    a.time = t;
    a.rule = Rule::AllowlistViolation;
    a.priority = Priority::Warning;
    a.record.process_name = process;
    a.record.pid = 77;
    a.record.exe = "/usr/bin/curl";
    a.record.dst_ip = test::ip(dst);
    a.record.dst_port = port;
    a.record.proto = "tcp";
    a.record.bytes_sent = 50000;
    a.record.duration = 1.5;
    a.record.outcome = Outcome::Closed;
    return a;
}

}  // namespace netlof::test

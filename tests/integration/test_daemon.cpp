// `netlof run` end to end against real kernel events: the daemon learns from
// live loopback traffic made by netlof-loadgen under several process names
// (each with its own address, port and sizes), writes its model, then
// detects. Loopback addresses stand in for destinations (all of 127.0.0.0/8
// is local). Under CI=true a daemon that cannot load the sensor fails.
#include <algorithm>
#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <cstring>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "tests/test_support.hpp"

using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using netlof::test::BackgroundProcess;

namespace {

void write_file(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
}

// The alert lines written so far. A line the daemon is writing while this
// reads may be seen in part (a reader is not held off by write(2) on a
// regular file): a last line without its newline is left for the next read.
std::vector<json> alerts_in(const std::string& path) {
    std::vector<json> out;
    std::ifstream in(path);  // none yet: no alerts
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
        if (nl > start) out.push_back(json::parse(text.substr(start, nl - start)));  // every whole line must be JSON
    return out;
}

std::vector<json> alerts_for(const std::string& path, const std::string& process, const std::string& dst_ip = "") {
    std::vector<json> out;
    for (const json& a : alerts_in(path))
        if (a["output_fields"].value("proc.name", "") == process &&
            (dst_ip.empty() || a["output_fields"].value("fd.sip", "") == dst_ip))
            out.push_back(a);
    return out;
}

// The first alert of `rule` for process (and destination) to show up in the
// file within the timeout, and how long after the call it showed up.
std::optional<json> wait_for_alert(const std::string& path, const std::string& rule, const std::string& process,
                                   const std::string& dst_ip, std::chrono::milliseconds timeout,
                                   double* waited_s = nullptr) {
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
        for (const json& a : alerts_for(path, process, dst_ip))
            if (a["rule"] == rule) {
                if (waited_s) *waited_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                return a;
            }
        if (std::chrono::steady_clock::now() - start > timeout) return std::nullopt;
        std::this_thread::sleep_for(5ms);
    }
}

// netlof-loadgen: `connections` connections named `name` to dst:port.
void traffic(const std::string& name, const std::string& dst, int port, int connections, std::vector<std::string> sizes) {
    std::vector<std::string> argv{NETLOF_LOADGEN, "--name", name, "--dst", dst, "--port", std::to_string(port),
                                  "--connections", std::to_string(connections), "--threads", "8"};
    argv.insert(argv.end(), sizes.begin(), sizes.end());
    const auto r = netlof::test::run_program(argv);
    INFO(r.err);
    REQUIRE(r.status == 0);
}

// Each normal process's own shape: sizes and how long it stays open.
const std::vector<std::string> kWebSizes{"--payload", "300", "--payload-max", "1500", "--reply", "5000",
                                         "--reply-max", "60000", "--hold-ms-max", "300"};
const std::vector<std::string> kApiSizes{"--payload", "2000", "--payload-max", "8000", "--reply", "200",
                                         "--reply-max", "900", "--hold-ms-max", "100"};
const std::vector<std::string> kDbSizes{"--payload", "100", "--payload-max", "400", "--reply", "1000",
                                        "--reply-max", "200000", "--hold-ms", "20", "--hold-ms-max", "200"};
// A web connection in the middle of what was learned.
const std::vector<std::string> kWebTypical{"--payload", "700", "--payload-max", "900", "--reply", "20000",
                                           "--reply-max", "30000", "--hold-ms", "120", "--hold-ms-max", "180"};

const char* kAllowlist = R"(processes:
  nl-web: ["127.0.0.2:8080"]
  nl-api: ["127.0.0.3:9000"]
  nl-db: ["127.0.0.4:5432"]
)";

// alerts_extra: more keys of the alerts section (", syslog: {...}").
std::string daemon_config(const std::string& dir, const std::string& model, const std::string& pipeline,
                          const std::string& learn, const std::string& alerts_extra = "") {
    return "model:\n  path: " + model + "\n  pipeline: " + pipeline +
           "\n  neighbors: 20\n  contamination: auto\n  learn: " + learn + "\nallowlist: [" + dir +
           "/allow.yaml]\nalerts: {path: " + dir + "/alerts.jsonl, fold_window: 60s" + alerts_extra +
           "}\nrecords: {path: " + dir + "/records.jsonl}\nstats_interval: 1s\n";
}

// A child named `name` holding a TCP connection open to a listener of ours
// after sending `bytes`; returns its pid once the bytes are sent.
pid_t hold_connection_open(const char* name, std::uint16_t port, std::size_t bytes) {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    const std::string data(bytes, 'x');  // before fork: a child of a threaded process must not allocate
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::prctl(PR_SET_NAME, name);
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        inet_pton(AF_INET, "127.0.0.2", &a.sin_addr);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) ::_exit(1);
        if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) ::_exit(1);
        (void)!::write(p[1], "k", 1);
        ::pause();
        ::_exit(0);
    }
    char c = 0;
    ::close(p[1]);
    REQUIRE(::read(p[0], &c, 1) == 1);
    ::close(p[0]);
    return pid;
}

}  // namespace

TEST_CASE("daemon: learns live traffic, then alerts on anomalies and violations; reload, reopen, stop",
          "[daemon][sensor][kernels]") {
    const std::string dir = netlof::test::temp_dir("daemon");
    const std::string model = dir + "/state/model.bin", alerts = dir + "/alerts.jsonl";
    write_file(dir + "/allow.yaml", kAllowlist);
    write_file(dir + "/netlof.yaml", daemon_config(dir, model, netlof::test::source_path("configs/pipeline-default.yaml"),
                                                   "{records: 240}"));
    BackgroundProcess daemon({NETLOF_BINARY, "run", "--config", dir + "/netlof.yaml"}, dir + "/stderr");
    if (!netlof::test::sensor_started(daemon.wait_for_log("running:", 10s), "netlof run did not start: " + daemon.log()))
        return;
    INFO(daemon.log());
    CHECK(daemon.log().find("no model at " + model + ": learning") != std::string::npos);

    // Once attached it keeps CAP_SYS_PTRACE alone, in every set, under no_new_privs.
    const std::string status = netlof::test::read_text("/proc/" + std::to_string(daemon.pid()) + "/status");
    INFO(status);
    for (const char* line : {"CapInh:\t0000000000000000", "CapPrm:\t0000000000080000", "CapEff:\t0000000000080000",
                             "CapBnd:\t0000000000080000", "CapAmb:\t0000000000000000", "NoNewPrivs:\t1"})
        CHECK(status.find(line) != std::string::npos);
    CHECK(daemon.log().find("dropped privileges: capabilities left cap_sys_ptrace; no_new_privs set") != std::string::npos);

    // Learning: 3 processes x 80 connections, each to its own address and port.
    traffic("nl-web", "127.0.0.2", 8080, 80, kWebSizes);
    traffic("nl-api", "127.0.0.3", 9000, 80, kApiSizes);
    traffic("nl-db", "127.0.0.4", 5432, 80, kDbSizes);
    REQUIRE(daemon.wait_for_log("; detecting", 20s));
    struct stat st {};
    REQUIRE(::stat(model.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(alerts_for(alerts, "nl-web").empty());  // all of it was allowed and learning scores nothing

    // A normal connection raises nothing.
    traffic("nl-web", "127.0.0.2", 8080, 5, kWebTypical);
    std::this_thread::sleep_for(1s);
    CHECK(alerts_for(alerts, "nl-web").empty());

    // An unknown process sending a large payload to a new destination.
    traffic("nl-exfil", "127.0.0.9", 4444, 1, {"--payload", "5000000", "--reply", "16"});
    double waited = 0;
    const auto lof = wait_for_alert(alerts, "lof_anomaly", "nl-exfil", "127.0.0.9", 1000ms, &waited);
    REQUIRE(lof.has_value());
    CHECK(waited < 1.0);
    const json& rec = (*lof)["record"];
    CHECK(rec["bytes_sent"] == 5000000);
    CHECK(rec["dst_port"] == 4444);
    CHECK(rec["exe"] == NETLOF_LOADGEN);  // read after the privilege drop
    CHECK((*lof)["lof"].get<double>() > (*lof)["threshold"].get<double>());
    CHECK((*lof)["priority"] == "Notice");
    CHECK((*lof)["source"] == "netlof");
    const std::string why = (*lof)["why"].dump();
    CHECK(why.find("bytes_sent 5000000 against a neighbour median of") != std::string::npos);
    CHECK(why.find("process_name 'nl-exfil' never seen in training") != std::string::npos);
    // Close-to-alert latency from the daemon's own clocks.
    const double time = [&] {
        std::tm tm{};
        const std::string t = (*lof)["time"];
        strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
        return static_cast<double>(timegm(&tm)) + std::stod(t.substr(19, 7));
    }();
    CHECK(time - rec["ts_end"].get<double>() < 1.0);

    // A known process outside its allowlist.
    traffic("nl-web", "127.0.0.5", 8080, 1, kWebTypical);
    const auto violation = wait_for_alert(alerts, "allowlist_violation", "nl-web", "127.0.0.5", 1000ms);
    REQUIRE(violation.has_value());
    CHECK((*violation)["priority"] == "Warning");
    CHECK((*violation)["output"].get<std::string>().find("no allowlist rule") != std::string::npos);

    // A burst of 100 identical violations: one line now, the rest folded.
    traffic("nl-web", "127.0.0.6", 8080, 100, {"--payload", "800", "--reply", "20000"});
    REQUIRE(wait_for_alert(alerts, "allowlist_violation", "nl-web", "127.0.0.6", 1000ms));
    std::this_thread::sleep_for(300ms);
    CHECK(alerts_for(alerts, "nl-web", "127.0.0.6").size() == 1);

    // SIGHUP with a broken allowlist: refused, the old rules keep working.
    write_file(dir + "/allow.yaml", "processes:\n  nl-api: [127.0.0.300]\n");
    daemon.signal(SIGHUP);
    REQUIRE(daemon.wait_for_log("reload refused", 2s));
    CHECK(daemon.log().find(dir + "/allow.yaml:2:") != std::string::npos);
    traffic("nl-api", "127.0.0.7", 9000, 1, kApiSizes);
    CHECK(wait_for_alert(alerts, "allowlist_violation", "nl-api", "127.0.0.7", 1000ms));

    // A valid one takes effect, and reports what the burst folded.
    write_file(dir + "/allow.yaml", std::string(kAllowlist) + "  nl-cache: [127.0.0.8]\n  nl-pinned: {exe: /usr/sbin/nl-pinned}\n");
    daemon.signal(SIGHUP);
    REQUIRE(daemon.wait_for_log("reloaded", 2s));
    std::vector<json> burst = alerts_for(alerts, "nl-web", "127.0.0.6");
    REQUIRE(burst.size() == 2);
    CHECK(burst[1]["count"] == 99);
    CHECK(burst[1]["output"].get<std::string>().find("(x99 within 60 s)") != std::string::npos);

    // SIGUSR1 after a rename (logrotate): new alerts go to a new file.
    fs::rename(alerts, alerts + ".1");
    daemon.signal(SIGUSR1);
    REQUIRE(daemon.wait_for_log("reopened the log files", 2s));
    traffic("nl-web", "127.0.0.10", 8080, 1, kWebTypical);
    CHECK(wait_for_alert(alerts, "allowlist_violation", "nl-web", "127.0.0.10", 1000ms));
    CHECK(alerts_for(alerts + ".1", "nl-web", "127.0.0.10").empty());
    CHECK(fs::status(alerts).permissions() == (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));

    const int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.2", &a.sin_addr);
    socklen_t len = sizeof a;
    REQUIRE(::bind(lfd, reinterpret_cast<sockaddr*>(&a), len) == 0);
    REQUIRE(::listen(lfd, 4) == 0);
    ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);

    // This test binary calling itself nl-web (learned running netlof-loadgen)
    // and nl-pinned (pinned to a path it is not): both are masquerades.
    for (const char* name : {"nl-web", "nl-pinned"}) {
        const pid_t fake = hold_connection_open(name, ntohs(a.sin_port), 10);
        ::kill(fake, SIGKILL);  // the kernel closes its connection
        ::waitpid(fake, nullptr, 0);
    }
    const std::string self = fs::read_symlink("/proc/self/exe").string();
    const auto learned = wait_for_alert(alerts, "process_masquerade", "nl-web", "127.0.0.2", 2000ms);
    REQUIRE(learned.has_value());
    CHECK((*learned)["priority"] == "Warning");
    CHECK((*learned)["output_fields"]["proc.exepath"] == self);
    CHECK((*learned)["output_fields"]["netlof.expected_exe"] == NETLOF_LOADGEN);
    CHECK((*learned)["output"].get<std::string>().find("the name nl-web belongs to " + std::string(NETLOF_LOADGEN) + ", not to " + self) !=
          std::string::npos);
    CHECK((*learned)["why"][0].get<std::string>().find("process name 'nl-web' ran only " + std::string(NETLOF_LOADGEN)) !=
          std::string::npos);
    const auto pinned = wait_for_alert(alerts, "process_masquerade", "nl-pinned", "127.0.0.2", 2000ms);
    REQUIRE(pinned.has_value());
    CHECK((*pinned)["why"][0].get<std::string>().find("process name 'nl-pinned' is pinned to /usr/sbin/nl-pinned (" + dir +
                                                       "/allow.yaml:") != std::string::npos);
    for (const json& x : alerts_for(alerts, "nl-pinned"))  // a pin with no allow list judges no destination
        CHECK(x["rule"] != "allowlist_violation");

    // SIGTERM loses no open connection: it is reported (active) with its bytes.
    const pid_t holder = hold_connection_open("nl-hold", ntohs(a.sin_port), 1234);
    std::this_thread::sleep_for(50ms);
    CHECK(daemon.stop(SIGTERM) == 0);
    ::kill(holder, SIGKILL);
    ::waitpid(holder, nullptr, 0);
    ::close(lfd);
    const std::string log = daemon.log();
    CHECK(log.find("final stats: events") != std::string::npos);
    CHECK(log.find("model detecting") != std::string::npos);
    std::vector<json> held;
    std::ifstream in(dir + "/records.jsonl");
    for (std::string line; std::getline(in, line);) {
        const json r = json::parse(line);
        if (r["pid"] == static_cast<std::uint32_t>(holder)) held.push_back(r);
    }
    REQUIRE(held.size() == 1);
    CHECK(held[0]["outcome"] == "active");
    CHECK(held[0]["bytes_sent"] == 1234);
    CHECK(held[0]["process_name"] == "nl-hold");
    fs::remove_all(dir);
}

TEST_CASE("daemon: a model from netlof train is used as is and survives restarts; a damaged one is refused",
          "[daemon][sensor]") {
    const std::string dir = netlof::test::temp_dir("daemon-model");
    const std::string model = dir + "/model.bin", pipeline = netlof::test::source_path("configs/pipeline-seed.yaml");
    write_file(dir + "/allow.yaml", kAllowlist);
    write_file(dir + "/netlof.yaml", daemon_config(dir, model, pipeline, "{records: 1000}"));
    REQUIRE(netlof::test::run_netlof({"synth", "--seed", "42", "--out", dir + "/train.csv"}).status == 0);
    REQUIRE(netlof::test::run_netlof({"train", "--pipeline", pipeline, "--in", dir + "/train.csv", "--out", model}).status == 0);
    const std::string trained = netlof::test::read_text(model);

    // Damaged: refused at start with the file named, and left as it was.
    write_file(dir + "/damaged.bin", trained.substr(0, trained.size() / 2));
    write_file(dir + "/damaged.yaml", daemon_config(dir, dir + "/damaged.bin", pipeline, "{records: 1000}"));
    const auto bad = netlof::test::run_netlof({"run", "--config", dir + "/damaged.yaml"});
    CHECK(bad.status == 2);
    CHECK(bad.err.find(dir + "/damaged.bin: error:") != std::string::npos);
    CHECK(netlof::test::read_text(dir + "/damaged.bin").size() == trained.size() / 2);

    for (int start = 0; start < 2; ++start) {
        BackgroundProcess daemon({NETLOF_BINARY, "run", "--config", dir + "/netlof.yaml"}, dir + "/stderr");
        if (!netlof::test::sensor_started(daemon.wait_for_log("running:", 10s), "netlof run did not start: " + daemon.log()))
            return;
        INFO(daemon.log());
        CHECK(daemon.log().find("loaded model " + model + ": 2050 training rows") != std::string::npos);
        CHECK(daemon.log().find("detecting") != std::string::npos);
        CHECK(daemon.stop(SIGINT) == 0);
        CHECK(netlof::test::read_text(model) == trained);
    }
    fs::remove_all(dir);
}

TEST_CASE("daemon: a model it cannot write keeps it running, learning and checking allowlists", "[daemon][sensor]") {
    const std::string dir = netlof::test::temp_dir("daemon-unwritable");
    write_file(dir + "/blocker", "a file where the model's folder should be\n");
    write_file(dir + "/allow.yaml", kAllowlist);
    write_file(dir + "/netlof.yaml", daemon_config(dir, dir + "/blocker/model.bin",
                                                   netlof::test::source_path("configs/pipeline-default.yaml"),
                                                   "{records: 30}"));
    BackgroundProcess daemon({NETLOF_BINARY, "run", "--config", dir + "/netlof.yaml"}, dir + "/stderr");
    if (!netlof::test::sensor_started(daemon.wait_for_log("running:", 10s), "netlof run did not start: " + daemon.log()))
        return;
    traffic("nl-web", "127.0.0.2", 8080, 40, kWebSizes);
    REQUIRE(daemon.wait_for_log("failed to finish learning, trying again in 60 s", 5s));
    INFO(daemon.log());
    CHECK(daemon.running());
    traffic("nl-web", "127.0.0.5", 8080, 1, kWebTypical);
    CHECK(wait_for_alert(dir + "/alerts.jsonl", "allowlist_violation", "nl-web", "127.0.0.5", 1000ms));
    CHECK(daemon.stop(SIGTERM) == 0);
    CHECK(daemon.log().find("model learning") != std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("daemon: systemd hears READY and a STATUS that follows learning; the journal gets each line's priority",
          "[daemon][sensor]") {
    const std::string dir = netlof::test::temp_dir("daemon-systemd");
    write_file(dir + "/allow.yaml", kAllowlist);
    write_file(dir + "/netlof.yaml", daemon_config(dir, dir + "/model.bin",
                                                   netlof::test::source_path("configs/pipeline-default.yaml"),
                                                   "{records: 60}"));
    // The notify socket systemd would listen on, and stderr as the journal's
    // stream: $JOURNAL_STREAM names the file's device and inode.
    const std::string notify = dir + "/notify";
    const int sock = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(sock >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, notify.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::bind(sock, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    std::vector<std::string> notes;
    auto receive = [&] {
        char buf[4096];
        for (ssize_t n; (n = ::recv(sock, buf, sizeof buf, 0)) > 0;) notes.emplace_back(buf, static_cast<std::size_t>(n));
    };
    auto heard = [&](const std::string& prefix) {
        receive();
        return std::any_of(notes.begin(), notes.end(), [&](const std::string& n) { return n.find(prefix) != std::string::npos; });
    };
    write_file(dir + "/stderr", "");
    struct stat st {};
    REQUIRE(::stat((dir + "/stderr").c_str(), &st) == 0);
    ::setenv("NOTIFY_SOCKET", notify.c_str(), 1);
    ::setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).c_str(), 1);
    BackgroundProcess daemon({NETLOF_BINARY, "run", "--config", dir + "/netlof.yaml"}, dir + "/stderr");
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("JOURNAL_STREAM");
    if (!netlof::test::sensor_started(daemon.wait_for_log("running:", 10s), "netlof run did not start: " + daemon.log())) {
        ::close(sock);
        return;
    }
    INFO(daemon.log());
    CHECK(heard("READY=1\nSTATUS=learning 0/60 records"));
    traffic("nl-web", "127.0.0.2", 8080, 80, kWebSizes);
    REQUIRE(daemon.wait_for_log("; detecting", 20s));
    for (int i = 0; i < 30 && !heard("STATUS=detecting: "); ++i) std::this_thread::sleep_for(100ms);
    // (Other programs on the machine may connect too: their alerts and the
    // kernel's rare skipped runs are counted, so only the shape is fixed.)
    CHECK(std::any_of(notes.begin(), notes.end(), [](const std::string& n) {
        return std::regex_match(n, std::regex("STATUS=detecting: [0-9]+ alert lines, [0-9]+ events lost; threshold lof > [0-9.]+"));
    }));
    // Progress while learning: a count between 0 and 60 (the loadgen's 80
    // connections take several polls), then detecting.
    CHECK(std::any_of(notes.begin(), notes.end(), [](const std::string& n) {
        return n.rfind("STATUS=learning ", 0) == 0 && n.find("STATUS=learning 0/") == std::string::npos;
    }));
    // A broken config on reload is an error the journal files as such.
    write_file(dir + "/netlof.yaml", "model: [\n");
    daemon.signal(SIGHUP);
    REQUIRE(daemon.wait_for_log("reload refused", 5s));
    CHECK(daemon.stop(SIGTERM) == 0);
    CHECK(heard("STOPPING=1"));
    ::close(sock);

    // Every line carries its priority, and the priorities say what each line is.
    const std::string log = daemon.log();
    std::size_t lines = 0;
    for (std::size_t start = 0, nl; (nl = log.find('\n', start)) != std::string::npos; start = nl + 1, ++lines) {
        const std::string line = log.substr(start, nl - start);
        INFO(line);
        CHECK(std::regex_match(line, std::regex("<[3-6]>.*")));
    }
    CHECK(lines > 5);
    CHECK(log.find("<5>netlof: running: ") != std::string::npos);
    CHECK(log.find("<5>netlof: learned from ") != std::string::npos);
    CHECK(log.find("<6>netlof: stats: ") != std::string::npos);
    CHECK(log.find("<3>netlof: reload refused, the previous configuration keeps running: ") != std::string::npos);
    CHECK(log.find("<5>netlof: Terminated: stopping") != std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("daemon: a config that names only where the model and the alerts go starts it with every default",
          "[daemon][sensor]") {
    const std::string dir = netlof::test::temp_dir("daemon-minimal");
    write_file(dir + "/netlof.yaml", "model: {path: " + dir + "/model.bin}\nalerts: {path: " + dir + "/alerts.jsonl}\n");
    BackgroundProcess daemon({NETLOF_BINARY, "run", "--config", dir + "/netlof.yaml"}, dir + "/stderr");
    if (!netlof::test::sensor_started(daemon.wait_for_log("running:", 10s), "netlof run did not start: " + daemon.log()))
        return;
    INFO(daemon.log());
    CHECK(daemon.log().find("learning normal traffic for 86400 s with pipeline built-in "
                            "pipeline-default.yaml") != std::string::npos);
    traffic("nl-web", "127.0.0.2", 8080, 5, kWebSizes);
    CHECK(daemon.stop(SIGTERM) == 0);
    // (Other programs on the machine may connect too: at least the five were learned.)
    std::smatch m;
    const std::string log = daemon.log();
    REQUIRE(std::regex_search(log, m, std::regex("final stats: .* model learning ([0-9]+) records \\([0-9]+ sampled\\), [0-9]+/86400 s")));
    CHECK(std::stoi(m[1]) >= 5);
    fs::remove_all(dir);
}

namespace {

// A port nothing listens on now (the kernel's pick for port 0).
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    ::close(fd);
    return ntohs(a.sin_port);
}

// The body of GET path from 127.0.0.1:port (HTTP/1.0: the server closes when done).
std::string http_get(int port, const std::string& path) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return {};
    }
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    REQUIRE(::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
    std::string response;
    char buf[65536];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    const std::size_t body = response.find("\r\n\r\n");
    return body == std::string::npos ? std::string() : response.substr(body + 4);
}

// The value of the sample `name` (with its labels, as written) in Prometheus text; -1 when absent.
double sample_of(const std::string& text, const std::string& name) {
    const std::size_t at = text.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}

}  // namespace

TEST_CASE("daemon: its metrics file passes promtool and node_exporter's textfile collector serves it",
          "[daemon][sensor]") {
    const std::string dir = netlof::test::temp_dir("daemon-metrics");
    fs::create_directories(dir + "/textfile");
    const std::string prom = dir + "/textfile/netlof.prom";
    write_file(dir + "/allow.yaml", kAllowlist);
    write_file(dir + "/netlof.yaml", daemon_config(dir, dir + "/model.bin",
                                                   netlof::test::source_path("configs/pipeline-default.yaml"),
                                                   "{records: 30}") +
                                         "metrics: {path: " + prom + "}\n");
    BackgroundProcess daemon({NETLOF_BINARY, "run", "--config", dir + "/netlof.yaml"}, dir + "/stderr");
    if (!netlof::test::sensor_started(daemon.wait_for_log("running:", 10s), "netlof run did not start: " + daemon.log()))
        return;
    INFO(daemon.log());
    traffic("nl-web", "127.0.0.2", 8080, 40, kWebSizes);
    traffic("nl-web", "127.0.0.9", 8080, 1, kWebTypical);  // not allowed: one allowlist_violation
    REQUIRE(daemon.wait_for_log("; detecting", 20s));
    // Rewritten every stats interval (1 s here): wait for one written after the violation.
    std::string text;
    for (int i = 0; i < 50; ++i) {
        std::ifstream in(prom);  // not there before the first stats interval
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        if (sample_of(text, "netlof_detecting") == 1 &&
            sample_of(text, "netlof_alert_lines_total{rule=\"allowlist_violation\"}") >= 1)
            break;
        std::this_thread::sleep_for(100ms);
    }
    INFO(text);
    CHECK(sample_of(text, "netlof_detecting") == 1);
    CHECK(sample_of(text, "netlof_records_total") >= 41);
    CHECK(sample_of(text, "netlof_learned_records") >= 30);
    CHECK(sample_of(text, "netlof_alert_lines_total{rule=\"allowlist_violation\"}") >= 1);
    CHECK(sample_of(text, "netlof_lof_threshold") > 0);
    CHECK(sample_of(text, "netlof_resident_memory_bytes") > 1e6);
    CHECK(sample_of(text, "netlof_sensor_lost_events_total{cause=\"ring_buffer_full\"}") == 0);

    // Prometheus' own checker, reading the file as node_exporter would.
    const auto check = netlof::test::run_program({"/bin/sh", "-c", "promtool check metrics < '" + prom + "'"});
    INFO(check.out << check.err);
    CHECK(check.status == 0);
    CHECK(check.err.empty());  // no lint complaints either

    // The real textfile collector serving it.
    const int port = free_port();
    BackgroundProcess exporter({"/usr/bin/prometheus-node-exporter", "--collector.disable-defaults", "--collector.textfile",
                                "--collector.textfile.directory=" + dir + "/textfile",
                                "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                               dir + "/exporter.err");
    std::string scraped;
    for (int i = 0; i < 100 && scraped.find("netlof_records_total") == std::string::npos; ++i) {
        std::this_thread::sleep_for(100ms);
        scraped = http_get(port, "/metrics");
    }
    INFO(exporter.log());
    INFO(scraped.substr(0, 4000));
    CHECK(sample_of(scraped, "netlof_records_total") >= 41);
    CHECK(sample_of(scraped, "node_textfile_scrape_error") == 0);
    CHECK(scraped.find("# TYPE netlof_alert_lines_total counter") != std::string::npos);
    exporter.stop(SIGTERM);
    CHECK(daemon.stop(SIGTERM) == 0);
    fs::remove_all(dir);
}

namespace {

// A real rsyslogd of the test's own: it listens on dir/log.sock and writes
// each message's facility, severity, app, MSGID and text to dir/syslog.out.
std::unique_ptr<BackgroundProcess> start_rsyslogd(const std::string& dir) {
    write_file(dir + "/rsyslog.conf",
               "global(workDirectory=\"" + dir + "\" maxMessageSize=\"64k\")\n"
               "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
               "input(type=\"imuxsock\" Socket=\"" + dir + "/log.sock\" UseSpecialParser=\"off\" ParseHostname=\"on\")\n"
               "template(name=\"fields\" type=\"string\" string=\"%syslogfacility-text% %syslogseverity-text% "
               "%app-name% %msgid% %msg%\\n\")\n"
               "*.* action(type=\"omfile\" file=\"" + dir + "/syslog.out\" template=\"fields\")\n");
    auto p = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"/usr/sbin/rsyslogd", "-n", "-f", dir + "/rsyslog.conf", "-i", dir + "/rsyslogd.pid"},
        dir + "/rsyslogd.err");
    for (int i = 0; i < 100 && !fs::exists(dir + "/log.sock"); ++i) std::this_thread::sleep_for(50ms);
    REQUIRE(fs::exists(dir + "/log.sock"));
    return p;
}

// The lines rsyslogd wrote for netlof.
std::vector<std::string> syslog_lines(const std::string& dir) {
    std::ifstream in(dir + "/syslog.out");
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
        if (line.find(" netlof ") != std::string::npos) out.push_back(line);
    return out;
}

}  // namespace

TEST_CASE("daemon: alerts also go to a real rsyslogd as RFC 5424, and wait while it restarts", "[daemon][sensor]") {
    const std::string dir = netlof::test::temp_dir("daemon-syslog");
    auto rsyslogd = start_rsyslogd(dir);
    write_file(dir + "/allow.yaml", kAllowlist);
    write_file(dir + "/netlof.yaml",
               daemon_config(dir, dir + "/model.bin", netlof::test::source_path("configs/pipeline-default.yaml"),
                             "{records: 30}", ", syslog: {socket: " + dir + "/log.sock, facility: local3}"));
    BackgroundProcess daemon({NETLOF_BINARY, "run", "--config", dir + "/netlof.yaml"}, dir + "/stderr");
    if (!netlof::test::sensor_started(daemon.wait_for_log("running:", 10s), "netlof run did not start: " + daemon.log()))
        return;
    INFO(daemon.log());
    traffic("nl-web", "127.0.0.2", 8080, 5, kWebSizes);
    traffic("nl-web", "127.0.0.9", 8080, 1, kWebTypical);  // not allowed: an allowlist_violation (Warning)
    const auto first = wait_for_alert(dir + "/alerts.jsonl", "allowlist_violation", "nl-web", "127.0.0.9", 2000ms);
    REQUIRE(first);
    std::vector<std::string> lines;
    for (int i = 0; i < 50 && lines.empty(); ++i) {
        std::this_thread::sleep_for(100ms);
        lines = syslog_lines(dir);
    }
    REQUIRE(lines.size() == 1);
    // Facility and severity from the PRI, the rule as MSGID, the alert line itself as the message.
    const std::string head = "local3 warning netlof allowlist_violation ";
    REQUIRE(lines[0].rfind(head, 0) == 0);
    CHECK(json::parse(lines[0].substr(head.size())) == *first);

    // rsyslogd restarts: what is alerted meanwhile waits, and arrives once it is back.
    rsyslogd->stop(SIGTERM);
    fs::remove(dir + "/log.sock");
    traffic("nl-api", "127.0.0.9", 9000, 1, kApiSizes);
    REQUIRE(wait_for_alert(dir + "/alerts.jsonl", "allowlist_violation", "nl-api", "127.0.0.9", 2000ms));
    REQUIRE(daemon.wait_for_log("failed to send alerts to syslog at " + dir + "/log.sock", 3s));
    rsyslogd = start_rsyslogd(dir);
    REQUIRE(daemon.wait_for_log("sending alerts to syslog at " + dir + "/log.sock again", 5s));
    for (int i = 0; i < 50 && lines.size() < 2; ++i) {
        std::this_thread::sleep_for(100ms);
        lines = syslog_lines(dir);
    }
    REQUIRE(lines.size() == 2);
    CHECK(lines[1].find("allowlist_violation") != std::string::npos);
    CHECK(lines[1].find("\"proc.name\":\"nl-api\"") != std::string::npos);
    CHECK(daemon.stop(SIGTERM) == 0);
    const std::string log = daemon.log();
    std::smatch m;
    REQUIRE(std::regex_search(log, m, std::regex("final stats: .*syslog failed writes ([0-9]+) \\(lost ([0-9]+)\\)")));
    CHECK(std::stoi(m[1]) >= 1);  // counted
    CHECK(m[2] == "0");           // and nothing lost
    rsyslogd->stop(SIGTERM);
    fs::remove_all(dir);
}

TEST_CASE("log lines carry no priority prefix when stderr is not the journal's stream", "[daemon]") {
    // Another file's device and inode: a terminal or a redirect sees plain lines.
    ::setenv("JOURNAL_STREAM", "1:1", 1);
    const auto r = netlof::test::run_program({NETLOF_BINARY, "check-config", "/nonexistent/netlof.yaml"});
    ::unsetenv("JOURNAL_STREAM");
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(r.err.rfind("/nonexistent/netlof.yaml", 0) == 0);
}

TEST_CASE("daemon: a ring buffer too small for the load: drops counted, logged, alerted; it keeps running",
          "[daemon][sensor]") {
    const std::string dir = netlof::test::temp_dir("daemon-drops");
    const std::string alerts = dir + "/alerts.jsonl";
    write_file(dir + "/allow.yaml", kAllowlist);
    write_file(dir + "/netlof.yaml",
               daemon_config(dir, dir + "/model.bin", netlof::test::source_path("configs/pipeline-default.yaml"),
                             "{records: 1000000}") +
                   "sensor: {ringbuf_kib: 4}\n");
    BackgroundProcess daemon({NETLOF_BINARY, "run", "--config", dir + "/netlof.yaml"}, dir + "/stderr");
    if (!netlof::test::sensor_started(daemon.wait_for_log("running:", 10s), "netlof run did not start: " + daemon.log()))
        return;
    // The reader is stopped while 2,000 connections close: each CPU's close
    // queue (about 25 records with a 4 KiB ring) fills, then the ring buffer,
    // and the rest cannot be kept, however fast the machine is.
    daemon.signal(SIGSTOP);
    traffic("nl-burst", "127.0.0.2", 8080, 2000, {"--payload", "100", "--reply", "10"});
    daemon.signal(SIGCONT);
    REQUIRE(daemon.wait_for_log("netlof lost", 5s));
    INFO(daemon.log());
    const auto drops_alert = [&] {
        for (const json& a : alerts_in(alerts))
            if (a["rule"] == "sensor_drops") return std::optional<json>(a);
        return std::optional<json>();
    };
    std::optional<json> first = drops_alert();
    REQUIRE(first.has_value());
    CHECK((*first)["priority"] == "Error");
    CHECK((*first)["output_fields"]["netlof.drops.ring_buffer_full"].get<std::uint64_t>() > 0);
    CHECK((*first)["count"].get<std::uint64_t>() >= (*first)["output_fields"]["netlof.drops.ring_buffer_full"].get<std::uint64_t>());

    // Still detecting: an allowlist violation after the storm is alerted.
    CHECK(daemon.running());
    traffic("nl-web", "127.0.0.5", 8080, 1, kWebTypical);
    CHECK(wait_for_alert(alerts, "allowlist_violation", "nl-web", "127.0.0.5", 1000ms));

    // Nothing silent: every drop the kernel counted is in some sensor_drops alert.
    CHECK(daemon.stop(SIGTERM) == 0);
    const std::string log = daemon.log();
    const std::string final_line = log.substr(log.find("final stats:"));
    const std::size_t at = final_line.find("ring buffer full ");
    REQUIRE(at != std::string::npos);
    const std::uint64_t kernel_drops = std::stoull(final_line.substr(at + 17));
    std::uint64_t alerted = 0, alerts_count = 0;
    for (const json& a : alerts_in(alerts))
        if (a["rule"] == "sensor_drops") {
            alerted += a["output_fields"]["netlof.drops.ring_buffer_full"].get<std::uint64_t>();
            ++alerts_count;
        }
    CHECK(kernel_drops > 0);
    CHECK(alerted == kernel_drops);
    CHECK(alerts_count <= 3);  // once per 10 s interval, not once per drop
    fs::remove_all(dir);
}

TEST_CASE("daemon: the alert log's disk fills, then its file is removed: detection goes on, nothing is lost",
          "[daemon][sensor]") {
    const std::string dir = netlof::test::temp_dir("daemon-diskfull");
    const std::string disk = dir + "/disk", alerts = disk + "/alerts.jsonl";
    fs::create_directories(disk);
    if (::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=64k,mode=0755") != 0) {
        netlof::test::sensor_started(false, std::string("cannot mount a small tmpfs: ") + std::strerror(errno));
        return;
    }
    struct Unmount {
        std::string path;
        ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
    } unmount{disk};
    write_file(dir + "/allow.yaml", kAllowlist);
    std::string config = daemon_config(dir, dir + "/model.bin", netlof::test::source_path("configs/pipeline-default.yaml"),
                                       "{records: 1000000}");
    config.replace(config.find(dir + "/alerts.jsonl"), (dir + "/alerts.jsonl").size(), alerts);
    write_file(dir + "/netlof.yaml", config);
    BackgroundProcess daemon({NETLOF_BINARY, "run", "--config", dir + "/netlof.yaml"}, dir + "/stderr");
    if (!netlof::test::sensor_started(daemon.wait_for_log("running:", 10s), "netlof run did not start: " + daemon.log()))
        return;

    // Fill the disk.
    {
        std::ofstream filler(disk + "/filler", std::ios::binary);
        const std::string block(4096, 'x');
        for (int i = 0; i < 64 && filler.write(block.data(), block.size()); ++i) filler.flush();
    }
    traffic("nl-web", "127.0.0.5", 8080, 1, kWebTypical);
    REQUIRE(daemon.wait_for_log("failed to write the alert log " + alerts + ": No space left on device", 3s));
    INFO(daemon.log());
    CHECK(daemon.running());
    CHECK(alerts_for(alerts, "nl-web", "127.0.0.5").empty());
    traffic("nl-web", "127.0.0.6", 8080, 1, kWebTypical);  // detected while the disk is full

    // Space returns: the waiting alerts are written, in order, whole.
    fs::remove(disk + "/filler");
    REQUIRE(daemon.wait_for_log("writing the alert log " + alerts + " again", 3s));
    CHECK(alerts_for(alerts, "nl-web", "127.0.0.5").size() == 1);
    CHECK(alerts_for(alerts, "nl-web", "127.0.0.6").size() == 1);

    // Removed: created again, and the next alert lands in the new file.
    fs::remove(alerts);
    REQUIRE(daemon.wait_for_log("the alert log " + alerts + " was removed; created it again", 3s));
    traffic("nl-web", "127.0.0.7", 8080, 1, kWebTypical);
    CHECK(wait_for_alert(alerts, "allowlist_violation", "nl-web", "127.0.0.7", 1000ms));
    CHECK(daemon.stop(SIGTERM) == 0);
    CHECK(daemon.log().find("lost 0)") != std::string::npos);
    ::umount2(disk.c_str(), MNT_DETACH);
    fs::remove_all(dir);
}

TEST_CASE("daemon: kill -9 while learning leaves no model; the restart learns again and writes a whole one",
          "[daemon][sensor]") {
    const std::string dir = netlof::test::temp_dir("daemon-kill9");
    const std::string model = dir + "/state/model.bin";
    write_file(dir + "/allow.yaml", kAllowlist);
    write_file(dir + "/netlof.yaml",
               daemon_config(dir, model, netlof::test::source_path("configs/pipeline-default.yaml"), "{records: 240}"));
    {
        BackgroundProcess daemon({NETLOF_BINARY, "run", "--config", dir + "/netlof.yaml"}, dir + "/stderr");
        if (!netlof::test::sensor_started(daemon.wait_for_log("running:", 10s), "netlof run did not start: " + daemon.log()))
            return;
        traffic("nl-web", "127.0.0.2", 8080, 80, kWebSizes);
        traffic("nl-api", "127.0.0.3", 9000, 80, kApiSizes);
        CHECK(daemon.stop(SIGKILL) == 128 + SIGKILL);
    }
    CHECK_FALSE(fs::exists(model));
    // What a model write killed midway leaves: its temporary file, never a half model.
    fs::create_directories(dir + "/state");
    write_file(model + ".tmp.4242", "NETLOFMD half a model");

    BackgroundProcess daemon({NETLOF_BINARY, "run", "--config", dir + "/netlof.yaml"}, dir + "/stderr2");
    REQUIRE(daemon.wait_for_log("running:", 10s));
    INFO(daemon.log());
    CHECK(daemon.log().find("removed " + model + ".tmp.4242, left by a model write that did not finish") != std::string::npos);
    CHECK(daemon.log().find("no model at " + model + ": learning") != std::string::npos);
    CHECK_FALSE(fs::exists(model + ".tmp.4242"));
    traffic("nl-web", "127.0.0.2", 8080, 80, kWebSizes);
    traffic("nl-api", "127.0.0.3", 9000, 80, kApiSizes);
    traffic("nl-db", "127.0.0.4", 5432, 80, kDbSizes);
    REQUIRE(daemon.wait_for_log("; detecting", 20s));
    CHECK(daemon.stop(SIGTERM) == 0);
    // The model reads back whole: score gets past it to its (empty) input.
    const auto check = netlof::test::run_netlof({"score", "--model", model, "--in", "/dev/null"});
    CHECK(check.err.find(model) == std::string::npos);
    CHECK(check.err.find("/dev/null") != std::string::npos);
    fs::remove_all(dir);
}

namespace {
std::size_t count_records(const std::string& path, const std::string& process) {
    std::ifstream in(path);
    const std::string needle = "\"process_name\":\"" + process + "\"";
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
    return n;
}

std::uint64_t status_kib(pid_t pid, const std::string& key) {
    const std::string status = netlof::test::read_text("/proc/" + std::to_string(pid) + "/status");
    const std::size_t at = status.find(key + ":");
    return at == std::string::npos ? 0 : std::stoull(status.substr(at + key.size() + 1));
}

// The number after ", name " in a stats line.
std::uint64_t stat_after(const std::string& line, const std::string& name) {
    const std::size_t at = line.find(", " + name + " ");
    return at == std::string::npos ? ~0ull : std::stoull(line.substr(at + name.size() + 3));
}
}  // namespace

TEST_CASE("daemon: a storm of 100,000 short and 50,000 concurrently open connections, within its memory bound",
          "[daemon][sensor][storm]") {
    const std::string dir = netlof::test::temp_dir("daemon-storm");
    write_file(dir + "/allow.yaml", kAllowlist);
    write_file(dir + "/netlof.yaml", daemon_config(dir, dir + "/model.bin",
                                                   netlof::test::source_path("configs/pipeline-default.yaml"),
                                                   "{records: 20000}"));
    BackgroundProcess daemon({NETLOF_BINARY, "run", "--config", dir + "/netlof.yaml"}, dir + "/stderr");
    if (!netlof::test::sensor_started(daemon.wait_for_log("running:", 10s), "netlof run did not start: " + daemon.log()))
        return;

    // 50,000 open at once: 6 loadgens (a process holds both ends, and the
    // descriptor limit here is 20,000 without CAP_SYS_RESOURCE).
    constexpr int kOpen = 50000, kHolders = 6, kShort = 100000;
    std::vector<std::unique_ptr<BackgroundProcess>> holders;
    for (int h = 0; h < kHolders; ++h) {
        const int n = kOpen / kHolders + (h < kOpen % kHolders ? 1 : 0);
        holders.push_back(std::make_unique<BackgroundProcess>(
            std::vector<std::string>{NETLOF_LOADGEN, "--name", "nl-open", "--dst", "127.0.0." + std::to_string(20 + h),
                                     "--connections", std::to_string(n), "--threads", "4", "--payload", "64", "--reply",
                                     "16", "--hold-open-ms", "8000"},
            dir + "/holder" + std::to_string(h)));
    }
    for (auto& h : holders) REQUIRE(h->wait_for_log("connections open", 60s));
    // While they are open: 100,000 short connections at a paced 20,000/s.
    traffic("nl-storm", "127.0.0.3", 9000, kShort, {"--payload", "100", "--reply", "10", "--rate", "20000"});
    for (auto& h : holders) CHECK(h->stop(0) == 0);  // signal 0: wait for their own exit

    // Every finished record it had room for is there.
    std::size_t open_records = 0, short_records = 0;
    for (int i = 0; i < 500; ++i) {
        open_records = count_records(dir + "/records.jsonl", "nl-open");
        short_records = count_records(dir + "/records.jsonl", "nl-storm");
        if (open_records == kOpen && short_records == kShort) break;
        std::this_thread::sleep_for(20ms);
    }
    const std::uint64_t peak_kib = status_kib(daemon.pid(), "VmHWM");
    CHECK(daemon.stop(SIGTERM) == 0);
    const std::string log = daemon.log();
    INFO(log.substr(log.find("final stats:")));
    const std::string final_line = log.substr(log.find("final stats:"));
    const std::uint64_t drops = stat_after(final_line, "drops");
    CHECK(open_records + short_records + drops >= static_cast<std::size_t>(kOpen + kShort));
    CHECK(open_records <= static_cast<std::size_t>(kOpen));
    CHECK(short_records <= static_cast<std::size_t>(kShort));
    CHECK(log.find("; detecting") != std::string::npos);  // learned 20,000 records mid-storm, then scored the rest
    WARN("storm: daemon peak RSS " << peak_kib / 1024 << " MiB, records " << open_records << " + " << short_records
                                    << ", drops " << drops);
#ifndef NETLOF_SANITIZED
    // Speed and memory as shipped; under ASan the daemon is several times
    // slower (drops, all counted above) and its shadow memory is no bound.
    // The default tables and ring hold the storm: nothing was dropped for
    // want of room. (A program run the kernel skips, because an interrupt
    // hit the tracepoint while the same program ran on that CPU, is counted
    // among the drops above but is no capacity limit; it happens a few
    // times in millions of events, so it is not asked to be zero.)
    std::smatch room;
    REQUIRE(std::regex_search(final_line, room, std::regex(R"(ring buffer full (\d+), sockets map full (\d+), udp map full (\d+))")));
    CHECK(room[1] == "0");
    CHECK(room[2] == "0");
    CHECK(room[3] == "0");
    CHECK(peak_kib < 96 * 1024);  // the bound docs/design.md states for the default tables
#endif
    fs::remove_all(dir);
}

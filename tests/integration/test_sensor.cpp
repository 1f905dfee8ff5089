// The sensor against real kernel events: `netlof record` runs as a separate
// process (it never traces itself) while child processes of this test, named
// with prctl(PR_SET_NAME), make loopback connections with known byte counts.
// Under CI=true a sensor that cannot load fails these tests; elsewhere (not
// root, no BPF) they are reported as skipped.
#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <bpf/bpf.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nlohmann/json.hpp>
#include <regex>
#include <sched.h>
#include <set>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "bpf/events.h"
#include "tests/test_support.hpp"
#include "userspace/sensor/cgroup_names.hpp"
#include "userspace/sensor/sensor.hpp"


using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// `netlof record` in the background, writing JSON lines to a temporary file.
class Recorder {
public:
    explicit Recorder(std::vector<std::string> extra = {})
        : dir_(netlof::test::temp_dir("record")), process_(args(dir_, std::move(extra)), dir_ + "/stderr") {
        ready_ = process_.wait_for_log("recording", 5s);  // gone at once if it failed to load
    }
    ~Recorder() { std::filesystem::remove_all(dir_); }
    bool ready() const { return ready_; }
    pid_t pid() const { return process_.pid(); }
    std::string records_text() const { return netlof::test::read_text(dir_ + "/records.jsonl"); }
    std::string stderr_text() const { return process_.log(); }
    // Signals it, waits, and returns every record written.
    std::vector<json> stop(int signal = SIGINT) {
        exit_status = process_.stop(signal);
        std::vector<json> out;
        std::ifstream in(dir_ + "/records.jsonl");
        for (std::string line; std::getline(in, line);)
            if (!line.empty() && line[0] == '{') out.push_back(json::parse(line));
        return out;
    }
    int exit_status = -1;

private:
    static std::vector<std::string> args(const std::string& dir, std::vector<std::string> extra) {
        std::vector<std::string> a{NETLOF_BINARY, "record", "--out", dir + "/records.jsonl"};
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
    }
    std::string dir_;
    netlof::test::BackgroundProcess process_;
    bool ready_ = false;
};

// Starts the recorder, or explains why the sensor tests cannot run here.
bool sensor_available(Recorder& r) {
    return netlof::test::sensor_started(r.ready(), "netlof record did not start: " + r.stderr_text());
}

// The byte sources this kernel has (--byte-source): counters everywhere,
// sock-length where sock:sock_send_length exists (Linux 6.3+). Tests whose
// counts depend on the source run once with each.
std::vector<std::string> byte_sources() {
    std::vector<std::string> out;
    if (netlof::kernel_has_tracepoints({"sock_send_length", "sock_recv_length"})) out.push_back("sock-length");
    out.push_back("counters");
    return out;
}

std::vector<json> records_of(const std::vector<json>& all, pid_t pid) {
    std::vector<json> out;
    for (const json& r : all)
        if (r["pid"] == static_cast<std::uint32_t>(pid)) out.push_back(r);
    return out;
}

// What a child process sends when the bytes' value does not matter: from
// here, so that no child allocates.
// A child is forked from this multithreaded test (servers, the recorder's
// readers); an allocator lock held by another thread at fork() is never
// released in the child (AddressSanitizer's allocator has no fork handler).
char kPayload[8192];

// Reads up to n bytes from fd until end of file or n bytes, giving up after
// a minute. Returns the bytes read, or -1 if the minute ran out.
ssize_t read_within_a_minute(int fd, void* buf, std::size_t n) {
    std::size_t got = 0;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (got < n) {
        if (std::chrono::steady_clock::now() >= deadline) return -1;
        pollfd pf{fd, POLLIN, 0};
        if (::poll(&pf, 1, 100) <= 0) continue;
        const ssize_t r = ::read(fd, static_cast<char*>(buf) + got, n - got);
        if (r <= 0) break;
        got += static_cast<std::size_t>(r);
    }
    return static_cast<ssize_t>(got);
}

// An argv for execv, built before fork (see kPayload).
class Argv {
public:
    explicit Argv(std::vector<std::string> words) : words_(std::move(words)) {
        for (std::string& w : words_) pointers_.push_back(w.data());
        pointers_.push_back(nullptr);
    }
    Argv(const Argv&) = delete;
    Argv& operator=(const Argv&) = delete;
    char* const* get() const { return pointers_.data(); }

private:
    std::vector<std::string> words_;
    std::vector<char*> pointers_;
};

// Runs fn in a child process named `name`; what fn writes to the pipe
// (ports, ...) comes back. Returns the child's pid; its exit status must be
// 0. fn must not allocate (see kPayload); `out` has room for 64 ports. A
// child that has not exited within a minute is killed and the test fails.
template <typename Fn>
pid_t run_child(const char* name, Fn fn, std::vector<std::uint16_t>* ports = nullptr) {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    std::vector<std::uint16_t> out;
    out.reserve(64);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(p[0]);
        ::prctl(PR_SET_NAME, name);
        const int rc = fn(out);
        if (!out.empty()) (void)!::write(p[1], out.data(), out.size() * sizeof(std::uint16_t));
        ::_exit(rc);
    }
    ::close(p[1]);
    std::uint16_t buf[64];
    const ssize_t got = read_within_a_minute(p[0], buf, sizeof buf);
    ::close(p[0]);
    if (got < 0) ::kill(pid, SIGKILL);
    int st = 0;
    ::waitpid(pid, &st, 0);
    INFO("child " << name << " (pid " << pid << ")");
    REQUIRE(got >= 0);  // else it hung: a lost datagram, a lock held at fork
    if (ports != nullptr) ports->assign(buf, buf + got / static_cast<ssize_t>(sizeof(std::uint16_t)));
    REQUIRE(WIFEXITED(st));
    REQUIRE(WEXITSTATUS(st) == 0);
    return pid;
}

bool read_exact(int fd, std::size_t n) {
    char buf[4096];
    while (n > 0) {
        const ssize_t r = ::read(fd, buf, std::min(n, sizeof buf));
        if (r <= 0) return false;
        n -= static_cast<std::size_t>(r);
    }
    return true;
}

bool write_exact(int fd, std::size_t n) {
    while (n > 0) {
        const ssize_t r = ::write(fd, kPayload, std::min(n, sizeof kPayload));
        if (r <= 0) return false;
        n -= static_cast<std::size_t>(r);
    }
    return true;
}

void drain(int fd) {
    char buf[4096];
    while (::read(fd, buf, sizeof buf) > 0) {
    }
}

// A loopback TCP server: each connection is read for `expect` bytes,
// answered with `reply` bytes, then read to EOF.
class TcpServer {
public:
    TcpServer(int family, std::size_t expect, std::size_t reply, int threads = 1) {
        fd_ = ::socket(family, SOCK_STREAM, 0);
        int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_storage ss{};
        socklen_t len;
        if (family == AF_INET) {
            auto* a = reinterpret_cast<sockaddr_in*>(&ss);
            a->sin_family = AF_INET;
            a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            len = sizeof *a;
        } else {
            auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
            a->sin6_family = AF_INET6;
            a->sin6_addr = in6addr_loopback;
            len = sizeof *a;
        }
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) == 0);
        REQUIRE(::listen(fd_, 1024) == 0);
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
        port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                       : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
        for (int t = 0; t < threads; ++t)
            workers_.emplace_back([this, expect, reply] {
                for (;;) {
                    const int c = ::accept(fd_, nullptr, nullptr);
                    if (c < 0) return;
                    if (read_exact(c, expect)) write_exact(c, reply);
                    drain(c);
                    ::close(c);
                    served.fetch_add(1);
                }
            });
    }
    ~TcpServer() {
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        for (auto& w : workers_) w.join();
    }
    std::uint16_t port = 0;
    std::atomic<int> served{0};

private:
    int fd_ = -1;
    std::vector<std::thread> workers_;
};

sockaddr_storage loopback(int family, std::uint16_t port, socklen_t* len, bool v4_mapped = false) {
    sockaddr_storage ss{};
    if (family == AF_INET) {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        *len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        if (v4_mapped) inet_pton(AF_INET6, "::ffff:127.0.0.1", &a->sin6_addr);
        else a->sin6_addr = in6addr_loopback;
        *len = sizeof *a;
    }
    return ss;
}

// A TCP socket connected to the loopback server on port, or -1 with errno
// from socket() or connect().
int connect_tcp(int family, std::uint16_t port, bool v4_mapped = false) {
    const int fd = ::socket(family, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    socklen_t len;
    sockaddr_storage ss = loopback(family, port, &len, v4_mapped);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) return fd;
    const int err = errno;
    ::close(fd);
    errno = err;
    return -1;
}

std::uint16_t local_port(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    return ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                         : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

std::string self_exe() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

// A socket of this type bound to a free port on 127.0.0.1.
int bound_loopback_socket(int type, std::uint16_t* port) {
    const int fd = ::socket(AF_INET, type, 0);
    socklen_t len;
    sockaddr_storage ss = loopback(AF_INET, 0, &len);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0);
    *port = local_port(fd);
    return fd;
}

// A loopback port nobody listens on: bind to learn a free one, then close it.
std::uint16_t unused_loopback_port() {
    std::uint16_t port = 0;
    ::close(bound_loopback_socket(SOCK_STREAM, &port));
    return port;
}

// Sends exactly 10,000 bytes through write, send, sendmsg, writev and sendfile.
constexpr std::size_t kMixedBytes = 1000 + 2000 + 1500 + (700 + 800) + 4000;
bool send_mixed(int fd) {
    char* a = kPayload;
    if (::write(fd, a, 1000) != 1000) return false;
    if (::send(fd, a, 2000, 0) != 2000) return false;
    iovec one{a, 1500};
    msghdr m{};
    m.msg_iov = &one;
    m.msg_iovlen = 1;
    if (::sendmsg(fd, &m, 0) != 1500) return false;
    iovec two[2] = {{a, 700}, {a, 800}};
    if (::writev(fd, two, 2) != 1500) return false;
    char path[] = "/tmp/netlof-sendfile-XXXXXX";
    const int f = ::mkstemp(path);
    ::unlink(path);
    if (f < 0 || !write_exact(f, 4000)) return false;
    off_t off = 0;
    const bool ok = ::sendfile(fd, f, &off, 4000) == 4000;
    ::close(f);
    return ok;
}

}  // namespace

TEST_CASE("sensor: one exact record per TCP connection, IPv4, IPv6 and v4-mapped", "[sensor][kernels]") {
    const std::string source = GENERATE(from_range(byte_sources()));
    INFO("--byte-source " << source);
    Recorder rec({"--byte-source", source});
    if (!sensor_available(rec)) return;
    constexpr std::size_t kReply = 3333;
    constexpr auto kWait = 300ms;
    struct Run {
        int family;
        bool mapped;
        const char* name;
        const char* dst;
        pid_t pid = 0;
        std::uint16_t server_port = 0, client_port = 0;
        double lifetime_bound = 0;  // seconds from before the child's fork to the server's close
    };
    std::vector<Run> runs = {{AF_INET, false, "nl-tcp4", "127.0.0.1"},
                             {AF_INET6, false, "nl-tcp6", "::1"},
                             {AF_INET6, true, "nl-tcp4map", "127.0.0.1"}};
    for (Run& run : runs) {
        TcpServer server(run.mapped ? AF_INET : run.family, kMixedBytes, kReply);
        run.server_port = server.port;
        std::vector<std::uint16_t> ports;
        const auto started = std::chrono::steady_clock::now();
        run.pid = run_child(run.name, [&](std::vector<std::uint16_t>& out) {
            const int fd = connect_tcp(run.family, run.server_port, run.mapped);
            if (fd < 0) return 1;
            out.push_back(local_port(fd));
            if (!send_mixed(fd) || !read_exact(fd, kReply)) return 2;
            std::this_thread::sleep_for(kWait);
            ::close(fd);
            return 0;
        }, &ports);
        REQUIRE(ports.size() == 1);
        run.client_port = ports[0];
        while (server.served.load() < 1) std::this_thread::sleep_for(1ms);
        run.lifetime_bound = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    }
    std::this_thread::sleep_for(200ms);
    const std::vector<json> all = rec.stop();
    CHECK(rec.exit_status == 0);
    for (const Run& run : runs) {
        INFO(run.name << "\n" << rec.stderr_text());
        const std::vector<json> mine = records_of(all, run.pid);
        REQUIRE(mine.size() == 1);
        const json& r = mine[0];
        INFO(r.dump());
        CHECK(r["process_name"] == run.name);
        CHECK(r["exe"] == self_exe());
        CHECK(r["ppid"] == static_cast<std::uint32_t>(::getpid()));
        CHECK(r["proto"] == "tcp");
        CHECK(r["family"] == (run.family == AF_INET || run.mapped ? 4 : 6));
        CHECK(r["dst_ip"] == run.dst);
        CHECK(r["dst_port"] == run.server_port);
        CHECK(r["src_port"] == run.client_port);
        CHECK(r["bytes_sent"] == kMixedBytes);
        CHECK(r["bytes_received"] == kReply);
        CHECK(r["outcome"] == "closed");
        // From connect() to the close, which the server's close ends: within
        // the time the test saw the connection exist (plus the FIN's trip),
        // however slow the machine (the kernel matrix runs under emulation).
        const double d = r["duration"];
        CHECK(d >= 0.300);
        CHECK(d < run.lifetime_bound + 0.025);
    }
}

TEST_CASE("sensor: a refused connection", "[sensor][kernels]") {
    const std::string source = GENERATE(from_range(byte_sources()));
    INFO("--byte-source " << source);
    Recorder rec({"--byte-source", source});
    if (!sensor_available(rec)) return;
    const std::uint16_t port = unused_loopback_port();
    const pid_t pid = run_child("nl-refused", [&](std::vector<std::uint16_t>&) {
        return connect_tcp(AF_INET, port) < 0 && errno == ECONNREFUSED ? 0 : 1;
    });
    std::this_thread::sleep_for(200ms);
    const std::vector<json> mine = records_of(rec.stop(), pid);
    REQUIRE(mine.size() == 1);
    CHECK(mine[0]["outcome"] == "refused");
    CHECK(mine[0]["dst_port"] == port);
    CHECK(mine[0]["bytes_sent"] == 0);
    CHECK(mine[0]["process_name"] == "nl-refused");
}

TEST_CASE("sensor: a non-blocking connect whose error is fetched by connect() again is reported once", "[sensor][kernels]") {
    Recorder rec;
    if (!sensor_available(rec)) return;
    const std::uint16_t port = unused_loopback_port();
    const pid_t pid = run_child("nl-nbrefused", [&](std::vector<std::uint16_t>&) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        socklen_t len;
        sockaddr_storage to = loopback(AF_INET, port, &len);
        auto* sa = reinterpret_cast<sockaddr*>(&to);
        if (::connect(fd, sa, len) == 0 || errno != EINPROGRESS) return 1;
        std::this_thread::sleep_for(20ms);  // the reset has arrived by now
        // The old idiom for the outcome: connect() again returns the error.
        if (::connect(fd, sa, len) == 0 || errno != ECONNREFUSED) return 2;
        std::this_thread::sleep_for(100ms);  // alive while user space reads the executable
        return 0;
    });
    std::this_thread::sleep_for(200ms);
    const std::vector<json> mine = records_of(rec.stop(), pid);
    INFO(rec.stderr_text());
    REQUIRE(mine.size() == 1);
    CHECK(mine[0]["outcome"] == "refused");
    CHECK(mine[0]["dst_port"] == port);
}

TEST_CASE("sensor: connect() failing before TCP (no route) is reported once, from its exit", "[sensor][kernels]") {
    Recorder rec;
    if (!sensor_available(rec)) return;
    const std::uint16_t port = unused_loopback_port();
    const pid_t pid = run_child("nl-noroute", [&](std::vector<std::uint16_t>&) {
        // First a connection refused after SYN_SENT (its close record reports
        // it) on this thread, so a stale mark of it cannot hide what follows.
        if (connect_tcp(AF_INET, port) >= 0 || errno != ECONNREFUSED) return 1;
        // A network namespace of its own has no routes: nothing leaves the host.
        if (::unshare(CLONE_NEWNET) != 0) return 2;
        sockaddr_in v4{};
        v4.sin_family = AF_INET;
        v4.sin_port = htons(8080);
        inet_pton(AF_INET, "192.0.2.7", &v4.sin_addr);
        const int t = ::socket(AF_INET, SOCK_STREAM, 0);
        if (::connect(t, reinterpret_cast<sockaddr*>(&v4), sizeof v4) == 0 || errno != ENETUNREACH) return 3;
        v4.sin_port = htons(53);
        const int u = ::socket(AF_INET, SOCK_DGRAM, 0);
        if (::connect(u, reinterpret_cast<sockaddr*>(&v4), sizeof v4) == 0 || errno != ENETUNREACH) return 4;
        // No IPv6 address to send from: fails choosing the source, also before SYN_SENT.
        sockaddr_in6 v6{};
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(443);
        inet_pton(AF_INET6, "2001:db8::1", &v6.sin6_addr);
        const int t6 = ::socket(AF_INET6, SOCK_STREAM, 0);
        if (::connect(t6, reinterpret_cast<sockaddr*>(&v6), sizeof v6) == 0 || errno != EADDRNOTAVAIL) return 5;
        std::this_thread::sleep_for(100ms);  // live past the reader's 10 ms poll: exe is read from /proc
        return 0;
    });
    std::this_thread::sleep_for(200ms);
    const std::vector<json> mine = records_of(rec.stop(), pid);
    INFO(json(mine).dump(1));
    REQUIRE(mine.size() == 4);
    int refused = 0, tcp4 = 0, udp4 = 0, tcp6 = 0;
    for (const json& r : mine) {
        CHECK(r["process_name"] == "nl-noroute");
        CHECK(r["exe"] == self_exe());
        CHECK(r["bytes_sent"] == 0);
        if (r["outcome"] == "refused") {
            ++refused;
            CHECK(r["dst_port"] == port);
            continue;
        }
        CHECK(r["outcome"] == "failed");
        if (r["family"] == 6) {
            ++tcp6;
            CHECK(r["proto"] == "tcp");
            CHECK(r["dst_ip"] == "2001:db8::1");
            CHECK(r["dst_port"] == 443);
            CHECK(r["error"] == std::strerror(EADDRNOTAVAIL));
            continue;
        }
        CHECK(r["dst_ip"] == "192.0.2.7");
        CHECK(r["error"] == std::strerror(ENETUNREACH));
        if (r["proto"] == "tcp") {
            ++tcp4;
            CHECK(r["dst_port"] == 8080);
        } else {
            ++udp4;
            CHECK(r["proto"] == "udp");
            CHECK(r["dst_port"] == 53);
        }
    }
    CHECK(refused == 1);
    CHECK(tcp4 == 1);
    CHECK(udp4 == 1);
    CHECK(tcp6 == 1);
}

TEST_CASE("sensor: UDP flows, connected and unconnected, sendto and sendmmsg, exact bytes", "[sensor][kernels]") {
    const std::string source = GENERATE(from_range(byte_sources()));
    INFO("--byte-source " << source);
    Recorder rec({"--udp-idle", "1", "--byte-source", source});
    if (!sensor_available(rec)) return;
    std::uint16_t port = 0, port2 = 0, port3 = 0;
    const int server = bound_loopback_socket(SOCK_DGRAM, &port);
    // Two more destinations nobody reads (their datagrams queue).
    const int sink2 = bound_loopback_socket(SOCK_DGRAM, &port2), sink3 = bound_loopback_socket(SOCK_DGRAM, &port3);
    // Answers the connected client's datagrams: 77 bytes back once.
    std::thread echo([server] {
        char buf[2048];
        sockaddr_storage from{};
        socklen_t fl = sizeof from;
        int seen = 0;
        while (::recvfrom(server, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl) > 0) {
            if (buf[0] == 'c' && ++seen == 3) ::sendto(server, buf, 77, 0, reinterpret_cast<sockaddr*>(&from), fl);
            if (buf[0] == 'q') return;
        }
    });
    std::vector<std::uint16_t> ports;
    const pid_t pid = run_child("nl-udp", [&](std::vector<std::uint16_t>& out) {
        socklen_t l;
        sockaddr_storage dst = loopback(AF_INET, port, &l);
        auto* to = reinterpret_cast<sockaddr*>(&dst);
        char d[512];
        std::memset(d, 'u', sizeof d);
        // Unconnected: sendto 100 + 200, sendmsg 300, sendmmsg 111 + 222.
        const int u = ::socket(AF_INET, SOCK_DGRAM, 0);
        if (::sendto(u, d, 100, 0, to, l) != 100 || ::sendto(u, d, 200, 0, to, l) != 200) return 1;
        iovec iv{d, 300};
        msghdr m{};
        m.msg_name = to;
        m.msg_namelen = l;
        m.msg_iov = &iv;
        m.msg_iovlen = 1;
        if (::sendmsg(u, &m, 0) != 300) return 2;
        iovec a{d, 111}, b{d, 222};
        mmsghdr mm[2] = {};
        mm[0].msg_hdr.msg_name = to;
        mm[0].msg_hdr.msg_namelen = l;
        mm[0].msg_hdr.msg_iov = &a;
        mm[0].msg_hdr.msg_iovlen = 1;
        mm[1].msg_hdr = mm[0].msg_hdr;
        mm[1].msg_hdr.msg_iov = &b;
        if (::sendmmsg(u, mm, 2, 0) != 2) return 3;
        out.push_back(local_port(u));
        // One sendmmsg, a destination per datagram, the middle one empty
        // (still a datagram to port3); then a second call with the same array.
        const int v = ::socket(AF_INET, SOCK_DGRAM, 0);
        socklen_t l2, l3;
        sockaddr_storage dst2 = loopback(AF_INET, port2, &l2), dst3 = loopback(AF_INET, port3, &l3);
        iovec p40{d, 40}, p0{d, 0}, p60{d, 60}, p5{d, 5}, p7{d, 7};
        mmsghdr mv[3] = {};
        const auto aim = [](mmsghdr& h, sockaddr_storage& to_addr, socklen_t to_len, iovec* iov) {
            h.msg_hdr.msg_name = &to_addr;
            h.msg_hdr.msg_namelen = to_len;
            h.msg_hdr.msg_iov = iov;
            h.msg_hdr.msg_iovlen = 1;
        };
        aim(mv[0], dst, l, &p40);
        aim(mv[1], dst3, l3, &p0);
        aim(mv[2], dst2, l2, &p60);
        if (::sendmmsg(v, mv, 3, 0) != 3) return 7;
        aim(mv[0], dst2, l2, &p5);
        aim(mv[1], dst, l, &p7);
        if (::sendmmsg(v, mv, 2, 0) != 2) return 8;
        out.push_back(local_port(v));
        // Connected: send 3 x 50, receive 77.
        const int c = ::socket(AF_INET, SOCK_DGRAM, 0);
        if (::connect(c, to, l) != 0) return 4;
        char cd[50];
        std::memset(cd, 'c', sizeof cd);  // the echo thread counts datagrams starting with 'c'
        for (int i = 0; i < 3; ++i)
            if (::send(c, cd, 50, 0) != 50) return 5;
        char buf[128];
        if (::recv(c, buf, sizeof buf, 0) != 77) return 6;
        out.push_back(local_port(c));
        ::send(c, "q", 1, 0);  // stops the echo thread (1 more byte sent)
        return 0;
    }, &ports);
    echo.join();
    for (int fd : {server, sink2, sink3}) ::close(fd);
    REQUIRE(ports.size() == 3);
    std::this_thread::sleep_for(2500ms);  // past the 1 s idle timeout: every flow ends
    const std::vector<json> mine = records_of(rec.stop(), pid);
    INFO(rec.stderr_text());
    // {src_port, dst_port} -> {bytes sent, bytes received}
    std::map<std::pair<int, int>, std::pair<long, long>> flows;
    for (const json& r : mine) {
        INFO(r.dump());
        CHECK(r["proto"] == "udp");
        CHECK(r["outcome"] == "closed");  // ended by the idle timeout, not at exit
        CHECK(r["process_name"] == "nl-udp");
        CHECK(flows.count({r["src_port"], r["dst_port"]}) == 0);
        flows[{r["src_port"], r["dst_port"]}] = {r["bytes_sent"], r["bytes_received"]};
    }
    const std::map<std::pair<int, int>, std::pair<long, long>> want = {
        {{ports[0], port}, {100 + 200 + 300 + 111 + 222, 0}},
        {{ports[1], port}, {40 + 7, 0}},
        {{ports[1], port2}, {60 + 5, 0}},
        {{ports[1], port3}, {0, 0}},
        {{ports[2], port}, {3 * 50 + 1, 77}},
    };
    CHECK(flows == want);
}

// 2,000 connections from 8 threads of netlof-loadgen; every record is there
// with exact totals.
void check_eight_threads(std::vector<std::string> recorder_args) {
    Recorder rec(std::move(recorder_args));
    if (!sensor_available(rec)) return;
    constexpr int kConnections = 2000;
    constexpr std::size_t kSend = 1000, kReply = 10;
    // A separate program (fork + exec), not a forked copy of this threaded
    // one: a forked child that starts threads can inherit a held allocator
    // lock (it hangs under AddressSanitizer).
    const netlof::test::RunResult load = netlof::test::run_program({NETLOF_LOADGEN, "--name", "nl-storm", "--threads", "8",
                                                    "--connections", std::to_string(kConnections), "--payload",
                                                    std::to_string(kSend), "--reply", std::to_string(kReply)});
    REQUIRE(load.status == 0);
    std::this_thread::sleep_for(300ms);
    std::vector<json> mine;
    for (const json& r : rec.stop())
        if (r["process_name"] == "nl-storm") mine.push_back(r);
    INFO(rec.stderr_text());
    REQUIRE(mine.size() == static_cast<std::size_t>(kConnections));
    std::uint64_t sent = 0, received = 0;
    for (const json& r : mine) {
        sent += r["bytes_sent"].get<std::uint64_t>();
        received += r["bytes_received"].get<std::uint64_t>();
        CHECK(r["outcome"] == "closed");
        CHECK(r["exe"] == NETLOF_LOADGEN);
    }
    CHECK(sent == kConnections * kSend);
    CHECK(received == kConnections * kReply);
    CHECK(rec.stderr_text().find("drops 0") != std::string::npos);
    // The kernel's count of program runs it skipped (recursion on a CPU) is read and reported.
    CHECK(rec.stderr_text().find("missed program runs 0)") != std::string::npos);
    // The closes came through the per-CPU close queues, not the ring buffer
    // (the queues hold 512 each, more than a 10 ms poll gathers here).
    std::smatch m;
    const std::string log = rec.stderr_text();
    REQUIRE(std::regex_search(log, m, std::regex(R"(events (\d+) \(closes through the per-CPU queues (\d+), through the ring buffer while a queue was full (\d+)\))")));
    const long events = std::stol(m[1]), queued = std::stol(m[2]), overflowed = std::stol(m[3]);
    CHECK(queued + overflowed >= kConnections);
    CHECK(queued >= kConnections / 2);
    CHECK(queued <= events);
    // Every close was seen: none reported late at a socket's reuse.
    CHECK(log.find("reported when the socket was reused: 0)") != std::string::npos);
}

TEST_CASE("sensor: 2,000 connections from 8 threads, totals exact", "[sensor][kernels]") {
    const std::string source = GENERATE(from_range(byte_sources()));
    INFO("--byte-source " << source);
    check_eight_threads({"--byte-source", source});
}

// --max-sockets 64 leaves 16 direct-mapped slots for up to 8 connections at
// once: many find their slot taken and live in the hash map instead.
TEST_CASE("sensor: 2,000 connections from 8 threads through a 16-slot table, totals exact", "[sensor]") {
    check_eight_threads({"--max-sockets", "64"});
}

TEST_CASE("sensor: a process that exits with its connection open", "[sensor][kernels]") {
    const std::string source = GENERATE(from_range(byte_sources()));
    INFO("--byte-source " << source);
    Recorder rec({"--byte-source", source});
    if (!sensor_available(rec)) return;
    TcpServer server(AF_INET, 500, 20);
    const pid_t pid = run_child("nl-exit", [&](std::vector<std::uint16_t>&) {
        const int fd = connect_tcp(AF_INET, server.port);
        if (fd < 0 || !write_exact(fd, 500) || !read_exact(fd, 20)) return 1;
        std::this_thread::sleep_for(100ms);
        return 0;  // _exit with the socket open: the kernel closes it
    });
    while (server.served.load() < 1) std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(200ms);
    const std::vector<json> mine = records_of(rec.stop(), pid);
    REQUIRE(mine.size() == 1);
    CHECK(mine[0]["bytes_sent"] == 500);
    CHECK(mine[0]["bytes_received"] == 20);
    CHECK(mine[0]["outcome"] == "closed");
    CHECK(mine[0]["exe"] == self_exe());
}

// A forked child named `name` that runs `work` (a nonzero 16-bit result, 0
// for failure), reports the result, then holds everything it opened until
// release(): the kernel closes its sockets when it exits.
class HeldChild {
public:
    template <typename Work>
    HeldChild(const char* name, Work work) {
        REQUIRE(::pipe(ready_) == 0);
        REQUIRE(::pipe(release_) == 0);
        pid = ::fork();
        if (pid == 0) {
            ::prctl(PR_SET_NAME, name);
            const std::uint16_t v = work();
            (void)!::write(ready_[1], &v, sizeof v);
            char c;
            (void)!::read(release_[0], &c, 1);
            ::_exit(v != 0 ? 0 : 1);
        }
        ::close(ready_[1]);  // end of file if the child exits without a word
        ready_[1] = -1;
        const bool done = read_within_a_minute(ready_[0], &result, sizeof result) == sizeof result && result != 0;
        if (!done) {  // no destructor runs when the constructor throws
            ::kill(pid, SIGKILL);
            finish();
        }
        REQUIRE(done);
    }
    ~HeldChild() { finish(); }
    // Lets the child exit, and waits for it.
    void release() {
        if (released_) return;
        released_ = true;
        (void)!::write(release_[1], "x", 1);
        int st = 0;
        ::waitpid(pid, &st, 0);
    }
    pid_t pid = -1;
    std::uint16_t result = 0;

private:
    void finish() {
        release();
        for (int* fd : {&ready_[0], &ready_[1], &release_[0], &release_[1]}) {
            if (*fd >= 0) ::close(*fd);
            *fd = -1;
        }
    }
    int ready_[2] = {-1, -1}, release_[2] = {-1, -1};
    bool released_ = false;
};

// Connects to a loopback server, sends and receives exact byte counts, then
// holds the connection open until release().
class HeldConnection : public HeldChild {
public:
    HeldConnection(const char* name, std::uint16_t port, std::size_t sent, std::size_t received)
        : HeldChild(name, [=]() -> std::uint16_t {
              const int fd = connect_tcp(AF_INET, port);
              return fd >= 0 && write_exact(fd, sent) && read_exact(fd, received) ? local_port(fd) : 0;
          }),
          source_port(result) {}
    std::uint16_t source_port;
};

// Sends one datagram of `bytes` to a loopback port from an unconnected
// socket, on one CPU, and keeps the socket until release().
class HeldUdpSender : public HeldChild {
public:
    HeldUdpSender(const char* name, std::uint16_t port, std::size_t bytes, int cpu)
        : HeldChild(name, [=]() -> std::uint16_t {
              cpu_set_t one;
              CPU_ZERO(&one);
              CPU_SET(cpu, &one);
              socklen_t l;
              sockaddr_storage dst = loopback(AF_INET, port, &l);
              const int u = ::socket(AF_INET, SOCK_DGRAM, 0);
              return ::sched_setaffinity(0, sizeof one, &one) == 0 &&
                     ::sendto(u, kPayload, bytes, 0, reinterpret_cast<sockaddr*>(&dst), l) == static_cast<ssize_t>(bytes);
          }) {}
};

// A running recorder's programs and maps, opened by id from the fds its
// /proc/PID/fdinfo lists (this test runs as root, the recorder need not).
class RecorderBpf {
public:
    explicit RecorderBpf(pid_t pid) {
        for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fdinfo")) {
            std::ifstream in(entry.path());
            for (std::string line; std::getline(in, line);) {
                unsigned id = 0;
                if (std::sscanf(line.c_str(), "prog_id: %u", &id) == 1) keep(bpf_prog_get_fd_by_id(id), true);
                if (std::sscanf(line.c_str(), "map_id: %u", &id) == 1) keep(bpf_map_get_fd_by_id(id), false);
            }
        }
    }
    ~RecorderBpf() {
        for (auto& [name, fd] : fds_) ::close(fd);
    }
    // Object names are cut to 15 characters ("handle_set_stat").
    int fd(const std::string& name) const {
        auto it = fds_.find(name.substr(0, BPF_OBJ_NAME_LEN - 1));
        return it == fds_.end() ? -1 : it->second;
    }
    // The TCP connection tracked for this local port, in the direct-mapped
    // slots or the hash map behind them.
    std::optional<netlof_conn> tcp_connection(std::uint16_t sport) const {
        netlof_conn c{};
        bpf_map_info info{};
        __u32 len = sizeof info;
        if (bpf_obj_get_info_by_fd(fd("conn_slots"), &info, &len) != 0) return std::nullopt;
        for (__u32 i = 0; i < info.max_entries; ++i)
            if (bpf_map_lookup_elem(fd("conn_slots"), &i, &c) == 0 && c.sock_id != 0 && c.sport == sport) return c;
        __u64 key = 0, next = 0;
        for (__u64* prev = nullptr; bpf_map_get_next_key(fd("sockets"), prev, &next) == 0; prev = &key) {
            key = next;
            if (bpf_map_lookup_elem(fd("sockets"), &key, &c) == 0 && c.sport == sport) return c;
        }
        return std::nullopt;
    }
    // Every UDP flow the kernel holds now.
    std::vector<std::pair<netlof_udp_key, netlof_conn>> udp_flows() const {
        std::vector<std::pair<netlof_udp_key, netlof_conn>> out;
        netlof_udp_key key{}, next{};
        netlof_conn c{};
        for (netlof_udp_key* prev = nullptr; bpf_map_get_next_key(fd("udp_flows"), prev, &next) == 0; prev = &key) {
            key = next;
            if (bpf_map_lookup_elem(fd("udp_flows"), &key, &c) == 0) out.emplace_back(key, c);
        }
        return out;
    }

private:
    void keep(int fd, bool prog) {
        if (fd < 0) return;
        char name[BPF_OBJ_NAME_LEN] = {};
        if (prog) {
            bpf_prog_info info{};
            __u32 len = sizeof info;
            if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) std::memcpy(name, info.name, sizeof name);
        } else {
            bpf_map_info info{};
            __u32 len = sizeof info;
            if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) std::memcpy(name, info.name, sizeof name);
        }
        name[BPF_OBJ_NAME_LEN - 1] = '\0';
        if (!fds_.emplace(name, fd).second) ::close(fd);
    }
    std::map<std::string, int> fds_;
};

// Waits (up to 10 s) until the recorder has taken every UDP flow of pid from the kernel.
bool wait_until_no_udp_flow_of(const RecorderBpf& bpf, pid_t pid) {
    for (int i = 0; i < 1000; ++i) {
        bool any = false;
        for (const auto& f : bpf.udp_flows()) any = any || f.second.tgid == static_cast<__u32>(pid);
        if (!any) return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

// When a socket's close goes unseen (about once in 10 million loopback
// connections here, below the program: the kernel's own trace of the
// tracepoint lacked those transitions too; see README) its entry stays
// tracked until the socket's memory starts another connection. The test
// makes that moment: it runs the recorder's own inet_sock_set_state program
// (BPF_PROG_TEST_RUN) on a live tracked socket as if it were starting a
// connect. The connection still tracked there must come out as a record with
// its counts, and be counted, not be overwritten in silence.
TEST_CASE("sensor: a socket reused while its close went unseen: the old connection is reported and counted", "[sensor][kernels]") {
    const std::string source = GENERATE(from_range(byte_sources()));
    INFO("--byte-source " << source);
    Recorder rec({"--byte-source", source});
    if (!sensor_available(rec)) return;
    TcpServer server(AF_INET, 300, 40);
    const auto connecting = std::chrono::steady_clock::now();
    HeldConnection conn("nl-unseen", server.port, 300, 40);
    const std::uint16_t sport = conn.source_port;

    RecorderBpf bpf(rec.pid());
    REQUIRE(bpf.fd("handle_set_state") >= 0);
    if (source == "counters") {
        // The table holds what refresh_tcp_counts last read (every flush
        // interval): read the counts now, as the recorder does, without a flush.
        __u64 args[1] = {0};
        LIBBPF_OPTS(bpf_test_run_opts, refresh, .ctx_in = args, .ctx_size_in = sizeof args);
        REQUIRE(bpf_prog_test_run_opts(bpf.fd("refresh_tcp_counts"), &refresh) == 0);
    }
    const std::optional<netlof_conn> tracked = bpf.tcp_connection(sport);
    REQUIRE(tracked.has_value());
    CHECK(tracked->bytes_sent == 300);
    // Its last activity the sensor knows of is behind us by now.
    const double active = std::chrono::duration<double>(std::chrono::steady_clock::now() - connecting).count();
    // The connection goes quiet for 400 ms before its socket is "reused".
    std::this_thread::sleep_for(400ms);
    // inet_sock_set_state(sk, TCP_CLOSE, TCP_SYN_SENT): the socket starts a connection.
    __u64 args[3] = {tracked->sock_id, TCP_CLOSE, TCP_SYN_SENT};
    LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = args, .ctx_size_in = sizeof args);
    REQUIRE(bpf_prog_test_run_opts(bpf.fd("handle_set_state"), &run) == 0);
    CHECK(run.retval == 0);
    std::this_thread::sleep_for(100ms);  // the report is out before the child closes

    conn.release();
    std::this_thread::sleep_for(200ms);
    const std::vector<json> all = rec.stop();
    INFO(rec.stderr_text());
    const std::vector<json> mine = records_of(all, conn.pid);
    REQUIRE(mine.size() == 1);
    CHECK(mine[0]["process_name"] == "nl-unseen");
    CHECK(mine[0]["src_port"] == sport);
    CHECK(mine[0]["dst_port"] == server.port);
    CHECK(mine[0]["bytes_sent"] == 300);
    CHECK(mine[0]["bytes_received"] == 40);
    CHECK(mine[0]["outcome"] == "closed");
    // It ends at its last receive (jiffies apart; with counters, at the read
    // that saw the counts move), not 400 ms later at the reuse.
    CHECK(mine[0]["duration"].get<double>() < active + 0.1);
    CHECK(rec.stderr_text().find("reported when the socket was reused: 1)") != std::string::npos);
}

// A UDP socket has no event that ends it. When one process closes a socket
// and another's new socket gets the same memory, the second one's datagrams
// must start its own flow, not be added to the first's (and so be
// attributed to a process that may be allowed that destination). Both
// children run on one CPU so the slab hands the freed socket back; the test
// repeats until the kernel's table shows the same socket in both.
TEST_CASE("sensor: a UDP socket reused by another process is that process's own flow", "[sensor][kernels]") {
    const std::string source = GENERATE(from_range(byte_sources()));
    INFO("--byte-source " << source);
    Recorder rec({"--udp-idle", "3600", "--byte-source", source});
    if (!sensor_available(rec)) return;
    std::uint16_t port = 0;
    const int sink = bound_loopback_socket(SOCK_DGRAM, &port);
    RecorderBpf bpf(rec.pid());
    REQUIRE(bpf.fd("udp_flows") >= 0);
    cpu_set_t allowed;
    REQUIRE(::sched_getaffinity(0, sizeof allowed, &allowed) == 0);
    int cpu = 0;
    while (!CPU_ISSET(cpu, &allowed)) ++cpu;  // the first CPU this test may use
    // Each child holds its socket open until released, so its flow is in the
    // kernel's table while the test reads it (the recorder ends a flow once
    // its socket is closed).
    auto flow_of = [&](pid_t pid) -> std::optional<std::pair<netlof_udp_key, netlof_conn>> {
        for (const auto& f : bpf.udp_flows())
            if (f.second.tgid == static_cast<__u32>(pid) && f.second.dport == port) return f;
        return std::nullopt;
    };
    pid_t first = 0, second = 0;
    bool reused = false;
    for (int attempt = 0; attempt < 50 && !reused; ++attempt) {
        HeldUdpSender a("nl-udp-first", port, 100, cpu);
        first = a.pid;
        const auto fa = flow_of(first);
        REQUIRE(fa.has_value());
        a.release();
        std::this_thread::sleep_for(30ms);  // UDP sockets are freed after an RCU grace period
        HeldUdpSender b("nl-udp-second", port, 7, cpu);
        second = b.pid;
        const auto fb = flow_of(second);
        REQUIRE(fb.has_value());
        CHECK(fb->second.bytes_sent == 7);
        reused = fb->first.sock_id == fa->first.sock_id;
        if (reused) CHECK(fb->first.sock_ino != fa->first.sock_ino);  // what tells the two sockets apart
    }
    REQUIRE(reused);  // else this test proved nothing
    // The first socket is closed: the recorder's next look at open sockets ends its flow.
    REQUIRE(wait_until_no_udp_flow_of(bpf, first));
    const std::vector<json> all = rec.stop();
    INFO(rec.stderr_text());
    const std::vector<json> a = records_of(all, first), b = records_of(all, second);
    REQUIRE(a.size() == 1);
    REQUIRE(b.size() == 1);
    CHECK(a[0]["process_name"] == "nl-udp-first");
    CHECK(a[0]["bytes_sent"] == 100);
    CHECK(a[0]["outcome"] == "closed");  // its socket was closed: ended long before the idle timeout
    CHECK(b[0]["process_name"] == "nl-udp-second");
    CHECK(b[0]["bytes_sent"] == 7);
    ::close(sink);
}

// `record --attach-only` is the floor `make bench` measures next to the
// sensor: every program attached and run on every event, returning at once.
// Both halves are shown: the kernel counts runs of each program during real
// traffic, and nothing is recorded.
TEST_CASE("sensor: --attach-only runs every program on real traffic and records nothing", "[sensor][kernels]") {
    const std::string source = GENERATE(from_range(byte_sources()));
    INFO("--byte-source " << source);
    Recorder rec({"--attach-only", "--byte-source", source});
    if (!sensor_available(rec)) return;
    const int stats = bpf_enable_stats(BPF_STATS_RUN_TIME);  // run counts are kept while it is open
    REQUIRE(stats >= 0);
    RecorderBpf bpf(rec.pid());
    const auto runs = [&](const std::string& name) {
        bpf_prog_info info{};
        __u32 len = sizeof info;
        REQUIRE(bpf_obj_get_info_by_fd(bpf.fd(name), &info, &len) == 0);
        return info.run_cnt;
    };
    // The TCP exchange below writes and reads with write() and read().
    const std::vector<std::string> progs =
        source == "sock-length"
            ? std::vector<std::string>{"handle_set_state", "handle_exit_connect", "handle_send_length", "handle_recv_length"}
            : std::vector<std::string>{"handle_set_state", "handle_exit_connect", "handle_exit_write", "handle_exit_read"};
    std::map<std::string, __u64> before;
    for (const std::string& p : progs) before[p] = runs(p);
    TcpServer server(AF_INET, 100, 10);
    const pid_t pid = run_child("nl-attachonly", [&](std::vector<std::uint16_t>&) {
        const int fd = connect_tcp(AF_INET, server.port);
        if (fd < 0) return 1;
        const bool ok = write_exact(fd, 100) && read_exact(fd, 10);
        ::close(fd);
        return ok ? 0 : 1;
    });
    std::this_thread::sleep_for(200ms);
    for (const std::string& p : progs) {
        INFO(p);
        CHECK(runs(p) > before[p]);
    }
    ::close(stats);
    const std::vector<json> all = rec.stop();
    INFO(rec.stderr_text());
    CHECK(records_of(all, pid).empty());
    CHECK(all.empty());
    CHECK(rec.stderr_text().find("stats: events 0 ") != std::string::npos);
    CHECK(rec.stderr_text().find("records 0 ") != std::string::npos);
}

TEST_CASE("sensor: connections still open when recording stops are flushed as active", "[sensor][kernels]") {
    const std::string source = GENERATE(from_range(byte_sources()));
    INFO("--byte-source " << source);
    Recorder rec({"--byte-source", source});
    if (!sensor_available(rec)) return;
    TcpServer server(AF_INET, 123, 45);
    HeldConnection conn("nl-active", server.port, 123, 45);
    // Held until the recorder has stopped.
    const std::vector<json> mine = records_of(rec.stop(SIGTERM), conn.pid);
    conn.release();
    REQUIRE(mine.size() == 1);
    CHECK(mine[0]["outcome"] == "active");
    CHECK(mine[0]["bytes_sent"] == 123);
    CHECK(mine[0]["bytes_received"] == 45);
}

TEST_CASE("sensor: recorded CSV trains a model as is (record, then train, then score)", "[sensor][kernels]") {
    const std::string dir = netlof::test::temp_dir("record-train");
    Recorder rec({"--format", "csv"});
    if (!sensor_available(rec)) return;
    TcpServer server(AF_INET, 100, 10);
    run_child("nl-csv", [&](std::vector<std::uint16_t>&) {
        for (int i = 0; i < 30; ++i) {
            const int fd = connect_tcp(AF_INET, server.port);
            if (fd < 0 || !write_exact(fd, 100) || !read_exact(fd, 10)) return 1;
            ::close(fd);
        }
        return 0;
    });
    while (server.served.load() < 30) std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(200ms);
    rec.stop();
    // The recorder's output file is removed with it: copy it first.
    const std::string csv = rec.records_text();
    REQUIRE(csv.rfind("pid,process_name,src_ip,src_port,dst_ip,dst_port,duration,bytes_sent,bytes_received,timestamp,", 0) == 0);
    std::ofstream(dir + "/rec.csv") << csv;
    const auto train = netlof::test::run_netlof({"train", "--pipeline", netlof::test::source_path("configs/pipeline-seed.yaml"),
                                                 "--in", dir + "/rec.csv", "--out", dir + "/m.bin", "--neighbors", "5"});
    INFO(train.err);
    CHECK(train.status == 0);
    const auto score = netlof::test::run_netlof({"score", "--model", dir + "/m.bin", "--in", dir + "/rec.csv"});
    CHECK(score.status == 0);
    CHECK(score.out.find(",lof,anomaly\n") != std::string::npos);
    std::filesystem::remove_all(dir);
}

// The flush clock's jiffy is the coarse clock's resolution, not CONFIG_HZ
// from a Kconfig file (which containers lack): both must agree where the file
// exists. (The kernel matrix's guest has none: there the sensor tests show
// the sensor loads without it.)
TEST_CASE("sensor: the jiffy length comes from the coarse clock and matches the kernel's CONFIG_HZ", "[sensor][kernels]") {
    const std::uint64_t ns = netlof::jiffy_nanoseconds();
    INFO("jiffy " << ns << " ns");
    FILE* config = ::popen("{ zcat /proc/config.gz || cat /boot/config-$(uname -r); } 2>/dev/null", "r");
    REQUIRE(config != nullptr);
    std::string text;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, config)) > 0;) text.append(buf, n);
    ::pclose(config);
    std::smatch hz;
    if (!std::regex_search(text, hz, std::regex(R"(\nCONFIG_HZ=(\d+)\n)"))) {
        // The HZ Linux offers, as the kernel rounds a tick (TICK_NSEC).
        CHECK((ns == 10000000 || ns == 4000000 || ns == 3333333 || ns == 1000000));
        WARN("no kernel config file here: checked the jiffy against the HZ Linux offers");
        return;
    }
    const std::uint64_t want = (1000000000ULL + std::stoull(hz[1]) / 2) / std::stoull(hz[1]);
    CHECK(ns == want);
}

TEST_CASE("sensor: --byte-source takes only its words; a source the kernel lacks is a clear error", "[sensor][kernels]") {
    const auto bad = netlof::test::run_netlof({"record", "--byte-source", "sendmsg", "--duration", "1", "--out", "/dev/null"});
    CHECK(bad.status == 2);
    CHECK(bad.err.find("--byte-source") != std::string::npos);
    if (netlof::kernel_has_tracepoints({"sock_send_length", "sock_recv_length"})) {
        WARN("SKIPPED: this kernel has sock_send_length; make test-kernels checks the error on Debian 12's 6.1");
        return;
    }
    const auto r = netlof::test::run_netlof({"record", "--byte-source", "sock-length", "--duration", "1", "--out", "/dev/null"});
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(r.err.find("failed to use sock:sock_send_length") != std::string::npos);
    CHECK(r.err.find("--byte-source counters works on it") != std::string::npos);
}

TEST_CASE("sensor: not root is a clear error with exit status 2", "[sensor]") {
    if (::access("/usr/bin/setpriv", X_OK) != 0 || ::geteuid() != 0) {
        WARN("SKIPPED: needs root and setpriv to drop to nobody");
        return;
    }
    const auto r = netlof::test::run_netlof_as_nobody({"record", "--duration", "1", "--out", "/dev/null"});
    CHECK(r.status == 2);
    CHECK(r.err.find("root") != std::string::npos);
}

TEST_CASE("sensor: a long-lived connection is reported active every flush interval, then closed", "[sensor][kernels]") {
    const std::string source = GENERATE(from_range(byte_sources()));
    INFO("--byte-source " << source);
    Recorder rec({"--flush-interval", "0.3", "--byte-source", source});
    if (!sensor_available(rec)) return;
    TcpServer server(AF_INET, 0, 0);
    const pid_t pid = run_child("nl-long", [&](std::vector<std::uint16_t>&) {
        const int fd = connect_tcp(AF_INET, server.port);
        if (fd < 0) return 1;
        for (int i = 0; i < 12; ++i) {  // 100 bytes every 100 ms for 1.2 s
            if (!write_exact(fd, 100)) return 2;
            std::this_thread::sleep_for(100ms);
        }
        ::close(fd);
        return 0;
    });
    while (server.served.load() < 1) std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(200ms);
    const std::vector<json> mine = records_of(rec.stop(), pid);
    REQUIRE(mine.size() >= 3);
    std::uint64_t last = 0;
    for (std::size_t i = 0; i + 1 < mine.size(); ++i) {
        CHECK(mine[i]["outcome"] == "active");
        CHECK(mine[i]["bytes_sent"].get<std::uint64_t>() >= last);
        last = mine[i]["bytes_sent"];
    }
    CHECK(mine.front()["bytes_sent"].get<std::uint64_t>() < 1200);
    // A flush from sock_send_length is made by a send, so before the last
    // one; refresh_tcp_counts may run in the 100 ms after it.
    if (source == "sock-length") CHECK(last < 1200);
    else CHECK(last <= 1200);
    CHECK(mine.back()["outcome"] == "closed");
    CHECK(mine.back()["bytes_sent"] == 1200);
}

TEST_CASE("sensor: tracefs is mounted when missing, and the log says so", "[sensor]") {
    if (::geteuid() != 0) {
        WARN("SKIPPED: needs root to unmount tracefs");
        return;
    }
    // Unmount every tracefs mount at the usual place; busy means someone else
    // uses it, and then this test cannot run.
    while (::access("/sys/kernel/tracing/events", F_OK) == 0)
        if (::umount2("/sys/kernel/tracing", 0) != 0) {
            WARN("SKIPPED: tracefs is busy: " << std::strerror(errno));
            return;
        }
    if (::access("/sys/kernel/debug/tracing/events", F_OK) == 0) {
        WARN("SKIPPED: tracefs is reachable under debugfs");
        return;
    }
    Recorder rec;
    if (!sensor_available(rec)) return;
    CHECK(rec.stderr_text().find("mounted tracefs at /sys/kernel/tracing") != std::string::npos);
    CHECK(::access("/sys/kernel/tracing/events/sock", F_OK) == 0);
    rec.stop();
}

// The executable is the kernel's (mm->exe_file), named at exec: right for a
// process that lives a millisecond, for one that execs another binary and
// takes back its old name, for a binary run from memory (memfd, nothing on
// disk), and for a process that was running before the sensor started.
TEST_CASE("sensor: exe is the file the kernel runs, however short-lived or renamed the process", "[sensor][kernels]") {
    TcpServer server(AF_INET, 4096, 64, 2);
    const std::string port = std::to_string(server.port);
    // Started before the recorder: python3 waits for a byte, connects once, exits.
    int go[2];
    REQUIRE(::pipe(go) == 0);
    const pid_t old = ::fork();
    if (old == 0) {
        ::dup2(go[0], 0);
        ::close(go[1]);
        const std::string code = "import sys, socket\nsys.stdin.read(1)\ns = socket.create_connection(('127.0.0.1', " + port +
                                 "))\ns.sendall(b'x' * 4096)\ns.recv(64)\n";
        ::execl("/usr/bin/python3", "python3", "-c", code.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(go[0]);
    std::string old_exe;
    for (int i = 0; i < 500 && (old_exe.empty() || old_exe == self_exe()); ++i) {  // until its exec is done
        std::error_code ec;
        old_exe = std::filesystem::read_symlink("/proc/" + std::to_string(old) + "/exe", ec).string();
        std::this_thread::sleep_for(10ms);
    }
    Recorder rec;
    const bool started = sensor_available(rec);
    (void)!::write(go[1], "x", 1);
    ::close(go[1]);
    int st = 0;
    ::waitpid(old, &st, 0);
    if (!started) return;
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 0);

    const std::vector<std::string> one_connection = {"--connections", "1", "--threads", "1"};
    auto loadgen = [&](const char* name) {
        std::vector<std::string> argv = {NETLOF_LOADGEN, "--name", name};
        argv.insert(argv.end(), one_connection.begin(), one_connection.end());
        return argv;
    };
    // 20 one-shot processes: each lives about a millisecond.
    for (int i = 0; i < 20; ++i) REQUIRE(netlof::test::run_program(loadgen("nl-oneshot")).status == 0);
    // Connects as this test binary, then execs the load generator, which
    // names itself back to the same comm.
    Argv exec_args(loadgen("nl-exec")), fileless_args(loadgen("nl-fileless"));
    const pid_t execd = run_child("nl-exec", [&](std::vector<std::uint16_t>&) {
        const int fd = connect_tcp(AF_INET, server.port);
        if (fd < 0 || !write_exact(fd, 4096) || !read_exact(fd, 64)) return 1;
        ::close(fd);
        ::execv(NETLOF_LOADGEN, exec_args.get());
        return 2;
    });
    // Fileless: the load generator copied into a memfd and run from it.
    const pid_t fileless = run_child("nl-memfd", [&](std::vector<std::uint16_t>&) {
        const int src = ::open(NETLOF_LOADGEN, O_RDONLY);
        const int mem = ::memfd_create("nl-fileless", 0);
        struct stat sb {};
        if (src < 0 || mem < 0 || ::fstat(src, &sb) != 0) return 1;
        off_t off = 0;
        if (::sendfile(mem, src, &off, static_cast<std::size_t>(sb.st_size)) != sb.st_size) return 2;
        ::fexecve(mem, fileless_args.get(), environ);
        return 3;
    });
    std::this_thread::sleep_for(300ms);
    const std::vector<json> all = rec.stop();
    INFO(rec.stderr_text());

    const std::vector<json> before = records_of(all, old);
    REQUIRE(before.size() == 1);
    CHECK(before[0]["exe"] == old_exe);
    int oneshots = 0;
    for (const json& r : all) {
        if (r["process_name"] != "nl-oneshot") continue;
        ++oneshots;
        CHECK(r["exe"] == NETLOF_LOADGEN);
    }
    CHECK(oneshots == 20);
    const std::vector<json> e = records_of(all, execd);
    REQUIRE(e.size() == 2);  // one before the exec, one after, under one name
    std::set<std::string> exes;
    for (const json& r : e) {
        CHECK(r["process_name"] == "nl-exec");
        exes.insert(r["exe"].get<std::string>());
    }
    CHECK(exes == std::set<std::string>{self_exe(), NETLOF_LOADGEN});
    const std::vector<json> f = records_of(all, fileless);
    REQUIRE(f.size() == 1);
    CHECK(f[0]["exe"] == "/memfd:nl-fileless (deleted)");  // what /proc/<pid>/exe says of it
}

namespace {

// How a resolver-style client sends its query and reads the answer.
enum class UdpCalls { SendtoRecvfrom, SendmsgRecvmsg, SendmmsgRecvmmsg };

// Answers every datagram on an unconnected socket with twice its length.
class UdpEchoServer {
public:
    explicit UdpEchoServer(int family) {
        fd_ = ::socket(family, SOCK_DGRAM, 0);
        socklen_t len;
        sockaddr_storage ss = loopback(family, 0, &len);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) == 0);
        port = local_port(fd_);
        worker_ = std::thread([this] {
            char buf[2048];
            const std::string reply(4096, 'R');
            for (;;) {
                sockaddr_storage from{};
                socklen_t fl = sizeof from;
                const ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl);
                if (n <= 0 || buf[0] == '!') return;
                ::sendto(fd_, reply.data(), static_cast<std::size_t>(2 * n), 0, reinterpret_cast<sockaddr*>(&from), fl);
            }
        });
    }
    ~UdpEchoServer() {
        socklen_t len;
        sockaddr_storage self = loopback(family(), port, &len);
        const int s = ::socket(family(), SOCK_DGRAM, 0);
        ::sendto(s, "!", 1, 0, reinterpret_cast<sockaddr*>(&self), len);
        ::close(s);
        worker_.join();
        ::close(fd_);
    }
    std::uint16_t port = 0;

private:
    int family() const {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
        return ss.ss_family;
    }
    int fd_ = -1;
    std::thread worker_;
};

// One query on a new unconnected socket, closed after the answer. The
// sendmmsg form sends two datagrams (size and size + 1) and reads both
// answers with one recvmmsg. Returns false on any short call.
bool one_query(int family, std::uint16_t port, UdpCalls calls, std::size_t size) {
    const int u = ::socket(family, SOCK_DGRAM, 0);
    const timeval patience{10, 0};  // a lost answer fails the child, not the run
    ::setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
    socklen_t l;
    sockaddr_storage to = loopback(family, port, &l);
    std::array<char, 4096> a, b;
    char* q = kPayload;
    sockaddr_storage from{}, from2{};
    bool ok = false;
    if (calls == UdpCalls::SendtoRecvfrom) {
        socklen_t fl = sizeof from;
        ok = ::sendto(u, q, size, 0, reinterpret_cast<sockaddr*>(&to), l) == static_cast<ssize_t>(size) &&
             ::recvfrom(u, a.data(), a.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl) == static_cast<ssize_t>(2 * size);
    } else if (calls == UdpCalls::SendmsgRecvmsg) {
        iovec out{q, size}, in{a.data(), a.size()};
        msghdr m{};
        m.msg_name = &to;
        m.msg_namelen = l;
        m.msg_iov = &out;
        m.msg_iovlen = 1;
        msghdr r{};
        r.msg_name = &from;
        r.msg_namelen = sizeof from;
        r.msg_iov = &in;
        r.msg_iovlen = 1;
        ok = ::sendmsg(u, &m, 0) == static_cast<ssize_t>(size) && ::recvmsg(u, &r, 0) == static_cast<ssize_t>(2 * size);
    } else {
        iovec o1{q, size}, o2{q, size + 1}, i1{a.data(), a.size()}, i2{b.data(), b.size()};
        mmsghdr out[2] = {}, in[2] = {};
        for (int i = 0; i < 2; ++i) {
            out[i].msg_hdr.msg_name = &to;
            out[i].msg_hdr.msg_namelen = l;
            out[i].msg_hdr.msg_iovlen = 1;
            in[i].msg_hdr.msg_namelen = sizeof from;
            in[i].msg_hdr.msg_iovlen = 1;
        }
        out[0].msg_hdr.msg_iov = &o1;
        out[1].msg_hdr.msg_iov = &o2;
        in[0].msg_hdr.msg_iov = &i1;
        in[1].msg_hdr.msg_iov = &i2;
        in[0].msg_hdr.msg_name = &from;
        in[1].msg_hdr.msg_name = &from2;
        ok = ::sendmmsg(u, out, 2, 0) == 2 && ::recvmmsg(u, in, 2, 0, nullptr) == 2 &&
             in[0].msg_len + in[1].msg_len == 2 * (2 * size + 1);
    }
    ::close(u);
    return ok;
}

}  // namespace

// A resolver opens a socket per query; the slab hands the next socket the
// freed one's address. Each socket is its own flow, ended when the socket
// closes (not by the idle timeout), with its replies counted: the sender of
// a datagram on an unconnected socket is read from the receive call.
TEST_CASE("sensor: 50 one-query UDP sockets are 50 flows with exact bytes both ways, every call pair, IPv4 and IPv6", "[sensor][kernels]") {
    const std::string source = GENERATE(from_range(byte_sources()));
    INFO("--byte-source " << source);
    Recorder rec({"--udp-idle", "3600", "--byte-source", source});
    if (!sensor_available(rec)) return;
    constexpr int kQueries = 50;
    struct Case {
        int family;
        UdpCalls calls;
        std::unique_ptr<UdpEchoServer> server;
    };
    std::vector<Case> cases;
    for (int family : {AF_INET, AF_INET6})
        for (UdpCalls calls : {UdpCalls::SendtoRecvfrom, UdpCalls::SendmsgRecvmsg, UdpCalls::SendmmsgRecvmmsg})
            cases.push_back({family, calls, std::make_unique<UdpEchoServer>(family)});
    const pid_t pid = run_child("nl-resolver", [&](std::vector<std::uint16_t>&) {
        for (const Case& c : cases)
            for (int i = 0; i < kQueries; ++i)
                if (!one_query(c.family, c.server->port, c.calls, 20 + static_cast<std::size_t>(i))) return 1;
        // Two answers whose sender the calls do not give: recv() with no
        // address, and read(). Counted, not guessed.
        const int u = ::socket(AF_INET, SOCK_DGRAM, 0);
        socklen_t l;
        sockaddr_storage to = loopback(AF_INET, cases[0].server->port, &l);
        char buf[64];
        if (::sendto(u, "ab", 2, 0, reinterpret_cast<sockaddr*>(&to), l) != 2 || ::recv(u, buf, sizeof buf, 0) != 4) return 2;
        if (::sendto(u, "ab", 2, 0, reinterpret_cast<sockaddr*>(&to), l) != 2 || ::read(u, buf, sizeof buf) != 4) return 3;
        ::close(u);
        return 0;
    });
    // Every socket is closed: the recorder's next look at open sockets ends every flow.
    RecorderBpf bpf(rec.pid());
    CHECK(wait_until_no_udp_flow_of(bpf, pid));
    const std::vector<json> all = rec.stop();
    INFO(rec.stderr_text());
    // At least the child's two (the count is the host's: another process may add to it).
    std::smatch no_sender;
    const std::string log = rec.stderr_text();
    REQUIRE(std::regex_search(log, no_sender, std::regex(R"(udp datagrams received without a known sender (\d+),)")));
    CHECK(std::stol(no_sender[1]) >= 2);
    const std::vector<json> mine = records_of(all, pid);
    for (const Case& c : cases) {
        INFO("family " << c.family << ", calls " << static_cast<int>(c.calls));
        std::multiset<std::pair<long, long>> got, want;
        for (int i = 0; i < kQueries; ++i) {
            const long size = 20 + i;
            if (c.calls == UdpCalls::SendmmsgRecvmmsg) want.insert({2 * size + 1, 2 * (2 * size + 1)});
            else want.insert({size, 2 * size});
        }
        for (const json& r : mine) {
            if (r["dst_port"] != c.server->port || r["family"] != (c.family == AF_INET ? 4 : 6)) continue;
            if (&c == &cases[0] && r["bytes_sent"] == 4) {  // the sender-less pair: its sends only
                CHECK(r["bytes_received"] == 0);
                continue;
            }
            CHECK(r["proto"] == "udp");
            CHECK(r["outcome"] == "closed");
            got.insert({r["bytes_sent"].get<long>(), r["bytes_received"].get<long>()});
        }
        CHECK(got.size() == static_cast<std::size_t>(kQueries));
        CHECK(got == want);
    }
}

// A process in a systemd service's cgroup, and one in a container's (the
// cgroups are made by the test, named as systemd and docker name them).
TEST_CASE("sensor: records name the systemd unit and the container of the connecting process's cgroup", "[sensor]") {
    const std::string root = netlof::cgroup2_root();
    if (!netlof::test::sensor_started(!root.empty(), "no cgroup2 hierarchy is mounted")) return;
    const std::string id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const std::string slice = root + "/netlof-test-" + std::to_string(::getpid()) + ".slice";
    const std::string service = slice + "/nl-probe.service", container = slice + "/docker-" + id + ".scope";
    for (const std::string& dir : {service, container}) REQUIRE(std::filesystem::create_directories(dir));
    Recorder rec;
    std::vector<pid_t> pids;
    if (sensor_available(rec)) {
        TcpServer server(AF_INET, 100, 10);
        for (const std::string& cgroup : {service, container}) {
            const std::string procs = cgroup + "/cgroup.procs";
            pids.push_back(run_child("nl-cgroup", [&](std::vector<std::uint16_t>&) {
                char pid[16];  // no allocation in a child forked from threads
                const int n = std::snprintf(pid, sizeof pid, "%d", static_cast<int>(::getpid()));
                const int f = ::open(procs.c_str(), O_WRONLY);
                if (f < 0 || ::write(f, pid, static_cast<std::size_t>(n)) != n) return 2;
                ::close(f);
                const int fd = connect_tcp(AF_INET, server.port);
                return fd >= 0 && write_exact(fd, 100) && read_exact(fd, 10) ? 0 : 1;
            }));
        }
        std::this_thread::sleep_for(200ms);
    }
    const std::vector<json> all = pids.empty() ? std::vector<json>{} : rec.stop();
    for (const std::string& dir : {service, container, slice}) ::rmdir(dir.c_str());  // empty once the children exited
    if (pids.empty()) return;
    INFO(rec.stderr_text());
    const std::vector<json> in_service = records_of(all, pids[0]), in_container = records_of(all, pids[1]);
    REQUIRE(in_service.size() == 1);
    REQUIRE(in_container.size() == 1);
    CHECK(in_service[0]["unit"] == "nl-probe.service");
    CHECK(in_service[0]["container_id"] == "");
    CHECK(in_container[0]["container_id"] == id.substr(0, 12));
    CHECK(in_container[0]["unit"] == "");
    CHECK(in_service[0]["cgroup_id"] != in_container[0]["cgroup_id"]);
}

// A loopback TCP workload for `make bench`, the daemon tests and `make run`'s
// demo: each connection connects, sends a payload, reads a reply and closes,
// as fast as the machine allows or at a fixed rate. Prints one JSON line.
//   netlof-loadgen --connections N [--threads T] [--rate R | --every-ms MS] [--payload B] [--reply B]
//                  [--name COMM] [--dst 127.0.0.X] [--port P]
//                  [--payload-max B] [--reply-max B] [--hold-ms MS] [--hold-ms-max MS] [--seed S] [--no-listen]
// With the -max options each connection draws its payload, reply and how
// long it stays open uniformly up to the maximum (the client says how big a
// reply it wants in its first 4 bytes), which makes realistic training data.
// --name sets the process name the sensor reports; --dst and --port choose the
// loopback address and port the server listens on (port 0: any).
// --no-listen connects to a server already listening at --dst:--port (another
// loadgen's, which must be started with -max options so it reads sizes).
// --hold-open-ms MS keeps every connection open (both ends) until all are
// open, says so on stderr, waits MS and then closes them all: the storm
// test's concurrently open connections. Clients then bind source addresses
// 127.0.1.1 .. 127.0.1.8 so more than one ephemeral port range fits.
#include <arpa/inet.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <netinet/in.h>
#include <random>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

bool read_exact(int fd, char* buf, std::size_t n) {
    while (n > 0) {
        const ssize_t r = ::read(fd, buf, n);
        if (r <= 0) return false;
        n -= static_cast<std::size_t>(r);
    }
    return true;
}

bool write_exact(int fd, const char* buf, std::size_t n) {
    while (n > 0) {
        const ssize_t r = ::write(fd, buf, n);
        if (r <= 0) return false;
        buf += r;
        n -= static_cast<std::size_t>(r);
    }
    return true;
}

// n bytes through a buffer of any size: a client may ask for more than it.
bool read_through(int fd, std::vector<char>& buf, std::size_t n) {
    while (n > 0) {
        const std::size_t part = std::min(n, buf.size());
        if (!read_exact(fd, buf.data(), part)) return false;
        n -= part;
    }
    return true;
}

bool write_through(int fd, const std::vector<char>& buf, std::size_t n) {
    while (n > 0) {
        const std::size_t part = std::min(n, buf.size());
        if (!write_exact(fd, buf.data(), part)) return false;
        n -= part;
    }
    return true;
}

bool has_flag(int argc, char** argv, const char* name) {
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], name) == 0) return true;
    return false;
}

const char* text_arg(int argc, char** argv, const char* name, const char* fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
    return fallback;
}

long arg(int argc, char** argv, const char* name, long fallback) {
    const char* v = text_arg(argc, argv, name, nullptr);
    return v == nullptr ? fallback : std::strtol(v, nullptr, 10);
}

}  // namespace

int main(int argc, char** argv) {
    const long connections = arg(argc, argv, "--connections", 10000);
    const long threads = arg(argc, argv, "--threads", 2);
    const long rate = arg(argc, argv, "--rate", 0);  // connections per second, 0: unlimited
    const long every_ms = arg(argc, argv, "--every-ms", 0);  // or one connection per thread this often
    const std::size_t payload = static_cast<std::size_t>(arg(argc, argv, "--payload", 4096));
    const std::size_t reply = static_cast<std::size_t>(arg(argc, argv, "--reply", 64));
    const std::size_t payload_max = std::max(payload, static_cast<std::size_t>(arg(argc, argv, "--payload-max", 0)));
    const std::size_t reply_max = std::max(reply, static_cast<std::size_t>(arg(argc, argv, "--reply-max", 0)));
    const long hold_ms_min = arg(argc, argv, "--hold-ms", 0);
    const long hold_ms_max = std::max(hold_ms_min, arg(argc, argv, "--hold-ms-max", 0));
    const unsigned long seed = static_cast<unsigned long>(arg(argc, argv, "--seed", 1));
    const bool varied = payload_max > payload || reply_max > reply;
    const char* dst = text_arg(argc, argv, "--dst", "127.0.0.1");
    const long hold_open_ms = arg(argc, argv, "--hold-open-ms", -1);
    const bool hold_open = hold_open_ms >= 0;
    if (hold_open) {  // both ends of every connection stay open
        const rlim_t want = static_cast<rlim_t>(2 * connections + 256);
        rlimit rl{};
        ::getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = std::max(rl.rlim_cur, std::min(want, rl.rlim_max));
        if (rl.rlim_cur < want || ::setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            std::fprintf(stderr, "failed to hold %ld connections open: needs %lu descriptors, the limit is %lu "
                                 "(run several loadgens)\n",
                         connections, static_cast<unsigned long>(want), static_cast<unsigned long>(rl.rlim_max));
            return 2;
        }
    }
    std::mutex held_mutex;
    std::vector<int> held;  // hold-open: every descriptor, both ends
    const long port = arg(argc, argv, "--port", 0);
    const bool listen = !has_flag(argc, argv, "--no-listen");
    if (!listen && port == 0) {
        std::fprintf(stderr, "failed to connect: --no-listen needs --port\n");
        return 2;
    }
    // Threads inherit the name, so every connection is reported under it.
    if (const char* name = text_arg(argc, argv, "--name", nullptr)) ::prctl(PR_SET_NAME, name);

    const int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    socklen_t len = sizeof addr;
    if (::inet_pton(AF_INET, dst, &addr.sin_addr) != 1 || (ntohl(addr.sin_addr.s_addr) >> 24) != 127) {
        std::fprintf(stderr, "failed to use --dst %s: loopback (127.0.0.0/8) addresses only\n", dst);
        return 2;
    }
    if (listen && (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(lfd, 4096) != 0)) {
        std::fprintf(stderr, "failed to listen on %s:%ld: %s\n", dst, port, std::strerror(errno));
        return 2;
    }
    if (listen) ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);

    std::vector<std::thread> servers;
    for (long t = 0; listen && t < threads; ++t)
        servers.emplace_back([&] {
            std::vector<char> buf(std::min<std::size_t>(std::max<std::size_t>({payload_max, reply_max, 8}), 1 << 20));
            for (;;) {
                const int c = ::accept(lfd, nullptr, nullptr);
                if (c < 0) return;
                // Varied: the client's first 8 bytes say how much it sends and wants back.
                std::uint32_t sizes[2] = {static_cast<std::uint32_t>(payload), static_cast<std::uint32_t>(reply)};
                if (!varied || read_exact(c, reinterpret_cast<char*>(sizes), sizeof sizes))
                    if (read_through(c, buf, sizes[0])) write_through(c, buf, sizes[1]);
                if (hold_open) {
                    std::lock_guard<std::mutex> lock(held_mutex);
                    held.push_back(c);
                } else {
                    ::close(c);
                }
            }
        });

    std::atomic<long> failures{0};
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> clients;
    for (long t = 0; t < threads; ++t)
        clients.emplace_back([&, t] {
            std::vector<char> buf(std::min<std::size_t>(std::max<std::size_t>({payload_max, reply_max, 1}), 1 << 20), 'x');
            std::mt19937_64 rng(seed * 1000003 + static_cast<unsigned long>(t));
            auto draw = [&rng](std::size_t lo, std::size_t hi) {
                return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
            };
            const long mine = connections / threads + (t < connections % threads ? 1 : 0);
            for (long i = 0; i < mine; ++i) {
                if (rate > 0 || every_ms > 0) {  // pace this thread to its share of the rate
                    const double period_ns = every_ms > 0 ? 1e6 * static_cast<double>(every_ms)
                                                          : 1e9 * static_cast<double>(threads) / static_cast<double>(rate);
                    std::this_thread::sleep_until(start + std::chrono::nanoseconds(static_cast<long long>(period_ns * i)));
                }
                const std::uint32_t sizes[2] = {static_cast<std::uint32_t>(draw(payload, payload_max)),
                                                static_cast<std::uint32_t>(draw(reply, reply_max))};
                const long hold_ms = hold_ms_max > 0 ? static_cast<long>(draw(static_cast<std::size_t>(hold_ms_min),
                                                                              static_cast<std::size_t>(hold_ms_max)))
                                                     : 0;
                const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
                if (hold_open) {  // source address spread; the port is picked at connect()
                    sockaddr_in src{};
                    src.sin_family = AF_INET;
                    src.sin_addr.s_addr = htonl((127u << 24) | (1u << 8) | static_cast<std::uint32_t>(1 + i % 8));
                    ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
                    ::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src);
                }
                bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
                if (ok && (varied || !listen)) ok = write_exact(fd, reinterpret_cast<const char*>(sizes), sizeof sizes);
                ok = ok && write_through(fd, buf, sizes[0]) && read_through(fd, buf, sizes[1]);
                if (ok && hold_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
                if (!ok) failures.fetch_add(1);
                if (ok && hold_open) {
                    std::lock_guard<std::mutex> lock(held_mutex);
                    held.push_back(fd);
                } else {
                    ::close(fd);
                }
            }
        });
    for (auto& c : clients) c.join();
    if (hold_open) {
        for (int i = 0; i < 1000; ++i) {  // the servers' side of the last few
            {
                std::lock_guard<std::mutex> lock(held_mutex);
                if (held.size() >= static_cast<std::size_t>(2 * (connections - failures.load()))) break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        std::fprintf(stderr, "holding %ld connections open\n", connections - failures.load());
        std::this_thread::sleep_for(std::chrono::milliseconds(hold_open_ms));
        for (int fd : held) ::close(fd);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ::shutdown(lfd, SHUT_RDWR);
    ::close(lfd);
    for (auto& s : servers) s.join();
    std::printf("{\"connections\": %ld, \"failures\": %ld, \"seconds\": %.6f, \"rate\": %.1f}\n", connections,
                failures.load(), seconds, static_cast<double>(connections) / seconds);
    return failures.load() == 0 ? 0 : 1;
}

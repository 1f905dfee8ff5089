// A loopback TCP workload for `make bench`: each connection connects, sends
// a payload, reads a reply and closes, as fast as the machine allows or at a
// fixed rate. Prints one JSON line with what it did.
//   netlof-loadgen --connections N [--threads T] [--rate R] [--payload B] [--reply B]
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
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

long arg(int argc, char** argv, const char* name, long fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], name) == 0) return std::strtol(argv[i + 1], nullptr, 10);
    return fallback;
}

}  // namespace

int main(int argc, char** argv) {
    const long connections = arg(argc, argv, "--connections", 10000);
    const long threads = arg(argc, argv, "--threads", 2);
    const long rate = arg(argc, argv, "--rate", 0);  // connections per second, 0: unlimited
    const std::size_t payload = static_cast<std::size_t>(arg(argc, argv, "--payload", 4096));
    const std::size_t reply = static_cast<std::size_t>(arg(argc, argv, "--reply", 64));

    const int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(lfd, 4096) != 0) {
        std::perror("failed to listen on 127.0.0.1");
        return 2;
    }
    ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);

    std::vector<std::thread> servers;
    for (long t = 0; t < threads; ++t)
        servers.emplace_back([&] {
            std::vector<char> buf(std::max(payload, reply));
            for (;;) {
                const int c = ::accept(lfd, nullptr, nullptr);
                if (c < 0) return;
                if (read_exact(c, buf.data(), payload)) write_exact(c, buf.data(), reply);
                ::close(c);
            }
        });

    std::atomic<long> failures{0};
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> clients;
    for (long t = 0; t < threads; ++t)
        clients.emplace_back([&, t] {
            std::vector<char> buf(std::max(payload, reply), 'x');
            const long mine = connections / threads + (t < connections % threads ? 1 : 0);
            for (long i = 0; i < mine; ++i) {
                if (rate > 0) {  // pace this thread to its share of the rate
                    const auto due = start + std::chrono::nanoseconds(static_cast<long long>(1e9 * i * threads / rate));
                    std::this_thread::sleep_until(due);
                }
                const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
                if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
                    !write_exact(fd, buf.data(), payload) || !read_exact(fd, buf.data(), reply))
                    failures.fetch_add(1);
                ::close(fd);
            }
        });
    for (auto& c : clients) c.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ::shutdown(lfd, SHUT_RDWR);
    ::close(lfd);
    for (auto& s : servers) s.join();
    std::printf("{\"connections\": %ld, \"failures\": %ld, \"seconds\": %.6f, \"rate\": %.1f}\n", connections,
                failures.load(), seconds, static_cast<double>(connections) / seconds);
    return failures.load() == 0 ? 0 : 1;
}

#include "userspace/connection_record.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <cstring>
#include <ctime>
#include <netinet/in.h>

namespace netlof {

std::string_view outcome_name(std::uint8_t outcome) {
    switch (outcome) {
        case NETLOF_OUTCOME_ACTIVE: return "active";
        case NETLOF_OUTCOME_CLOSED: return "closed";
        case NETLOF_OUTCOME_REFUSED: return "refused";
        case NETLOF_OUTCOME_FAILED: return "failed";
    }
    return "unknown";
}

KernelClock::KernelClock() {
    timespec real{}, mono{};
    clock_gettime(CLOCK_REALTIME, &real);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    offset_ns_ = (static_cast<std::int64_t>(real.tv_sec) - mono.tv_sec) * 1000000000LL + (real.tv_nsec - mono.tv_nsec);
}

std::uint64_t KernelClock::now_ktime() {
    timespec mono{};
    clock_gettime(CLOCK_MONOTONIC, &mono);
    return static_cast<std::uint64_t>(mono.tv_sec) * 1000000000ULL + static_cast<std::uint64_t>(mono.tv_nsec);
}

namespace {

// Dotted quad without inet_ntop, which formats through sprintf (it was a
// tenth of the sensor's CPU).
std::string ipv4_text(const std::uint8_t* a) {
    char buf[16];
    char* p = buf;
    for (int i = 0; i < 4; ++i) {
        if (i > 0) *p++ = '.';
        p = std::to_chars(p, buf + sizeof buf, a[i]).ptr;
    }
    return std::string(buf, p);
}

// Address text; an IPv4-mapped IPv6 address is shown (and counted) as IPv4.
std::string address_text(std::uint16_t family, const std::uint8_t* addr, int& out_family) {
    char buf[INET6_ADDRSTRLEN] = {};
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (family == NETLOF_AF_INET) {
        out_family = 4;
        return ipv4_text(addr);
    } else if (std::memcmp(addr, kMapped, sizeof kMapped) == 0) {
        out_family = 4;
        return ipv4_text(addr + 12);
    } else {
        out_family = 6;
        inet_ntop(AF_INET6, addr, buf, sizeof buf);
    }
    return buf;
}

std::string comm_text(const char* comm) { return std::string(comm, strnlen(comm, NETLOF_COMM_LEN)); }

}  // namespace

ConnectionRecord make_record(const netlof_conn& c, std::uint64_t end_ktime, const KernelClock& clock) {
    ConnectionRecord r;
    r.ts_start = clock.to_unix(c.ts_start_ns);
    const std::uint64_t end = std::max<std::uint64_t>(end_ktime, c.ts_start_ns);
    r.ts_end = clock.to_unix(end);
    r.duration = static_cast<double>(end - c.ts_start_ns) / 1e9;
    r.pid = c.tgid;
    r.ppid = c.ppid;
    r.uid = c.uid;
    r.process_name = comm_text(c.comm);
    r.cgroup_id = c.cgroup_id;
    r.proto = c.proto == IPPROTO_TCP ? "tcp" : c.proto == IPPROTO_UDP ? "udp" : "";
    int src_family = 4;
    r.dst_ip = address_text(c.family, c.daddr, r.family);
    r.src_ip = address_text(c.family, c.saddr, src_family);
    r.src_port = c.sport;
    r.dst_port = c.dport;
    r.bytes_sent = c.bytes_sent;
    r.bytes_received = c.bytes_received;
    r.outcome = std::string(outcome_name(c.outcome));
    r.error = c.error;
    return r;
}

std::string format_timestamp(double unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

}  // namespace netlof

#include "userspace/sensor/record_builder.hpp"

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
void assign_ipv4_text(std::string& out, const std::uint8_t* a) {
    char buf[16];
    char* p = buf;
    for (int i = 0; i < 4; ++i) {
        if (i > 0) *p++ = '.';
        p = std::to_chars(p, buf + sizeof buf, a[i]).ptr;
    }
    out.assign(buf, p);
}

// Address text into out (its buffer reused); an IPv4-mapped IPv6 address is
// shown (and counted) as IPv4.
void assign_address_text(std::string& out, std::uint16_t family, const std::uint8_t* addr, int& out_family) {
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (family == NETLOF_AF_INET) {
        out_family = 4;
        assign_ipv4_text(out, addr);
    } else if (std::memcmp(addr, kMapped, sizeof kMapped) == 0) {
        out_family = 4;
        assign_ipv4_text(out, addr + 12);
    } else {
        char buf[INET6_ADDRSTRLEN] = {};
        out_family = 6;
        inet_ntop(AF_INET6, addr, buf, sizeof buf);
        out.assign(buf);
    }
}

}  // namespace

ConnectionRecord make_record(const netlof_conn& c, std::uint64_t end_ktime, const KernelClock& clock) {
    ConnectionRecord r;
    fill_record(r, c, end_ktime, clock);
    return r;
}

void fill_record(ConnectionRecord& r, const netlof_conn& c, std::uint64_t end_ktime, const KernelClock& clock) {
    r.ts_start = clock.to_unix(c.ts_start_ns);
    const std::uint64_t end = std::max<std::uint64_t>(end_ktime, c.ts_start_ns);
    r.ts_end = clock.to_unix(end);
    r.duration = static_cast<double>(end - c.ts_start_ns) / 1e9;
    r.pid = c.tgid;
    r.ppid = c.ppid;
    r.uid = c.uid;
    r.process_name.assign(c.comm, strnlen(c.comm, NETLOF_COMM_LEN));
    r.cgroup_id = c.cgroup_id;
    r.proto.assign(c.proto == IPPROTO_TCP ? "tcp" : c.proto == IPPROTO_UDP ? "udp" : "");
    int src_family = 4;
    assign_address_text(r.dst_ip, c.family, c.daddr, r.family);
    assign_address_text(r.src_ip, c.family, c.saddr, src_family);
    r.src_port = c.sport;
    r.dst_port = c.dport;
    r.bytes_sent = c.bytes_sent;
    r.bytes_received = c.bytes_received;
    r.outcome.assign(outcome_name(c.outcome));
    r.error = c.error;
}


RecordBuilder::RecordBuilder(KernelClock clock, std::size_t max_processes, std::string cgroup_root)
    : clock_(clock), exes_(max_processes), cgroups_(max_processes, std::move(cgroup_root)) {}

void RecordBuilder::emit(const netlof_conn& c, std::uint64_t end_ktime) {
    ConnectionRecord& r = batch_.append();
    fill_record(r, c, end_ktime, clock_);
    r.exe = exes_.lookup(c.tgid, ExeId{c.exe_dev, c.exe_ino});  // assigned into its buffer: no allocation
    const CgroupName& cg = cgroups_.lookup(c.cgroup_id);
    r.unit = cg.unit;
    r.container_id = cg.container_id;
    ++stats_.records;
}

void RecordBuilder::on_connection(const netlof_conn_event& e) {
    const netlof_conn& c = e.conn;
    switch (e.hdr.type) {
        case NETLOF_EV_TCP_FLUSH:
            // A long-lived connection is reported every flush interval with
            // outcome "active" and its counts so far; its close record follows.
            emit(c, e.hdr.ktime_ns);
            break;
        case NETLOF_EV_TCP_CLOSE:
            emit(c, c.last_seen_ns);
            break;
        case NETLOF_EV_CONNECT_FAILED:
            emit(c, c.last_seen_ns);
            break;
        default: break;
    }
}

void RecordBuilder::finish(const netlof_conn& c, std::uint64_t end_ktime, std::uint8_t outcome) {
    netlof_conn copy = c;
    copy.outcome = outcome;
    emit(copy, end_ktime);
}

}  // namespace netlof

#include "userspace/sensor/record_builder.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <cstring>
#include <ctime>
#include <netinet/in.h>

namespace netlof {

Outcome outcome_of(std::uint8_t kernel_outcome) {
    switch (kernel_outcome) {
        case NETLOF_OUTCOME_ACTIVE: return Outcome::Active;
        case NETLOF_OUTCOME_REFUSED: return Outcome::Refused;
        case NETLOF_OUTCOME_FAILED: return Outcome::Failed;
        default: return Outcome::Closed;  // the decoder refuses any other value
    }
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
    r.dst_ip = ip_from_bytes(c.family == NETLOF_AF_INET6, c.daddr);
    r.src_ip = ip_from_bytes(c.family == NETLOF_AF_INET6, c.saddr);
    r.src_port = c.sport;
    r.dst_port = c.dport;
    r.bytes_sent = c.bytes_sent;
    r.bytes_received = c.bytes_received;
    r.outcome = outcome_of(c.outcome);
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

#include "userspace/sensor/capture.hpp"

#include <algorithm>

#include "userspace/sensor/record_builder.hpp"
#include "userspace/sensor/sensor.hpp"
#include "userspace/sensor/socket_diag.hpp"

namespace netlof {

namespace {
constexpr std::uint64_t kUdpScanNs = 1000000000ULL;
}

struct Capture::Parts {
    Parts(const SensorOptions& o)
        : builder(KernelClock(), o.max_processes),
          udp_idle_ns(static_cast<std::uint64_t>(o.udp_idle_s * 1e9)),
          flush_ns(static_cast<std::uint64_t>(o.flush_interval_s * 1e9)),
          next_udp_scan(KernelClock::now_ktime() + kUdpScanNs),
          next_flush(KernelClock::now_ktime() + flush_ns),
          netns(own_netns_inode()) {}

    RecordBuilder builder;  // before the sensor: it delivers into the builder until destroyed
    std::unique_ptr<Sensor> sensor;
    std::uint64_t udp_idle_ns;
    std::uint64_t flush_ns;  // 0: no flush records
    std::uint64_t next_udp_scan;
    std::uint64_t next_flush;  // with ByteSource::Counters, TCP counts are read (and flushed) then
    std::uint32_t netns;  // sockets of this namespace can be looked up
};

std::unique_ptr<Capture> Capture::start(const SensorOptions& options, SensorLog log) {
    auto parts = std::make_unique<Parts>(options);
    parts->sensor = Sensor::start(options, parts->builder, std::move(log));
    parts->builder.exes().scan_running();  // after the exec program is attached: no process falls between
    return std::unique_ptr<Capture>(new Capture(std::move(parts)));
}

Capture::Capture(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
Capture::~Capture() = default;

const RecordBatch& Capture::poll() {
    Parts& p = *parts_;
    p.builder.batch().clear();
    p.sensor->poll(kPollMs);
    const std::uint64_t now = KernelClock::now_ktime();
    if (p.flush_ns != 0 && now >= p.next_flush) {
        p.sensor->refresh_tcp_counts(true);
        p.next_flush = now + p.flush_ns;
    }
    if (now < p.next_udp_scan) return p.builder.batch();
    p.next_udp_scan = now + kUdpScanNs;
    const std::vector<netlof_udp_key> keys = p.sensor->udp_flow_keys();
    if (keys.empty()) return p.builder.batch();
    // Listed after the keys were read: a socket missing here was closed (one
    // opened since has no key yet). Sockets of other network namespaces are
    // not listed: those flows end when idle.
    const auto open = open_udp_socket_inodes();
    // ktime counts from boot: a host up for less than the idle timeout has no idle flow yet.
    const std::uint64_t idle_before = now > p.udp_idle_ns ? now - p.udp_idle_ns : 0;
    auto ended = [&](const netlof_udp_key& k, const netlof_conn& c) {
        if (c.last_seen_ns < idle_before) return true;
        return open && k.netns == p.netns && k.sock_ino != 0 && !std::binary_search(open->begin(), open->end(), k.sock_ino);
    };
    for (const netlof_conn& c : p.sensor->take_udp_flows(keys, ended))
        p.builder.finish(c, c.last_seen_ns, NETLOF_OUTCOME_CLOSED);
    return p.builder.batch();
}

const RecordBatch& Capture::finish() {
    Parts& p = *parts_;
    p.builder.batch().clear();
    // Counts of the connections still open, while their sockets are surely
    // theirs (tracked, so not closed).
    p.sensor->refresh_tcp_counts(false);
    p.sensor->stop_tracing();  // returns once no program is running any more
    while (p.sensor->poll(0) > 0) {
    }
    const std::uint64_t end = KernelClock::now_ktime();
    for (const netlof_conn& c : p.sensor->open_tcp_connections()) p.builder.finish(c, end, NETLOF_OUTCOME_ACTIVE);
    for (const netlof_conn& c : p.sensor->take_udp_flows(p.sensor->udp_flow_keys()))
        p.builder.finish(c, c.last_seen_ns, NETLOF_OUTCOME_ACTIVE);
    return p.builder.batch();
}

SensorCounters Capture::counters() const {
    const Parts& p = *parts_;
    const auto k = p.sensor->kernel_stats();
    SensorCounters c;
    c.events = k[NETLOF_STAT_EVENTS];
    c.records = p.builder.stats().records;
    c.closes_queued = p.sensor->closes_queued();
    c.close_queue_full = k[NETLOF_STAT_CLOSE_QUEUE_FULL];
    c.close_unseen = k[NETLOF_STAT_CLOSE_UNSEEN];
    c.ringbuf_full = k[NETLOF_STAT_RINGBUF_FULL];
    c.sockets_full = k[NETLOF_STAT_SOCKETS_FULL];
    c.udp_flows_full = k[NETLOF_STAT_UDP_FLOWS_FULL];
    c.missed_runs = p.sensor->missed_runs();
    c.malformed = p.sensor->malformed_records();
    c.exec_lost = k[NETLOF_STAT_EXEC_LOST];
    c.exe_unknown = p.builder.exes().stats().unknown;
    c.exe_evictions = p.builder.exes().stats().evictions;
    c.exe_from_proc = p.builder.exes().stats().from_proc;
    c.cgroups_unknown = p.builder.cgroups().unknown();
    c.user_read_failed = k[NETLOF_STAT_USER_READ_FAILED];
    c.udp_recv_no_source = k[NETLOF_STAT_UDP_RECV_NO_SOURCE];
    c.udp_recv_unsolicited = k[NETLOF_STAT_UDP_RECV_UNSOLICITED];
    return c;
}

}  // namespace netlof

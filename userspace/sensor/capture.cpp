#include "userspace/sensor/capture.hpp"

#include <algorithm>
#include <fmt/core.h>

#include "userspace/sensor/socket_diag.hpp"

namespace netlof {

namespace {
constexpr std::uint64_t kUdpScanNs = 1000000000ULL;
}

void log_line(const std::string& message) { fmt::print(stderr, "netlof: {}\n", message); }

Capture::Capture(Sensor& sensor, RecordBuilder& table, double udp_idle_s)
    : sensor_(sensor),
      table_(table),
      udp_idle_ns_(static_cast<std::uint64_t>(udp_idle_s * 1e9)),
      next_udp_scan_(KernelClock::now_ktime() + kUdpScanNs),
      netns_(own_netns_inode()) {}

void Capture::poll() {
    sensor_.poll(kPollMs);
    const std::uint64_t now = KernelClock::now_ktime();
    if (now < next_udp_scan_) return;
    next_udp_scan_ = now + kUdpScanNs;
    const std::vector<netlof_udp_key> keys = sensor_.udp_flow_keys();
    if (keys.empty()) return;
    // Listed after the keys were read: a socket missing here was closed (one
    // opened since has no key yet). Sockets of other network namespaces are
    // not listed: those flows end when idle.
    const auto open = open_udp_socket_inodes();
    // ktime counts from boot: a host up for less than the idle timeout has no idle flow yet.
    const std::uint64_t idle_before = now > udp_idle_ns_ ? now - udp_idle_ns_ : 0;
    auto ended = [&](const netlof_udp_key& k, const netlof_conn& c) {
        if (c.last_seen_ns < idle_before) return true;
        return open && k.netns == netns_ && k.sock_ino != 0 && !std::binary_search(open->begin(), open->end(), k.sock_ino);
    };
    for (const netlof_conn& c : sensor_.take_udp_flows(keys, ended)) table_.finish(c, c.last_seen_ns, NETLOF_OUTCOME_CLOSED);
}

void Capture::finish() {
    sensor_.stop_tracing();  // returns once no program is running any more
    while (sensor_.poll(0) > 0) {
    }
    const std::uint64_t end = KernelClock::now_ktime();
    for (const netlof_conn& c : sensor_.open_tcp_connections()) table_.finish(c, end, NETLOF_OUTCOME_ACTIVE);
    for (const netlof_conn& c : sensor_.take_udp_flows(sensor_.udp_flow_keys())) table_.finish(c, c.last_seen_ns, NETLOF_OUTCOME_ACTIVE);
}

}  // namespace netlof

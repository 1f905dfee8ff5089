#include "userspace/capture.hpp"

#include <fmt/core.h>

namespace netlof {

namespace {
constexpr std::uint64_t kUdpScanNs = 1000000000ULL;
}

void log_line(const std::string& message) { fmt::print(stderr, "netlof: {}\n", message); }

Capture::Capture(Sensor& sensor, ConnectionTable& table, double udp_idle_s)
    : sensor_(sensor),
      table_(table),
      udp_idle_ns_(static_cast<std::uint64_t>(udp_idle_s * 1e9)),
      next_udp_scan_(KernelClock::now_ktime() + kUdpScanNs) {}

void Capture::poll() {
    sensor_.poll(kPollMs);
    const std::uint64_t now = KernelClock::now_ktime();
    if (now < next_udp_scan_) return;
    for (const netlof_conn& c : sensor_.take_udp_flows(now - udp_idle_ns_))
        table_.finish(c, c.last_seen_ns, NETLOF_OUTCOME_CLOSED);
    next_udp_scan_ = now + kUdpScanNs;
}

void Capture::finish() {
    sensor_.stop_tracing();  // returns once no program is running any more
    while (sensor_.poll(0) > 0) {
    }
    const std::uint64_t end = KernelClock::now_ktime();
    for (const netlof_conn& c : sensor_.open_tcp_connections()) table_.finish(c, end, NETLOF_OUTCOME_ACTIVE);
    for (const netlof_conn& c : sensor_.take_udp_flows(UINT64_MAX)) table_.finish(c, c.last_seen_ns, NETLOF_OUTCOME_ACTIVE);
}

}  // namespace netlof

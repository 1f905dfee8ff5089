// The loop `netlof record` and `netlof run` both drive around the sensor:
// poll the ring buffer, end UDP flows whose socket is closed or that went
// idle, and at stop report everything the kernel still holds, so no
// connection is lost.
#pragma once

#include <cstdint>
#include <string>

#include "userspace/sensor/record_builder.hpp"
#include "userspace/sensor/sensor.hpp"

namespace netlof {

// The kernel wakes the reader only when records pile up; otherwise they are
// collected every kPollMs, which bounds how late a record (and an alert) can be.
inline constexpr int kPollMs = 10;

// "netlof: message" on stderr (journald under systemd).
void log_line(const std::string& message);

class Capture {
public:
    // The sensor delivers its records to `table`.
    Capture(Sensor& sensor, RecordBuilder& table, double udp_idle_s);
    // Waits up to kPollMs for records; once a second, UDP flows whose socket
    // was closed, or idle for udp_idle_s, end as closed records.
    void poll();
    // Detaches the programs (nothing changes underneath any more), takes the
    // queued records, then reports open TCP connections and UDP flows as active.
    void finish();

private:
    Sensor& sensor_;
    RecordBuilder& table_;
    std::uint64_t udp_idle_ns_;
    std::uint64_t next_udp_scan_;
    std::uint32_t netns_;  // sockets of this namespace can be looked up
};

}  // namespace netlof

// ConnectionRecord: one finished (or still active) connection or UDP flow as
// netlof reports it, and its conversion from the kernel's netlof_conn.
#pragma once

#include <cstdint>
#include <string>

#include "bpf/events.h"

namespace netlof {

struct ConnectionRecord {
    double ts_start = 0;  // unix seconds (UTC)
    double ts_end = 0;
    double duration = 0;  // seconds
    std::uint32_t pid = 0;
    std::uint32_t ppid = 0;
    std::uint32_t uid = 0;
    std::string process_name;  // comm of the process (thread group leader)
    std::string exe;           // full path, as the kernel names it; empty when it could not be known
    std::uint64_t cgroup_id = 0;
    std::string unit;          // systemd unit of the cgroup ("nginx.service"), or empty
    std::string container_id;  // container of the cgroup (12 hex digits), or empty
    int family = 4;            // 4 or 6 (IPv4-mapped IPv6 reports as 4)
    std::string proto;         // "tcp", "udp", or "" when unknown
    std::string src_ip;
    std::uint16_t src_port = 0;
    std::string dst_ip;
    std::uint16_t dst_port = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    std::string outcome;       // closed, refused, failed, active
    int error = 0;             // errno of a failed or refused connection
};

std::string_view outcome_name(std::uint8_t outcome);

// Converts kernel time (CLOCK_MONOTONIC ns, as bpf_ktime_get_ns) to unix time.
class KernelClock {
public:
    KernelClock();  // measures the offset now
    explicit KernelClock(std::int64_t offset_ns) : offset_ns_(offset_ns) {}
    // Modular arithmetic: a garbage ktime from a malformed event gives a
    // garbage time, never signed overflow (found by fuzzing).
    double to_unix(std::uint64_t ktime_ns) const {
        return static_cast<double>(static_cast<std::int64_t>(ktime_ns + static_cast<std::uint64_t>(offset_ns_))) / 1e9;
    }
    static std::uint64_t now_ktime();

private:
    std::int64_t offset_ns_;
};

// The record of c, ending at end_ktime (its last activity, or now for an
// active one). exe is filled by the caller.
ConnectionRecord make_record(const netlof_conn& c, std::uint64_t end_ktime, const KernelClock& clock);
// The same into an existing record: its strings keep their buffers, so a
// reused record costs no allocation per connection. exe is left as it was.
void fill_record(ConnectionRecord& r, const netlof_conn& c, std::uint64_t end_ktime, const KernelClock& clock);

// "YYYY-MM-DD HH:MM:SS" (UTC), the timestamp format of netlof's CSVs.
std::string format_timestamp(double unix_seconds);

}  // namespace netlof

// ConnectionRecord: one finished (or still active) connection or UDP flow as
// netlof reports it: what the sensor builds, the engine judges and the
// record log keeps. It knows nothing of the kernel's structs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <string_view>
#include <vector>

#include "common/ip_address.hpp"

namespace netlof {

// How a connection ended (active: still open, reported at a flush or at stop).
enum class Outcome : std::uint8_t { Closed, Refused, Failed, Active };
std::string_view outcome_name(Outcome o);
std::optional<Outcome> parse_outcome(std::string_view text);

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
    std::string proto;         // "tcp", "udp", or "" when unknown
    IpAddress src_ip;          // IPv4-mapped IPv6 is kept (and reported) as IPv4
    std::uint16_t src_port = 0;
    IpAddress dst_ip;
    std::uint16_t dst_port = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    Outcome outcome = Outcome::Closed;
    int error = 0;             // errno of a failed or refused connection

    int family() const { return dst_ip.family; }  // the destination's: 4 or 6
};

// The records one step delivers (a poll of the sensor, a slice of a replayed
// file), in the order they ended. Slots are reused between batches: assigning
// into a record keeps its strings' buffers, so a warm batch does not allocate.
class RecordBatch {
public:
    // A slot for one more record; it still holds an earlier record's values.
    ConnectionRecord& append() {
        if (size_ == slots_.size()) slots_.emplace_back();
        return slots_[size_++];
    }
    void clear() { size_ = 0; }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    const ConnectionRecord& operator[](std::size_t i) const { return slots_[i]; }
    const ConnectionRecord* begin() const { return slots_.data(); }
    const ConnectionRecord* end() const { return slots_.data() + size_; }

private:
    std::vector<ConnectionRecord> slots_;
    std::size_t size_ = 0;
};

// "YYYY-MM-DD HH:MM:SS" (UTC), the timestamp format of netlof's CSVs.
std::string format_timestamp(double unix_seconds);

}  // namespace netlof

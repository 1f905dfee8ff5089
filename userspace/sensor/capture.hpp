// The sensor as the rest of netlof sees it: settings in, batches of
// connection records out, and the counters of what it saw and lost. Only the
// files of this folder see the kernel's structs (bpf/events.h); `netlof
// record` and `netlof run` both drive this loop: poll, and at stop report
// everything the kernel still holds, so no connection is lost.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/log.hpp"
#include "userspace/records/connection_record.hpp"

namespace netlof {

// Where byte counts come from (bpf/netlof.bpf.c says how each works).
enum class ByteSource {
    Auto,        // sock-length where the kernel has it, else counters
    SockLength,  // sock:sock_send_length and sock_recv_length (Linux 6.3+)
    Counters,    // TCP's own per-connection counters; UDP from the send and receive system calls
};
// "auto", "sock-length", "counters"; nullopt for anything else.
std::optional<ByteSource> parse_byte_source(const std::string& word);

// The one place the sensor's defaults are written: `netlof record`'s options
// and the daemon config's `sensor:` section start from these.
struct SensorOptions {
    std::uint32_t max_sockets = 65536;    // TCP connections tracked at once
    std::uint32_t max_udp_flows = 16384;  // (socket, destination) UDP flows at once
    std::uint32_t ringbuf_kib = 4096;     // a power of two; also bounds each CPU's close queue
    double flush_interval_s = 30;         // counts of long-lived connections are reported this often
    double udp_idle_s = 30;               // a UDP flow with no datagram for this long ends
    std::size_t max_processes = 16384;    // executables and cgroup names remembered
    std::uint64_t wakeup_bytes = 64 * 1024;  // the kernel wakes the reader once this much is queued
    bool verbose = false;                 // libbpf's debug output
    bool drop_privileges = true;          // once attached, keep only what reading needs (privileges.hpp)
    bool attach_only = false;             // benchmarks: every program returns at once, nothing is recorded
    ByteSource byte_source = ByteSource::Auto;
    bool operator==(const SensorOptions&) const = default;
};

// What the sensor saw and lost since it started: the kernel's counters
// (summed over CPUs) and user space's own.
struct SensorCounters {
    std::uint64_t events = 0;              // records the kernel handed over
    std::uint64_t records = 0;             // connection records built
    std::uint64_t closes_queued = 0;       // close records through the per-CPU close queues
    std::uint64_t close_queue_full = 0;    // ... through the ring buffer while a queue was full
    std::uint64_t close_unseen = 0;        // closes not seen, reported when the socket was reused
    std::uint64_t ringbuf_full = 0;        // lost: ring buffer full
    std::uint64_t sockets_full = 0;        // lost: TCP map full
    std::uint64_t udp_flows_full = 0;      // lost: UDP map full
    std::uint64_t missed_runs = 0;         // lost: program runs the kernel skipped (re-entry on a CPU)
    std::uint64_t malformed = 0;           // rejected by user space
    std::uint64_t exec_lost = 0;           // exec records lost (executables then read from /proc)
    std::uint64_t exe_unknown = 0;         // records whose executable could not be named
    std::uint64_t exe_evictions = 0;
    std::uint64_t exe_from_proc = 0;
    std::uint64_t cgroups_unknown = 0;
    std::uint64_t user_read_failed = 0;    // a sockaddr the kernel could not read
    std::uint64_t udp_recv_no_source = 0;  // UDP datagrams received without a known sender
    std::uint64_t udp_recv_unsolicited = 0;  // UDP datagrams from peers the socket had not sent to
    // Connections the sensor lost: what the kernel counted plus the runs it skipped.
    std::uint64_t drops() const { return ringbuf_full + sockets_full + udp_flows_full + missed_runs; }
};

// The kernel wakes the reader only when records pile up; otherwise they are
// collected every kPollMs, which bounds how late a record (and an alert) can be.
inline constexpr int kPollMs = 10;

using SensorLog = std::function<void(LogLevel, const std::string&)>;

class Capture {
public:
    // Checks privileges and kernel support, mounts tracefs if it is missing,
    // loads and attaches the programs, then names the processes already
    // running. Throws InputError ("failed to X: reason", exit status 2).
    static std::unique_ptr<Capture> start(const SensorOptions& options, SensorLog log);
    ~Capture();
    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;

    // The records that ended since the last call, waiting up to kPollMs for
    // the first; once a second, UDP flows whose socket was closed or that
    // went idle end too. Valid until the next poll() or finish().
    const RecordBatch& poll();
    // Detaches the programs (nothing changes underneath any more), then
    // returns what was queued and every connection and flow still open
    // (outcome active).
    const RecordBatch& finish();

    SensorCounters counters() const;

private:
    struct Parts;
    explicit Capture(std::unique_ptr<Parts> parts);
    std::unique_ptr<Parts> parts_;
};

}  // namespace netlof

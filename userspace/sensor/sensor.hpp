// The kernel half's user-space handle: loads and attaches bpf/netlof.bpf.c,
// delivers its ring-buffer records, and reads what the maps still hold.
// Capture (capture.hpp) is its face to the rest of netlof.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "bpf/events.h"
#include "userspace/sensor/capture.hpp"

struct netlof_bpf;
struct ring_buffer;
struct bpf_link;

namespace netlof {

// Where the sensor delivers its records.
class SensorEvents {
public:
    virtual ~SensorEvents() = default;
    virtual void on_connection(const netlof_conn_event& e) = 0;
    virtual void on_exec(const netlof_exec_event& e) = 0;
};

// Entries of the kernel's direct-mapped connection table for max_sockets:
// a power of two, a quarter of it (at least 16); the hash map behind it
// holds max_sockets.
std::uint32_t conn_slot_count(std::uint32_t max_sockets);

// Closes each CPU's queue may hold for a ring buffer of ringbuf_bytes: as
// many records as the ring holds, at most NETLOF_CLOSE_QUEUE_LEN. A small
// ring buffer makes all of the kernel's buffering small (the fault tests use
// a 4 KiB one to force drops).
std::uint32_t close_queue_length(std::uint32_t ringbuf_bytes);

class Sensor {
public:

    // Checks privileges and kernel support, mounts tracefs if it is missing
    // (and says so through log), then opens, sizes, loads and attaches the
    // programs. Throws InputError ("failed to X: reason", exit status 2).
    static std::unique_ptr<Sensor> start(const SensorOptions& options, SensorEvents& events, SensorLog log);
    ~Sensor();
    Sensor(const Sensor&) = delete;
    Sensor& operator=(const Sensor&) = delete;

    // Delivers pending ring-buffer records to the events, then the close
    // records in each CPU's close queue; waits up to timeout_ms for the
    // first. Returns how many were delivered (malformed ones are counted and
    // skipped).
    int poll(int timeout_ms);

    // Detaches every program: no record is made after this, so a final
    // poll() and the map readers below see one consistent state.
    void stop_tracing();

    // The keys of the UDP flows the kernel holds now.
    std::vector<netlof_udp_key> udp_flow_keys() const;
    // Removes and returns the flows among keys for which ended(key, flow)
    // holds (every one of them when ended is empty).
    using FlowEnded = std::function<bool(const netlof_udp_key&, const netlof_conn&)>;
    std::vector<netlof_conn> take_udp_flows(const std::vector<netlof_udp_key>& keys, const FlowEnded& ended = {});
    // The TCP connections the kernel is tracking now.
    std::vector<netlof_conn> open_tcp_connections() const;

    // Where byte counts come from on this run (Auto resolved at start).
    ByteSource byte_source() const { return byte_source_; }
    // With ByteSource::Counters: reads every tracked TCP connection's counts
    // from its socket into the table, and sends a flush record for each one
    // that moved when `flush` (the kernel program refresh_tcp_counts, run
    // on demand). Does nothing with sock-length, whose counts are current.
    void refresh_tcp_counts(bool flush);

    std::array<std::uint64_t, NETLOF_STAT_COUNT> kernel_stats() const;  // summed over CPUs
    std::uint64_t malformed_records() const { return malformed_; }
    // Close records delivered from the kernel's per-CPU close queues (events.h).
    std::uint64_t closes_queued() const { return closes_queued_; }
    // Program runs the kernel skipped because the same program was already
    // running on that CPU (a tracepoint hit from an interrupt inside it):
    // events lost without any map or ring buffer being full.
    std::uint64_t missed_runs() const;

private:
    Sensor() = default;
    static int on_sample(void* ctx, void* data, std::size_t size);
    // Reads how far each CPU's close queue is written; then delivers up to
    // there, frees the slots, and returns how many.
    void snapshot_close_queues();
    int deliver_close_queues();

    netlof_bpf* skel_ = nullptr;
    ring_buffer* ring_ = nullptr;
    std::vector<struct bpf_link*> links_;
    SensorEvents* events_ = nullptr;
    std::uint64_t malformed_ = 0;
    std::uint64_t closes_queued_ = 0;
    netlof_close_queue* queues_ = nullptr;  // the "close_queues" map, one per possible CPU
    std::size_t queues_len_ = 0;
    std::vector<std::uint64_t> queue_heads_;  // per CPU, read before the ring is consumed
    ByteSource byte_source_ = ByteSource::SockLength;
};

// Whether the running kernel has every tracepoint named (sock_send_length):
// a tracepoint's raw type (btf_trace_NAME) is in the kernel's BTF.
bool kernel_has_tracepoints(std::initializer_list<const char*> names);

// Nanoseconds per jiffy: the resolution of CLOCK_MONOTONIC_COARSE, which the
// kernel gives as one tick (1e9 / CONFIG_HZ, rounded); 0 if it cannot tell.
std::uint64_t jiffy_nanoseconds();

// Mounts tracefs at /sys/kernel/tracing unless tracefs is reachable there or
// under debugfs. Returns true when it mounted it. Throws InputError on failure.
bool ensure_tracefs();

}  // namespace netlof

// The kernel half's user-space handle: loads and attaches bpf/netlof.bpf.c,
// delivers its ring-buffer records, and reads what the maps still hold.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bpf/events.h"

struct netlof_bpf;
struct ring_buffer;
struct bpf_link;

namespace netlof {

struct SensorOptions {
    std::uint32_t max_sockets = 65536;    // TCP connections tracked at once
    std::uint32_t max_udp_flows = 16384;  // (socket, destination) UDP flows at once
    std::uint32_t ringbuf_bytes = 4u << 20;
    std::uint64_t flush_interval_ns = 30ULL * 1000000000ULL;  // counts of long-lived connections
    std::uint64_t wakeup_bytes = 64 * 1024;  // the kernel wakes the reader once this much is queued
    bool verbose = false;                  // libbpf's debug output
    bool drop_privileges = true;           // once attached, keep only what reading needs (privileges.hpp)
};

using SensorLog = std::function<void(const std::string&)>;

// Entries of the kernel's direct-mapped connection table for max_sockets:
// a power of two, a quarter of it (at least 16); the hash map behind it
// holds max_sockets.
std::uint32_t conn_slot_count(std::uint32_t max_sockets);

class Sensor {
public:
    using EventHandler = std::function<void(const netlof_conn_event&)>;

    // Checks privileges and kernel support, mounts tracefs if it is missing
    // (and says so through log), then opens, sizes, loads and attaches the
    // programs. Throws InputError ("failed to X: reason", exit status 2).
    static std::unique_ptr<Sensor> start(const SensorOptions& options, EventHandler handler, SensorLog log);
    ~Sensor();
    Sensor(const Sensor&) = delete;
    Sensor& operator=(const Sensor&) = delete;

    // Delivers pending records to the handler, then the close records each
    // CPU has staged for its next batch; waits up to timeout_ms for the
    // first. Returns how many ring-buffer records and staged closes were
    // delivered (malformed ones are counted and skipped).
    int poll(int timeout_ms);

    // Detaches every program: no record is made after this, so a final
    // poll() and the map readers below see one consistent state.
    void stop_tracing();

    // Removes and returns UDP flows whose last activity is before
    // idle_before_ktime (every flow for UINT64_MAX).
    std::vector<netlof_conn> take_udp_flows(std::uint64_t idle_before_ktime);
    // The TCP connections the kernel is tracking now.
    std::vector<netlof_conn> open_tcp_connections() const;

    std::array<std::uint64_t, NETLOF_STAT_COUNT> kernel_stats() const;  // summed over CPUs
    std::uint64_t malformed_records() const { return malformed_; }
    // Ring-buffer records that carried a batch of NETLOF_BATCH_MAX closes, and
    // closes taken from the kernel's per-CPU staging (events.h) at a poll.
    std::uint64_t batches() const { return batches_; }
    std::uint64_t staged_taken() const { return staged_taken_; }
    // Program runs the kernel skipped because the same program was already
    // running on that CPU (a tracepoint hit from an interrupt inside it):
    // events lost without any map or ring buffer being full.
    std::uint64_t missed_runs() const;

private:
    Sensor() = default;
    static int on_sample(void* ctx, void* data, std::size_t size);
    // Copies out (and frees) the close records each CPU has staged; then
    // delivers them and returns how many.
    void take_staged();
    int deliver_taken();

    netlof_bpf* skel_ = nullptr;
    ring_buffer* ring_ = nullptr;
    std::vector<struct bpf_link*> links_;
    EventHandler handler_;
    std::uint64_t malformed_ = 0;
    std::uint64_t batches_ = 0;
    std::uint64_t staged_taken_ = 0;
    netlof_batch* staged_ = nullptr;  // the "staged" map, one entry per possible CPU
    std::size_t staged_len_ = 0;
    std::uint32_t staged_cpus_ = 0;
    std::vector<netlof_conn_event> taken_;  // NETLOF_BATCH_MAX per CPU
    std::size_t taken_count_ = 0;
};

// Mounts tracefs at /sys/kernel/tracing unless tracefs is reachable there or
// under debugfs. Returns true when it mounted it. Throws InputError on failure.
bool ensure_tracefs();

}  // namespace netlof

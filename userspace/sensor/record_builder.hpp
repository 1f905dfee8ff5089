// Turns the kernel's connection records (netlof_conn) into ConnectionRecords,
// naming each process's executable from the kernel's exec records (ExeTable)
// and its cgroup (CgroupNames), both bounded.
#pragma once

#include <cstdint>
#include <string>

#include "bpf/events.h"
#include "userspace/records/connection_record.hpp"
#include "userspace/sensor/cgroup_names.hpp"
#include "userspace/sensor/exe_table.hpp"
#include "userspace/sensor/sensor.hpp"

namespace netlof {

// The record's outcome of the kernel's (NETLOF_OUTCOME_*).
Outcome outcome_of(std::uint8_t kernel_outcome);

// Converts kernel time (CLOCK_MONOTONIC ns, as bpf_ktime_get_ns) to unix time.
class KernelClock {
public:
    KernelClock();  // measures the offset now
    explicit KernelClock(std::int64_t offset_ns) : offset_ns_(offset_ns) {}
    // Modular arithmetic: a garbage ktime from a malformed event gives a
    // garbage time, never signed overflow.
    double to_unix(std::uint64_t ktime_ns) const {
        return static_cast<double>(static_cast<std::int64_t>(ktime_ns + static_cast<std::uint64_t>(offset_ns_))) / 1e9;
    }
    static std::uint64_t now_ktime();

private:
    std::int64_t offset_ns_;
};

// The record of c, ending at end_ktime (its last activity, or now for an
// active one), into r: its strings keep their buffers, so a reused record
// costs no allocation per connection. exe, unit and container_id are the
// caller's.
void fill_record(ConnectionRecord& r, const netlof_conn& c, std::uint64_t end_ktime, const KernelClock& clock);

struct RecordBuilderStats {
    std::uint64_t records = 0;
};

class RecordBuilder : public SensorEvents {
public:
    // cgroup_root: the cgroup2 hierarchy the kernel's cgroup ids name (cgroup2_root()).
    RecordBuilder(KernelClock clock, std::size_t max_processes, std::string cgroup_root = cgroup2_root());

    // One sensor record: a finished connection (or a long one's flush) joins the batch.
    void on_connection(const netlof_conn_event& e) override;
    // A process ran a new executable.
    void on_exec(const netlof_exec_event& e) override { exes_.on_exec(e); }
    // A UDP flow taken from the kernel (idle, or at exit) or a TCP connection
    // still open at exit joins the batch with the given end time and outcome.
    void finish(const netlof_conn& c, std::uint64_t end_ktime, std::uint8_t outcome);

    // The records built since the caller last cleared it.
    RecordBatch& batch() { return batch_; }
    const RecordBuilderStats& stats() const { return stats_; }
    ExeTable& exes() { return exes_; }
    const ExeTable& exes() const { return exes_; }
    const CgroupNames& cgroups() const { return cgroups_; }

private:
    void emit(const netlof_conn& c, std::uint64_t end_ktime);

    KernelClock clock_;
    ExeTable exes_;
    CgroupNames cgroups_;
    RecordBatch batch_;
    RecordBuilderStats stats_;
};

}  // namespace netlof

// Turns the sensor's records into ConnectionRecords, naming each process's
// executable from the kernel's exec records (ExeTable, bounded).
#pragma once

#include <cstdint>
#include <functional>

#include "bpf/events.h"
#include "userspace/sensor/cgroup_names.hpp"
#include "userspace/records/connection_record.hpp"
#include "userspace/sensor/exe_table.hpp"
#include "userspace/sensor/sensor.hpp"

namespace netlof {

struct RecordBuilderStats {
    std::uint64_t records = 0;
};

class RecordBuilder : public SensorEvents {
public:
    using RecordSink = std::function<void(const ConnectionRecord&)>;

    // cgroup_root: the cgroup2 hierarchy the kernel's cgroup ids name (cgroup2_root()).
    RecordBuilder(KernelClock clock, std::size_t max_processes, RecordSink sink, std::string cgroup_root = cgroup2_root());

    // One sensor record: finished connections go to the sink.
    void on_connection(const netlof_conn_event& e) override;
    // A process ran a new executable.
    void on_exec(const netlof_exec_event& e) override { exes_.on_exec(e); }
    // A UDP flow taken from the kernel (idle, or at exit) or a TCP connection
    // still open at exit: reported with the given end time and outcome.
    void finish(const netlof_conn& c, std::uint64_t end_ktime, std::uint8_t outcome);

    const RecordBuilderStats& stats() const { return stats_; }
    ExeTable& exes() { return exes_; }
    const ExeTable& exes() const { return exes_; }
    const CgroupNames& cgroups() const { return cgroups_; }

private:
    void emit(const netlof_conn& c, std::uint64_t end_ktime);

    KernelClock clock_;
    ExeTable exes_;
    CgroupNames cgroups_;
    RecordSink sink_;
    RecordBuilderStats stats_;
    ConnectionRecord record_;  // reused for every record: the sink gets a reference for the call
};

}  // namespace netlof

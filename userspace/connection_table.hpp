// Turns the sensor's records into ConnectionRecords: resolves each process's
// executable once (cached, bounded), tracks open TCP connections (bounded),
// and counts everything it had to give up on.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "bpf/events.h"
#include "userspace/connection_record.hpp"

namespace netlof {

// /proc/<pid>/exe, read once per process. Keyed by pid and checked against
// the process name, so a reused pid with another name is read again.
class ExeCache {
public:
    explicit ExeCache(std::size_t capacity, std::string proc_root = "/proc")
        : capacity_(capacity), proc_root_(std::move(proc_root)) {}
    const std::string& lookup(std::uint32_t pid, const std::string& comm);
    std::uint64_t evictions() const { return evictions_; }
    std::uint64_t unknown() const { return unknown_; }  // processes gone before they could be read
    std::size_t size() const { return entries_.size(); }

private:
    struct Entry {
        std::string comm, exe;
    };
    std::size_t capacity_;
    std::string proc_root_;
    std::unordered_map<std::uint32_t, Entry> entries_;
    std::deque<std::uint32_t> order_;  // insertion order, for eviction
    std::uint64_t evictions_ = 0, unknown_ = 0;
};

struct TableStats {
    std::uint64_t records = 0;
};

class ConnectionTable {
public:
    using RecordSink = std::function<void(const ConnectionRecord&)>;

    ConnectionTable(KernelClock clock, std::size_t max_processes, RecordSink sink);

    // One sensor record: finished connections go to the sink.
    void on_event(const netlof_conn_event& e);
    // A UDP flow taken from the kernel (idle, or at exit) or a TCP connection
    // still open at exit: reported with the given end time and outcome.
    void finish(const netlof_conn& c, std::uint64_t end_ktime, std::uint8_t outcome);

    const TableStats& stats() const { return stats_; }
    const ExeCache& exe_cache() const { return exes_; }

private:
    void emit(const netlof_conn& c, std::uint64_t end_ktime);

    KernelClock clock_;
    ExeCache exes_;
    RecordSink sink_;
    TableStats stats_;
    ConnectionRecord record_;  // reused for every record: the sink gets a reference for the call
};

}  // namespace netlof

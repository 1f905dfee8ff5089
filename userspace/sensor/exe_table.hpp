// The executables behind connection records. The kernel names a process's
// executable by identity, (dev, inode) of mm->exe_file, in every record, and
// sends the path at each exec; this table maps one to the other. A process
// whose exec netlof did not see (it started before netlof, or the exec
// record was lost) is looked up in /proc/<pid>/exe, and the path is used only
// when that file is the one the record names: never another binary's path.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

#include "bpf/events.h"

namespace netlof {

struct ExeId {
    std::uint32_t dev = 0;  // the kernel's dev_t: major << 20 | minor
    std::uint64_t ino = 0;  // 0: no executable (a kernel thread)
    bool operator==(const ExeId&) const = default;
};

// The kernel's dev_t encoding of a device number user space got from stat().
std::uint32_t kernel_dev(std::uint64_t st_dev);

struct ExeTableStats {
    std::uint64_t from_exec = 0;    // paths the kernel sent at exec
    std::uint64_t from_proc = 0;    // paths read from /proc/<pid>/exe (at start, or on a miss)
    std::uint64_t unknown = 0;      // records whose executable could not be named
    std::uint64_t evictions = 0;    // paths dropped to stay within capacity
    std::uint64_t truncated = 0;    // exec paths longer or deeper than the kernel's walk
};

class ExeTable {
public:
    explicit ExeTable(std::size_t capacity, std::string proc_root = "/proc")
        : capacity_(capacity), proc_root_(std::move(proc_root)) {}

    // An exec record from the kernel.
    void on_exec(const netlof_exec_event& e);
    // Reads the executable of every process running now (those started
    // before the sensor's exec program was attached).
    void scan_running();
    // The path of executable `id`, run by process tgid; empty when it cannot
    // be known (counted in stats().unknown).
    const std::string& lookup(std::uint32_t tgid, const ExeId& id);

    const ExeTableStats& stats() const { return stats_; }
    std::size_t size() const { return paths_.size(); }

private:
    struct IdHash {
        std::size_t operator()(const ExeId& id) const { return id.ino * 0x9E3779B97F4A7C15ULL ^ id.dev; }
    };
    // The path and identity /proc/<pid>/exe shows now; false when unreadable.
    bool read_proc(std::uint32_t pid, std::string& path, ExeId& id) const;
    const std::string& insert(const ExeId& id, std::string path);

    std::size_t capacity_;
    std::string proc_root_;
    std::unordered_map<ExeId, std::string, IdHash> paths_;
    std::deque<ExeId> order_;  // insertion order, for eviction
    ExeTableStats stats_;
    std::string scratch_;
};

}  // namespace netlof

#include "userspace/connection_table.hpp"

#include <climits>
#include <cstring>
#include <unistd.h>

namespace netlof {

const std::string& ExeCache::lookup(std::uint32_t pid, const std::string& comm) {
    auto it = entries_.find(pid);
    if (it != entries_.end() && it->second.comm == comm) return it->second.exe;
    char buf[PATH_MAX];
    const std::string link = proc_root_ + "/" + std::to_string(pid) + "/exe";
    const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    std::string exe = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    if (exe.empty()) ++unknown_;
    if (it != entries_.end()) {
        it->second = {comm, std::move(exe)};
        return it->second.exe;
    }
    while (entries_.size() >= capacity_ && !order_.empty()) {
        entries_.erase(order_.front());
        order_.pop_front();
        ++evictions_;
    }
    order_.push_back(pid);
    return entries_.emplace(pid, Entry{comm, std::move(exe)}).first->second.exe;
}

ConnectionTable::ConnectionTable(KernelClock clock, std::size_t max_processes, RecordSink sink)
    : clock_(clock), exes_(max_processes), sink_(std::move(sink)) {}

void ConnectionTable::emit(const netlof_conn& c, std::uint64_t end_ktime) {
    fill_record(record_, c, end_ktime, clock_);
    record_.exe = exes_.lookup(c.tgid, record_.process_name);  // assigned into its buffer: no allocation
    ++stats_.records;
    sink_(record_);
}

void ConnectionTable::on_event(const netlof_conn_event& e) {
    const netlof_conn& c = e.conn;
    switch (e.hdr.type) {
        case NETLOF_EV_PROCESS_SEEN:
            // Read the executable while the process surely still exists.
            exes_.lookup(c.tgid, std::string(c.comm, strnlen(c.comm, NETLOF_COMM_LEN)));
            break;
        case NETLOF_EV_TCP_FLUSH:
            // A long-lived connection is reported every flush interval with
            // outcome "active" and its counts so far; its close record follows.
            emit(c, e.hdr.ktime_ns);
            break;
        case NETLOF_EV_TCP_CLOSE:
            emit(c, c.last_seen_ns);
            break;
        case NETLOF_EV_CONNECT_FAILED:
            emit(c, c.last_seen_ns);
            break;
        default: break;
    }
}

void ConnectionTable::finish(const netlof_conn& c, std::uint64_t end_ktime, std::uint8_t outcome) {
    netlof_conn copy = c;
    copy.outcome = outcome;
    emit(copy, end_ktime);
}

}  // namespace netlof

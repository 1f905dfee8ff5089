#include "userspace/sensor/record_builder.hpp"


namespace netlof {

RecordBuilder::RecordBuilder(KernelClock clock, std::size_t max_processes, RecordSink sink, std::string cgroup_root)
    : clock_(clock), exes_(max_processes), cgroups_(max_processes, std::move(cgroup_root)), sink_(std::move(sink)) {}

void RecordBuilder::emit(const netlof_conn& c, std::uint64_t end_ktime) {
    fill_record(record_, c, end_ktime, clock_);
    record_.exe = exes_.lookup(c.tgid, ExeId{c.exe_dev, c.exe_ino});  // assigned into its buffer: no allocation
    const CgroupName& cg = cgroups_.lookup(c.cgroup_id);
    record_.unit = cg.unit;
    record_.container_id = cg.container_id;
    ++stats_.records;
    sink_(record_);
}

void RecordBuilder::on_connection(const netlof_conn_event& e) {
    const netlof_conn& c = e.conn;
    switch (e.hdr.type) {
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

void RecordBuilder::finish(const netlof_conn& c, std::uint64_t end_ktime, std::uint8_t outcome) {
    netlof_conn copy = c;
    copy.outcome = outcome;
    emit(copy, end_ktime);
}

}  // namespace netlof

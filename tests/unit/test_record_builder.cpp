#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <unistd.h>

#include "tests/test_support.hpp"
#include "userspace/sensor/record_builder.hpp"
#include "userspace/records/record_writer.hpp"

using namespace netlof;

namespace {

ConnectionRecord make_record(const netlof_conn& c, std::uint64_t end_ktime, const KernelClock& clock) {
    ConnectionRecord r;
    fill_record(r, c, end_ktime, clock);
    return r;
}
netlof_conn tcp_conn(std::uint32_t tgid, const char* comm, std::uint64_t sock) {
    netlof_conn c{};
    c.sock_id = sock;
    c.tgid = c.pid = tgid;
    c.family = NETLOF_AF_INET;
    c.proto = IPPROTO_TCP;
    c.ts_start_ns = 1000000000;
    c.last_seen_ns = 3500000000;
    inet_pton(AF_INET, "10.0.0.1", c.saddr);
    inet_pton(AF_INET, "192.0.2.7", c.daddr);
    c.sport = 40000;
    c.dport = 443;
    c.bytes_sent = 10;
    c.bytes_received = 20;
    std::strncpy(c.comm, comm, sizeof c.comm - 1);
    return c;
}
}  // namespace

TEST_CASE("records from kernel connections: addresses, times, outcome", "[record_builder]") {
    const KernelClock clock(1700000000LL * 1000000000LL);
    netlof_conn c = tcp_conn(42, "curl", 1);
    c.outcome = NETLOF_OUTCOME_CLOSED;
    ConnectionRecord r = make_record(c, c.last_seen_ns, clock);
    CHECK(ip_text(r.src_ip) == "10.0.0.1");
    CHECK(ip_text(r.dst_ip) == "192.0.2.7");
    CHECK(r.family() == 4);
    CHECK(r.duration == Approx(2.5));
    CHECK(r.ts_start == Approx(1700000001.0));
    CHECK(r.outcome == Outcome::Closed);
    CHECK(r.proto == "tcp");
    CHECK(format_timestamp(r.ts_start) == "2023-11-14 22:13:21");

    c.family = NETLOF_AF_INET6;
    inet_pton(AF_INET6, "::ffff:198.51.100.2", c.daddr);
    r = make_record(c, c.last_seen_ns, clock);
    CHECK(ip_text(r.dst_ip) == "198.51.100.2");
    CHECK(r.family() == 4);
    inet_pton(AF_INET6, "2001:db8::1", c.daddr);
    r = make_record(c, c.last_seen_ns, clock);
    CHECK(ip_text(r.dst_ip) == "2001:db8::1");
    CHECK(r.family() == 6);
}

TEST_CASE("a reused record is filled completely: nothing of the previous connection stays", "[record_builder]") {
    const KernelClock clock(1700000000LL * 1000000000LL);
    netlof_conn first = tcp_conn(42, "long-comm-name", 1);
    first.family = NETLOF_AF_INET6;
    first.proto = IPPROTO_UDP;
    inet_pton(AF_INET6, "2001:db8::1:2:3:4", first.saddr);
    inet_pton(AF_INET6, "2001:db8:ffff::99", first.daddr);
    first.outcome = NETLOF_OUTCOME_REFUSED;
    first.error = 111;
    first.cgroup_id = 9;
    first.ppid = 7;
    first.uid = 1000;
    netlof_conn second = tcp_conn(43, "nc", 2);
    second.outcome = NETLOF_OUTCOME_CLOSED;
    ConnectionRecord reused;
    fill_record(reused, first, first.last_seen_ns + 5, clock);
    reused.exe = "/usr/bin/first";
    fill_record(reused, second, second.last_seen_ns, clock);
    reused.exe = "/usr/bin/nc";
    ConnectionRecord fresh = make_record(second, second.last_seen_ns, clock);
    fresh.exe = "/usr/bin/nc";
    CHECK(test::record_json(reused) == test::record_json(fresh));
    CHECK(reused.family() == 4);
    CHECK(reused.error == 0);
}

TEST_CASE("the builder batches closes, flushes and failures, each naming the executable of its exec record", "[record_builder]") {
    RecordBuilder table(KernelClock(0), 16);
    const RecordBatch& out = table.batch();
    netlof_exec_event x{};
    x.hdr.type = NETLOF_EV_EXEC;
    x.hdr.size = sizeof x;
    x.exe_dev = 3;
    x.exe_ino = 1234;
    x.path_len = 13;
    std::memcpy(x.path, "/usr/bin/curl", 13);
    table.on_exec(x);
    CHECK(out.empty());  // no record: the path is kept for the connections
    netlof_conn_event e{};
    e.hdr.size = sizeof e;
    e.conn = tcp_conn(7, "renamed", 1);
    e.conn.exe_dev = 3;
    e.conn.exe_ino = 1234;
    e.hdr.type = NETLOF_EV_TCP_FLUSH;
    e.hdr.ktime_ns = 2000000000;
    table.on_connection(e);
    e.hdr.type = NETLOF_EV_TCP_CLOSE;
    e.conn.outcome = NETLOF_OUTCOME_CLOSED;
    table.on_connection(e);
    e.conn = tcp_conn(8, "b", 2);
    e.hdr.type = NETLOF_EV_CONNECT_FAILED;
    e.conn.outcome = NETLOF_OUTCOME_FAILED;
    table.on_connection(e);
    REQUIRE(out.size() == 3);
    CHECK(out[0].outcome == Outcome::Active);
    CHECK(out[0].duration == Approx(1.0));
    CHECK(out[0].exe == "/usr/bin/curl");
    CHECK(out[1].outcome == Outcome::Closed);
    CHECK(out[2].outcome == Outcome::Failed);
    CHECK(out[2].exe.empty());  // no identity, no process to read: unknown, and counted
    CHECK(table.exes().stats().unknown == 1);
    table.finish(tcp_conn(9, "c", 3), 5000000000, NETLOF_OUTCOME_ACTIVE);
    CHECK(out[out.size() - 1].outcome == Outcome::Active);
    CHECK(out[out.size() - 1].duration == Approx(4.0));
    CHECK(table.stats().records == 4);
}

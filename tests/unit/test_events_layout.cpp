// The kernel/user boundary's layout, pinned: a change to bpf/events.h that
// moves a field breaks the build here, not the records at run time.
#include <catch2/catch.hpp>
#include <cstddef>

#include "bpf/events.h"

static_assert(sizeof(netlof_event_header) == 16);
static_assert(offsetof(netlof_event_header, ktime_ns) == 0);
static_assert(offsetof(netlof_event_header, type) == 8);
static_assert(offsetof(netlof_event_header, size) == 12);

static_assert(sizeof(netlof_conn) == 144);
static_assert(sizeof(netlof_conn) % 8 == 0);
static_assert(offsetof(netlof_conn, sock_id) == 0);
static_assert(offsetof(netlof_conn, cgroup_id) == 8);
static_assert(offsetof(netlof_conn, ts_start_ns) == 16);
static_assert(offsetof(netlof_conn, last_seen_ns) == 24);
static_assert(offsetof(netlof_conn, last_flush_ns) == 32);
static_assert(offsetof(netlof_conn, bytes_sent) == 40);
static_assert(offsetof(netlof_conn, bytes_received) == 48);
static_assert(offsetof(netlof_conn, tgid) == 56);
static_assert(offsetof(netlof_conn, pid) == 60);
static_assert(offsetof(netlof_conn, ppid) == 64);
static_assert(offsetof(netlof_conn, uid) == 68);
static_assert(offsetof(netlof_conn, error) == 72);
static_assert(offsetof(netlof_conn, family) == 76);
static_assert(offsetof(netlof_conn, sport) == 78);
static_assert(offsetof(netlof_conn, dport) == 80);
static_assert(offsetof(netlof_conn, proto) == 82);
static_assert(offsetof(netlof_conn, outcome) == 83);
static_assert(offsetof(netlof_conn, saddr) == 84);
static_assert(offsetof(netlof_conn, daddr) == 100);
static_assert(offsetof(netlof_conn, comm) == 116);
static_assert(offsetof(netlof_conn, exe_dev) == 132);
static_assert(offsetof(netlof_conn, exe_ino) == 136);

static_assert(sizeof(netlof_conn_event) == 160);
static_assert(offsetof(netlof_conn_event, conn) == 16);

static_assert((NETLOF_CLOSE_QUEUE_LEN & (NETLOF_CLOSE_QUEUE_LEN - 1)) == 0);
static_assert(offsetof(netlof_close_queue, head) == 0);
static_assert(offsetof(netlof_close_queue, busy) == 8);
static_assert(offsetof(netlof_close_queue, tail) == 64);  // not on head's cache line
static_assert(offsetof(netlof_close_queue, events) == 128);
static_assert(sizeof(netlof_close_queue) == 128 + NETLOF_CLOSE_QUEUE_LEN * 160);
static_assert(sizeof(netlof_close_queue) % 8 == 0);  // the mmapped array's stride in user space

static_assert(sizeof(netlof_exec_event) == 40 + NETLOF_EXE_PATH_LEN);
static_assert(offsetof(netlof_exec_event, exe_ino) == 16);
static_assert(offsetof(netlof_exec_event, exe_dev) == 24);
static_assert(offsetof(netlof_exec_event, tgid) == 28);
static_assert(offsetof(netlof_exec_event, flags) == 32);
static_assert(offsetof(netlof_exec_event, path_len) == 36);
static_assert(offsetof(netlof_exec_event, path) == 40);

static_assert(sizeof(netlof_udp_key) == 40);
static_assert(offsetof(netlof_udp_key, sock_ino) == 8);
static_assert(offsetof(netlof_udp_key, tgid) == 12);
static_assert(offsetof(netlof_udp_key, netns) == 16);
static_assert(offsetof(netlof_udp_key, dport) == 20);
static_assert(offsetof(netlof_udp_key, family) == 22);
static_assert(offsetof(netlof_udp_key, daddr) == 24);

TEST_CASE("events.h layout is pinned by static_assert", "[events_layout]") {
    CHECK(sizeof(netlof_conn_event) == sizeof(netlof_event_header) + sizeof(netlof_conn));
}

/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Every struct that crosses the kernel/user boundary, shared by
 * netlof.bpf.c and user space. Fixed-width fields, largest first, padding
 * written out; each ring-buffer record starts with netlof_event_header.
 * tests/unit/test_events_layout.cpp pins sizes and offsets.
 */
#ifndef NETLOF_EVENTS_H
#define NETLOF_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define NETLOF_COMM_LEN 16
#define NETLOF_AF_INET 2
#define NETLOF_AF_INET6 10

enum netlof_event_type {
	NETLOF_EV_PROCESS_SEEN = 1,   /* a thread's first TCP connect(): read its executable while it lives */
	NETLOF_EV_TCP_CLOSE = 2,      /* -> CLOSE: final byte counts */
	NETLOF_EV_TCP_FLUSH = 3,      /* counts of a long-lived connection, every flush interval */
	NETLOF_EV_CONNECT_FAILED = 4, /* connect() failed before any TCP state change */
};

enum netlof_outcome {
	NETLOF_OUTCOME_ACTIVE = 0,  /* still open when reported */
	NETLOF_OUTCOME_CLOSED = 1,
	NETLOF_OUTCOME_REFUSED = 2, /* RST in answer to SYN: ECONNREFUSED */
	NETLOF_OUTCOME_FAILED = 3,  /* never established for another reason */
};

/* Per-CPU counters in the "stats" map; user space sums them. */
enum netlof_stat {
	NETLOF_STAT_EVENTS = 0,         /* connection events made (ring buffer or close queue) */
	NETLOF_STAT_RINGBUF_FULL,       /* events lost: ring buffer had no room */
	NETLOF_STAT_CLOSE_QUEUE_FULL,   /* close events sent through the ring buffer: queue full */
	NETLOF_STAT_SOCKETS_FULL,       /* TCP connections not tracked: map full */
	NETLOF_STAT_UDP_FLOWS_FULL,     /* UDP flows not tracked: map full */
	NETLOF_STAT_USER_READ_FAILED,   /* destination sockaddr unreadable */
	NETLOF_STAT_CLOSE_UNSEEN,       /* TCP closes not seen: reported when the socket was reused */
	NETLOF_STAT_COUNT,
};

struct netlof_event_header {
	__u64 ktime_ns; /* bpf_ktime_get_ns() when the record was made */
	__u32 type;     /* enum netlof_event_type */
	__u32 size;     /* size of the whole record */
};

/*
 * One connection or UDP flow: the value of the "conn_slots", "sockets" and
 * "udp_flows" maps, and the body of every event. sock_id 0 marks a free slot.
 */
struct netlof_conn {
	__u64 sock_id;        /* kernel socket address: unique while it lives */
	__u64 cgroup_id;
	__u64 ts_start_ns;    /* ktime of connect() or of the first datagram */
	__u64 last_seen_ns;   /* UDP: ktime of the latest datagram; TCP: of the close (while
	                       * open, kernel side only: the latest send or receive on the
	                       * flush clock) */
	__u64 last_flush_ns;  /* TCP, kernel side only: the latest flush record, on the flush clock */
	__u64 bytes_sent;
	__u64 bytes_received;
	__u32 tgid;
	__u32 pid;            /* thread that connected */
	__u32 ppid;
	__u32 uid;
	__s32 error;          /* sk_err at close, or connect()'s -errno */
	__u16 family;         /* NETLOF_AF_INET or NETLOF_AF_INET6 */
	__u16 sport;          /* host byte order */
	__u16 dport;          /* host byte order */
	__u8 proto;           /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 outcome;         /* enum netlof_outcome */
	__u8 saddr[16];       /* network order; IPv4 in the first 4 bytes */
	__u8 daddr[16];
	char comm[NETLOF_COMM_LEN]; /* the process's (thread group leader's) name */
	__u8 _pad[4];
};

struct netlof_conn_event {
	struct netlof_event_header hdr;
	struct netlof_conn conn;
};

/*
 * TCP close records bypass the ring buffer. Writing them there was the
 * sensor's largest cost per connection: a reservation takes a lock with
 * interrupts off, and the producer walks megabytes of cold memory. Each CPU
 * appends its closes to its own queue instead, an entry of the "close_queues"
 * map that user space mmaps: a single-producer, single-consumer ring. The
 * kernel writes events[head % LEN], then advances head with an atomic swap;
 * user space reads the events from tail to head, then stores tail. A close
 * that finds its queue full (user space behind) goes through the ring buffer
 * and is counted (NETLOF_STAT_CLOSE_QUEUE_FULL): nothing is lost. `busy`
 * guards the producer side against a nested writer on the same CPU.
 */
#define NETLOF_CLOSE_QUEUE_LEN 512 /* a power of two */

struct netlof_close_queue {
	__u64 head;                 /* closes written; kernel only */
	__u32 busy;                 /* kernel only */
	__u32 _pad0;
	__u8 _pad1[48];             /* tail has a cache line of its own */
	__u64 tail;                 /* closes taken; user space only */
	__u8 _pad2[56];
	struct netlof_conn_event events[NETLOF_CLOSE_QUEUE_LEN];
};

/* Key of the "udp_flows" map: a process, one of its sockets and one
 * destination. The process is part of it because a UDP socket has no event
 * that ends it: a socket freed and reused by another process within the idle
 * timeout would otherwise add that process's datagrams to the first one's
 * flow. */
struct netlof_udp_key {
	__u64 sock_id;
	__u32 tgid;
	__u16 dport;
	__u16 family;
	__u8 daddr[16];
};

#endif /* NETLOF_EVENTS_H */

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
	NETLOF_EV_EXEC = 1,           /* a process ran a new executable: struct netlof_exec_event */
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

/*
 * Where byte counts come from, chosen by user space at load time by what the
 * running kernel has (const volatile byte_source).
 */
enum netlof_byte_source {
	/* sock:sock_send_length and sock:sock_recv_length (Linux 6.3+): every
	 * send and receive call, TCP and UDP, as the process made it. */
	NETLOF_BYTES_SOCK_LENGTH = 0,
	/* Older kernels: TCP from each connection's own counters (struct
	 * tcp_sock), read at its close and, by refresh_tcp_counts, every flush
	 * interval; UDP from the send and receive system calls' exits. */
	NETLOF_BYTES_COUNTERS = 1,
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
	NETLOF_STAT_EXEC_LOST,          /* exec records lost (ring buffer full): user space falls back to
	                                 * /proc/<pid>/exe, checked against the record's (dev, ino) */
	NETLOF_STAT_UDP_RECV_NO_SOURCE, /* datagrams received on unconnected UDP sockets whose sender is not
	                                 * known (read(), recv() without an address buffer, io_uring) */
	NETLOF_STAT_UDP_RECV_UNSOLICITED, /* datagrams received on unconnected UDP sockets from a peer the
	                                   * socket had not sent to: inbound, not part of an outbound flow */
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
	__u32 exe_dev;        /* the process's executable (mm->exe_file) as the kernel names it: */
	__u64 exe_ino;        /* device (kernel dev_t) and inode; the path comes from NETLOF_EV_EXEC */
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

/*
 * A process started a new executable (sched_process_exec). The path is the
 * one /proc/<pid>/exe shows, built in the kernel from the executable's
 * dentries and mounts, so it is known even for a process that lives a
 * millisecond. Processes that share an executable share its (dev, ino).
 */
#define NETLOF_EXE_PATH_LEN 512

enum netlof_exe_flags {
	NETLOF_EXE_DELETED = 1,   /* the file was unlinked (or never had a name: memfd) */
	NETLOF_EXE_TRUNCATED = 2, /* longer than NETLOF_EXE_PATH_LEN - 1, or deeper than the walk goes */
};

struct netlof_exec_event {
	struct netlof_event_header hdr;
	__u64 exe_ino;
	__u32 exe_dev;
	__u32 tgid;
	__u32 flags;                     /* enum netlof_exe_flags */
	__u32 path_len;                  /* bytes of path, no NUL */
	char path[NETLOF_EXE_PATH_LEN];
};

/*
 * Key of the "udp_flows" map: a process, one of its sockets and one
 * destination. A socket is its address and its inode number: the slab hands
 * a freed socket's address to the next socket, but the inode number is new
 * for every socket (the address alone merged a resolver's one-query sockets
 * into a few flows). The process is part of the key because a socket can be
 * shared; netns says where user space may look the socket up.
 */
struct netlof_udp_key {
	__u64 sock_id;
	__u32 sock_ino;  /* the socket's inode number (sockfs), as in /proc/net/udp */
	__u32 tgid;
	__u32 netns;     /* inode number of the socket's network namespace */
	__u16 dport;
	__u16 family;
	__u8 daddr[16];
};

#endif /* NETLOF_EVENTS_H */

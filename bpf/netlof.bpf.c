// SPDX-License-Identifier: GPL-2.0
/*
 * netlof's sensor: per-connection byte counts and owners for outbound TCP
 * connections and UDP flows, from tracepoints only.
 *
 * TCP: a connection is tracked from its CLOSE -> SYN_SENT transition, which
 * runs inside connect() in the connecting process, so the owner (pid, comm,
 * uid, cgroup) is read there; later transitions may run in softirq context
 * where the current task is someone else's. Its entry ("conn_slots", or
 * "sockets" when its slot is taken) leaves the kernel in a record every flush
 * interval while the connection lives and one when it closes.
 * Bytes come from one of two sources, chosen at load time (byte_source):
 * - sock_send_length / sock_recv_length (Linux 6.3+) fire in every send and
 *   receive call: TCP bytes are summed per socket, and a flush record goes
 *   out from the call that finds one due. UDP flows are keyed by process,
 *   socket and destination; the destination of an unconnected send is in the
 *   sendto/sendmsg/sendmmsg arguments, read from the thread's saved
 *   registers (no program at syscall entry: one would put every syscall on
 *   the host through the syscall tracepoint's probe). A reply on an
 *   unconnected socket names its sender only in the address the receive call
 *   writes back, read at the call's exit.
 * - Older kernels: TCP bytes are the connection's own counters (tcp_sock),
 *   read at its close and by refresh_tcp_counts, which user space runs every
 *   flush interval; UDP datagrams are counted at the exits of the send and
 *   receive system calls (sendto, sendmsg, sendmmsg, write, writev and the
 *   receive twins), whose file descriptor names the socket.
 * User space ends idle UDP flows by reading and deleting them from
 * "udp_flows", or when its socket is gone.
 * Executables: every record names the process's executable by (dev, inode);
 * each exec sends the path of the new one (NETLOF_EV_EXEC).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.h"

char LICENSE[] SEC("license") = "GPL";

/* Load-time settings, written by user space between open and load. */
const volatile __u32 self_tgid = 0;                         /* the sensor itself: never traced */
const volatile __u64 flush_interval_ns = 30ULL * 1000000000ULL; /* 0: no flush records */
/* Wake the reader only once this much is queued; it also polls on a short
 * timer. A wakeup per record cost more than everything else together. */
const volatile __u64 wakeup_bytes = 64 * 1024;
/* 64 - log2(entries of conn_slots) */
const volatile __u32 conn_slot_shift = 64 - 14;
/* Closes each CPU's queue holds (at most NETLOF_CLOSE_QUEUE_LEN): the ring
 * buffer's size bounds it, so a small ring means small kernel buffers. */
const volatile __u32 close_queue_len = NETLOF_CLOSE_QUEUE_LEN;
/* For `make bench` (record --attach-only): every program returns at once.
 * What remains is the cost of having these tracepoints attached at all
 * (dispatch, the syscall slow path), the floor under any sensor built on
 * them. The verifier knows the value and drops the dead branch: a normal
 * run pays one load of a cached line for it. */
const volatile __u32 attach_only = 0;
/* enum netlof_byte_source: where byte counts come from. */
const volatile __u32 byte_source = NETLOF_BYTES_SOCK_LENGTH;
/* Nanoseconds per jiffy (1e9 / CONFIG_HZ), from the resolution of
 * CLOCK_MONOTONIC_COARSE, which is one tick: no Kconfig file needed. 0:
 * unknown, the flush clock reads ktime. */
const volatile __u64 jiffy_ns = 0;
/* This architecture's syscall numbers (user space has them from its headers). */
const volatile __s64 nr_sendto = -1;
const volatile __s64 nr_sendmsg = -1;
const volatile __s64 nr_sendmmsg = -1;
const volatile __s64 nr_recvfrom = -1;
const volatile __s64 nr_recvmsg = -1;
const volatile __s64 nr_recvmmsg = -1;

#define ERR_CONNREFUSED 111
#define ERR_TIMEDOUT 110
#define ERR_CONNRESET 104
#define ERR_CONNABORTED 103
#define ERR_INPROGRESS 115
#define ERR_ALREADY 114
#define ERR_ISCONN 106
#define ERR_BADF 9
#define ERR_NOTSOCK 88
#define ERR_EXIST 17
#define FLAG_MSG_PEEK 2

/* Sizes are set by user space with bpf_map__set_max_entries() before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

/*
 * Tracked TCP connections: first a direct-mapped table indexed by a hash of
 * the socket address (claimed with a compare-and-swap of sock_id, freed by
 * zeroing it: no lock, no helper call, no allocation), then the hash map for
 * the sockets whose slot was taken. A hash map insert and delete take a
 * bucket lock with interrupts off; at tens of thousands of connections a
 * second they were a tenth of the sensor's cost. As with the hash map's
 * preallocated elements, a send racing with its socket's close on another CPU
 * may land in the slot's next tenant.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct netlof_conn); /* sock_id 0: free */
} conn_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* socket address */
	__type(value, struct netlof_conn);
} sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct netlof_udp_key);
	__type(value, struct netlof_conn);
} udp_flows SEC(".maps");

/* TCP close records, one queue per CPU (events.h says how). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* user space sets: possible CPUs */
	__type(key, __u32);
	__type(value, struct netlof_close_queue);
} close_queues SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NETLOF_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Per thread: the socket whose CLOSE -> SYN_SENT ran during its current
 * connect() (sys_exit_connect reads and clears it). */
struct connect_state {
	__u64 tcp_sock;
};

/* A sendmmsg in progress, by thread: which of its datagrams is being sent. */
struct mmsg_progress {
	__u64 uptr;  /* the mmsghdr array of the call */
	__u32 index; /* the datagram the next sock_send_length belongs to */
	__u32 pad;
};

/* A receive on an unconnected UDP socket in progress, by thread: the
 * sender's address reaches user memory only when the call returns. */
struct udp_recv {
	__u64 sock_id;  /* 0: none pending */
	__u64 bytes;    /* recvfrom and recvmsg (recvmmsg has a length per datagram) */
	__u32 sock_ino;
	__u32 netns;
};

/*
 * Per-thread storage: no hashing on every call, no eviction of a call in
 * flight, and freed with the thread (one killed inside the syscall never
 * reaches sys_exit). An entry with a zero pointer is idle.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct connect_state);
} connects SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct mmsg_progress);
} mmsgs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct udp_recv);
} udp_recvs SEC(".maps");

/*
 * A counting filter in front of both tables: most sockets that fire the TCP
 * and send/receive tracepoints are not tracked (every accepted socket on a
 * server), and finding that out in the tables costs a cache miss on a random
 * slot or hash bucket; this array is small enough to stay in cache. Each
 * entry counts the tracked sockets whose address hashes to it, raised before
 * a socket is tracked and lowered after, so 0 means certainly not tracked.
 * Only these programs untrack sockets (user space only reads the tables).
 */
#define GOLDEN64 0x9E3779B97F4A7C15ULL /* Fibonacci hashing of socket addresses */
#define TRACKED_SLOT_BITS 14
__u32 tracked_slots[1 << TRACKED_SLOT_BITS];

static __always_inline __u32 *tracked_slot(__u64 sock)
{
	return &tracked_slots[(sock * GOLDEN64) >> (64 - TRACKED_SLOT_BITS)];
}

static __always_inline struct netlof_conn *conn_slot(__u64 sock)
{
	__u32 i = (__u32)((sock * GOLDEN64) >> conn_slot_shift);

	return bpf_map_lookup_elem(&conn_slots, &i);
}

/* The tracked connection of a socket, or NULL. */
static __always_inline struct netlof_conn *find_conn(__u64 sock)
{
	struct netlof_conn *c;

	if (!*tracked_slot(sock))
		return NULL;
	c = conn_slot(sock);
	if (c && c->sock_id == sock)
		return c;
	return bpf_map_lookup_elem(&sockets, &sock);
}

static __always_inline void count(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &stat);
	/* Atomic though per CPU: a program in a softirq can interrupt one in
	 * process context on the same CPU, and a plain += would lose a count. */
	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline bool is_self(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == self_tgid;
}

/* The current process as the connection's owner. The task pointer is typed
 * (BTF), so its fields are plain loads the JIT guards, not a helper call
 * each: the four probe reads were most of this function's cost (bpf_stats:
 * about 0.1 of its 0.15 us per connection). */
static __always_inline void fill_owner(struct netlof_conn *c)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct task_struct *task = bpf_get_current_task_btf();
	struct task_struct *leader = task->group_leader;

	c->tgid = id >> 32;
	c->pid = (__u32)id;
	c->uid = (__u32)bpf_get_current_uid_gid();
	c->cgroup_id = bpf_get_current_cgroup_id();
	c->ppid = task->real_parent->tgid;
	/* The kernel keeps comm NUL-terminated in its 16 bytes. */
	__builtin_memcpy(c->comm, leader->comm, sizeof(c->comm));
	/* What /proc/<pid>/exe names, by identity: the name a process gives
	 * itself (comm, prctl) proves nothing. A kernel thread has no mm: 0. */
	struct inode *exe = task->mm->exe_file->f_inode;
	c->exe_ino = exe->i_ino;
	c->exe_dev = exe->i_sb->s_dev;
}

static __always_inline __u64 wakeup_flag(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void fill_event(struct netlof_conn_event *e, const struct netlof_conn *c, __u32 type, __u64 now)
{
	e->hdr.ktime_ns = now;
	e->hdr.type = type;
	e->hdr.size = sizeof(*e);
	__builtin_memcpy(&e->conn, c, sizeof(*c));
}

/* now: a time the caller already read (clock reads are costly in VMs). */
static __always_inline void emit(const struct netlof_conn *c, __u32 type, __u64 now)
{
	struct netlof_conn_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	count(NETLOF_STAT_EVENTS);
	if (!e) {
		count(NETLOF_STAT_RINGBUF_FULL);
		return;
	}
	fill_event(e, c, type, now);
	bpf_ringbuf_submit(e, wakeup_flag());
}

/* A close record: into this CPU's close queue, or the ring buffer when the
 * queue is full. */
static __always_inline void emit_close(const struct netlof_conn *c, __u64 now)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct netlof_close_queue *q = bpf_map_lookup_elem(&close_queues, &cpu);
	__u64 head;

	if (!q || __sync_val_compare_and_swap(&q->busy, 0, 1) != 0) {
		emit(c, NETLOF_EV_TCP_CLOSE, now);
		return;
	}
	head = q->head;
	if (head - *(volatile __u64 *)&q->tail >= close_queue_len) {
		__sync_lock_test_and_set(&q->busy, 0);
		count(NETLOF_STAT_CLOSE_QUEUE_FULL);
		emit(c, NETLOF_EV_TCP_CLOSE, now);
		return;
	}
	fill_event(&q->events[head & (NETLOF_CLOSE_QUEUE_LEN - 1)], c, NETLOF_EV_TCP_CLOSE, now);
	count(NETLOF_STAT_EVENTS);
	/* Publishes the event. A swap, as it is fully ordered on every JIT (an
	 * atomic add without a fetch is not on arm64): the event's writes are
	 * visible first. The writes above cannot pass the read of tail either:
	 * they depend on its comparison. */
	__sync_lock_test_and_set(&q->head, head + 1);
	__sync_lock_test_and_set(&q->busy, 0);
}

/*
 * The clock of the flush interval, read per send and receive: jiffies (a
 * memory read) in nanoseconds where the tick's length is known, else ktime.
 * ktime is a paravirtual clock read in a VM, and tracing programs may not
 * call bpf_ktime_get_coarse_ns.
 */
static __always_inline __u64 flush_clock(void)
{
	if (jiffy_ns)
		return bpf_jiffies64() * jiffy_ns;
	return bpf_ktime_get_ns();
}

/* Per send/receive of a TCP connection: notes the time, and sends a flush
 * record when one is due. (While the connection is open its last_seen is on
 * the flush clock, for report_unseen_close; the close sets it to ktime.) */
static __always_inline void touch(struct netlof_conn *c)
{
	__u64 now = flush_clock();

	c->last_seen_ns = now; /* a cache line the byte count just wrote */
	if (flush_interval_ns && now - c->last_flush_ns >= flush_interval_ns) {
		c->last_flush_ns = now;
		emit(c, NETLOF_EV_TCP_FLUSH, bpf_ktime_get_ns());
	}
}

/* ---- TCP lifecycle ----------------------------------------------------- */

/* Source or destination address of sk, by family, into a 16-byte array. */
static __always_inline void sock_addr(struct sock *sk, __u16 family, __u8 *out, bool source)
{
	if (family == NETLOF_AF_INET) {
		__u32 a = source ? BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr) : BPF_CORE_READ(sk, __sk_common.skc_daddr);

		__builtin_memcpy(out, &a, 4);
	} else if (source) {
		BPF_CORE_READ_INTO((__u8(*)[16])out, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
	} else {
		BPF_CORE_READ_INTO((__u8(*)[16])out, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
}

/* Stops tracking c, found by find_conn(key) or in its table; its record is
 * already out. */
static __always_inline void untrack(struct netlof_conn *c, __u64 key)
{
	struct netlof_conn *slot = conn_slot(key);

	if (c == slot)
		__sync_lock_test_and_set(&slot->sock_id, 0); /* its record is copied out */
	else if (bpf_map_delete_elem(&sockets, &key))
		return; /* deleted by a racing close: it lowered the count */
	__sync_fetch_and_add(tracked_slot(key), -1);
}

/*
 * A socket that starts a connection while an entry of it is still tracked:
 * the entry is its previous connection, whose close the sensor did not see
 * (the socket was freed and its memory reused). That connection is reported
 * now with the counts it has, and counted, instead of being overwritten in
 * silence. It ends at its last send or receive (its connect if none), the
 * latest moment known to be in it: the reuse may come hours later, and the
 * duration is a feature the model scores.
 */
static __always_inline void report_unseen_close(struct netlof_conn *old, __u64 key, __u64 now)
{
	__u64 idle = flush_clock() - old->last_seen_ns; /* on the flush clock while open */
	__u64 lived = now - old->ts_start_ns;

	count(NETLOF_STAT_CLOSE_UNSEEN);
	old->last_seen_ns = now - (idle < lived ? idle : lived);
	if (old->outcome == NETLOF_OUTCOME_ACTIVE)
		old->outcome = NETLOF_OUTCOME_CLOSED;
	emit(old, NETLOF_EV_TCP_CLOSE, now);
	untrack(old, key);
}

/* Starts tracking c (keyed by c->sock_id): its slot when free, else the map. */
static __always_inline void track(const struct netlof_conn *c)
{
	__u64 key = c->sock_id;
	struct netlof_conn *slot = conn_slot(key);
	__u32 *filter = tracked_slot(key);
	struct netlof_conn *old;

	/* Raised before the socket is tracked; 0 before means no entry of this
	 * socket anywhere, the common case: no lookups. */
	if (__sync_fetch_and_add(filter, 1)) {
		if (slot && slot->sock_id == key)
			report_unseen_close(slot, key, c->ts_start_ns);
		old = bpf_map_lookup_elem(&sockets, &key);
		if (old)
			report_unseen_close(old, key, c->ts_start_ns);
	}
	if (slot && __sync_val_compare_and_swap(&slot->sock_id, 0, key) == 0) {
		__builtin_memcpy(slot, c, sizeof(*c));
		return;
	}
	if (bpf_map_update_elem(&sockets, &key, c, BPF_NOEXIST)) {
		__sync_fetch_and_add(filter, -1); /* not tracked */
		count(NETLOF_STAT_SOCKETS_FULL);
	}
}

/*
 * TCP's own counts of a connection, the byte source of older kernels: payload
 * bytes sent (each once: retransmissions taken out) and received in order,
 * less the sequence number the peer's FIN takes (counted in bytes_received;
 * tcp_fin() marks the socket SOCK_DONE). These are bytes that crossed the
 * wire, so sendfile, splice and io_uring are in them too.
 */
static __always_inline void tcp_counts(struct sock *sk, __u64 *sent, __u64 *received)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	__u64 in = BPF_CORE_READ(tp, bytes_received);
	unsigned long flags = BPF_CORE_READ(sk, __sk_common.skc_flags);

	if ((flags & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_DONE))) && in > 0)
		in--;
	*sent = BPF_CORE_READ(tp, bytes_sent) - BPF_CORE_READ(tp, bytes_retrans);
	*received = in;
}

/*
 * Raw tracepoints: the classic tracepoint builds its whole record (both
 * addresses in two forms) for every transition of every socket before the
 * program runs; here the program reads the socket only when it matters.
 * inet_sock_set_state(const struct sock *sk, int oldstate, int newstate)
 */
SEC("raw_tracepoint/inet_sock_set_state")
int handle_set_state(struct bpf_raw_tracepoint_args *ctx)
{
	if (attach_only)
		return 0;
	struct sock *sk = (struct sock *)ctx->args[0];
	int oldstate = (int)ctx->args[1];
	int newstate = (int)ctx->args[2];
	__u64 key = (__u64)sk;

	if (newstate == TCP_SYN_SENT) {
		/* Inside connect(): the current task owns the socket. */
		struct netlof_conn c = {};
		struct connect_state *p;

		if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP || is_self())
			return 0;
		c.sock_id = key;
		fill_owner(&c);
		c.ts_start_ns = bpf_ktime_get_ns();
		c.last_seen_ns = c.last_flush_ns = flush_clock();
		c.family = BPF_CORE_READ(sk, __sk_common.skc_family);
		c.proto = IPPROTO_TCP;
		c.dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		c.outcome = NETLOF_OUTCOME_FAILED; /* until established */
		sock_addr(sk, c.family, c.daddr, false);
		track(&c);
		p = bpf_task_storage_get(&connects, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (p)
			p->tcp_sock = key;
		return 0;
	}

	/* A connection fires ~10 transitions on both ends; only two more matter,
	 * so the rest leave before the map lookup. */
	bool established = newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_SENT;
	if (!established && newstate != TCP_CLOSE)
		return 0;
	struct netlof_conn *c = find_conn(key);
	if (!c)
		return 0;
	if (established) {
		/* The source address and port are chosen by now. (No clock read:
		 * a TCP record's end is its close, and flushes read their own.) */
		c->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
		sock_addr(sk, c->family, c->saddr, true);
		c->outcome = NETLOF_OUTCOME_ACTIVE;
	} else {
		/* The record is a copy: on older kernels refresh_tcp_counts may be
		 * writing the entry on another CPU. */
		struct netlof_conn done;
		int err = BPF_CORE_READ(sk, sk_err);
		__u64 now = bpf_ktime_get_ns();

		__builtin_memcpy(&done, c, sizeof(done));
		done.last_seen_ns = now;
		done.error = err;
		if (done.outcome == NETLOF_OUTCOME_ACTIVE)
			done.outcome = NETLOF_OUTCOME_CLOSED;
		else if (err == ERR_CONNREFUSED)
			done.outcome = NETLOF_OUTCOME_REFUSED;
		if (byte_source == NETLOF_BYTES_COUNTERS)
			tcp_counts(sk, &done.bytes_sent, &done.bytes_received);
		emit_close(&done, now);
		untrack(c, key);
	}
	return 0;
}

/* ---- TCP counts on older kernels ---------------------------------------- */

/*
 * A refresh_tcp_counts run: user space runs it (BPF_PROG_TEST_RUN, args[0] =
 * 1 to send flush records) every flush interval, and before it reads the
 * tables at exit; nothing attaches it. A tracked socket is alive (its close
 * untracks it first), but a close racing with the walk may hand its memory
 * to a new socket: the ports must still match and the entry still be its.
 */
struct refresh_walk {
	__u64 now;   /* ktime */
	__u64 clock; /* flush clock */
	__u32 flush;
	__u32 pad;
};

static __always_inline void refresh_conn(struct netlof_conn *c, struct refresh_walk *w)
{
	__u64 sock = c->sock_id, sent, received;
	struct sock *sk = (struct sock *)sock;

	if (!sock || c->outcome != NETLOF_OUTCOME_ACTIVE)
		return;
	if (BPF_CORE_READ(sk, __sk_common.skc_num) != c->sport ||
	    bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport)) != c->dport)
		return;
	tcp_counts(sk, &sent, &received);
	if (c->sock_id != sock || (sent == c->bytes_sent && received == c->bytes_received))
		return;
	c->bytes_sent = sent;
	c->bytes_received = received;
	c->last_seen_ns = w->clock; /* it moved since the last walk */
	if (w->flush) {
		c->last_flush_ns = w->clock;
		emit(c, NETLOF_EV_TCP_FLUSH, w->now);
	}
}

static long refresh_slot(__u64 index, void *ctx)
{
	__u32 i = (__u32)index;
	struct netlof_conn *c = bpf_map_lookup_elem(&conn_slots, &i);

	if (c)
		refresh_conn(c, ctx);
	return 0;
}

static long refresh_entry(struct bpf_map *map, __u64 *key, struct netlof_conn *c, void *ctx)
{
	refresh_conn(c, ctx);
	return 0;
}

SEC("raw_tp")
int refresh_tcp_counts(struct bpf_raw_tracepoint_args *ctx)
{
	struct refresh_walk w = {};

	if (byte_source != NETLOF_BYTES_COUNTERS)
		return 0;
	w.now = bpf_ktime_get_ns();
	w.clock = flush_clock();
	w.flush = ctx->args[0] != 0;
	bpf_loop(1U << (64 - conn_slot_shift), refresh_slot, &w, 0);
	bpf_for_each_map_elem(&sockets, refresh_entry, &w, 0);
	return 0;
}

/* ---- connect(): failures that never reach the TCP state machine --------- */

#define NETLOF_S_IFMT 0170000
#define NETLOF_S_IFSOCK 0140000
#define NETLOF_SOCK_DGRAM 2

/*
 * The socket behind the current process's fd, or NULL when fd is not one
 * (or, with dgram_only, not a datagram socket). A socket's file points at
 * the inode that follows its struct socket (struct socket_alloc), so the
 * socket is found without reading the file's private_data: on older
 * kernels this runs at every read and write on the host, where each probe
 * read counts (a TCP socket's write leaves after four).
 */
static __always_inline struct sock *sock_of_fd(__u32 fd, bool dgram_only)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct file **fds = fdt->fd;
	struct file *f = NULL;
	struct inode *inode;
	struct socket *sock;

	if (fd >= fdt->max_fds)
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f)
		return NULL;
	inode = BPF_CORE_READ(f, f_inode);
	if (!inode || (BPF_CORE_READ(inode, i_mode) & NETLOF_S_IFMT) != NETLOF_S_IFSOCK)
		return NULL;
	sock = (struct socket *)((char *)inode - bpf_core_field_offset(struct socket_alloc, vfs_inode));
	if (dgram_only && BPF_CORE_READ(sock, type) != NETLOF_SOCK_DGRAM)
		return NULL;
	return BPF_CORE_READ(sock, sk);
}

/* Reads an AF_INET/AF_INET6 sockaddr from user memory into c; false otherwise. */
static __always_inline bool read_sockaddr(__u64 uptr, __u16 *family, __u8 *addr, __u16 *port)
{
	struct sockaddr_in6 sa = {};

	if (!uptr || bpf_probe_read_user(&sa, sizeof(sa), (void *)uptr)) {
		if (uptr)
			count(NETLOF_STAT_USER_READ_FAILED);
		return false;
	}
	if (sa.sin6_family == NETLOF_AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&sa;

		__builtin_memcpy(addr, &in->sin_addr, 4);
	} else if (sa.sin6_family == NETLOF_AF_INET6) {
		__builtin_memcpy(addr, &sa.sin6_addr, 16);
	} else {
		return false;
	}
	*family = sa.sin6_family;
	*port = bpf_ntohs(sa.sin6_port);
	return true;
}

/*
 * Only the exit of connect() is traced: its arguments are still in the
 * thread's saved registers, and a failure is rare, so the common call pays
 * for one syscall tracepoint instead of two.
 */
SEC("tracepoint/syscalls/sys_exit_connect")
int handle_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	if (attach_only)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct connect_state *p = bpf_task_storage_get(&connects, task, 0, 0);
	long ret = ctx->ret;
	__u64 reached = 0;

	if (p) {
		reached = p->tcp_sock;
		p->tcp_sock = 0;
	}
	if (ret >= 0 || ret == -ERR_INPROGRESS || ret == -ERR_ALREADY || ret == -ERR_ISCONN || ret == -ERR_BADF ||
	    ret == -ERR_NOTSOCK || is_self())
		return 0;

	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	__u32 fd = (__u32)PT_REGS_PARM1_CORE_SYSCALL(regs);
	__u64 uservaddr = PT_REGS_PARM2_CORE_SYSCALL(regs);
	struct sock *sk = sock_of_fd(fd, false);
	struct netlof_conn c = {};

	/* A socket that reached SYN_SENT in this call has its close record; so
	 * has one whose SYN went out in an earlier call (a non-blocking connect,
	 * then connect() again to fetch the outcome): these errors only come from
	 * a TCP exchange, and that path counts a disconnect (Linux 6.6+). */
	if (!sk || (__u64)sk == reached)
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP) {
		if (ret == -ERR_CONNREFUSED || ret == -ERR_TIMEDOUT || ret == -ERR_CONNRESET || ret == -ERR_CONNABORTED)
			return 0;
		if (bpf_core_field_exists(sk->sk_disconnects) && BPF_CORE_READ(sk, sk_disconnects) > 0)
			return 0;
	}
	if (read_sockaddr(uservaddr, &c.family, c.daddr, &c.dport)) {
		fill_owner(&c);
		c.ts_start_ns = c.last_seen_ns = bpf_ktime_get_ns();
		c.proto = (__u8)BPF_CORE_READ(sk, sk_protocol);
		c.outcome = NETLOF_OUTCOME_FAILED;
		c.error = (__s32)-ret;
		emit(&c, NETLOF_EV_CONNECT_FAILED, c.ts_start_ns);
	}
	return 0;
}

/* ---- UDP ---------------------------------------------------------------- */

#if defined(__TARGET_ARCH_x86)
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, syscallno)
#else
#error "netlof reads the syscall number from pt_regs: add this architecture's field"
#endif

/* The current thread's saved registers: the running syscall's arguments.
 * A typed pointer, so PT_REGS_PARMn_SYSCALL are plain loads on x86, not a
 * probe read each. */
static __always_inline struct pt_regs *syscall_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/* The peer of a connected socket; false when it has none. */
static __always_inline bool socket_peer(struct sock *sk, struct netlof_udp_key *key)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	key->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	key->family = family;
	if (family == NETLOF_AF_INET) {
		__u32 a = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		__builtin_memcpy(key->daddr, &a, 4);
		return a != 0;
	}
	BPF_CORE_READ_INTO(&key->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	return key->dport != 0;
}

/* The socket's inode number: new for every socket, unlike its address. */
static __always_inline __u32 socket_ino(struct sock *sk)
{
	struct socket *sock = BPF_CORE_READ(sk, sk_socket);

	if (!sock)
		return 0;
	return BPF_CORE_READ((struct socket_alloc *)((char *)sock - bpf_core_field_offset(struct socket_alloc, socket)),
			     vfs_inode.i_ino);
}

/* The socket half of a flow key, for an IPv4 or IPv6 UDP socket of a process
 * other than the sensor; false for any other socket. Sends and receives run
 * in the process's own context. */
static __always_inline bool udp_socket_key(struct sock *sk, struct netlof_udp_key *key)
{
	__u16 family;
	__u32 tgid;

	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_UDP)
		return false;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	tgid = bpf_get_current_pid_tgid() >> 32;
	if ((family != NETLOF_AF_INET && family != NETLOF_AF_INET6) || tgid == self_tgid)
		return false;
	key->sock_id = (__u64)sk;
	key->sock_ino = socket_ino(sk);
	key->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	key->tgid = tgid;
	return true;
}

static __always_inline void udp_account(struct sock *sk, struct netlof_udp_key *key, __u64 bytes, bool sent)
{
	struct netlof_conn *c = bpf_map_lookup_elem(&udp_flows, key);

	if (!c) {
		struct netlof_conn n = {};
		__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
		long err;

		n.sock_id = key->sock_id;
		fill_owner(&n);
		n.ts_start_ns = n.last_seen_ns = bpf_ktime_get_ns();
		n.family = key->family;
		n.proto = IPPROTO_UDP;
		n.dport = key->dport;
		n.sport = BPF_CORE_READ(sk, __sk_common.skc_num);
		n.outcome = NETLOF_OUTCOME_ACTIVE;
		__builtin_memcpy(n.daddr, key->daddr, 16);
		if (family == NETLOF_AF_INET) {
			__u32 a = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);

			__builtin_memcpy(n.saddr, &a, 4);
		} else {
			BPF_CORE_READ_INTO(&n.saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		}
		err = bpf_map_update_elem(&udp_flows, key, &n, BPF_NOEXIST);
		if (err && err != -ERR_EXIST) {
			count(NETLOF_STAT_UDP_FLOWS_FULL);
			return;
		}
		c = bpf_map_lookup_elem(&udp_flows, key);
		if (!c)
			return;
	}
	__sync_fetch_and_add(sent ? &c->bytes_sent : &c->bytes_received, bytes);
	c->last_seen_ns = bpf_ktime_get_ns();
}

/* Bytes from the sender at uaddr (a sockaddr the kernel wrote back) go to
 * the flow the socket has with it; a sender the socket never sent to is
 * inbound traffic, not an outbound flow. */
static __always_inline void account_reply(const struct udp_recv *r, __u64 uaddr, __u64 bytes)
{
	struct netlof_udp_key key = {};
	struct netlof_conn *c;

	if (!uaddr) {
		count(NETLOF_STAT_UDP_RECV_NO_SOURCE);
		return;
	}
	if (!read_sockaddr(uaddr, &key.family, key.daddr, &key.dport)) {
		count(NETLOF_STAT_UDP_RECV_NO_SOURCE);
		return;
	}
	key.sock_id = r->sock_id;
	key.sock_ino = r->sock_ino;
	key.netns = r->netns;
	key.tgid = bpf_get_current_pid_tgid() >> 32;
	c = bpf_map_lookup_elem(&udp_flows, &key);
	if (!c) {
		count(NETLOF_STAT_UDP_RECV_UNSOLICITED);
		return;
	}
	__sync_fetch_and_add(&c->bytes_received, bytes);
	c->last_seen_ns = bpf_ktime_get_ns();
}

/* ---- UDP from the system calls (older kernels) -------------------------- */

/* A datagram of `bytes` sent through fd: to the sockaddr at uaddr, else to
 * the socket's peer. */
static __always_inline void udp_syscall_sent(__u32 fd, __u64 uaddr, __u64 bytes)
{
	struct netlof_udp_key key = {};
	struct sock *sk = sock_of_fd(fd, true);

	if (!sk || !udp_socket_key(sk, &key))
		return;
	if ((uaddr && read_sockaddr(uaddr, &key.family, key.daddr, &key.dport)) || socket_peer(sk, &key))
		udp_account(sk, &key, bytes, true);
}

/* `bytes` received through fd: from the socket's peer, else from the sender
 * the call wrote at uaddr (0: not asked for, so not known). */
static __always_inline void udp_syscall_received(__u32 fd, __u64 uaddr, __u64 bytes)
{
	struct netlof_udp_key key = {};
	struct sock *sk = sock_of_fd(fd, true);
	struct udp_recv r = {};

	if (!sk || !udp_socket_key(sk, &key))
		return;
	if (socket_peer(sk, &key)) {
		udp_account(sk, &key, bytes, false);
		return;
	}
	r.sock_id = key.sock_id;
	r.sock_ino = key.sock_ino;
	r.netns = key.netns;
	account_reply(&r, uaddr, bytes);
}

/* sendmmsg and recvmmsg: ret datagrams, each with its address and length in vec. */
struct udp_mmsg_walk {
	__u64 vec;
	__u32 fd;
	__u32 sent;
};

static long udp_mmsg_datagram(__u64 i, void *ctx)
{
	struct udp_mmsg_walk *w = ctx;
	struct mmsghdr mm = {};

	if (bpf_probe_read_user(&mm, sizeof(mm), (void *)(w->vec + i * sizeof(struct mmsghdr)))) {
		count(NETLOF_STAT_USER_READ_FAILED);
		return 1;
	}
	if (w->sent)
		udp_syscall_sent(w->fd, (__u64)mm.msg_hdr.msg_name, mm.msg_len);
	else
		udp_syscall_received(w->fd, (__u64)mm.msg_hdr.msg_name, mm.msg_len);
	return 0;
}

static __always_inline void udp_syscall_mmsg(struct pt_regs *regs, long ret, bool sent)
{
	struct udp_mmsg_walk w = {};

	if (ret <= 0)
		return;
	w.fd = (__u32)PT_REGS_PARM1_SYSCALL(regs);
	w.vec = PT_REGS_PARM2_SYSCALL(regs);
	w.sent = sent;
	bpf_loop(ret < 1024 ? ret : 1024, udp_mmsg_datagram, &w, 0);
}

/* The address a msghdr at uptr names; 0 when there is none or it is unreadable. */
static __always_inline __u64 msghdr_name(__u64 uptr)
{
	struct user_msghdr m = {};

	if (bpf_probe_read_user(&m, sizeof(m), (void *)uptr)) {
		count(NETLOF_STAT_USER_READ_FAILED);
		return 0;
	}
	return (__u64)m.msg_name;
}

/* sendto(fd, buf, len, flags, dest_addr, addrlen) */
SEC("tracepoint/syscalls/sys_exit_sendto")
int handle_exit_sendto(struct trace_event_raw_sys_exit *ctx)
{
	if (attach_only || ctx->ret < 0)
		return 0;
	struct pt_regs *regs = syscall_regs();

	udp_syscall_sent(PT_REGS_PARM1_SYSCALL(regs), PT_REGS_PARM5_SYSCALL(regs), ctx->ret);
	return 0;
}

/* sendmsg(fd, struct user_msghdr *msg, flags) */
SEC("tracepoint/syscalls/sys_exit_sendmsg")
int handle_exit_sendmsg(struct trace_event_raw_sys_exit *ctx)
{
	if (attach_only || ctx->ret < 0)
		return 0;
	struct pt_regs *regs = syscall_regs();

	udp_syscall_sent(PT_REGS_PARM1_SYSCALL(regs), msghdr_name(PT_REGS_PARM2_SYSCALL(regs)), ctx->ret);
	return 0;
}

/* write and writev reach a UDP socket's peer (Go's resolver writes its queries). */
static __always_inline int udp_write(struct trace_event_raw_sys_exit *ctx)
{
	if (attach_only || ctx->ret < 0)
		return 0;
	udp_syscall_sent(PT_REGS_PARM1_SYSCALL(syscall_regs()), 0, ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_write")
int handle_exit_write(struct trace_event_raw_sys_exit *ctx)
{
	return udp_write(ctx);
}

SEC("tracepoint/syscalls/sys_exit_writev")
int handle_exit_writev(struct trace_event_raw_sys_exit *ctx)
{
	return udp_write(ctx);
}

/* read and readv: from the peer of a connected socket; an unconnected one's
 * sender is not known (counted). */
static __always_inline int udp_read(struct trace_event_raw_sys_exit *ctx)
{
	if (attach_only || ctx->ret < 0)
		return 0;
	udp_syscall_received(PT_REGS_PARM1_SYSCALL(syscall_regs()), 0, ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_read")
int handle_exit_read(struct trace_event_raw_sys_exit *ctx)
{
	return udp_read(ctx);
}

SEC("tracepoint/syscalls/sys_exit_readv")
int handle_exit_readv(struct trace_event_raw_sys_exit *ctx)
{
	return udp_read(ctx);
}

/* ---- UDP destinations and senders with sock_send_length ----------------- */

/* sendmmsg(fd, struct mmsghdr *vec, vlen, flags). With sock_send_length its
 * datagrams are counted from 0 again at the next call; on older kernels they
 * are accounted here. */
SEC("tracepoint/syscalls/sys_exit_sendmmsg")
int handle_exit_sendmmsg(struct trace_event_raw_sys_exit *ctx)
{
	if (attach_only)
		return 0;
	if (byte_source == NETLOF_BYTES_COUNTERS) {
		udp_syscall_mmsg(syscall_regs(), ctx->ret, true);
		return 0;
	}
	struct mmsg_progress *p = bpf_task_storage_get(&mmsgs, bpf_get_current_task_btf(), 0, 0);

	if (p)
		p->uptr = 0;
	return 0;
}

/*
 * The destination of the datagram whose sock_send_length is firing: the
 * sockaddr named by the sendto/sendmsg/sendmmsg that is running (its
 * arguments are in the thread's saved registers), else the socket's peer.
 * sock_send_length runs inside the call, in the sending thread; a send from
 * io_uring or a kernel thread finds another syscall number there.
 */
static __always_inline bool send_destination(struct sock *sk, struct netlof_udp_key *key)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	long nr = SYSCALL_NR(regs);
	__u64 uaddr = 0;

	if (nr == nr_sendto) {
		uaddr = PT_REGS_PARM5_CORE_SYSCALL(regs); /* NULL on connected sockets */
	} else if (nr == nr_sendmsg) {
		struct user_msghdr m = {};

		if (!bpf_probe_read_user(&m, sizeof(m), (void *)PT_REGS_PARM2_CORE_SYSCALL(regs)))
			uaddr = (__u64)m.msg_name;
	} else if (nr == nr_sendmmsg) {
		__u64 vec = PT_REGS_PARM2_CORE_SYSCALL(regs);
		struct mmsg_progress *p = bpf_task_storage_get(&mmsgs, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		struct mmsghdr mm = {};
		__u32 i;

		if (!p)
			return socket_peer(sk, key);
		if (p->uptr != vec) { /* the first datagram of this call */
			p->uptr = vec;
			p->index = 0;
		}
		i = p->index++;
		if (i < 1024 && !bpf_probe_read_user(&mm, sizeof(mm), (void *)(vec + (__u64)i * sizeof(struct mmsghdr))))
			uaddr = (__u64)mm.msg_hdr.msg_name;
	}
	if (uaddr && read_sockaddr(uaddr, &key->family, key->daddr, &key->dport))
		return true;
	return socket_peer(sk, key);
}

/*
 * A datagram received on an unconnected socket: its sender is known only
 * when the receive call has copied the address out. A recvfrom, recvmsg or
 * recvmmsg leaves the socket here for the call's exit, which reads the
 * address (handle_exit_recv*); any other way of receiving cannot name the
 * sender, and is counted.
 */
static __always_inline void note_unconnected_recv(const struct netlof_udp_key *key, __u64 bytes)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	long nr = SYSCALL_NR(regs);
	struct udp_recv *r;

	if (nr != nr_recvfrom && nr != nr_recvmsg && nr != nr_recvmmsg) {
		count(NETLOF_STAT_UDP_RECV_NO_SOURCE);
		return;
	}
	r = bpf_task_storage_get(&udp_recvs, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!r) {
		count(NETLOF_STAT_UDP_RECV_NO_SOURCE);
		return;
	}
	if (r->sock_id != key->sock_id) {
		r->sock_id = key->sock_id;
		r->bytes = 0;
	}
	r->bytes += bytes;
	r->sock_ino = key->sock_ino;
	r->netns = key->netns;
}

/* The pending receive of this thread, taken (NULL when there is none). */
static __always_inline struct udp_recv *take_udp_recv(struct udp_recv *copy)
{
	struct udp_recv *r = bpf_task_storage_get(&udp_recvs, bpf_get_current_task_btf(), 0, 0);

	if (!r || !r->sock_id)
		return NULL;
	*copy = *r;
	r->sock_id = 0;
	return copy;
}

/* recvfrom(fd, buf, len, flags, src_addr, addrlen) */
SEC("tracepoint/syscalls/sys_exit_recvfrom")
int handle_exit_recvfrom(struct trace_event_raw_sys_exit *ctx)
{
	if (attach_only)
		return 0;
	if (byte_source == NETLOF_BYTES_COUNTERS) {
		struct pt_regs *regs = syscall_regs();

		if (ctx->ret >= 0 && !(PT_REGS_PARM4_SYSCALL(regs) & FLAG_MSG_PEEK))
			udp_syscall_received(PT_REGS_PARM1_SYSCALL(regs), PT_REGS_PARM5_SYSCALL(regs), ctx->ret);
		return 0;
	}
	struct udp_recv copy, *r = take_udp_recv(&copy);

	if (!r || ctx->ret < 0)
		return 0;
	account_reply(r, PT_REGS_PARM5_CORE_SYSCALL(syscall_regs()), r->bytes);
	return 0;
}

/* recvmsg(fd, struct user_msghdr *msg, flags) */
SEC("tracepoint/syscalls/sys_exit_recvmsg")
int handle_exit_recvmsg(struct trace_event_raw_sys_exit *ctx)
{
	if (attach_only)
		return 0;
	if (byte_source == NETLOF_BYTES_COUNTERS) {
		struct pt_regs *regs = syscall_regs();

		if (ctx->ret >= 0 && !(PT_REGS_PARM3_SYSCALL(regs) & FLAG_MSG_PEEK))
			udp_syscall_received(PT_REGS_PARM1_SYSCALL(regs), msghdr_name(PT_REGS_PARM2_SYSCALL(regs)),
					     ctx->ret);
		return 0;
	}
	struct udp_recv copy, *r = take_udp_recv(&copy);

	if (!r || ctx->ret < 0)
		return 0;
	account_reply(r, msghdr_name(PT_REGS_PARM2_CORE_SYSCALL(syscall_regs())), r->bytes);
	return 0;
}

struct mmsg_walk {
	struct udp_recv r;
	__u64 vec;
};

static long account_mmsg(__u64 i, void *ctx)
{
	struct mmsg_walk *w = ctx;
	struct mmsghdr mm = {};

	if (bpf_probe_read_user(&mm, sizeof(mm), (void *)(w->vec + i * sizeof(struct mmsghdr)))) {
		count(NETLOF_STAT_UDP_RECV_NO_SOURCE);
		return 0;
	}
	account_reply(&w->r, (__u64)mm.msg_hdr.msg_name, mm.msg_len);
	return 0;
}

/* recvmmsg(fd, struct mmsghdr *vec, vlen, flags, timeout): ret datagrams,
 * each with its sender and length in vec. */
SEC("tracepoint/syscalls/sys_exit_recvmmsg")
int handle_exit_recvmmsg(struct trace_event_raw_sys_exit *ctx)
{
	if (attach_only)
		return 0;
	if (byte_source == NETLOF_BYTES_COUNTERS) {
		struct pt_regs *regs = syscall_regs();

		if (!(PT_REGS_PARM4_SYSCALL(regs) & FLAG_MSG_PEEK))
			udp_syscall_mmsg(regs, ctx->ret, false);
		return 0;
	}
	struct mmsg_walk w = {};

	if (!take_udp_recv(&w.r) || ctx->ret <= 0)
		return 0;
	w.vec = PT_REGS_PARM2_CORE_SYSCALL(syscall_regs());
	bpf_loop(ctx->ret < 1024 ? ctx->ret : 1024, account_mmsg, &w, 0);
	return 0;
}

/* ---- bytes with sock_send_length ---------------------------------------- */

/*
 * sock_send_length / sock_recv_length(struct sock *sk, int ret, int flags),
 * as raw tracepoints. A tracked TCP socket is found in its slot, or behind
 * the counting filter in the map; only a miss pays for reading the socket's
 * protocol.
 */
static __always_inline int account(struct bpf_raw_tracepoint_args *ctx, bool sent)
{
	struct sock *sk = (struct sock *)ctx->args[0];
	int ret = (int)ctx->args[1];
	int flags = (int)ctx->args[2];
	struct netlof_udp_key ukey = {};
	struct netlof_conn *c;

	/* MSG_PEEK leaves the data queued: it is counted when really read. An
	 * empty datagram (ret 0) still names a destination. */
	if (ret < 0 || (!sent && (flags & FLAG_MSG_PEEK)))
		return 0;
	c = find_conn((__u64)sk);
	if (c) {
		if (ret > 0) { /* 0: end of stream */
			__sync_fetch_and_add(sent ? &c->bytes_sent : &c->bytes_received, (__u64)ret);
			touch(c);
		}
		return 0;
	}
	if (!udp_socket_key(sk, &ukey))
		return 0;
	if (sent) {
		if (send_destination(sk, &ukey))
			udp_account(sk, &ukey, (__u64)ret, true);
	} else if (socket_peer(sk, &ukey)) {
		udp_account(sk, &ukey, (__u64)ret, false);
	} else {
		note_unconnected_recv(&ukey, (__u64)ret);
	}
	return 0;
}

SEC("raw_tracepoint/sock_send_length")
int handle_send_length(struct bpf_raw_tracepoint_args *ctx)
{
	if (attach_only)
		return 0;
	return account(ctx, true);
}

SEC("raw_tracepoint/sock_recv_length")
int handle_recv_length(struct bpf_raw_tracepoint_args *ctx)
{
	if (attach_only)
		return 0;
	return account(ctx, false);
}

/* ---- executables ------------------------------------------------------- */

/*
 * The path of an executable, built the way d_path() builds it (bpf_d_path
 * is not allowed in tracepoint programs): from the file's dentry up to its
 * mount's root, across each mount to its mount point, up to the root of
 * the mount namespace. Names are prepended from the end of a per-CPU
 * scratch buffer twice the path's size, so every write is in bounds for the
 * verifier. One bpf_loop callback walks one level: the verifier checks it
 * once, not once per level.
 */
#define EXE_WALK_LEVELS 64
#define EXE_PATH_END (NETLOF_EXE_PATH_LEN - 1) /* the path is scratch[pos, EXE_PATH_END) */

struct exe_scratch {
	char buf[2 * NETLOF_EXE_PATH_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exe_scratch);
} exe_scratch SEC(".maps");

struct exe_walk {
	struct dentry *dentry;
	struct mount *mnt;
	__u32 pos;
	__u32 flags;
};

static __always_inline struct vfsmount *vfsmount_of(struct mount *m)
{
	return (struct vfsmount *)((char *)m + bpf_core_field_offset(struct mount, mnt));
}

static long exe_walk_level(__u64 index, void *ctx)
{
	struct exe_walk *w = ctx;
	struct dentry *d = w->dentry;
	struct mount *m = w->mnt;
	__u32 zero = 0;
	struct exe_scratch *s = bpf_map_lookup_elem(&exe_scratch, &zero);

	if (!s)
		return 1;
	if (d == BPF_CORE_READ(vfsmount_of(m), mnt_root)) {
		struct mount *up = BPF_CORE_READ(m, mnt_parent);

		if (up == m)
			return 1; /* the namespace's root */
		w->dentry = BPF_CORE_READ(m, mnt_mountpoint);
		w->mnt = up;
		return 0;
	}
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	__u32 len = BPF_CORE_READ(d, d_name.len);
	const unsigned char *name = BPF_CORE_READ(d, d_name.name);

	if (len > 255 || len + 1 > w->pos) {
		w->flags |= NETLOF_EXE_TRUNCATED;
		return 1;
	}
	w->pos -= len + 1;
	bpf_probe_read_kernel(&s->buf[(w->pos + 1) & (NETLOF_EXE_PATH_LEN - 1)], len & 255, name);
	s->buf[w->pos & (NETLOF_EXE_PATH_LEN - 1)] = '/';
	if (d == parent)
		return 1; /* a file with no directory above it (memfd, pipe): its name is all */
	w->dentry = parent;
	return 0;
}

/*
 * sched_process_exec(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm),
 * in the process that just exec'd: its mm->exe_file is the new executable
 * (for a script, its interpreter), the file /proc/<pid>/exe names.
 */
SEC("raw_tracepoint/sched_process_exec")
int handle_exec(struct bpf_raw_tracepoint_args *ctx)
{
	if (attach_only)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct file *exe = task->mm->exe_file;
	struct exe_walk w = {};
	struct netlof_exec_event *e;
	struct exe_scratch *s;
	__u32 zero = 0, len;
	long levels;

	if (!exe)
		return 0;
	s = bpf_map_lookup_elem(&exe_scratch, &zero);
	if (!s)
		return 0;
	w.dentry = BPF_CORE_READ(exe, f_path.dentry);
	w.mnt = (struct mount *)((char *)BPF_CORE_READ(exe, f_path.mnt) - bpf_core_field_offset(struct mount, mnt));
	w.pos = EXE_PATH_END;
	levels = bpf_loop(EXE_WALK_LEVELS, exe_walk_level, &w, 0);
	if (levels >= EXE_WALK_LEVELS)
		w.flags |= NETLOF_EXE_TRUNCATED;
	if (!BPF_CORE_READ(exe, f_inode, __i_nlink))
		w.flags |= NETLOF_EXE_DELETED;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(NETLOF_STAT_EXEC_LOST);
		return 0;
	}
	e->hdr.ktime_ns = bpf_ktime_get_ns();
	e->hdr.type = NETLOF_EV_EXEC;
	e->hdr.size = sizeof(*e);
	e->exe_ino = exe->f_inode->i_ino;
	e->exe_dev = exe->f_inode->i_sb->s_dev;
	e->tgid = bpf_get_current_pid_tgid() >> 32;
	e->flags = w.flags;
	len = (EXE_PATH_END - w.pos) & (NETLOF_EXE_PATH_LEN - 1);
	e->path_len = len;
	bpf_probe_read_kernel(e->path, len, &s->buf[w.pos & (NETLOF_EXE_PATH_LEN - 1)]);
	bpf_ringbuf_submit(e, wakeup_flag());
	return 0;
}

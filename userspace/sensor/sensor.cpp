#include "userspace/sensor/sensor.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <chrono>
#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <ctime>
#include <thread>
#include <sys/stat.h>
#include <unistd.h>

#include "common/diagnostic.hpp"
#include "netlof.skel.h"
#include "userspace/sensor/event_decoder.hpp"
#include "userspace/sensor/privileges.hpp"

namespace netlof {

namespace {

[[noreturn]] void fail(const std::string& what, int err) {
    Diagnostic d;
    d.file = "netlof";
    d.message = "failed to " + what + (err != 0 ? std::string(": ") + std::strerror(err) : std::string());
    throw InputError(std::move(d));
}

bool is_dir(const char* path) {
    struct stat st {};
    return ::stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

SensorLog* g_libbpf_log = nullptr;
bool g_libbpf_verbose = false;

int libbpf_print(enum libbpf_print_level level, const char* format, va_list args) {
    if (level == LIBBPF_DEBUG && !g_libbpf_verbose) return 0;
    if (g_libbpf_log == nullptr || !*g_libbpf_log) return 0;
    // A verifier log arrives as one message of many kilobytes: size it first.
    va_list copy;
    va_copy(copy, args);
    const int n = std::vsnprintf(nullptr, 0, format, copy);
    va_end(copy);
    if (n <= 0) return 0;
    std::string text(static_cast<std::size_t>(n) + 1, '\0');
    std::vsnprintf(text.data(), text.size(), format, args);
    text.resize(static_cast<std::size_t>(n));
    while (!text.empty() && text.back() == '\n') text.pop_back();
    (*g_libbpf_log)(level == LIBBPF_WARN ? LogLevel::Warning : LogLevel::Info, text);
    return 0;
}

std::string kernel_release() {
    utsname u{};
    return ::uname(&u) == 0 ? std::string(u.release) : std::string("(unknown release)");
}

// The source the options ask for, or on Auto the one this kernel has; said
// in the log, with what the older kernels' source cannot see.
ByteSource choose_byte_source(ByteSource wanted, const SensorLog& log) {
    const bool has_length = kernel_has_tracepoints({"sock_send_length", "sock_recv_length"});
    const std::string kernel = "Linux " + kernel_release();
    if (wanted == ByteSource::SockLength && !has_length)
        fail("use sock:sock_send_length and sock:sock_recv_length (--byte-source sock-length): " + kernel +
                 " does not have them (Linux 6.3+); --byte-source counters works on it",
             0);
    const ByteSource source = wanted != ByteSource::Auto ? wanted : has_length ? ByteSource::SockLength : ByteSource::Counters;
    if (!log) return source;
    if (source == ByteSource::SockLength) {
        log(LogLevel::Info, "sensor: bytes of TCP and UDP from sock:sock_send_length and sock:sock_recv_length, "
                            "at every send and receive call");
        return source;
    }
    log(wanted == ByteSource::Auto ? LogLevel::Notice : LogLevel::Info,
        "sensor: " +
            (wanted == ByteSource::Auto ? kernel + " has no sock:sock_send_length (Linux 6.3+)"
                                        : std::string("--byte-source counters")) +
            ": TCP bytes from each connection's own counters (read at its close and every flush interval: bytes "
            "that crossed the wire, not bytes the process read), UDP from the send and receive system calls (sendto, "
            "sendmsg, sendmmsg, write, writev and their receive twins; io_uring, sendfile and splice on UDP are not "
            "seen)");
    return source;
}

}  // namespace

bool kernel_has_tracepoints(std::initializer_list<const char*> names) {
    btf* vmlinux = btf__load_vmlinux_btf();
    if (vmlinux == nullptr) return false;
    bool has = true;
    for (const char* name : names)
        has = has && btf__find_by_name_kind(vmlinux, (std::string("btf_trace_") + name).c_str(), BTF_KIND_TYPEDEF) > 0;
    btf__free(vmlinux);
    return has;
}

std::uint64_t jiffy_nanoseconds() {
    timespec res{};
    if (::clock_getres(CLOCK_MONOTONIC_COARSE, &res) != 0 || res.tv_sec != 0) return 0;
    return static_cast<std::uint64_t>(res.tv_nsec);
}

std::optional<ByteSource> parse_byte_source(const std::string& word) {
    if (word == "auto") return ByteSource::Auto;
    if (word == "sock-length") return ByteSource::SockLength;
    if (word == "counters") return ByteSource::Counters;
    return std::nullopt;
}

bool ensure_tracefs() {
    if (is_dir("/sys/kernel/tracing/events") || is_dir("/sys/kernel/debug/tracing/events")) return false;
    if (::mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr) != 0)
        fail("mount tracefs at /sys/kernel/tracing (tracepoints need it)", errno);
    return true;
}

std::unique_ptr<Sensor> Sensor::start(const SensorOptions& options, SensorEvents& events, SensorLog log) {
    if (::geteuid() != 0) fail("load the sensor: netlof record and run need root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN)", 0);
    if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0)
        fail("find kernel BTF at /sys/kernel/btf/vmlinux (the kernel needs CONFIG_DEBUG_INFO_BTF for CO-RE)", errno);
    if (ensure_tracefs() && log) log(LogLevel::Notice, "mounted tracefs at /sys/kernel/tracing: it was not mounted");

    static SensorLog libbpf_log;
    libbpf_log = log;
    g_libbpf_log = &libbpf_log;
    const std::uint32_t ringbuf_bytes = options.ringbuf_kib * 1024u;
    g_libbpf_verbose = options.verbose;
    libbpf_set_print(libbpf_print);

    std::unique_ptr<Sensor> s(new Sensor());
    s->events_ = &events;
    s->skel_ = netlof_bpf__open();
    if (s->skel_ == nullptr) fail("open the BPF object", errno);
    s->skel_->rodata->self_tgid = static_cast<__u32>(::getpid());
    s->skel_->rodata->flush_interval_ns = static_cast<std::uint64_t>(options.flush_interval_s * 1e9);
    s->skel_->rodata->wakeup_bytes = std::min<std::uint64_t>(options.wakeup_bytes, ringbuf_bytes / 4);
    // The direct-mapped slots hold most connections; the map takes the ones
    // whose slot is taken, up to max_sockets.
    const std::uint32_t slots = conn_slot_count(options.max_sockets);
    s->skel_->rodata->conn_slot_shift = 64 - static_cast<__u32>(__builtin_ctz(slots));
    s->skel_->rodata->close_queue_len = close_queue_length(ringbuf_bytes);
    s->skel_->rodata->attach_only = options.attach_only ? 1 : 0;
    s->byte_source_ = choose_byte_source(options.byte_source, log);
    const bool counters = s->byte_source_ == ByteSource::Counters;
    s->skel_->rodata->byte_source = counters ? NETLOF_BYTES_COUNTERS : NETLOF_BYTES_SOCK_LENGTH;
    s->skel_->rodata->jiffy_ns = jiffy_nanoseconds();
    // Each source's own programs; the other's are not loaded.
    for (bpf_program* p : {s->skel_->progs.handle_send_length, s->skel_->progs.handle_recv_length})
        bpf_program__set_autoload(p, !counters);
    for (bpf_program* p : {s->skel_->progs.handle_exit_sendto, s->skel_->progs.handle_exit_sendmsg,
                           s->skel_->progs.handle_exit_write, s->skel_->progs.handle_exit_writev,
                           s->skel_->progs.handle_exit_read, s->skel_->progs.handle_exit_readv,
                           s->skel_->progs.refresh_tcp_counts})
        bpf_program__set_autoload(p, counters);
    // Unconnected UDP destinations come from the running syscall's arguments.
    s->skel_->rodata->nr_sendto = SYS_sendto;
    s->skel_->rodata->nr_sendmsg = SYS_sendmsg;
    s->skel_->rodata->nr_sendmmsg = SYS_sendmmsg;
    // Senders of replies on unconnected UDP sockets, from the receive calls' results.
    s->skel_->rodata->nr_recvfrom = SYS_recvfrom;
    s->skel_->rodata->nr_recvmsg = SYS_recvmsg;
    s->skel_->rodata->nr_recvmmsg = SYS_recvmmsg;
    int err = bpf_map__set_max_entries(s->skel_->maps.sockets, options.max_sockets);
    if (!err) err = bpf_map__set_max_entries(s->skel_->maps.conn_slots, slots);
    if (!err) err = bpf_map__set_max_entries(s->skel_->maps.udp_flows, options.max_udp_flows);
    if (!err) err = bpf_map__set_max_entries(s->skel_->maps.events, ringbuf_bytes);
    // One close queue per CPU the kernel may run on.
    const int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) fail("count the possible CPUs", -cpus);
    if (!err) err = bpf_map__set_max_entries(s->skel_->maps.close_queues, static_cast<__u32>(cpus));
    if (err) fail("size the BPF maps (ring buffer must be a power of two of pages)", -err);
    err = netlof_bpf__load(s->skel_);
    if (err) {
        fail("load the BPF programs into Linux " + kernel_release() +
                 " (libbpf's lines above say why; netlof needs 5.17+ with BTF, ring buffers and task storage; "
                 "--verbose adds the verifier's log)",
             -err);
    }
    // Attach one by one so a missing tracepoint is named.
    bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, s->skel_->obj) {
        // refresh_tcp_counts is run on demand, never attached.
        if (!bpf_program__autoload(prog) || prog == s->skel_->progs.refresh_tcp_counts) continue;
        bpf_link* link = bpf_program__attach(prog);
        if (link == nullptr)
            fail(std::string("attach ") + bpf_program__name(prog) + " to " + bpf_program__section_name(prog), errno);
        // The skeleton owns links it created; keep ours alive in the object's lifetime.
        s->links_.push_back(link);
    }
    s->refresh_tcp_counts(false);
    s->ring_ = ring_buffer__new(bpf_map__fd(s->skel_->maps.events), on_sample, s.get(), nullptr);
    if (s->ring_ == nullptr) fail("create the ring buffer reader", errno);
    // An mmapped array's values start at offset 0, each rounded up to 8 bytes.
    static_assert(sizeof(netlof_close_queue) % 8 == 0);
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    s->queues_len_ = (sizeof(netlof_close_queue) * static_cast<std::size_t>(cpus) + page - 1) / page * page;
    void* queues = ::mmap(nullptr, s->queues_len_, PROT_READ | PROT_WRITE, MAP_SHARED,
                          bpf_map__fd(s->skel_->maps.close_queues), 0);
    if (queues == MAP_FAILED) fail("map the close queues into memory", errno);
    s->queues_ = static_cast<netlof_close_queue*>(queues);
    s->queue_heads_.resize(static_cast<std::size_t>(cpus));  // allocated once: none per poll
    if (options.drop_privileges) {
        const std::string kept = drop_privileges();
        if (log) log(LogLevel::Info, "dropped privileges: capabilities left " + kept + "; no_new_privs set");
    }
    return s;
}

Sensor::~Sensor() {
    if (queues_ != nullptr) ::munmap(queues_, queues_len_);
    if (ring_ != nullptr) ring_buffer__free(ring_);
    for (bpf_link* l : links_) bpf_link__destroy(l);
    if (skel_ != nullptr) netlof_bpf__destroy(skel_);
}

int Sensor::on_sample(void* ctx, void* data, std::size_t size) {
    auto* self = static_cast<Sensor*>(ctx);
    if (event_type(data, size) == NETLOF_EV_EXEC) {
        if (auto e = decode_exec_event(data, size)) self->events_->on_exec(*e);
        else ++self->malformed_;
    } else if (auto e = decode_event(data, size)) {
        self->events_->on_connection(*e);
    } else {
        ++self->malformed_;
    }
    return 0;
}

void Sensor::snapshot_close_queues() {
    for (std::size_t cpu = 0; cpu < queue_heads_.size(); ++cpu)
        queue_heads_[cpu] = std::atomic_ref<__u64>(queues_[cpu].head).load(std::memory_order_acquire);
}

int Sensor::deliver_close_queues() {
    std::uint64_t delivered = 0;
    for (std::size_t cpu = 0; cpu < queue_heads_.size(); ++cpu) {
        netlof_close_queue& q = queues_[cpu];
        std::atomic_ref<__u64> tail(q.tail);
        const std::uint64_t head = queue_heads_[cpu];
        std::uint64_t t = tail.load(std::memory_order_relaxed);
        if (head - t > NETLOF_CLOSE_QUEUE_LEN) {  // never, unless the memory was overwritten: skip what cannot be real
            malformed_ += head - t - NETLOF_CLOSE_QUEUE_LEN;
            t = head - NETLOF_CLOSE_QUEUE_LEN;
        }
        // [tail, head) is ours until tail moves: the kernel writes only past head.
        for (; t != head; ++t, ++delivered) {
            const netlof_conn_event& slot = q.events[t & (NETLOF_CLOSE_QUEUE_LEN - 1)];
            if (auto e = decode_event(&slot, sizeof slot)) events_->on_connection(*e);
            else ++malformed_;
        }
        tail.store(head, std::memory_order_release);
    }
    closes_queued_ += delivered;
    return static_cast<int>(delivered);
}

int Sensor::poll(int timeout_ms) {
    // The kernel wakes us only past a watermark, so a timeout does not mean
    // the ring is empty: always consume what is there after waiting.
    const int woken = ring_buffer__poll(ring_, timeout_ms);
    // A connection's flush records go through the ring before its close is
    // queued: consuming the ring between reading the queues' heads and
    // delivering up to them keeps every flush record ahead of its close.
    snapshot_close_queues();
    const int rest = ring_buffer__consume(ring_);
    return std::max(0, woken) + std::max(0, rest) + deliver_close_queues();
}

void Sensor::stop_tracing() {
    for (bpf_link* l : links_) bpf_link__destroy(l);
    links_.clear();
    // Detaching does not wait for a program already running on another CPU;
    // one at a close both submits its record and frees the socket's slot, so
    // a drain before it is done and a table read after could miss that
    // connection. The programs run inside RCU read-side sections: a grace
    // period (membarrier's global command waits for one) ends every run that
    // began before the detach, however long a descheduled vCPU took; no
    // fixed sleep can promise that.
    if (::syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // nohz_full kernels refuse it
}

void Sensor::refresh_tcp_counts(bool flush) {
    if (byte_source_ != ByteSource::Counters) return;
    __u64 args[1] = {flush ? 1u : 0u};
    LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = args, .ctx_size_in = sizeof args);
    // Sensor::start ran it once: it fails only where the kernel cannot run
    // programs on demand, and then the sensor does not start.
    const int err = bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.refresh_tcp_counts), &run);
    if (err != 0) fail("run refresh_tcp_counts (BPF_PROG_TEST_RUN of a raw tracepoint program, Linux 5.10+)", -err);
}

std::vector<netlof_udp_key> Sensor::udp_flow_keys() const {
    const int fd = bpf_map__fd(skel_->maps.udp_flows);
    std::vector<netlof_udp_key> keys;
    netlof_udp_key key{}, next{};
    const void* cur = nullptr;
    while (bpf_map_get_next_key(fd, cur, &next) == 0) {
        keys.push_back(next);
        key = next;
        cur = &key;
    }
    return keys;
}

std::vector<netlof_conn> Sensor::take_udp_flows(const std::vector<netlof_udp_key>& keys, const FlowEnded& ended) {
    const int fd = bpf_map__fd(skel_->maps.udp_flows);
    std::vector<netlof_conn> out;
    for (const netlof_udp_key& k : keys) {
        netlof_conn c{};
        if (bpf_map_lookup_elem(fd, &k, &c) != 0 || (ended && !ended(k, c))) continue;
        // Atomic take: a datagram racing with us starts a new flow instead of being lost.
        if (bpf_map_lookup_and_delete_elem(fd, &k, &c) == 0) out.push_back(c);
    }
    return out;
}

std::uint32_t close_queue_length(std::uint32_t ringbuf_bytes) {
    return std::clamp<std::uint32_t>(ringbuf_bytes / sizeof(netlof_conn_event), 1, NETLOF_CLOSE_QUEUE_LEN);
}

std::uint32_t conn_slot_count(std::uint32_t max_sockets) {
    std::uint32_t n = 16;
    while (n < max_sockets / 4 && n < (1u << 30)) n <<= 1;
    return n;
}

std::vector<netlof_conn> Sensor::open_tcp_connections() const {
    std::vector<netlof_conn> out;
    const int slots = bpf_map__fd(skel_->maps.conn_slots);
    const __u32 n = bpf_map__max_entries(skel_->maps.conn_slots);
    for (__u32 i = 0; i < n; ++i) {
        netlof_conn c{};
        if (bpf_map_lookup_elem(slots, &i, &c) == 0 && c.sock_id != 0) out.push_back(c);
    }
    const int fd = bpf_map__fd(skel_->maps.sockets);
    __u64 key = 0, next = 0;
    const void* cur = nullptr;
    while (bpf_map_get_next_key(fd, cur, &next) == 0) {
        netlof_conn c{};
        if (bpf_map_lookup_elem(fd, &next, &c) == 0) out.push_back(c);
        key = next;
        cur = &key;
    }
    return out;
}

std::uint64_t Sensor::missed_runs() const {
    std::uint64_t total = 0;
    bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, skel_->obj) {
        bpf_prog_info info{};
        __u32 len = sizeof info;
        if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0) total += info.recursion_misses;
    }
    return total;
}

std::array<std::uint64_t, NETLOF_STAT_COUNT> Sensor::kernel_stats() const {
    std::array<std::uint64_t, NETLOF_STAT_COUNT> total{};
    const int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) return total;
    std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(cpus));
    const int fd = bpf_map__fd(skel_->maps.stats);
    for (__u32 i = 0; i < NETLOF_STAT_COUNT; ++i)
        if (bpf_map_lookup_elem(fd, &i, per_cpu.data()) == 0)
            for (std::uint64_t v : per_cpu) total[i] += v;
    return total;
}

}  // namespace netlof

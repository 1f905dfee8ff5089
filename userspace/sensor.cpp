#include "userspace/sensor.hpp"

#include <bpf/bpf.h>
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
#include <thread>
#include <utility>
#include <sys/stat.h>
#include <unistd.h>

#include "model/diagnostic.hpp"
#include "netlof.skel.h"
#include "userspace/event_decoder.hpp"
#include "userspace/privileges.hpp"

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
    (*g_libbpf_log)(text);
    return 0;
}

}  // namespace

bool ensure_tracefs() {
    if (is_dir("/sys/kernel/tracing/events") || is_dir("/sys/kernel/debug/tracing/events")) return false;
    if (::mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr) != 0)
        fail("mount tracefs at /sys/kernel/tracing (tracepoints need it)", errno);
    return true;
}

std::unique_ptr<Sensor> Sensor::start(const SensorOptions& options, EventHandler handler, SensorLog log) {
    if (::geteuid() != 0) fail("load the sensor: netlof record and run need root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN)", 0);
    if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0)
        fail("find kernel BTF at /sys/kernel/btf/vmlinux (the kernel needs CONFIG_DEBUG_INFO_BTF for CO-RE)", errno);
    if (ensure_tracefs() && log) log("mounted tracefs at /sys/kernel/tracing: it was not mounted");

    static SensorLog libbpf_log;
    libbpf_log = log;
    g_libbpf_log = &libbpf_log;
    g_libbpf_verbose = options.verbose;
    libbpf_set_print(libbpf_print);

    std::unique_ptr<Sensor> s(new Sensor());
    s->handler_ = std::move(handler);
    s->skel_ = netlof_bpf__open();
    if (s->skel_ == nullptr) fail("open the BPF object", errno);
    s->skel_->rodata->self_tgid = static_cast<__u32>(::getpid());
    s->skel_->rodata->flush_interval_ns = options.flush_interval_ns;
    s->skel_->rodata->wakeup_bytes = std::min<std::uint64_t>(options.wakeup_bytes, options.ringbuf_bytes / 4);
    // The direct-mapped slots hold most connections; the map takes the ones
    // whose slot is taken, up to max_sockets.
    const std::uint32_t slots = conn_slot_count(options.max_sockets);
    s->skel_->rodata->conn_slot_shift = 64 - static_cast<__u32>(__builtin_ctz(slots));
    // Unconnected UDP destinations come from the running syscall's arguments.
    s->skel_->rodata->nr_sendto = SYS_sendto;
    s->skel_->rodata->nr_sendmsg = SYS_sendmsg;
    s->skel_->rodata->nr_sendmmsg = SYS_sendmmsg;
    int err = bpf_map__set_max_entries(s->skel_->maps.sockets, options.max_sockets);
    if (!err) err = bpf_map__set_max_entries(s->skel_->maps.conn_slots, slots);
    if (!err) err = bpf_map__set_max_entries(s->skel_->maps.udp_flows, options.max_udp_flows);
    if (!err) err = bpf_map__set_max_entries(s->skel_->maps.events, options.ringbuf_bytes);
    // One staging entry per CPU the kernel may run on.
    const int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) fail("count the possible CPUs", -cpus);
    if (!err) err = bpf_map__set_max_entries(s->skel_->maps.staged, static_cast<__u32>(cpus));
    if (err) fail("size the BPF maps (ring buffer must be a power of two of pages)", -err);
    err = netlof_bpf__load(s->skel_);
    if (err)
        fail("load the BPF programs (netlof needs Linux 5.15+ with BPF ring buffers, task storage, tracepoint programs and BTF; "
             "rerun with --verbose for the verifier log)", -err);
    // Attach one by one so a missing tracepoint is named.
    bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, s->skel_->obj) {
        bpf_link* link = bpf_program__attach(prog);
        if (link == nullptr)
            fail(std::string("attach ") + bpf_program__name(prog) + " to " + bpf_program__section_name(prog), errno);
        // The skeleton owns links it created; keep ours alive in the object's lifetime.
        s->links_.push_back(link);
    }
    s->ring_ = ring_buffer__new(bpf_map__fd(s->skel_->maps.events), on_sample, s.get(), nullptr);
    if (s->ring_ == nullptr) fail("create the ring buffer reader", errno);
    // An mmapped array's values start at offset 0, each rounded up to 8 bytes.
    static_assert(sizeof(netlof_batch) % 8 == 0);
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    s->staged_len_ = (sizeof(netlof_batch) * static_cast<std::size_t>(cpus) + page - 1) / page * page;
    void* staged = ::mmap(nullptr, s->staged_len_, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(s->skel_->maps.staged), 0);
    if (staged == MAP_FAILED) fail("map the staged close records into memory", errno);
    s->staged_ = static_cast<netlof_batch*>(staged);
    s->staged_cpus_ = static_cast<std::uint32_t>(cpus);
    s->taken_.resize(static_cast<std::size_t>(cpus) * NETLOF_BATCH_MAX);  // allocated once: none per poll
    if (options.drop_privileges) {
        const std::string kept = drop_privileges();
        if (log) log("dropped privileges: capabilities left " + kept + "; no_new_privs set");
    }
    return s;
}

Sensor::~Sensor() {
    if (staged_ != nullptr) ::munmap(staged_, staged_len_);
    if (ring_ != nullptr) ring_buffer__free(ring_);
    for (bpf_link* l : links_) bpf_link__destroy(l);
    if (skel_ != nullptr) netlof_bpf__destroy(skel_);
}

int Sensor::on_sample(void* ctx, void* data, std::size_t size) {
    auto* self = static_cast<Sensor*>(ctx);
    const std::uint32_t rejected = decode_record(data, size, self->handler_);
    self->malformed_ += rejected;
    netlof_event_header hdr{};
    if (rejected == 0 && size >= sizeof hdr) std::memcpy(&hdr, data, sizeof hdr);
    if (hdr.type == NETLOF_EV_BATCH) ++self->batches_;
    return 0;
}

void Sensor::take_staged() {
    taken_count_ = 0;
    for (std::uint32_t cpu = 0; cpu < staged_cpus_; ++cpu) {
        netlof_batch& b = staged_[cpu];
        std::atomic_ref<__u32> count(b.count), busy(b.busy);
        if (count.load(std::memory_order_relaxed) == 0) continue;
        __u32 idle = 0;
        // Taken: that CPU's program is staging a record right now; the next poll gets it.
        if (!busy.compare_exchange_strong(idle, 1, std::memory_order_acquire)) continue;
        // Copied out under the lock (the kernel sends its closes alone meanwhile).
        const std::uint32_t n = std::min<std::uint32_t>(count.load(std::memory_order_relaxed), NETLOF_BATCH_MAX);
        std::memcpy(&taken_[taken_count_], b.events, n * sizeof(netlof_conn_event));
        count.store(0, std::memory_order_relaxed);
        busy.store(0, std::memory_order_release);
        taken_count_ += n;
    }
}

int Sensor::deliver_taken() {
    for (std::size_t i = 0; i < taken_count_; ++i) {
        if (auto e = decode_event(&taken_[i], sizeof taken_[i])) handler_(*e);
        else ++malformed_;
    }
    staged_taken_ += taken_count_;
    return static_cast<int>(std::exchange(taken_count_, 0));
}

int Sensor::poll(int timeout_ms) {
    // The kernel wakes us only past a watermark, so a timeout does not mean
    // the ring is empty: always consume what is there after waiting.
    const int woken = ring_buffer__poll(ring_, timeout_ms);
    // A connection's flush records go out alone, before its close is staged:
    // consuming the ring between taking the staged closes and delivering
    // them keeps every flush record ahead of its connection's close.
    take_staged();
    const int rest = ring_buffer__consume(ring_);
    return std::max(0, woken) + std::max(0, rest) + deliver_taken();
}

void Sensor::stop_tracing() {
    for (bpf_link* l : links_) bpf_link__destroy(l);
    links_.clear();
    // Detaching does not wait for a program already running on another CPU;
    // one at a close both submits its record and frees the socket's slot, so
    // a drain before it is done and a table read after could miss that
    // connection. The programs run inside RCU
    // read-side sections: a grace period (membarrier's global command waits
    // for one) ends every run that began before the detach. A 5 ms sleep was
    // not always enough on a VM whose vCPU can be descheduled mid-program.
    if (::syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // nohz_full kernels refuse it
}

std::vector<netlof_conn> Sensor::take_udp_flows(std::uint64_t idle_before_ktime) {
    const int fd = bpf_map__fd(skel_->maps.udp_flows);
    std::vector<netlof_udp_key> keys;
    netlof_udp_key key{}, next{};
    const void* cur = nullptr;
    while (bpf_map_get_next_key(fd, cur, &next) == 0) {
        keys.push_back(next);
        key = next;
        cur = &key;
    }
    std::vector<netlof_conn> out;
    for (const netlof_udp_key& k : keys) {
        netlof_conn c{};
        if (bpf_map_lookup_elem(fd, &k, &c) != 0 || c.last_seen_ns >= idle_before_ktime) continue;
        // Atomic take: a datagram racing with us starts a new flow instead of being lost.
        if (bpf_map_lookup_and_delete_elem(fd, &k, &c) == 0) out.push_back(c);
    }
    return out;
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

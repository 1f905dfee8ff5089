#include "userspace/commands/record_command.hpp"

#include <csignal>
#include <fmt/core.h>

#include "common/diagnostic.hpp"
#include "userspace/sensor/capture.hpp"
#include "userspace/commands/option_error.hpp"
#include "userspace/sensor/record_builder.hpp"

namespace netlof {

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_stop_signal(int) { g_stop = 1; }

}  // namespace

int run_record(RecordCommand cmd) {
    RecordFormat format = RecordFormat::Jsonl;
    if (cmd.format == "csv") format = RecordFormat::Csv;
    else if (cmd.format != "jsonl") option_error("--format", "'" + cmd.format + "' is not jsonl or csv");
    if (cmd.ringbuf_kib < 4 || (cmd.ringbuf_kib & (cmd.ringbuf_kib - 1)) != 0)
        option_error("--ringbuf-kib", "must be a power of two, at least 4");
    if (!(cmd.udp_idle_s > 0)) option_error("--udp-idle", "must be positive");
    cmd.sensor.ringbuf_bytes = cmd.ringbuf_kib * 1024u;
    cmd.sensor.flush_interval_ns = static_cast<std::uint64_t>(cmd.flush_interval_s * 1e9);

    std::unique_ptr<RecordWriter> writer = open_record_writer(cmd.out, format);
    RecordBuilder table(KernelClock(), cmd.max_processes,
                          [&](const ConnectionRecord& r) { writer->write(r); });

    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;  // no SA_RESTART: the poll returns at once
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    std::unique_ptr<Sensor> sensor = Sensor::start(cmd.sensor, table, log_line);
    table.exes().scan_running();  // after the exec program is attached: no process falls between
    if (cmd.sensor.attach_only)
        log_line("--attach-only: every program is attached and returns at once; nothing will be recorded");
    log_line(fmt::format("recording outbound connections to {} ({})", cmd.out == "-" ? "stdout" : cmd.out, cmd.format));

    const std::uint64_t start = KernelClock::now_ktime();
    Capture capture(*sensor, table, cmd.udp_idle_s);
    std::uint64_t write_failures = 0;
    while (!g_stop) {
        const std::uint64_t now = KernelClock::now_ktime();
        if (cmd.duration_s > 0 && now - start >= static_cast<std::uint64_t>(cmd.duration_s * 1e9)) break;
        capture.poll();
        if (!writer->flush()) ++write_failures;
    }
    capture.finish();
    if (!writer->flush()) ++write_failures;

    const auto k = sensor->kernel_stats();
    const std::uint64_t missed = sensor->missed_runs();
    const RecordBuilderStats& t = table.stats();
    log_line(fmt::format(
        "stats: events {} (closes through the per-CPU queues {}, through the ring buffer while a queue was full {}), "
        "records {} (closes not seen, reported when the socket was reused: {}), "
        "drops {} (ring buffer full {}, sockets map full {}, udp map full {}, "
        "missed program runs {}), "
        "malformed {}, exe unknown {} (exec records lost {}, exe table evictions {}, paths read from /proc {}), "
        "cgroups not named {}, sockaddr unreadable {}, udp datagrams received without a known sender {}, "
        "udp datagrams from peers the socket had not sent to (inbound) {}, "
        "write failures {}",
        k[NETLOF_STAT_EVENTS], sensor->closes_queued(), k[NETLOF_STAT_CLOSE_QUEUE_FULL], t.records,
        k[NETLOF_STAT_CLOSE_UNSEEN],
        kernel_drops(k, missed),
        k[NETLOF_STAT_RINGBUF_FULL], k[NETLOF_STAT_SOCKETS_FULL], k[NETLOF_STAT_UDP_FLOWS_FULL], missed,
        sensor->malformed_records(), table.exes().stats().unknown, k[NETLOF_STAT_EXEC_LOST], table.exes().stats().evictions,
        table.exes().stats().from_proc, table.cgroups().unknown(), k[NETLOF_STAT_USER_READ_FAILED], k[NETLOF_STAT_UDP_RECV_NO_SOURCE],
        k[NETLOF_STAT_UDP_RECV_UNSOLICITED], write_failures));
    return write_failures == 0 ? 0 : 1;
}

}  // namespace netlof

#include "userspace/commands/record_command.hpp"

#include <chrono>
#include <csignal>
#include <fmt/core.h>

#include "common/diagnostic.hpp"
#include "common/log.hpp"
#include "userspace/commands/option_error.hpp"
#include "userspace/sensor/capture.hpp"

namespace netlof {

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_stop_signal(int) { g_stop = 1; }

}  // namespace

int run_record(RecordCommand cmd) {
    RecordFormat format = RecordFormat::Jsonl;
    if (cmd.format == "csv") format = RecordFormat::Csv;
    else if (cmd.format != "jsonl") option_error("--format", "'" + cmd.format + "' is not jsonl or csv");
    if (cmd.sensor.ringbuf_kib < 4 || (cmd.sensor.ringbuf_kib & (cmd.sensor.ringbuf_kib - 1)) != 0)
        option_error("--ringbuf-kib", "must be a power of two, at least 4");
    if (!(cmd.sensor.udp_idle_s > 0)) option_error("--udp-idle", "must be positive");
    if (const auto source = parse_byte_source(cmd.byte_source)) cmd.sensor.byte_source = *source;
    else option_error("--byte-source", "'" + cmd.byte_source + "' is not auto, sock-length or counters");

    std::unique_ptr<RecordWriter> writer = open_record_writer(cmd.out, format);

    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;  // no SA_RESTART: the poll returns at once
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    std::unique_ptr<Capture> capture = Capture::start(cmd.sensor, [](LogLevel l, const std::string& m) { log_line(l, m); });
    if (cmd.sensor.attach_only)
        log_line("--attach-only: every program is attached and returns at once; nothing will be recorded");
    log_line(fmt::format("recording outbound connections to {} ({})", cmd.out == "-" ? "stdout" : cmd.out, cmd.format));

    const auto start = std::chrono::steady_clock::now();
    std::uint64_t write_failures = 0;
    auto write = [&](const RecordBatch& batch) {
        for (const ConnectionRecord& r : batch) writer->write(r);
        if (!writer->flush()) ++write_failures;
    };
    while (!g_stop) {
        if (cmd.duration_s > 0 && std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >= cmd.duration_s)
            break;
        write(capture->poll());
    }
    write(capture->finish());

    const SensorCounters c = capture->counters();
    log_line(fmt::format(
        "stats: events {} (closes through the per-CPU queues {}, through the ring buffer while a queue was full {}), "
        "records {} (closes not seen, reported when the socket was reused: {}), "
        "drops {} (ring buffer full {}, sockets map full {}, udp map full {}, "
        "missed program runs {}), "
        "malformed {}, exe unknown {} (exec records lost {}, exe table evictions {}, paths read from /proc {}), "
        "cgroups not named {}, sockaddr unreadable {}, udp datagrams received without a known sender {}, "
        "udp datagrams from peers the socket had not sent to (inbound) {}, "
        "write failures {}",
        c.events, c.closes_queued, c.close_queue_full, c.records, c.close_unseen, c.drops(), c.ringbuf_full,
        c.sockets_full, c.udp_flows_full, c.missed_runs, c.malformed, c.exe_unknown, c.exec_lost, c.exe_evictions,
        c.exe_from_proc, c.cgroups_unknown, c.user_read_failed, c.udp_recv_no_source, c.udp_recv_unsolicited,
        write_failures));
    return write_failures == 0 ? 0 : 1;
}

}  // namespace netlof

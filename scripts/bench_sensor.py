#!/usr/bin/python3
"""The sensor's cost, measured side by side: a loopback workload with netlof record off and on.

    /usr/bin/python3 scripts/bench_sensor.py --netlof build/netlof --loadgen build/netlof-loadgen

Each round runs the same workload (connect, send 4 KiB, receive a reply, close, as fast as
the machine allows) without the sensor, with `netlof record`, and with `netlof record
--attach-only` (every program attached but returning at once: what the tracepoints cost by
themselves, the floor under any sensor on them), in an order drawn per round so drift hits
all alike; it reports the median wall times, their ratios, connections/s, events/s, drops
and the sensor's own CPU. A second part paces the workload at 10,000 connections/s and
reports the sensor's CPU there.
"""
import argparse
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from daemon_bench import cpu_seconds


def loadgen(args, connections, rate=0):
    cmd = [args.loadgen, '--connections', str(connections), '--threads', str(args.threads), '--payload', '4096']
    if rate:
        cmd += ['--rate', str(rate)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit('netlof-loadgen failed (%d)' % p.returncode)
    r = json.loads(out)
    # The workload's own CPU: the BPF programs run inside its syscalls, so
    # this is where the sensor's in-kernel cost lands.
    r['cpu'] = usage.ru_utime + usage.ru_stime
    return r


def bpf_programs():
    """{id: (run_time_ns, run_cnt)} of every loaded BPF program."""
    out = subprocess.run(['bpftool', 'prog', 'show', '-j'], capture_output=True, text=True, check=True).stdout
    return {p['id']: (p.get('run_time_ns', 0), p.get('run_cnt', 0)) for p in json.loads(out)}


def in_kernel_cost(args, connections, source):
    """Nanoseconds the sensor's BPF programs ran (kernel.bpf_stats_enabled) during one run,
    and the workload's CPU seconds. Wall time on this VM cannot resolve a few percent; the
    kernel's own accounting of the programs can."""
    knob = '/proc/sys/kernel/bpf_stats_enabled'
    with open(knob) as f:
        old = f.read().strip()
    with open(knob, 'w') as f:
        f.write('1')
    try:
        before = bpf_programs()
        s = Sensor(args.netlof, source)
        ours = set(bpf_programs()) - set(before)
        start = bpf_programs()
        c0 = s.cpu()
        r = loadgen(args, connections)
        sensor_cpu = s.cpu() - c0
        end = bpf_programs()
        s.stop()
    finally:
        with open(knob, 'w') as f:
            f.write(old)
    ns = sum(end[i][0] - start[i][0] for i in ours)
    runs = sum(end[i][1] - start[i][1] for i in ours)
    return ns, runs, r, sensor_cpu


class Sensor:
    def __init__(self, netlof, extra=()):
        self.err = tempfile.NamedTemporaryFile(mode='w+', prefix='netlof-bench-')
        self.proc = subprocess.Popen([netlof, 'record', '--out', '/dev/null', *extra], stderr=self.err)
        for _ in range(200):
            time.sleep(0.025)
            self.err.seek(0)
            if 'recording' in self.err.read():
                return
            if self.proc.poll() is not None:
                break
        self.err.seek(0)
        sys.exit('netlof record did not start:\n' + self.err.read())

    def cpu(self):
        return cpu_seconds(self.proc.pid)

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait()
        self.err.seek(0)
        text = self.err.read()
        stats = {k: int(v) for k, v in re.findall(r'(events|records|drops) (\d+)', text)}
        # What the drops were: every kind the stats line names.
        stats['drop_kinds'] = {k: int(v) for k, v in re.findall(
            r'(ring buffer full|sockets map full|udp map full|missed program runs) (\d+)', text)}
        unseen = re.search(r'reported when the socket was reused: (\d+)', text)
        stats['closes_unseen'] = int(unseen.group(1)) if unseen else 0
        return stats, text


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--netlof', default='build/netlof')
    ap.add_argument('--loadgen', default='build/netlof-loadgen')
    ap.add_argument('--connections', type=int, default=int(os.environ.get('BENCH_CONNECTIONS', '30000')))
    ap.add_argument('--rounds', type=int, default=int(os.environ.get('BENCH_ROUNDS', '11')))
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--byte-source', default='auto',
                    help="netlof record's --byte-source: auto, sock-length, or counters (older kernels' source)")
    args = ap.parse_args()
    source = ['--byte-source', args.byte_source]
    if os.geteuid() != 0:
        sys.exit('bench_sensor needs root (it loads the sensor)')

    loadgen(args, 2000)  # warm up
    off, on, sensor_cpu, events, drops, records, unseen = [], [], [], 0, 0, 0, 0
    drop_kinds = {}
    off_cpu, on_cpu, attach, attach_cpu = [], [], [], []
    rng = random.Random(1)
    for _ in range(args.rounds):
        # The order is drawn per round: each run leaves thousands of
        # TIME_WAIT sockets behind that slow the next one down.
        for arm in rng.sample(['off', 'on', 'attach'], 3):
            if arm == 'off':
                r = loadgen(args, args.connections)
                off.append(r['seconds'])
                off_cpu.append(r['cpu'])
                continue
            if arm == 'attach':
                s = Sensor(args.netlof, ['--attach-only', *source])
                c0 = s.cpu()
                r = loadgen(args, args.connections)
                attach.append(r['seconds'])
                attach_cpu.append(r['cpu'] + s.cpu() - c0)
                stats, text = s.stop()
                if stats.get('events', 0) != 0:
                    sys.exit('netlof record --attach-only sent events; the floor is not a floor:\n' + text)
                continue
            s = Sensor(args.netlof, source)
            c0 = s.cpu()
            r = loadgen(args, args.connections)
            sensor_cpu.append((s.cpu() - c0) / r['seconds'])
            stats, _ = s.stop()
            on.append(r['seconds'])
            on_cpu.append(r['cpu'] + sensor_cpu[-1] * r['seconds'])
            events += stats.get('events', 0)
            drops += stats.get('drops', 0)
            for k, v in stats['drop_kinds'].items():
                drop_kinds[k] = drop_kinds.get(k, 0) + v
            records += stats.get('records', 0)
            unseen += stats['closes_unseen']
    t_off, t_on = statistics.median(off), statistics.median(on)
    # Each round's runs are back to back: their ratio cancels slow drift.
    ratios = sorted(b / a for a, b in zip(off, on))
    ratio = statistics.median(ratios)
    n = args.connections
    print('sensor overhead: %d rounds of %d loopback connections (4 KiB out, 64 B back), %d client threads, '
          '--byte-source %s' % (args.rounds, n, args.threads, args.byte_source))
    print('  sensor off: median %.3f s  (%.0f connections/s)' % (t_off, n / t_off))
    print('  sensor on:  median %.3f s  (%.0f connections/s)' % (t_on, n / t_on))
    q = len(ratios) // 4
    print('  added wall time: %+.1f%% (median of %d paired on/off ratios, quartiles %+.1f%% .. %+.1f%%); '
          'ratio of the medians %+.1f%%'
          % (100 * (ratio - 1), len(ratios), 100 * (ratios[q] - 1), 100 * (ratios[-1 - q] - 1), 100 * (t_on / t_off - 1)))
    # CPU seconds of the whole job, workload plus (when on) the sensor: what
    # the sensor adds to the machine's work, steadier than wall time on a VM
    # whose wall clock moves with its neighbours.
    cpu_ratios = sorted(b / a for a, b in zip(off_cpu, on_cpu))
    cpu_ratio = statistics.median(cpu_ratios)
    print('  added CPU time (workload incl. in-kernel BPF, plus the sensor): %+.1f%% (median of %d paired ratios, '
          'quartiles %+.1f%% .. %+.1f%%); workload alone %+.1f%% (ratio of medians)'
          % (100 * (cpu_ratio - 1), len(cpu_ratios), 100 * (cpu_ratios[q] - 1), 100 * (cpu_ratios[-1 - q] - 1),
             100 * (statistics.median([c - sc * t for c, sc, t in zip(on_cpu, sensor_cpu, on)]) / statistics.median(off_cpu) - 1)))
    # The floor: the same measures with every program returning at once.
    a_ratios = sorted(b / a for a, b in zip(off, attach))
    a_cpu_ratios = sorted(b / a for a, b in zip(off_cpu, attach_cpu))
    a_ratio, a_cpu_ratio = statistics.median(a_ratios), statistics.median(a_cpu_ratios)
    print('  attach only (every program attached, returning at once; the tracepoints\' own cost): added wall '
          '%+.1f%% (quartiles %+.1f%% .. %+.1f%%), CPU %+.1f%%; so netlof\'s own work adds about %+.1f%% wall, '
          '%+.1f%% CPU' % (100 * (a_ratio - 1), 100 * (a_ratios[q] - 1), 100 * (a_ratios[-1 - q] - 1),
                           100 * (a_cpu_ratio - 1), 100 * (ratio - a_ratio), 100 * (cpu_ratio - a_cpu_ratio)))
    print('  records %d of %d connections (closes not seen, reported at the socket\'s reuse: %d), events %.0f/s, drops %d%s'
          % (records, n * args.rounds, unseen, events / sum(on), drops,
             ' (%s)' % ', '.join('%s %d' % kv for kv in drop_kinds.items() if kv[1]) if drops else ''))
    print('  sensor CPU while loaded: %.1f%% of one core (median)' % (100 * statistics.median(sensor_cpu)))

    s = Sensor(args.netlof, source)
    c0 = s.cpu()
    r = loadgen(args, 50000, rate=10000)
    cpu10k = (s.cpu() - c0) / r['seconds']
    stats, _ = s.stop()
    print('  at %.0f connections/s (paced): sensor CPU %.1f%% of one core, drops %d, records %d of 50000'
          % (r['rate'], 100 * cpu10k, stats.get('drops', 0), stats.get('records', 0)))
    # The sensor's work itself, as the kernel accounts it: its programs' run
    # time plus its user-space CPU, against the workload's CPU with it off.
    ns, runs, r, scpu = in_kernel_cost(args, n, source)
    base_cpu = statistics.median(off_cpu)
    accounted = (ns / 1e9 + scpu) / base_cpu
    print('  accounted sensor work: BPF programs %.0f ns per connection (%.1f runs), user space %.1f us per connection; '
          '%+.1f%% of the workload\'s CPU time with the sensor off (excludes tracepoint dispatch)'
          % (ns / n, runs / n, 1e6 * scpu / n, 100 * accounted))
    met = [('<= 5% added wall time', ratio - 1 <= 0.05), ('<= 5% added CPU time', cpu_ratio - 1 <= 0.05),
           ('<= 5% accounted sensor work', accounted <= 0.05), ('zero drops', drops == 0 and stats.get('drops', 0) == 0),
           ('< 10% of a core at 10k/s', cpu10k < 0.10),
           # At least: records of other processes on the host count too.
           ('a record for every connection', records >= n * args.rounds and stats.get('records', 0) >= 50000)]
    print('targets: ' + ', '.join('%s %s' % (name, 'met' if ok else 'MISSED') for name, ok in met))


if __name__ == '__main__':
    main()

#!/usr/bin/python3
"""Close-to-alert latency of `netlof run` under load.

    /usr/bin/python3 scripts/bench_daemon.py --netlof build/netlof --loadgen build/netlof-loadgen

The daemon learns from 400 varied connections of one process, then the same process
connects to an address outside its allowlist at a paced 5,000 connections/s. With the
fold window at 0 every connection is an allowlist_violation alert line, and every record
is also scored by LOF and written to the record log, so each alert has crossed the whole
path: kernel close -> ring buffer -> record -> allowlist + LOF -> alert line. Latency is
the alert's `time` minus its record's `ts_end` (both on the daemon's clock). Target: p99
under 50 ms. BENCH_DAEMON_RATE and BENCH_DAEMON_SECONDS change the load.
"""
import calendar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from daemon_bench import cpu_seconds, parse_args, start_learned_daemon


def parse_time(text):
    whole, frac = text.rstrip('Z').split('.')
    return calendar.timegm(time.strptime(whole, '%Y-%m-%dT%H:%M:%S')) + float('0.' + frac)


def percentile(sorted_values, q):
    i = min(len(sorted_values) - 1, max(0, int(round(q / 100.0 * (len(sorted_values) - 1)))))
    return sorted_values[i]


def main():
    args = parse_args()
    rate = int(os.environ.get('BENCH_DAEMON_RATE', '5000'))
    seconds = float(os.environ.get('BENCH_DAEMON_SECONDS', '6'))
    work = tempfile.mkdtemp(prefix='netlof-bench-daemon-')
    try:
        daemon, log = start_learned_daemon(args.netlof, args.loadgen, work, 'bench-load', args.pipeline,
                                           '{path: %s/alerts.jsonl, fold_window: 0s}' % work,
                                           'records: {path: %s/records.jsonl}\nstats_interval: 1h\n' % work)

        connections = int(rate * seconds)
        cpu0 = cpu_seconds(daemon.pid)
        out = subprocess.run([args.loadgen, '--name', 'bench-load', '--dst', '127.0.0.3', '--port', '8080',
                              '--connections', str(connections), '--threads', '4', '--rate', str(rate),
                              '--payload', '1000', '--reply', '100'], check=True, capture_output=True, text=True).stdout
        load = json.loads(out)
        daemon_cpu = cpu_seconds(daemon.pid) - cpu0
        time.sleep(0.5)
        daemon.send_signal(signal.SIGTERM)
        status = daemon.wait(timeout=30)
        with open(log) as f:
            final = [l for l in f if 'final stats' in l]
        latencies = []
        with open(os.path.join(work, 'alerts.jsonl')) as f:
            for line in f:
                a = json.loads(line)
                if a['rule'] == 'allowlist_violation' and a['output_fields']['fd.sip'] == '127.0.0.3':
                    latencies.append(parse_time(a['time']) - a['record']['ts_end'])
        latencies.sort()
        print('== netlof run: close-to-alert latency at %d connections/s (%d connections, %.1f s)'
              % (rate, connections, load['seconds']))
        print('achieved %.0f connections/s; %d alerts for %d connections; daemon exit status %d'
              % (load['rate'], len(latencies), connections, status))
        print('daemon CPU %.1f%% of one core (sensor, records log, allowlist, LOF on every record, alert lines)'
              % (100.0 * daemon_cpu / load['seconds']))
        if final:
            m = re.search(r'drops (\d+)', final[0])
            print('drops %s; %s' % (m.group(1) if m else '?', final[0].strip()[len('netlof: '):][:160] + '...'))
        if not latencies:
            sys.exit('no alerts: nothing measured')
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        print('latency p50 %.1f ms, p99 %.1f ms, max %.1f ms' % (p50 * 1e3, p99 * 1e3, latencies[-1] * 1e3))
        print('target p99 < 50 ms: %s' % ('met' if p99 < 0.050 else 'MISSED'))
        if len(latencies) != connections:
            print('WARNING: %d connections had no alert' % (connections - len(latencies)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()

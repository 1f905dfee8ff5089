#!/usr/bin/python3
"""Soak: `netlof run` under a steady load for 10 minutes.

    /usr/bin/python3 scripts/bench_soak.py --netlof build/netlof --loadgen build/netlof-loadgen

The daemon learns 400 varied connections of one process, then the same process
connects to an address outside its allowlist at a paced 5,000 connections/s for
BENCH_SOAK_SECONDS (600). With a 60 s fold window each violation is either an alert
line or counted into the next summary line, so the counts of the soak's
allowlist_violation alerts add up to the connections the daemon saw: connections made
minus that sum is records lost. RSS is sampled every 10 s. Targets: flat RSS, zero lost.
BENCH_SOAK_RATE changes the load.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from daemon_bench import cpu_seconds, parse_args, start_learned_daemon


def status_kib(pid, key):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    return 0


def main():
    args = parse_args()
    rate = int(os.environ.get('BENCH_SOAK_RATE', '5000'))
    seconds = float(os.environ.get('BENCH_SOAK_SECONDS', '600'))
    work = tempfile.mkdtemp(prefix='netlof-bench-soak-')
    try:
        daemon, log = start_learned_daemon(args.netlof, args.loadgen, work, 'soak-load', args.pipeline,
                                           '{path: %s/alerts.jsonl, fold_window: 60s}' % work, 'stats_interval: 1m\n')

        connections = int(rate * seconds)
        cpu0 = cpu_seconds(daemon.pid)
        load = subprocess.Popen([args.loadgen, '--name', 'soak-load', '--dst', '127.0.0.3', '--port', '8080',
                                 '--connections', str(connections), '--threads', '4', '--rate', str(rate),
                                 '--payload', '1000', '--reply', '100'], stdout=subprocess.PIPE, text=True)
        start = time.time()
        samples = []  # (seconds, RSS KiB)
        while load.poll() is None:
            samples.append((time.time() - start, status_kib(daemon.pid, 'VmRSS')))
            for _ in range(100):
                if load.poll() is not None:
                    break
                time.sleep(0.1)
        result = json.loads(load.stdout.read())
        daemon_cpu = cpu_seconds(daemon.pid) - cpu0
        peak = status_kib(daemon.pid, 'VmHWM')
        time.sleep(0.5)
        daemon.send_signal(signal.SIGTERM)  # the last fold summaries are written at stop
        status = daemon.wait(timeout=30)
        with open(log) as f:
            final = [l for l in f if 'final stats' in l]
        seen = 0
        with open(os.path.join(work, 'alerts.jsonl')) as f:
            for line in f:
                a = json.loads(line)
                if a['rule'] == 'allowlist_violation' and a['output_fields'].get('fd.sip') == '127.0.0.3':
                    seen += a['count']
        print('== netlof run soak: %d connections/s for %.0f s (%d connections, achieved %.0f/s), exit status %d'
              % (rate, result['seconds'], connections, result['rate'], status))
        print('RSS over time (MiB): ' + ', '.join('%.0fs %.1f' % (t, kib / 1024.0) for t, kib in samples[::6]))
        after_first_minute = [kib for t, kib in samples if t >= 60] or [kib for _, kib in samples]
        print('RSS from 60 s on: min %.1f MiB, max %.1f MiB (growth %.1f MiB); peak %.1f MiB'
              % (min(after_first_minute) / 1024.0, max(after_first_minute) / 1024.0,
                 (after_first_minute[-1] - after_first_minute[0]) / 1024.0, peak / 1024.0))
        print('daemon CPU %.1f%% of one core' % (100.0 * daemon_cpu / result['seconds']))
        m = re.search(r'drops (\d+)', final[0]) if final else None
        print('drops %s; records lost %d (%d connections, %d counted in allowlist_violation alerts)'
              % (m.group(1) if m else '?', connections - seen, connections, seen))
        flat = max(after_first_minute) - min(after_first_minute) <= 4096
        print('targets: flat RSS (within 4 MiB after the first minute) %s, zero lost %s'
              % ('met' if flat else 'MISSED', 'met' if seen == connections else 'MISSED'))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()

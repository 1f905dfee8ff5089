"""What the benchmark scripts share: a process's CPU time, and (bench_daemon.py,
bench_soak.py) a `netlof run` in a scratch folder that has learned 400 varied connections
of one process allowed to 127.0.0.2:8080, so that the same process anywhere else is an
allowlist violation."""
import argparse
import os
import subprocess
import sys
import time


def wait_for(path, text, seconds, proc):
    end = time.time() + seconds
    while time.time() < end:
        with open(path) as f:
            if text in f.read():
                return
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    with open(path) as f:
        sys.exit('netlof run: no %r after %d s:\n%s' % (text, seconds, f.read()))


def cpu_seconds(pid):
    """CPU seconds of every thread of pid. From schedstat (nanoseconds) where the kernel has
    it: the 10 ms ticks of /proc/<pid>/stat are a few per run at the sensor's ~2% of a core."""
    if not os.path.exists('/proc/self/schedstat'):  # a kernel without CONFIG_SCHED_INFO
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')  # utime + stime
    total = 0
    for tid in os.listdir('/proc/%d/task' % pid):
        try:
            with open('/proc/%d/task/%s/schedstat' % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:  # a thread that just ended
            pass
    return total / 1e9


def parse_args():
    """--netlof, --loadgen and --pipeline (configs/pipeline-default.yaml)."""
    ap = argparse.ArgumentParser()
    ap.add_argument('--netlof', required=True)
    ap.add_argument('--loadgen', required=True)
    ap.add_argument('--pipeline', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'configs',
                                                       'pipeline-default.yaml'))
    return ap.parse_args()


def start_learned_daemon(netlof, loadgen, work, name, pipeline, alerts, extra_config=''):
    """Starts `netlof run` in work and teaches it `name`'s normal traffic; returns (process, log path)."""
    with open(os.path.join(work, 'allow.yaml'), 'w') as f:
        f.write('processes:\n  %s: ["127.0.0.2:8080"]\n' % name)
    with open(os.path.join(work, 'netlof.yaml'), 'w') as f:
        f.write('model: {path: %s/model.bin, pipeline: %s, contamination: auto, learn: {records: 400}}\n'
                'allowlist: [%s/allow.yaml]\nalerts: %s\n%s'
                % (work, os.path.abspath(pipeline), work, alerts, extra_config))
    log = os.path.join(work, 'netlof.log')
    with open(log, 'w') as err:
        daemon = subprocess.Popen([netlof, 'run', '--config', os.path.join(work, 'netlof.yaml')], stderr=err)
    wait_for(log, 'running:', 10, daemon)
    subprocess.run([loadgen, '--name', name, '--dst', '127.0.0.2', '--port', '8080', '--connections', '400',
                    '--threads', '8', '--payload', '1000', '--payload-max', '8000', '--reply', '100',
                    '--reply-max', '4000', '--hold-ms-max', '50'], check=True, capture_output=True)
    wait_for(log, '; detecting', 30, daemon)
    return daemon, log

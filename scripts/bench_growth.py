#!/usr/bin/python3
"""How netlof's model costs grow with the rows: time and peak memory of the whole
`netlof train` and `netlof score` commands at 10k, 100k and 1M seed-shaped rows
(10M with BENCH_10M=1 or --with-10m: about five minutes more), scikit-learn's
fit and score_samples beside them where it finishes within a few minutes.

    /usr/bin/python3 scripts/bench_growth.py --netlof build/netlof [--with-10m]

Each size trains on `netlof synth --seed 42` and scores `--seed 43` rows of the
same size, with its own model and with the 102,500-row model: with a model of
fixed size, score's memory must stay flat however many rows it reads.
"""
import argparse
import os
import subprocess
import sys
import time

SIZES = [(5, '10k'), (50, '100k'), (500, '1M'), (5000, '10M')]
SKLEARN_UP_TO = 50  # scale: scikit-learn above 100k rows takes many minutes a side

SKLEARN = r'''
import resource, sys, time
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import OneHotEncoder, StandardScaler
train, query = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2])
ct = ColumnTransformer([('num', StandardScaler(), ['src_port', 'dst_port', 'duration', 'bytes_sent', 'bytes_received']),
                        ('cat', OneHotEncoder(handle_unknown='ignore'), ['process_name', 'dst_ip'])])
x = ct.fit_transform(train); xq = ct.transform(query)
x = x.toarray() if hasattr(x, 'toarray') else x
xq = xq.toarray() if hasattr(xq, 'toarray') else xq
lof = LocalOutlierFactor(n_neighbors=20, contamination=0.1, novelty=True)
t0 = time.perf_counter(); lof.fit(x); fit = time.perf_counter() - t0
t0 = time.perf_counter(); lof.score_samples(xq); score = time.perf_counter() - t0
print(fit, score, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
'''


def timed(cmd):
    """(wall seconds, peak RSS MiB) of a command, from /usr/bin/time."""
    start = time.perf_counter()
    proc = subprocess.run(['/usr/bin/time', '-f', 'maxrss_kib %M'] + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit('failed: %s\n%s' % (' '.join(cmd), proc.stderr[-2000:]))
    rss = [int(l.split()[1]) / 1024.0 for l in proc.stderr.splitlines() if l.startswith('maxrss_kib ')]
    return wall, rss[-1], proc.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--netlof', default='build/netlof')
    ap.add_argument('--workdir', default='build/bench-growth')
    ap.add_argument('--with-10m', action='store_true', default=os.environ.get('BENCH_10M') == '1')
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    pipeline = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'configs', 'pipeline-seed.yaml')
    sizes = [s for s in SIZES if args.with_10m or s[0] < 5000]

    def data(scale, seed):
        path = os.path.join(args.workdir, 's%d-%d.csv' % (scale, seed))
        if not os.path.exists(path):
            subprocess.run([args.netlof, 'synth', '--seed', str(seed), '--out', path, '--normal', str(500 * scale),
                            '--anomalous-legit', str(20 * scale), '--anomalous-unknown', str(30 * scale)], check=True)
        return path

    print('== how cost grows: whole netlof commands (reading and writing included) beside scikit-learn\'s fit and '
          'score_samples (in-process, after reading)')
    header = ('rows', 'train s', 'train MiB', 'score s', 'score MiB', 'score MiB*', 'sklearn fit s', 'sklearn score s',
              'sklearn MiB')
    print('  %-11s %9s %10s %9s %10s %11s %14s %16s %12s' % header)
    results = {}
    fixed_model = None
    for scale, name in sizes:
        train, query = data(scale, 42), data(scale, 43)
        rows = sum(1 for _ in open(train)) - 1
        model = os.path.join(args.workdir, 'model-%d.bin' % scale)
        tw, tr, _ = timed([args.netlof, 'train', '--pipeline', pipeline, '--in', train, '--out', model,
                           '--contamination', '0.1'])
        sw, sr, _ = timed([args.netlof, 'score', '--model', model, '--in', query, '--out', os.devnull])
        if scale == 50:
            fixed_model = model
        fr = float('nan')
        if fixed_model:
            _, fr, _ = timed([args.netlof, 'score', '--model', fixed_model, '--in', query, '--out', os.devnull])
        sk = ('-', '-', '-')
        if scale <= SKLEARN_UP_TO:
            proc = subprocess.run([sys.executable, '-c', SKLEARN, train, query], capture_output=True, text=True, check=True)
            f, s, m = (float(v) for v in proc.stdout.split())
            sk = ('%.2f' % f, '%.2f' % s, '%.0f' % m)
        results[name] = (rows, tw, tr, sw, sr)
        print('  %-11s %9.2f %10.0f %9.2f %10.0f %11s %14s %16s %12s'
              % ('{:,}'.format(rows), tw, tr, sw, sr, '-' if fr != fr else '%.0f' % fr, sk[0], sk[1], sk[2]), flush=True)
    print('  score MiB*: scoring the same rows with the 102,500-row model (its memory must not grow with the input)')
    print('  scikit-learn runs up to 102,500 rows; above that each side takes many minutes')
    targets = []
    if '1M' in results:
        targets.append(('1M rows train within 400 MiB', results['1M'][2] <= 400))
    if '10M' in results:
        targets.append(('10M rows train within 60 s', results['10M'][1] <= 60))
        targets.append(('10M rows train within 4 GiB', results['10M'][2] <= 4096))
    if targets:
        print('targets: ' + ', '.join('%s %s' % (n, 'met' if t else 'MISSED') for n, t in targets))


if __name__ == '__main__':
    main()

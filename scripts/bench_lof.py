#!/usr/bin/python3
"""netlof vs scikit-learn on the same seed-shaped data, side by side in one run.

    /usr/bin/python3 scripts/bench_lof.py --netlof build/netlof [--scale 50]

`netlof synth` makes the training file (seed 42) and a file to score (seed 43), both
scale x the notebook's sizes (scale 50: 102,500 rows, 15 features after the pipeline).
scikit-learn fits LocalOutlierFactor(novelty=True), which computes the same training
scores as fit_predict, then scores the second file; netlof trains and scores the same
files. Both report their fit and score phases; the values are checked to agree (lof
within 1e-9 relative, labels exact), and the ratios and peak memory are printed.
"""
import argparse
import os
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = ['src_port', 'dst_port', 'duration', 'bytes_sent', 'bytes_received']
CATEGORICAL = ['process_name', 'dst_ip']


def run_netlof(cmd):
    """Runs netlof, returns (phase timings, wall seconds, peak RSS MiB, stdout).

    Peak RSS comes from /usr/bin/time: a child forked from this Python process
    would count Python's own pages in its ru_maxrss until it execs.
    """
    start = time.perf_counter()
    proc = subprocess.run(['/usr/bin/time', '-f', 'maxrss_kib %M'] + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit('netlof failed: %s\n%s' % (' '.join(cmd), proc.stderr))
    phases, rss = {}, float('nan')
    for line in proc.stderr.splitlines():
        if line.startswith('timing: '):
            _, name, secs = line.split()
            phases[name] = float(secs)
        elif line.startswith('maxrss_kib '):
            rss = int(line.split()[1]) / 1024.0
    return phases, wall, rss, proc.stdout


def compare(name, got_lof, got_label, want_lof, want_label):
    rel = np.abs(got_lof - want_lof) / np.maximum(np.abs(got_lof), np.abs(want_lof))
    bad_lof = int((rel > 1e-9).sum())
    bad_label = int((got_label != want_label).sum())
    print('  %-8s %d rows: max relative lof difference %.2e, %d lof beyond 1e-9, %d labels differ'
          % (name, len(got_lof), rel.max(), bad_lof, bad_label))
    return bad_lof == 0 and bad_label == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--netlof', default='build/netlof')
    ap.add_argument('--workdir', default='build/bench')
    ap.add_argument('--scale', type=int, default=int(os.environ.get('BENCH_SCALE', '50')))
    ap.add_argument('--neighbors', type=int, default=20)
    ap.add_argument('--contamination', default='0.1')
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    pipeline = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'configs', 'pipeline-seed.yaml')
    sizes = ['--normal', str(500 * args.scale), '--anomalous-legit', str(20 * args.scale),
             '--anomalous-unknown', str(30 * args.scale)]
    train_csv = os.path.join(args.workdir, 'train.csv')
    query_csv = os.path.join(args.workdir, 'query.csv')
    subprocess.run([args.netlof, 'synth', '--seed', '42', '--out', train_csv] + sizes, check=True)
    subprocess.run([args.netlof, 'synth', '--seed', '43', '--out', query_csv] + sizes, check=True)

    # scikit-learn, as the notebook uses it.
    train = pd.read_csv(train_csv)
    query = pd.read_csv(query_csv)
    ct = ColumnTransformer([('num', StandardScaler(), NUMERIC), ('cat', OneHotEncoder(handle_unknown='ignore'), CATEGORICAL)])
    x = ct.fit_transform(train)
    xq = ct.transform(query)
    x = x.toarray() if hasattr(x, 'toarray') else x
    xq = xq.toarray() if hasattr(xq, 'toarray') else xq
    print('data: %d training rows x %d features, %d rows to score (scale %d)' % (x.shape[0], x.shape[1], xq.shape[0], args.scale))
    c = 'auto' if args.contamination == 'auto' else float(args.contamination)
    lof = LocalOutlierFactor(n_neighbors=args.neighbors, contamination=c, novelty=True)
    t0 = time.perf_counter()
    lof.fit(x)
    sk_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    sk_scores = lof.score_samples(xq)
    sk_score = time.perf_counter() - t0
    sk_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    sk_train_lof = -lof.negative_outlier_factor_
    sk_train_label = (lof.negative_outlier_factor_ < lof.offset_).astype(int)
    sk_query_label = (sk_scores < lof.offset_).astype(int)

    model = os.path.join(args.workdir, 'model.bin')
    labels = os.path.join(args.workdir, 'labels.csv')
    scored = os.path.join(args.workdir, 'scored.csv')
    fit_phases, fit_wall, fit_rss, fit_out = run_netlof(
        [args.netlof, 'train', '--pipeline', pipeline, '--in', train_csv, '--out', model, '--neighbors',
         str(args.neighbors), '--contamination', args.contamination, '--labels-out', labels, '--timings'])
    score_phases, score_wall, score_rss, _ = run_netlof(
        [args.netlof, 'score', '--model', model, '--in', query_csv, '--out', scored, '--timings'])

    print('agreement with scikit-learn:')
    lab = pd.read_csv(labels)
    sc = pd.read_csv(scored)
    ok = compare('fit', lab['lof'].to_numpy(), lab['anomaly'].to_numpy(), sk_train_lof, sk_train_label)
    ok = compare('score', sc['lof'].to_numpy(), sc['anomaly'].to_numpy(), -sk_scores, sk_query_label) and ok
    print('  training anomalies: netlof %s, scikit-learn %d' % (fit_out.strip().split()[-1], sk_train_label.sum()))

    nl_fit = fit_phases['features'] + fit_phases['fit']
    nl_score = score_phases['features'] + score_phases['score']
    print('timings (seconds; netlof phases exclude CSV reading and writing, as the scikit-learn ones do):')
    print('  %-34s %10s %10s %9s' % ('', 'sklearn', 'netlof', 'ratio'))
    print('  %-34s %10.3f %10.3f %8.1fx' % ('fit (pipeline + LOF)', sk_fit, nl_fit, sk_fit / nl_fit))
    print('  %-34s %10.3f %10.3f %8.1fx' % ('score (features + LOF)', sk_score, nl_score, sk_score / nl_score))
    print('  %-34s %10.3f %10.3f %8.1fx' % ('fit, whole netlof train command', sk_fit, fit_wall, sk_fit / fit_wall))
    print('  %-34s %10.3f %10.3f %8.1fx' % ('score, whole netlof score command', sk_score, score_wall, sk_score / score_wall))
    print('peak memory (MiB): scikit-learn process %.0f (with pandas and the data); netlof train %.0f, score %.0f'
          % (sk_rss, fit_rss, score_rss))
    targets = [('fit >= 50x', sk_fit / nl_fit >= 50), ('score >= 100x', sk_score / nl_score >= 100),
               ('whole train command >= 50x', sk_fit / fit_wall >= 50),
               ('whole score command >= 100x', sk_score / score_wall >= 100)]
    print('targets against scikit-learn measured here: ' +
          ', '.join('%s %s' % (n, 'met' if t else 'MISSED') for n, t in targets))
    if args.scale == 50:
        # Issue 3 states scikit-learn needs 65 s to fit and 42 s to score this size on
        # this kind of machine; the run above measures it instead, and both are shown.
        print('against the issue\'s stated scikit-learn times (65 s fit, 42 s score): fit %.0fx, score %.0fx'
              % (65.0 / nl_fit, 42.0 / nl_score))
    if not ok:
        sys.exit('netlof and scikit-learn disagree')


if __name__ == '__main__':
    main()

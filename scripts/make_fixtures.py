#!/usr/bin/python3
"""Golden fixtures for netlof's tests, made with Debian's scikit-learn, numpy and pandas.

    /usr/bin/python3 scripts/make_fixtures.py [--out tests/data]

Writes:
  synth/seed<S>_<normal>_<legit>_<unknown>.csv   the notebook's own generator after np.random.seed(S)
  lof/<case>/{pipeline.yaml,train.csv,query.csv,params.txt,expected_train.csv,expected_query.csv,
              expected_features.csv}
      expected_train.csv: lof (= -negative_outlier_factor_) and anomaly (fit_predict == -1)
      expected_query.csv: lof (= -score_samples) and anomaly (predict == -1) with novelty=True
      expected_features.csv: the ColumnTransformer's dense output for the training rows
The C++ tests read these files; they never run Python.
"""
import argparse
import json
import os

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

# --- The notebook's generator, verbatim in behaviour --------------------------------
PROCESS_RULES_NORMAL = {
    'chrome.exe': ['151.101.1.69', '172.217.16.195'],
    'firefox.exe': ['151.101.1.69', '172.217.16.195'],
    'svchost.exe': ['93.184.216.34'],
    'explorer.exe': ['172.217.16.195'],
}


def generate_connections(process_rules, n, anomalous=False):
    data = {'pid': [], 'process_name': [], 'src_ip': [], 'src_port': [], 'dst_ip': [],
            'dst_port': [], 'duration': [], 'bytes_sent': [], 'bytes_received': [], 'timestamp': []}
    for process_name, dst_ips in process_rules.items():
        for _ in range(n):
            data['pid'].append(np.random.randint(1000, 5000))
            data['process_name'].append(process_name)
            data['src_ip'].append('192.168.1.100')
            data['src_port'].append(np.random.randint(1024, 65535))
            data['dst_ip'].append(np.random.choice(dst_ips))
            data['dst_port'].append(np.random.randint(80, 443) if not anomalous else np.random.randint(1000, 65535))
            data['duration'].append(np.random.exponential(scale=1.0) if not anomalous else np.random.exponential(scale=10.0))
            data['bytes_sent'].append(np.random.exponential(scale=500) if not anomalous else np.random.exponential(scale=10000))
            data['bytes_received'].append(np.random.exponential(scale=500) if not anomalous else np.random.exponential(scale=10000))
            data['timestamp'].append(pd.Timestamp('2023-01-01') + pd.Timedelta(minutes=np.random.randint(0, 1440)))
    return pd.DataFrame(data)


def notebook_data(seed, normal=500, legit=20, unknown=30):
    np.random.seed(seed)
    return pd.concat([
        generate_connections(PROCESS_RULES_NORMAL, normal),
        generate_connections({'svchost.exe': ['198.51.100.2']}, legit, anomalous=True),
        generate_connections({'unknown_process.exe': ['203.0.113.1']}, unknown, anomalous=True),
    ], ignore_index=True)


# --- The pipeline: one YAML feature list, built as scikit-learn objects -----------------
def column_transformer(features):
    parts = []
    for column, transform in features:
        if transform == 'standard':
            est = StandardScaler()
        elif transform == 'log_standard':
            est = make_pipeline(FunctionTransformer(np.log1p), StandardScaler())
        elif transform == 'onehot':
            est = OneHotEncoder(handle_unknown='ignore')
        else:
            raise ValueError(transform)
        parts.append((column, est, [column]))
    return ColumnTransformer(parts)


def dense(x):
    return x.toarray() if hasattr(x, 'toarray') else np.asarray(x)


def pipeline_yaml(features, description):
    lines = ['# Made by scripts/make_fixtures.py', 'description: ' + json.dumps(description), 'features:']
    lines += ['  - {column: %s, transform: %s}' % f for f in features]
    return '\n'.join(lines) + '\n'


SEED_FEATURES = [('src_port', 'standard'), ('dst_port', 'standard'), ('duration', 'standard'),
                 ('bytes_sent', 'standard'), ('bytes_received', 'standard'),
                 ('process_name', 'onehot'), ('dst_ip', 'onehot')]

EXAMPLES = pd.DataFrame({
    'pid': [4100, 2500, 1501],
    'process_name': ['unknown_process.exe', 'svchost.exe', 'chrome.exe'],
    'src_ip': ['192.168.1.100'] * 3,
    'src_port': [5555, 8080, 5000],
    'dst_ip': ['203.0.113.1', '198.51.100.2', '151.101.1.69'],
    'dst_port': [12345, 80, 80],
    'duration': [15.0, 2.0, 1.5],
    'bytes_sent': [50000, 1000, 300],
    'bytes_received': [20000, 1500, 400],
    'timestamp': ['2023-01-01 12:00:00'] * 3,
})


def write_case(out, name, description, features, train, query, k, contamination):
    d = os.path.join(out, 'lof', name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'pipeline.yaml'), 'w') as f:
        f.write(pipeline_yaml(features, description))
    train.to_csv(os.path.join(d, 'train.csv'), index=False)
    query.to_csv(os.path.join(d, 'query.csv'), index=False)
    with open(os.path.join(d, 'params.txt'), 'w') as f:
        f.write('neighbors %d\ncontamination %s\n' % (k, contamination))

    ct = column_transformer(features)
    x = dense(ct.fit_transform(train))
    xq = dense(ct.transform(query))
    c = 'auto' if contamination == 'auto' else float(contamination)
    lof = LocalOutlierFactor(n_neighbors=k, contamination=c)
    labels = lof.fit_predict(x)
    nov = LocalOutlierFactor(n_neighbors=k, contamination=c, novelty=True).fit(x)
    assert np.array_equal(nov.negative_outlier_factor_, lof.negative_outlier_factor_)
    pd.DataFrame({'lof': -lof.negative_outlier_factor_, 'anomaly': (labels == -1).astype(int)}).to_csv(
        os.path.join(d, 'expected_train.csv'), index=False)
    pd.DataFrame({'lof': -nov.score_samples(xq), 'anomaly': (nov.predict(xq) == -1).astype(int)}).to_csv(
        os.path.join(d, 'expected_query.csv'), index=False)
    pd.DataFrame(x).to_csv(os.path.join(d, 'expected_features.csv'), index=False)
    with open(os.path.join(d, 'params.txt'), 'a') as f:
        f.write('neighbors_used %d\noffset %r\ntraining_anomalies %d\n' % (
            lof.n_neighbors_, lof.offset_, int((labels == -1).sum())))
    print('lof/%s: %d train rows, %d query rows, k=%d, contamination=%s, %d training anomalies' % (
        name, len(train), len(query), k, contamination, int((labels == -1).sum())))


def rows(process, dst, rng, n, duration, sent, received, dst_port=443):
    return pd.DataFrame({
        'pid': rng.integers(1000, 5000, n), 'process_name': process, 'src_ip': '10.0.0.5',
        'src_port': rng.integers(32768, 61000, n), 'dst_ip': dst, 'dst_port': dst_port,
        'duration': duration, 'bytes_sent': sent, 'bytes_received': received,
        'timestamp': '2023-01-01 00:00:00'})


def clusters(rng, n_per, n_out):
    """Three processes with their own sizes and durations, plus scattered outliers."""
    parts = []
    for proc, dst, dur, sent, recv in [('curl', '10.1.0.1', 0.5, 800, 20000),
                                       ('sshd', '10.1.0.2', 30.0, 5000, 3000),
                                       ('backup', '10.1.0.3', 120.0, 2e6, 1000)]:
        parts.append(rows(proc, dst, rng, n_per, rng.normal(dur, dur * 0.1, n_per).clip(0.01),
                          rng.normal(sent, sent * 0.1, n_per).clip(1), rng.normal(recv, recv * 0.1, n_per).clip(1)))
    parts.append(rows(rng.choice(['curl', 'sshd', 'backup'], n_out), rng.choice(['10.1.0.1', '10.9.9.9'], n_out), rng,
                      n_out, rng.uniform(0.01, 300, n_out), rng.uniform(1, 4e6, n_out), rng.uniform(1, 50000, n_out)))
    return pd.concat(parts, ignore_index=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', 'tests', 'data'))
    out = ap.parse_args().out

    os.makedirs(os.path.join(out, 'synth'), exist_ok=True)
    for seed, n, l, u in [(42, 500, 20, 30), (0, 20, 3, 4), (7, 100, 0, 5), (12345, 3, 1, 1),
                          (2**32 - 1, 10, 2, 2), (99, 1, 40, 0)]:
        path = os.path.join(out, 'synth', 'seed%d_%d_%d_%d.csv' % (seed, n, l, u))
        notebook_data(seed, n, l, u).to_csv(path, index=False)
        print(path)

    # Raw draws of numpy's legacy generator, for the replica's unit test.
    draws = []
    for seed in [0, 42, 2**32 - 1]:
        np.random.seed(seed)
        for low, high in [(0, 1), (0, 2), (80, 443), (1024, 65535), (0, 2**32), (-5, 2**40), (0, 2**63 - 1)]:
            draws.append((seed, 'randint', low, high, repr(int(np.random.randint(low, high, dtype=np.int64)))))
        for scale in [1.0, 500.0, 1e-3]:
            draws.append((seed, 'exponential', scale, 0, repr(float(np.random.exponential(scale)))))
        draws.append((seed, 'random_sample', 0, 0, repr(float(np.random.random_sample()))))
        draws.append((seed, 'choice3', 0, 0, repr(int(np.where(np.array(['a', 'b', 'c']) == np.random.choice(['a', 'b', 'c']))[0][0]))))
    pd.DataFrame(draws, columns=['seed', 'kind', 'a', 'b', 'value']).to_csv(os.path.join(out, 'numpy_random.csv'), index=False)
    EXAMPLES.to_csv(os.path.join(out, 'notebook-examples.csv'), index=False)

    nb = notebook_data(42)
    extra = notebook_data(7, 50, 5, 5)  # new rows drawn the same way
    unseen = EXAMPLES.iloc[[2]].assign(process_name='never_seen.exe', dst_ip='192.0.2.77', bytes_sent=90000)
    query = pd.concat([EXAMPLES, extra, unseen], ignore_index=True)
    write_case(out, 'notebook', 'the notebook, k=20, contamination=0.1', SEED_FEATURES, nb, query, 20, '0.1')
    write_case(out, 'notebook_k5_auto', 'the notebook, k=5, auto', SEED_FEATURES, nb, query, 5, 'auto')
    write_case(out, 'notebook_k35', 'the notebook, k=35, contamination=0.25', SEED_FEATURES, nb, query, 35, '0.25')

    rng = np.random.default_rng(2024)
    cl_features = [('duration', 'log_standard'), ('bytes_sent', 'log_standard'), ('bytes_received', 'log_standard'),
                   ('dst_port', 'standard'), ('process_name', 'onehot'), ('dst_ip', 'onehot')]
    write_case(out, 'clusters', 'three clusters with outliers, log scaling', cl_features, clusters(rng, 150, 25),
               clusters(rng, 20, 15), 10, '0.05')
    num_features = [('duration', 'standard'), ('bytes_sent', 'log_standard'), ('bytes_received', 'standard')]
    write_case(out, 'numeric_only', 'no categorical columns', num_features, clusters(rng, 60, 10),
               clusters(rng, 10, 5), 7, '0.1')

    # Duplicated rows: a few rows repeated fewer than k times, one repeated more than k times.
    base = clusters(rng, 15, 5)
    dup = pd.concat([base, base.iloc[[0, 1, 2]], base.iloc[[0, 1]], pd.concat([base.iloc[[7]]] * 14)],
                    ignore_index=True)
    dup_query = pd.concat([base.iloc[[0, 7, 20]], clusters(rng, 3, 3)], ignore_index=True)
    write_case(out, 'duplicates', 'rows repeated below and above k', cl_features, dup, dup_query, 10, '0.1')
    write_case(out, 'tiny_k_clipped', 'fewer rows than k: k becomes n-1', SEED_FEATURES, nb.iloc[[0, 600, 1100, 1500, 2000, 2040, 3, 5]],
               EXAMPLES, 20, 'auto')


if __name__ == '__main__':
    main()

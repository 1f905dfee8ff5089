#!/usr/bin/python3
"""How many records a second the daemon's judgement takes, on the eval's traffic.

    /usr/bin/python3 scripts/bench_engine.py --netlof build/netlof --workdir build/bench-engine

Two days of the eval's server (scripts/eval_days.py, seed 1: about 480,000
connections of a dozen services and thirteen attack kinds) are replayed with
the shipped config against the model learned from their first day:
allowlists, identity, novelty, windows, LOF (k = 20) with explanations,
folding, alert formatting and the learning that follows change, one thread,
as the daemon runs them. Each run is timed whole, so
reading and parsing the JSON lines (which the daemon does not do) is counted
against it: the rate is a lower bound. Three runs; the median and every run
are printed, for scale beside bench_sensor's load generator, which makes
about 14,000 connections a second on this machine.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from eval import shipped_config  # noqa: E402


def timed(cmd):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("bench_engine: %s failed:\n%s" % (cmd[1], r.stderr))
    return time.perf_counter() - t0, r.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--netlof", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    records = os.path.join(a.workdir, "records.jsonl")
    if not os.path.exists(records):
        subprocess.run([sys.executable, os.path.join(HERE, "eval_days.py"), "--seed", "1", "--days", "2", "--out", records],
                       check=True)
    config = shipped_config(a.workdir, {})
    model = os.path.join(a.workdir, "model.bin")
    _, err = timed([a.netlof, "replay", "--config", config, "--in", records, "--out", os.devnull, "--model-out", model,
                    "--insecure-files"])
    learned = int(re.search(r"learned from (\d+) records", err).group(1))
    with open(records) as f:
        n = sum(1 for _ in f)
    runs = [timed([a.netlof, "replay", "--config", config, "--in", records, "--model", model, "--out", os.devnull,
                   "--insecure-files"])[0] for _ in range(a.runs)]
    rates = sorted(n / t for t in runs)
    print("engine: %d records judged against a model of %d learned rows, %d runs" % (n, learned, a.runs))
    print("engine: %.0f records/s whole replay, reading included (runs %s)"
          % (statistics.median(rates), ", ".join("%.0f" % r for r in rates)))


if __name__ == "__main__":
    main()

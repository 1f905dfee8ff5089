#!/usr/bin/env python3
"""make eval: netlof's detection on labelled traffic, beside two baselines.

Generates labelled records (scripts/eval_traffic.py), replays them through
`netlof replay` with the shipped config (configs/netlof.yaml: its learning,
pipeline, allowlist and fold window; only paths changed), and scores the
alert lines against the labels. Beside netlof:
  - new-triple: an alert for every (process name, destination address,
    port) not seen while learning, which then joins the seen set;
  - IsolationForest (scikit-learn) on the default pipeline's features,
    fitted on what netlof learned from, with its threshold set so it makes
    as many false alerts as netlof (at least one), a favour netlof does not get.
An attack kind is detected when at least one of its connections is alerted
(for a window rule: when the window held one of its connections).

Scenarios: "days" (the default, scripts/eval_days.py): one server's life
over --days days, learned by the shipped config's own learning and judged
from then on, with false lines per day and those a deploy brought; "hours"
(scripts/eval_traffic.py): --learn-hours of benign traffic, then
--detect-hours with attacks.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import time

import numpy as np
from sklearn.ensemble import IsolationForest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def record_key(r):
    return (int(r["pid"]), int(r["src_port"]), round(float(r["ts_end"]), 3))


def shipped_config(workdir, model_settings, keep_records=False):
    """configs/netlof.yaml with its paths pointed into workdir and the
    repository, and model settings (for comparisons) set; its record log
    kept (in workdir) or dropped."""
    text = open(os.path.join(ROOT, "configs/netlof.yaml")).read()
    for key, value in model_settings.items():
        text = re.sub(r"(?m)^  %s:.*\n" % key, "", text).replace("model:\n", "model:\n  %s: %s\n" % (key, value), 1)
    text = text.replace("/var/lib/netlof/model.bin", os.path.join(workdir, "absent/model.bin"))
    text = text.replace("/etc/netlof/pipeline-default.yaml", os.path.join(ROOT, "configs/pipeline-default.yaml"))
    text = text.replace("/etc/netlof/allowlist.yaml", os.path.join(ROOT, "configs/allowlist.yaml"))
    text = text.replace("/var/log/netlof/alerts.jsonl", os.path.join(workdir, "daemon-alerts.jsonl"))
    if keep_records:
        text = text.replace("/var/log/netlof/records.jsonl", os.path.join(workdir, "records.jsonl"))
    else:
        text = re.sub(r"(?m)^records:\n(  .*\n)+", "", text)  # replay writes no record log
    path = os.path.join(workdir, "netlof.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def features(records, fitted=None):
    """The default pipeline's features: one-hot process_name, dst_port and
    proto; standardized log1p of bytes and duration."""
    if fitted is None:
        cats = {c: sorted({str(r[c]) for r in records}) for c in ("process_name", "dst_port", "proto")}
        logs = np.array([[math.log1p(float(r[c])) for c in ("bytes_sent", "bytes_received", "duration")] for r in records])
        fitted = (cats, logs.mean(axis=0), logs.std(axis=0) + 1e-12)
    cats, mean, std = fitted
    rows = []
    for r in records:
        row = []
        for c, values in cats.items():
            row += [1.0 if str(r[c]) == v else 0.0 for v in values]
        row += list((np.array([math.log1p(float(r[c])) for c in ("bytes_sent", "bytes_received", "duration")]) - mean) / std)
        rows.append(row)
    return np.array(rows), fitted


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--netlof", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--records", help="labelled records to use instead of generating them")
    ap.add_argument("--scenario", choices=("days", "hours"), default="days")
    ap.add_argument("--days", type=int, default=3, help="days scenario: days of the server's life")
    ap.add_argument("--learn-hours", type=float, default=14, help="hours scenario: benign traffic before the first attack")
    ap.add_argument("--detect-hours", type=float, default=4)
    ap.add_argument("--show-false", action="store_true", help="print each false alert line's rule, record and why")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a model setting to change from the shipped config, to compare (e.g. reach_floor=0)")
    a = ap.parse_args()
    a.workdir = os.path.abspath(a.workdir)  # the config's paths are taken from its own folder
    os.makedirs(a.workdir, exist_ok=True)
    records_path = a.records or os.path.join(a.workdir, "records.jsonl")
    if not a.records and a.scenario == "days":
        subprocess.run([sys.executable, os.path.join(HERE, "eval_days.py"), "--seed", str(a.seed), "--out", records_path,
                        "--days", str(a.days)], check=True)
    elif not a.records:
        subprocess.run([sys.executable, os.path.join(HERE, "eval_traffic.py"), "--seed", str(a.seed), "--out", records_path,
                        "--learn-hours", str(a.learn_hours), "--detect-hours", str(a.detect_hours)], check=True)
    records = [json.loads(line) for line in open(records_path)]
    records.sort(key=lambda r: r["ts_end"])  # the order replay judges them in

    config = shipped_config(a.workdir, dict(kv.split("=", 1) for kv in a.set))
    alerts_path = os.path.join(a.workdir, "alerts.jsonl")
    run = subprocess.run([a.netlof, "replay", "--config", config, "--in", records_path, "--out", alerts_path,
                          "--model-out", os.path.join(a.workdir, "model.bin"), "--insecure-files"],
                         capture_output=True, text=True)
    sys.stderr.write(run.stderr)
    if run.returncode != 0:
        sys.exit("eval: netlof replay failed")
    learned = int(re.search(r"learned from (\d+) records", run.stderr).group(1))
    thresholds = re.findall(r"replay: (threshold lof > .*)", run.stderr)
    learn_set, judged = records[:learned], records[learned:]
    if any(r["label"] != "benign" for r in learn_set):
        sys.exit("eval: attacks fell inside netlof's learning; make the learning phase longer")
    benign = [r for r in judged if r["label"] == "benign"]
    hours = (judged[-1]["ts_end"] - judged[0]["ts_end"]) / 3600
    kinds = sorted({r["label"] for r in judged} - {"benign"})
    label_of = {record_key(r): r["label"] for r in records}
    note_of = {record_key(r): r.get("note", "") for r in records}

    # netlof: every alert line, matched to the record it names. A window
    # rule speaks for its whole window: it is the attack's when the window
    # held one of the attack's connections, whichever record crossed the limit.
    attacks_by_program = {}
    for r in judged:
        if r["label"] != "benign":
            attacks_by_program.setdefault((r["process_name"], r["exe"]), []).append((r["ts_end"], r["label"]))

    def window_label(alert):
        seconds = float(re.search(r"within (\d+) s", alert["why"][0]).group(1))
        end = float(alert["record"]["ts_end"])
        for ts, label in attacks_by_program.get((alert["record"]["process_name"], alert["record"]["exe"]), []):
            if end - seconds <= ts <= end:
                return label
        return None

    netlof_lines, netlof_rules = [], {}
    for line in open(alerts_path):
        alert = json.loads(line)
        label = label_of.get(record_key(alert["record"]), "unmatched")
        if label == "benign" and alert["rule"] in ("volume_spike", "connection_burst", "fan_out"):
            label = window_label(alert) or label
        netlof_lines.append((label, alert["rule"]))
        netlof_rules.setdefault(label, set()).add(alert["rule"])
    if any(label == "unmatched" for label, _ in netlof_lines):
        sys.exit("eval: an alert names a record that is not in the input")
    netlof_false = sum(1 for label, _ in netlof_lines if label == "benign")
    # False lines by the day their record ended (day 1 starts at the first record's midnight), and the deploy's.
    day0 = math.floor(records[0]["ts_end"] / 86400)
    false_by_day, deploy_lines = {}, 0
    for line in open(alerts_path):
        alert = json.loads(line)
        rec = alert["record"]
        if label_of.get(record_key(rec)) != "benign" or (alert["rule"] in ("volume_spike", "connection_burst", "fan_out")
                                                          and window_label(alert)):
            continue
        day = int(math.floor(float(rec["ts_end"]) / 86400) - day0 + 1)
        if a.show_false:
            print("false: day %d %s %s %s %s:%s %s" % (day, time.strftime("%H:%M:%S", time.gmtime(float(rec["ts_end"]))),
                                                  alert["rule"], rec["process_name"], rec["dst_ip"], rec["dst_port"],
                                                  " / ".join(alert["why"][:2])))
        false_by_day[day] = false_by_day.get(day, 0) + 1
        deploy_lines += note_of.get(record_key(rec)) == "deploy"

    # new-triple baseline
    seen = {(r["process_name"], r["dst_ip"], r["dst_port"]) for r in learn_set}
    triple_hits = {}
    for r in judged:
        t = (r["process_name"], r["dst_ip"], r["dst_port"])
        if t not in seen:
            seen.add(t)
            triple_hits[r["label"]] = triple_hits.get(r["label"], 0) + 1
    triple_false = triple_hits.get("benign", 0)

    # IsolationForest at netlof's false-alert count
    x_learn, fitted = features(learn_set)
    x_judged, _ = features(judged, fitted)
    forest = IsolationForest(n_estimators=200, random_state=a.seed).fit(x_learn)
    score = -forest.score_samples(x_judged)  # higher: more anomalous
    benign_scores = np.sort(score[[r["label"] == "benign" for r in judged]])[::-1]
    if_false = max(1, netlof_false)
    threshold = benign_scores[min(if_false, len(benign_scores) - 1)]
    if_hits = {}
    for r, s in zip(judged, score):
        if s > threshold:
            if_hits[r["label"]] = if_hits.get(r["label"], 0) + 1

    def rate(n):
        return "%d (%.2f per 10,000, %.2f per hour)" % (n, 1e4 * n / len(benign), n / hours)

    print()
    print("make eval: %d records (%d learned from, %d judged: %d benign, %d attack kinds) over %.1f h judged"
          % (len(records), learned, len(judged), len(benign), len(kinds), hours))
    print("%-20s %-40s %-12s %s" % ("attack kind", "netlof (rules that fired)", "new-triple", "IsolationForest"))
    found = {"netlof": 0, "triple": 0, "forest": 0}
    for k in kinds:
        n = k in netlof_rules
        t = k in triple_hits
        f = k in if_hits
        found["netlof"] += n
        found["triple"] += t
        found["forest"] += f
        print("%-20s %-40s %-12s %s" % (k, ("yes: " + ", ".join(sorted(netlof_rules[k]))) if n else "MISSED",
                                         "yes" if t else "missed", "yes" if f else "missed"))
    print("%-20s %-40s %-12s %s" % ("kinds detected", "%d/%d" % (found["netlof"], len(kinds)),
                                     "%d/%d" % (found["triple"], len(kinds)), "%d/%d" % (found["forest"], len(kinds))))
    print("false alert lines:")
    print("  netlof           " + rate(netlof_false))
    print("  new-triple       " + rate(triple_false))
    print("  IsolationForest  " + rate(if_false) + " (set to match netlof's)")
    days_judged = sorted({int(math.floor(r["ts_end"] / 86400) - day0 + 1) for r in judged})
    print("  netlof by day    " + ", ".join("day %d: %d" % (d, false_by_day.get(d, 0)) for d in days_judged)
          + "; the deploy's: %d" % deploy_lines)
    for t in thresholds:
        print("LOF: " + t)
    if netlof_false:
        rules = {}
        for label, rule in netlof_lines:
            if label == "benign":
                rules[rule] = rules.get(rule, 0) + 1
        print("  netlof's false alerts by rule: " + ", ".join("%s %d" % kv for kv in sorted(rules.items())))
    summary = {"kinds": len(kinds), "detected": found, "false_alerts": {"netlof": netlof_false, "triple": triple_false,
               "forest": if_false}, "benign_judged": len(benign), "hours_judged": hours,
               "netlof_rules": {k: sorted(v) for k, v in netlof_rules.items()},
               "false_by_day": false_by_day, "deploy_lines": deploy_lines, "thresholds": thresholds}
    with open(os.path.join(a.workdir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()

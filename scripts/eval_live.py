#!/usr/bin/python3
"""make eval-live: the real sensor and daemon on benign traffic, then the same
records replayed offline.

    /usr/bin/python3 scripts/eval_live.py --netlof build/netlof --loadgen build/netlof-loadgen --workdir DIR

`netlof run` starts with the shipped config (configs/netlof.yaml, paths moved
into DIR, its record log kept) and no model. Four named services of the load
generator talk to their own loopback address and port at about 300
connections a second together, each with its own spread of sizes and hold
times. The daemon learns (20,000 records: about a minute here), then the same
traffic goes on for --minutes more. Every alert line written after learning
ended is a false alert: the script prints them by rule, then replays the
daemon's own record log with `netlof replay` and prints what replay wrote
for the same stretch. As root (the sensor needs it).
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from eval import shipped_config  # noqa: E402

# name, address, port, connections/s, payload min-max, reply min-max, hold ms min-max
SERVICES = [
    ("lv-web", "127.0.0.2", 8080, 150, (300, 1500), (5000, 60000), (0, 30)),
    ("lv-api", "127.0.0.3", 9000, 80, (2000, 8000), (200, 900), (0, 20)),
    ("lv-db", "127.0.0.4", 5432, 60, (100, 400), (1000, 200000), (5, 40)),
    ("lv-metrics", "127.0.0.5", 8086, 10, (2400, 2600), (180, 220), (0, 5)),
]


def wait_for(path, pattern, seconds, proc):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("eval-live: netlof run exited:\n" + open(path).read())
        if os.path.exists(path) and re.search(pattern, open(path).read()):
            return time.time()
        time.sleep(0.2)
    sys.exit("eval-live: no '%s' within %d s:\n%s" % (pattern, seconds, open(path).read()))


def alert_lines(path, since):
    out = []
    if not os.path.exists(path):
        return out
    for line in open(path):
        a = json.loads(line)
        if "record" not in a or a["record"]["ts_end"] >= since:  # sensor_drops lines have no record: all count
            out.append(a)
    return out


def by_rule(alerts):
    counts = {}
    for a in alerts:
        counts[a["rule"]] = counts.get(a["rule"], 0) + 1
    return ", ".join("%s %d" % kv for kv in sorted(counts.items())) or "none"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--netlof", required=True)
    ap.add_argument("--loadgen", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--minutes", type=float, default=10)
    a = ap.parse_args()
    a.workdir = os.path.abspath(a.workdir)  # the config's paths are taken from its own folder
    os.makedirs(a.workdir, exist_ok=True)
    # A fresh start: no model (the daemon learns), no earlier logs.
    for f in ("absent/model.bin", "daemon-alerts.jsonl", "records.jsonl", "daemon.log", "replayed.jsonl"):
        if os.path.exists(os.path.join(a.workdir, f)):
            os.unlink(os.path.join(a.workdir, f))
    config = shipped_config(a.workdir, {}, keep_records=True)
    log = os.path.join(a.workdir, "daemon.log")
    daemon = subprocess.Popen([a.netlof, "run", "--config", config, "--insecure-files"], stderr=open(log, "w"))
    loads = []
    try:
        wait_for(log, r"running:", 20, daemon)
        seconds = a.minutes * 60 + 600  # more than enough: stopped when done
        for i, (name, dst, port, rate, payload, reply, hold) in enumerate(SERVICES):
            loads.append(subprocess.Popen(
                [a.loadgen, "--name", name, "--dst", dst, "--port", str(port), "--rate", str(rate), "--threads", "2",
                 "--connections", str(int(rate * seconds)), "--payload", str(payload[0]), "--payload-max", str(payload[1]),
                 "--reply", str(reply[0]), "--reply-max", str(reply[1]), "--hold-ms", str(hold[0]),
                 "--hold-ms-max", str(hold[1]), "--seed", str(i + 1)], stdout=subprocess.DEVNULL))
        started = time.time()
        detecting = wait_for(log, r"; detecting", 300, daemon)
        print("eval-live: learned in %.0f s; benign traffic for %g more minutes" % (detecting - started, a.minutes),
              flush=True)
        time.sleep(a.minutes * 60)
    finally:
        for p in loads:
            p.send_signal(signal.SIGKILL)
            p.wait()
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
    text = open(log).read()
    final = text[text.find("final stats:"):]
    records = [json.loads(line) for line in open(os.path.join(a.workdir, "records.jsonl"))]
    learned = int(re.search(r"learned from (\d+) records", text).group(1))
    records.sort(key=lambda r: r["ts_end"])
    start = records[learned]["ts_end"]  # the first record judged
    judged = [r for r in records if r["ts_end"] >= start]
    hours = (judged[-1]["ts_end"] - start) / 3600
    live = alert_lines(os.path.join(a.workdir, "daemon-alerts.jsonl"), start)
    print("eval-live: %d connections judged in %.1f minutes (%.0f a second) after learning from %d"
          % (len(judged), hours * 60, len(judged) / (hours * 3600), learned))
    print("eval-live: netlof run wrote %d alert lines after learning (%s); drops: %s"
          % (len(live), by_rule(live), re.search(r"drops (\d+)", final).group(1)))
    rep = subprocess.run([a.netlof, "replay", "--config", config, "--in", os.path.join(a.workdir, "records.jsonl"),
                          "--out", os.path.join(a.workdir, "replayed.jsonl"), "--insecure-files"],
                         capture_output=True, text=True)
    if rep.returncode != 0:
        sys.exit("eval-live: replay failed:\n" + rep.stderr)
    replayed = alert_lines(os.path.join(a.workdir, "replayed.jsonl"), start)
    print("eval-live: netlof replay of the daemon's records wrote %d for the same stretch (%s)"
          % (len(replayed), by_rule(replayed)))
    for x in live:
        print("  " + x["rule"] + ": " + x["output"])
    with open(os.path.join(a.workdir, "summary.json"), "w") as f:
        json.dump({"judged": len(judged), "minutes": hours * 60, "live_lines": len(live), "replayed_lines": len(replayed)}, f)


if __name__ == "__main__":
    main()

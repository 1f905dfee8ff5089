#!/usr/bin/python3
"""make eval-live: the real sensor and daemon on benign traffic, then attacks,
then the same records replayed offline.

    /usr/bin/python3 scripts/eval_live.py --netlof build/netlof --loadgen build/netlof-loadgen --workdir DIR

`netlof run` starts with the shipped config (configs/netlof.yaml, paths moved
into DIR, its record log kept) and no model. Four named services of the load
generator talk to their own loopback address and port at about 300
connections a second together, each with its own spread of sizes and hold
times. The daemon learns (--learn: five minutes), then the same
traffic goes on for --minutes more. Every alert line written after learning
ended is a false alert: the script prints them by rule, then replays the
daemon's own record log with `netlof replay` and prints what replay wrote
for the same stretch.

Then, with the benign traffic still running, attacks of the kinds make eval
generates, each from the load generator (the same executable the services
run, so only what the attack does differs): a process never seen, a known
one reaching a new network or port, uploading 64 MB to its usual server,
holding its usual connection 75 s, checking in every 15 s with a new network,
a second executable under a known name, a shell holding a connection out,
and slow exfiltration (a third of its usual upload again per connection,
doubling its rate). Each is matched to the alert lines whose record it made;
the script prints per kind what the daemon and replay raised. As root (the
sensor needs it).
"""
import argparse
import datetime
import json
import os
import re
import shutil
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

# kind, loadgen arguments, and which alert records are its own. "no-listen"
# clients connect to a service's own server; the others listen where they
# connect. Started one after another; the long hold and the beacon run
# beside the rest.
def attacks(masquerade_exe):
    def rec(name, dst=None, port=None, exe=None, test=None):
        def match(r):
            return (r["process_name"] == name and (dst is None or r["dst_ip"] == dst)
                    and (port is None or r["dst_port"] == port) and (exe is None or r.get("exe") == exe)
                    and (test is None or test(r)))
        return match
    return [
        ("long_hold", ["--name", "lv-db", "--dst", "127.0.0.4", "--port", "5432", "--no-listen", "--connections", "1",
                       "--threads", "1", "--payload", "200", "--reply", "5000", "--hold-ms", "75000"],
         rec("lv-db", "127.0.0.4", 5432, test=lambda r: r["duration"] > 60)),
        ("unknown_process", ["--name", "lv-miner", "--dst", "127.0.0.2", "--port", "8080", "--no-listen",
                             "--connections", "3", "--threads", "1", "--payload", "800", "--reply", "20000"],
         rec("lv-miner")),
        ("new_destination", ["--name", "lv-api", "--dst", "127.1.0.9", "--port", "9000", "--connections", "3",
                             "--threads", "1", "--payload", "4000", "--reply", "500"], rec("lv-api", "127.1.0.9")),
        ("new_port", ["--name", "lv-db", "--dst", "127.0.0.4", "--port", "6379", "--connections", "3", "--threads", "1",
                      "--payload", "200", "--reply", "5000"], rec("lv-db", port=6379)),
        ("exfil_allowed_host", ["--name", "lv-api", "--dst", "127.0.0.3", "--port", "9000", "--no-listen",
                                "--connections", "1", "--threads", "1", "--payload", str(64 << 20), "--reply", "500"],
         rec("lv-api", "127.0.0.3", 9000, test=lambda r: r["bytes_sent"] >= 32 << 20)),
        ("beaconing", ["--name", "lv-metrics", "--dst", "127.2.0.10", "--port", "8086", "--connections", "12",
                       "--threads", "1", "--every-ms", "15000", "--payload", "300", "--reply", "150"],
         rec("lv-metrics", "127.2.0.10")),
        ("masquerade", [masquerade_exe, "--name", "lv-web", "--dst", "127.0.0.2", "--port", "8080", "--no-listen",
                        "--connections", "3", "--threads", "1", "--payload", "800", "--reply", "20000"],
         rec("lv-web", exe=masquerade_exe)),
        ("reverse_shell", ["--name", "bash", "--dst", "127.3.0.1", "--port", "4444", "--connections", "1",
                           "--threads", "1", "--payload", "2000", "--reply", "2000", "--hold-ms", "20000"], rec("bash")),
        ("slow_exfil", ["--name", "lv-metrics", "--dst", "127.0.0.5", "--port", "8086", "--no-listen", "--connections",
                        "600", "--threads", "1", "--rate", "10", "--payload", "7500", "--reply", "200"],
         rec("lv-metrics", "127.0.0.5", 8086, test=lambda r: r["bytes_sent"] >= 7000)),
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


def alert_ts(a):
    """When an alert line's connection ended (sensor_drops lines: when written)."""
    if "record" in a:
        return a["record"]["ts_end"]
    return datetime.datetime.strptime(a["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def alert_lines(path, since, until=float("inf")):
    out = []
    if not os.path.exists(path):
        return out
    for line in open(path):
        a = json.loads(line)
        if since <= alert_ts(a) < until:
            out.append(a)
    return out


def run_attacks(loadgen, masquerade_exe):
    """Runs every attack; returns {kind: matcher} and the time they began."""
    began = time.time()
    kinds = {}
    background = []
    for kind, args, match in attacks(masquerade_exe):
        argv = args if args[0] == masquerade_exe else [loadgen] + args
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        kinds[kind] = match
        if kind in ("long_hold", "beaconing"):
            background.append((kind, p))
            continue
        if p.wait(timeout=180) != 0:
            sys.exit("eval-live: attack %s failed: %s" % (kind, p.stderr.read()))
    for kind, p in background:
        if p.wait(timeout=180) != 0:
            sys.exit("eval-live: attack %s failed: %s" % (kind, p.stderr.read()))
    return kinds, began


def detected(kinds, alerts):
    """Per kind: the rules of the alert lines whose record it made."""
    out = {k: set() for k in kinds}
    unmatched = []
    for a in alerts:
        r = a.get("record")
        hits = [k for k, match in kinds.items() if r is not None and match(r)]
        for k in hits:
            out[k].add(a["rule"])
        if not hits:
            unmatched.append(a)
    return out, unmatched


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
    ap.add_argument("--learn", default="{duration: 5m}",
                    help="model.learn for the run (the shipped day is too long to wait for)")
    a = ap.parse_args()
    a.workdir = os.path.abspath(a.workdir)  # the config's paths are taken from its own folder
    os.makedirs(a.workdir, exist_ok=True)
    # A fresh start: no model (the daemon learns), no earlier logs.
    for f in ("absent/model.bin", "daemon-alerts.jsonl", "records.jsonl", "daemon.log", "replayed.jsonl"):
        if os.path.exists(os.path.join(a.workdir, f)):
            os.unlink(os.path.join(a.workdir, f))
    config = shipped_config(a.workdir, {"learn": a.learn}, keep_records=True)
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
        fake = os.path.join(a.workdir, "masquerade", os.path.basename(a.loadgen))
        os.makedirs(os.path.dirname(fake), exist_ok=True)
        shutil.copy2(a.loadgen, fake)
        print("eval-live: attacks (benign traffic goes on)", flush=True)
        kinds, attacks_began = run_attacks(a.loadgen, fake)
        time.sleep(5)  # the last records reach the daemon
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
    judged = [r for r in records if start <= r["ts_end"] < attacks_began]
    hours = (judged[-1]["ts_end"] - start) / 3600
    alerts_file, replayed_file = os.path.join(a.workdir, "daemon-alerts.jsonl"), os.path.join(a.workdir, "replayed.jsonl")
    live = alert_lines(alerts_file, start, attacks_began)
    print("eval-live: %d connections judged in %.1f minutes (%.0f a second) after learning from %d"
          % (len(judged), hours * 60, len(judged) / (hours * 3600), learned))
    print("eval-live: netlof run wrote %d alert lines after learning, before the attacks (%s); drops: %s"
          % (len(live), by_rule(live), re.search(r"drops (\d+)", final).group(1)))
    rep = subprocess.run([a.netlof, "replay", "--config", config, "--in", os.path.join(a.workdir, "records.jsonl"),
                          "--out", replayed_file, "--insecure-files"], capture_output=True, text=True)
    if rep.returncode != 0:
        sys.exit("eval-live: replay failed:\n" + rep.stderr)
    replayed = alert_lines(replayed_file, start, attacks_began)
    print("eval-live: netlof replay of the daemon's records wrote %d for the same stretch (%s)"
          % (len(replayed), by_rule(replayed)))
    for x in live:
        print("  " + x["rule"] + ": " + x["output"])
    live_hits, live_other = detected(kinds, alert_lines(alerts_file, attacks_began))
    replay_hits, replay_other = detected(kinds, alert_lines(replayed_file, attacks_began))
    print("%-20s %-42s %s" % ("attack kind", "netlof run (rules that fired)", "netlof replay"))
    for k in kinds:
        show = lambda rules: ("yes: " + ", ".join(sorted(rules))) if rules else "MISSED"
        print("%-20s %-42s %s" % (k, show(live_hits[k]), show(replay_hits[k])))
    print("kinds detected: netlof run %d/%d, replay %d/%d; alert lines during the attacks not of an attack: %d (%s), "
          "replay %d" % (sum(1 for k in kinds if live_hits[k]), len(kinds), sum(1 for k in kinds if replay_hits[k]),
                         len(kinds), len(live_other), by_rule(live_other), len(replay_other)))
    with open(os.path.join(a.workdir, "summary.json"), "w") as f:
        json.dump({"judged": len(judged), "minutes": hours * 60, "live_lines": len(live), "replayed_lines": len(replayed),
                   "detected": {k: sorted(v) for k, v in live_hits.items()},
                   "replay_detected": {k: sorted(v) for k, v in replay_hits.items()}}, f)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Labelled connection records for `make eval`: a server's benign services,
then the same services with attacks among them.

Writes JSON lines as `netlof record` does, each with one more key, `label`:
"benign" or the attack's kind. The first --learn-hours are benign only (what
the daemon learns from); attacks fall in the rest.

The benign services behave as real ones do: Poisson arrivals, log-normal
sizes, round trips with jitter, a periodic agent, a package manager on a CDN
that meets new addresses, a resolver, NTP to a pool, a nightly-style backup,
and scheduler hiccups that stretch a connection now and then. Attacks are
kinds, each made a few times with its own sizes and timing: what an operator
must see, not numbers tuned to netlof.
"""
import argparse
import json
import math
import random

T0 = 1764000000.0  # 2025-11-24T16:00:00Z


class Scenario:
    def __init__(self, seed, learn_h, detect_h):
        self.rng = random.Random(seed)
        self.learn_end = T0 + learn_h * 3600
        self.end = self.learn_end + detect_h * 3600
        self.records = []
        self.pid = 2000
        self.sport = 30000

    def lognormal(self, median, sigma):
        return median * math.exp(self.rng.gauss(0, sigma))

    def rtt(self, base):
        # Round trips vary; a few are much slower (queueing, retransmits).
        r = base * math.exp(self.rng.gauss(0, 0.3))
        if self.rng.random() < 0.01:
            r *= self.rng.uniform(3, 10)
        return r

    def conn(self, t, name, exe, dst, port, sent, received, label="benign", proto="tcp", duration=None,
             rtt=0.002, bandwidth=50e6, pid=None, outcome="closed"):
        sent, received = int(max(0, sent)), int(max(0, received))
        if duration is None:
            duration = self.rtt(rtt) * (3 if proto == "tcp" else 1) + (sent + received) / bandwidth
            if self.rng.random() < 0.005:  # the scheduler was busy elsewhere
                duration *= self.rng.uniform(10, 50)
        if pid is None:
            self.pid += 1
            pid = self.pid
        self.sport = 30000 + (self.sport - 29999) % 30000
        fam = 6 if ":" in dst else 4
        self.records.append({
            "ts_start": round(t, 6), "ts_end": round(t + duration, 6), "duration": round(duration, 6),
            "pid": pid, "ppid": 1, "uid": 0 if name in ("restic", "chronyd") else 33,
            "process_name": name, "exe": exe, "cgroup_id": 0, "unit": "", "container_id": "",
            "family": fam, "proto": proto, "src_ip": "10.0.0.2" if fam == 4 else "2001:db8::2",
            "src_port": self.sport, "dst_ip": dst, "dst_port": port, "bytes_sent": sent,
            "bytes_received": received, "outcome": outcome, "label": label,
        })

    def poisson(self, rate, start=T0, end=None):
        t = start
        end = self.end if end is None else end
        while True:
            t += self.rng.expovariate(rate)
            if t >= end:
                return
            yield t

    def periodic(self, every, jitter, start=T0, end=None):
        t = start + self.rng.uniform(0, every)
        end = self.end if end is None else end
        while t < end:
            yield t
            t += every + self.rng.gauss(0, jitter)

    # ---- benign services -------------------------------------------------
    def benign(self):
        r = self
        upstreams = ["10.0.1.11", "10.0.1.12", "10.0.1.13"]
        for t in r.poisson(1.5):
            # A fourth upstream joins in the same network later on: a new address, not a new network.
            ups = upstreams + (["10.0.1.14"] if t > r.learn_end + 3600 else [])
            r.conn(t, "nginx", "/usr/sbin/nginx", r.rng.choice(ups), 8080, r.lognormal(900, 0.5),
                   r.lognormal(20000, 1.0), rtt=0.001)
        for t in r.poisson(0.8):
            r.conn(t, "gunicorn", "/usr/bin/python3.11", "10.0.2.5", 5432, r.lognormal(400, 0.6),
                   r.lognormal(6000, 1.2), rtt=0.0008)
        for t in r.periodic(10, 0.3):
            r.conn(t, "telegraf", "/usr/bin/telegraf", "10.0.3.10", 8086, r.lognormal(2500, 0.1),
                   r.lognormal(200, 0.05), rtt=0.001)
        for t in r.poisson(2.0):
            r.conn(t, "systemd-resolve", "/usr/lib/systemd/systemd-resolved", "10.0.0.53", 53,
                   r.rng.randint(40, 75), r.rng.randint(60, 320), proto="udp", rtt=0.004)
        # Package lists and updates from a CDN: bursts every 15 minutes, each
        # to addresses the CDN hands out (new ones now and then).
        cdn_nets = ["151.101.%d" % i for i in (0, 64, 128, 192)] + ["199.232.%d" % i for i in (16, 32, 48, 64)]
        for burst in r.periodic(900, 60):
            for _ in range(r.rng.randint(3, 12)):
                net = r.rng.choice(cdn_nets) if r.rng.random() < 0.9 else "146.75.%d" % r.rng.randint(0, 255)
                addr = "%s.%d" % (net, r.rng.randint(1, 254))
                t = burst + r.rng.uniform(0, 20)
                r.conn(t, "http", "/usr/lib/apt/methods/http", addr, 80, r.lognormal(300, 0.3),
                       r.lognormal(300000, 2.0), rtt=0.02, bandwidth=20e6)
        # NTP against a pool: a new public server every few hours, and many of them.
        for t in r.periodic(64, 2):
            server = "%d.%d.%d.%d" % (r.rng.choice([5, 45, 85, 162, 193, 212]), r.rng.randint(0, 255),
                                      r.rng.randint(0, 255), r.rng.randint(1, 254))
            r.conn(t, "chronyd", "/usr/sbin/chronyd", server, 123, 48, 48, proto="udp", rtt=0.02)
        for t in r.periodic(1800, 30):
            r.conn(t, "restic", "/usr/bin/restic", "10.0.4.20", 443, r.lognormal(5e7, 0.5), r.lognormal(2e5, 0.5),
                   rtt=0.002, bandwidth=30e6)
        # A daily job that happens to start after learning ended: a process
        # learning never saw. A false alert a real operator would get too.
        t = r.learn_end + 2.5 * 3600
        for i in range(3):
            r.conn(t + i * 2, "certbot", "/usr/bin/certbot", "172.65.32.248", 443, r.lognormal(2000, 0.3),
                   r.lognormal(8000, 0.3), rtt=0.03)

    # ---- attacks ----------------------------------------------------------
    def attack_time(self):
        return self.rng.uniform(self.learn_end + 600, self.end - 3600)

    def attacks(self, instances):
        r = self
        for _ in range(instances):
            # A known process uploads a lot to a host it always talks to.
            r.conn(r.attack_time(), "nginx", "/usr/sbin/nginx", "10.0.1.12", 8080, r.lognormal(3e8, 0.5),
                   r.lognormal(2000, 0.5), label="exfil_allowed_host", rtt=0.001)
            # A tool uploads to a host nobody here talks to.
            r.conn(r.attack_time(), "curl", "/usr/bin/curl", "203.0.113.%d" % r.rng.randint(1, 254), 443,
                   r.lognormal(8e7, 0.7), r.lognormal(3000, 0.3), label="exfil_new_host", rtt=0.05)
            # A known process reaches a new address, normal size and port.
            r.conn(r.attack_time(), "gunicorn", "/usr/bin/python3.11", "198.51.100.%d" % r.rng.randint(1, 254),
                   5432, r.lognormal(400, 0.6), r.lognormal(6000, 1.2), label="new_destination", rtt=0.03)
            # A known process on a port it never used, to a host it knows.
            r.conn(r.attack_time(), "gunicorn", "/usr/bin/python3.11", "10.0.2.5", r.rng.choice([6379, 22, 3306]),
                   r.lognormal(400, 0.6), r.lognormal(6000, 1.2), label="new_port", rtt=0.0008)
            # A process never seen, to a known host at normal size.
            r.conn(r.attack_time(), "kdevtmpfsi", "/tmp/.cache/kdevtmpfsi", "10.0.1.11", 8080,
                   r.lognormal(900, 0.5), r.lognormal(20000, 1.0), label="unknown_process", rtt=0.001)
            # Beaconing: a known process calls out at a regular interval with small, equal requests.
            start, every = r.attack_time(), r.rng.choice([30, 60, 300])
            c2 = "185.220.101.%d" % r.rng.randint(1, 254)
            for i in range(40):
                r.conn(start + i * every + r.rng.gauss(0, 0.5), "gunicorn", "/usr/bin/python3.11", c2, 443,
                       r.rng.randint(300, 310), r.rng.randint(150, 160), label="beaconing", rtt=0.04)
            # The same, hidden in a program that wanders: the package fetcher,
            # whose new addresses are expected, checks in with a controller.
            start, every = r.attack_time(), r.rng.choice([60, 120, 300])
            c2 = "151.101.%d.%d" % (r.rng.randint(0, 255), r.rng.randint(1, 254))
            for i in range(30):
                r.conn(start + i * every + r.rng.gauss(0, 1.0), "http", "/usr/lib/apt/methods/http", c2, 80,
                       r.rng.randint(400, 420), r.rng.randint(2000, 2100), label="beaconing_hidden", rtt=0.03)
            # A reverse shell: a shell holds a connection out for a long time.
            r.conn(r.attack_time(), "bash", "/usr/bin/bash", "203.0.113.%d" % r.rng.randint(1, 254),
                   r.rng.choice([4444, 443, 9001]), r.lognormal(20000, 1), r.lognormal(5000, 1),
                   duration=r.rng.uniform(600, 3600), label="reverse_shell")
            # A known process holds its usual connection far longer than ever.
            r.conn(r.attack_time(), "gunicorn", "/usr/bin/python3.11", "10.0.2.5", 5432, r.lognormal(800, 0.6),
                   r.lognormal(12000, 1.2), duration=r.rng.uniform(1800, 3 * 3600), label="long_hold")
            # DNS-tunnel-shaped: the resolver forwards many larger queries.
            start = r.attack_time()
            for i in range(300):
                r.conn(start + i * 0.2, "systemd-resolve", "/usr/lib/systemd/systemd-resolved", "10.0.0.53", 53,
                       r.rng.randint(180, 250), r.rng.randint(200, 400), proto="udp", label="dns_tunnel", rtt=0.004)
            # Slow exfiltration spread over normal-looking connections to a
            # known process's usual host: each connection within a few times
            # its usual upload, many more of them than usual. Alternately the
            # busy app server (hundreds over half an hour) and the quiet agent
            # (a dozen or so at about three times its report, within ten minutes).
            start = r.attack_time()
            if r.rng.random() < 0.5:
                for i in range(r.rng.randint(1500, 3000)):
                    r.conn(start + r.rng.uniform(0, 1800), "gunicorn", "/usr/bin/python3.11", "10.0.2.5", 5432,
                           r.lognormal(1200, 0.3), r.lognormal(3000, 0.5), label="slow_exfil", rtt=0.0008)
            else:
                for i in range(r.rng.randint(10, 20)):
                    r.conn(start + r.rng.uniform(0, 600), "telegraf", "/usr/bin/telegraf", "10.0.3.10", 8086,
                           r.lognormal(7500, 0.1), r.lognormal(200, 0.05), label="slow_exfil", rtt=0.001)
            # A process calling itself telegraf, run from elsewhere.
            r.conn(r.attack_time(), "telegraf", "/dev/shm/.t", "10.0.3.10", 8086, r.lognormal(2500, 0.1),
                   r.lognormal(200, 0.05), label="masquerade", rtt=0.001)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--learn-hours", type=float, default=14)
    ap.add_argument("--detect-hours", type=float, default=4)
    ap.add_argument("--instances", type=int, default=3, help="times each attack kind is made")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    s = Scenario(a.seed, a.learn_hours, a.detect_hours)
    s.benign()
    s.attacks(a.instances)
    s.records.sort(key=lambda r: r["ts_end"])
    with open(a.out, "w") as f:
        for rec in s.records:
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Labelled records of one web/app server's life over several days, for
`make eval`: what a server does from midnight to midnight, day after day,
with attacks among it after the first day.

Writes JSON lines as `netlof record` does, each with two more keys: `label`
("benign" or the attack's kind) and `note` ("deploy" for the benign traffic a
deploy brings, else empty). Times are UTC; day 1 starts at midnight.

How the server lives (each service an arrival process of its own, none tuned
to netlof):
  - a day and a night: request-driven services follow a daily curve, the
    night at about 15% of the afternoon peak;
  - nginx in front of a gunicorn app (python3.11, app.service) that keeps a
    pool of database connections held for minutes, calls redis per request and
    an external API now and then;
  - a second python3.11 service (worker.service: queue and mail) and certbot's
    daily renewal check (python3.11 too): three services, one interpreter;
  - a log shipper's hour-long streams, sized by the hour's traffic;
  - a resolver with a socket per query; telegraf every 10 s; a health check
    every hour;
  - chronyd polling four servers of a public pool every 1,024 s, replacing
    one every few hours;
  - a nightly backup (restic, 02:00) to an object store spread over hundreds
    of networks, a daily package update (06:25) from a CDN;
  - an admin's ssh and git in working hours;
  - a deploy on day 2 at 10:00 after which the app also calls a new API.
Attacks fall on days 2 and onwards, at any hour.
"""
import argparse
import json
import math
import random

T0 = 1764547200.0  # 2025-12-01T00:00:00Z, a Monday
DAY = 86400.0
PY = "/usr/bin/python3.11"
API = ["52.94.236.%d" % i for i in (17, 48, 120)]      # the app's usual external API
NEW_API = ["34.120.55.%d" % i for i in (10, 11)]        # what the deploy adds


def daily(t):
    """Request load at time t relative to the afternoon peak: 0.15 at night, 1 at 15:00."""
    h = ((t - T0) % DAY) / 3600
    return 0.15 + 0.85 * math.exp(-((h - 15) / 4.5) ** 2)


class Server:
    def __init__(self, seed, days):
        self.rng = random.Random(seed)
        self.days = days
        self.end = T0 + days * DAY
        self.records = []
        self.pid = 3000
        self.sport = 30000

    def lognormal(self, median, sigma):
        return median * math.exp(self.rng.gauss(0, sigma))

    def conn(self, t, name, exe, unit, dst, port, sent, received, label="benign", proto="tcp", duration=None,
             rtt=0.002, bandwidth=50e6, note=""):
        sent, received = int(max(0, sent)), int(max(0, received))
        if duration is None:
            r = rtt * math.exp(self.rng.gauss(0, 0.3))
            if self.rng.random() < 0.01:
                r *= self.rng.uniform(3, 10)
            duration = r * (3 if proto == "tcp" else 1) + (sent + received) / bandwidth
            if self.rng.random() < 0.005:  # the scheduler was busy elsewhere
                duration *= self.rng.uniform(10, 50)
        if t + duration >= self.end:
            return
        self.pid += 1
        self.sport = 30000 + (self.sport - 29999) % 30000
        fam = 6 if ":" in dst else 4
        self.records.append({
            "ts_start": round(t, 6), "ts_end": round(t + duration, 6), "duration": round(duration, 6),
            "pid": self.pid, "ppid": 1, "uid": 0 if name in ("restic", "chronyd", "apt", "http") else 33,
            "process_name": name, "exe": exe, "cgroup_id": 0, "unit": unit, "container_id": "",
            "family": fam, "proto": proto, "src_ip": "10.0.0.2" if fam == 4 else "2001:db8::2",
            "src_port": self.sport, "dst_ip": dst, "dst_port": port, "bytes_sent": sent,
            "bytes_received": received, "outcome": "closed", "label": label, "note": note,
        })

    def arrivals(self, peak_rate, start=T0, end=None, shaped=True):
        """Poisson arrivals at peak_rate times the daily curve (by thinning)."""
        t, end = start, self.end if end is None else end
        while True:
            t += self.rng.expovariate(peak_rate)
            if t >= end:
                return
            if not shaped or self.rng.random() < daily(t):
                yield t

    def periodic(self, every, jitter, start=T0, end=None):
        t, end = start + self.rng.uniform(0, every), self.end if end is None else end
        while t < end:
            yield t
            t += every + self.rng.gauss(0, jitter)

    def each_day(self, hour, spread_s=0):
        for d in range(self.days):
            yield T0 + d * DAY + hour * 3600 + self.rng.uniform(0, spread_s)

    # ---- benign ------------------------------------------------------------
    def benign(self):
        r = self
        deploy = T0 + DAY + 10 * 3600
        for t in r.arrivals(2.0):
            r.conn(t, "nginx", "/usr/sbin/nginx", "nginx.service", r.rng.choice(["10.0.1.11", "10.0.1.12", "10.0.1.13"]),
                   8080, r.lognormal(900, 0.5), r.lognormal(20000, 1.0), rtt=0.001)
        for t in r.arrivals(1.2):
            r.conn(t, "gunicorn", PY, "app.service", "10.0.2.6", 6379, r.lognormal(120, 0.4), r.lognormal(800, 0.8),
                   rtt=0.0005)
        # The database pool: connections replaced every few minutes, more of them by day.
        for t in r.arrivals(1 / 30.0):
            held = r.lognormal(240, 0.5)
            load = daily(t)
            r.conn(t, "gunicorn", PY, "app.service", "10.0.2.5", 5432, r.lognormal(2e5 * load, 0.4),
                   r.lognormal(2e6 * load, 0.5), duration=held)
        for t in r.arrivals(0.08):
            after = t > deploy
            r.conn(t, "gunicorn", PY, "app.service", r.rng.choice(API), 443, r.lognormal(2600, 0.3),
                   r.lognormal(9000, 0.5), rtt=0.02)
            if after and r.rng.random() < 0.6:
                r.conn(t + 0.05, "gunicorn", PY, "app.service", r.rng.choice(NEW_API), 443, r.lognormal(1500, 0.3),
                       r.lognormal(4000, 0.5), rtt=0.015, note="deploy")
        # worker.service: the same interpreter, its own destinations.
        for t in r.arrivals(0.3):
            r.conn(t, "python3", PY, "worker.service", "10.0.2.6", 6379, r.lognormal(300, 0.5), r.lognormal(300, 0.5),
                   rtt=0.0005)
        for t in r.arrivals(0.02):
            r.conn(t, "python3", PY, "worker.service", "10.0.5.25", 25, r.lognormal(12000, 0.8), r.lognormal(600, 0.3),
                   rtt=0.002)
        # certbot's renewal check, twice a day (as its timer does).
        for hour in (3.3, 15.3):
            for t in r.each_day(hour, 600):
                for i in range(3):
                    r.conn(t + i, "certbot", PY, "certbot.service", "172.65.32.248", 443, r.lognormal(2000, 0.3),
                           r.lognormal(8000, 0.3), rtt=0.03)
        for t in r.periodic(10, 0.3):
            r.conn(t, "telegraf", "/usr/bin/telegraf", "telegraf.service", "10.0.3.10", 8086, r.lognormal(2500, 0.1),
                   r.lognormal(200, 0.05), rtt=0.001)
        for t in r.arrivals(2.5):
            r.conn(t, "systemd-resolve", "/usr/lib/systemd/systemd-resolved", "systemd-resolved.service", "10.0.0.53",
                   53, r.rng.randint(40, 75), r.rng.randint(60, 320), proto="udp", rtt=0.004)
        # The log shipper: one stream an hour, as large as the hour was busy.
        for h in range(r.days * 24):
            t = T0 + h * 3600 + r.rng.uniform(0, 5)
            r.conn(t, "filebeat", "/usr/share/filebeat/bin/filebeat", "filebeat.service", "10.0.6.30", 5044,
                   r.lognormal(3e7 * daily(t + 1800), 0.2), r.lognormal(20000, 0.2), duration=3590)
        r.health_check()
        r.ntp_pool()
        r.backup()
        r.package_update()
        r.admin()

    def health_check(self):
        for t in self.periodic(3600, 5):
            self.conn(t, "curl", "/usr/bin/curl", "healthcheck.service", "10.0.7.1", 443, self.lognormal(600, 0.1),
                      self.lognormal(1500, 0.1), rtt=0.001)

    def ntp_pool(self):
        """Four servers of a public pool, each polled every 1,024 s (as chrony
        settles to), each replaced by a new one after some hours (the pool's
        DNS hands out others; a server stops answering)."""
        r = self
        def server():
            return "%d.%d.%d.%d" % (r.rng.choice([5, 45, 85, 162, 193, 212]), r.rng.randint(0, 255),
                                    r.rng.randint(0, 255), r.rng.randint(1, 254))
        for slot in range(4):
            t = T0 + r.rng.uniform(0, 1024)
            while t < r.end:
                addr, until = server(), t + r.rng.expovariate(1 / (16 * 3600.0))
                while t < min(until, r.end):
                    r.conn(t, "chronyd", "/usr/sbin/chronyd", "chrony.service", addr, 123, 48, 48, proto="udp", rtt=0.02)
                    t += 1024 + r.rng.gauss(0, 2)

    def backup(self):
        r = self
        for t in r.each_day(2, 300):
            for i in range(r.rng.randint(400, 700)):
                addr = "%s.%d.%d" % (r.rng.choice(["52.216", "3.5", "52.217", "54.231"]), r.rng.randint(0, 255),
                                     r.rng.randint(1, 254))
                r.conn(t + i * r.rng.uniform(2, 5), "restic", "/usr/bin/restic", "restic-backup.service", addr, 443,
                       r.lognormal(8e6, 0.6), r.lognormal(4000, 0.3), rtt=0.03, bandwidth=40e6)

    def package_update(self):
        r = self
        for t in r.each_day(6.4, 1800):
            for i in range(r.rng.randint(8, 30)):
                addr = "151.101.%d.%d" % (r.rng.choice([2, 66, 130, 194]), r.rng.randint(1, 254))
                r.conn(t + i * r.rng.uniform(0.5, 3), "http", "/usr/lib/apt/methods/http", "apt-daily.service",
                       addr, 80, r.lognormal(300, 0.3), r.lognormal(2e5, 2.0), rtt=0.02, bandwidth=20e6)

    def admin(self):
        r = self
        for d in range(r.days):
            for _ in range(r.rng.randint(1, 4)):
                t = T0 + d * DAY + r.rng.uniform(9, 17) * 3600
                r.conn(t, "ssh", "/usr/bin/ssh", "session-4.scope", "10.0.8.2", 22, r.lognormal(50000, 1),
                       r.lognormal(200000, 1), duration=r.lognormal(1800, 0.7))
            for _ in range(r.rng.randint(2, 8)):
                t = T0 + d * DAY + r.rng.uniform(9, 18) * 3600
                r.conn(t, "git-remote-http", "/usr/lib/git-core/git-remote-http", "session-4.scope",
                       "140.82.121.%d" % r.rng.choice([3, 4]), 443, r.lognormal(3000, 1), r.lognormal(5e5, 1.5),
                       rtt=0.03)

    # ---- attacks --------------------------------------------------------------
    def attack_time(self):
        return self.rng.uniform(T0 + DAY + 1800, self.end - 4 * 3600)

    def attacks(self, instances):
        r = self
        app = ("gunicorn", PY, "app.service")
        for _ in range(instances):
            # The app uploads a large file to its usual API (usual: a few KB).
            r.conn(r.attack_time(), *app, r.rng.choice(API), 443, r.lognormal(5e7, 0.5), r.lognormal(9000, 0.5),
                   label="exfil_usual_destination", rtt=0.02)
            # The same, slowly: a few hundred 60 KB posts over two hours.
            start = r.attack_time()
            for i in range(300):
                r.conn(start + i * 24 + r.rng.uniform(0, 10), *app, r.rng.choice(API), 443, r.lognormal(6e4, 0.2),
                       r.lognormal(9000, 0.5), label="slow_exfil", rtt=0.02)
            r.conn(r.attack_time(), "curl", "/usr/bin/curl", "", "203.0.113.%d" % r.rng.randint(1, 254), 443,
                   r.lognormal(8e7, 0.7), r.lognormal(3000, 0.3), label="exfil_new_host", rtt=0.05)
            r.conn(r.attack_time(), *app, "198.51.100.%d" % r.rng.randint(1, 254), 5432, r.lognormal(400, 0.6),
                   r.lognormal(6000, 1.2), label="new_destination", rtt=0.03)
            r.conn(r.attack_time(), *app, "10.0.2.5", r.rng.choice([22, 3306, 9200]), r.lognormal(400, 0.6),
                   r.lognormal(6000, 1.2), label="new_port", rtt=0.0008)
            # A service reaches what another service of its interpreter uses (a web shell mailing out).
            r.conn(r.attack_time(), *app, "10.0.5.25", 25, r.lognormal(12000, 0.8), r.lognormal(600, 0.3),
                   label="interpreter_pivot", rtt=0.002)
            r.conn(r.attack_time(), "kdevtmpfsi", "/tmp/.cache/kdevtmpfsi", "app.service", "45.9.148.%d"
                   % r.rng.randint(1, 254), 3333, r.lognormal(900, 0.5), r.lognormal(2000, 0.5),
                   label="unknown_process", rtt=0.05)
            start, every = r.attack_time(), r.rng.choice([30, 60, 300])
            c2 = "185.220.101.%d" % r.rng.randint(1, 254)
            for i in range(40):
                r.conn(start + i * every + r.rng.gauss(0, 0.5), *app, c2, 443, r.rng.randint(300, 310),
                       r.rng.randint(150, 160), label="beaconing", rtt=0.04)
            # A beacon hidden in the program that reaches a new network every night.
            start, every = r.attack_time(), r.rng.choice([60, 120, 300])
            c2 = "52.216.%d.%d" % (r.rng.randint(0, 255), r.rng.randint(1, 254))
            for i in range(30):
                r.conn(start + i * every + r.rng.gauss(0, 1.0), "restic", "/usr/bin/restic", "restic-backup.service",
                       c2, 443, r.rng.randint(400, 420), r.rng.randint(2000, 2100), label="beaconing_hidden", rtt=0.03)
            r.conn(r.attack_time(), "bash", "/usr/bin/bash", "app.service", "203.0.113.%d" % r.rng.randint(1, 254),
                   r.rng.choice([4444, 443, 9001]), r.lognormal(20000, 1), r.lognormal(5000, 1),
                   duration=r.rng.uniform(600, 3600), label="reverse_shell")
            r.conn(r.attack_time(), *app, "10.0.2.6", 6379, r.lognormal(800, 0.6), r.lognormal(12000, 1.2),
                   duration=r.rng.uniform(1800, 3 * 3600), label="long_hold")
            start = r.attack_time()
            for i in range(1500):
                r.conn(start + i * 0.2, "systemd-resolve", "/usr/lib/systemd/systemd-resolved",
                       "systemd-resolved.service", "10.0.0.53", 53, r.rng.randint(180, 250), r.rng.randint(200, 400),
                       proto="udp", label="dns_tunnel", rtt=0.004)
            r.conn(r.attack_time(), "telegraf", "/dev/shm/.t", "", "10.0.3.10", 8086, r.lognormal(2500, 0.1),
                   r.lognormal(200, 0.05), label="masquerade", rtt=0.001)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--instances", type=int, default=2, help="times each attack kind is made")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    s = Server(a.seed, a.days)
    s.benign()
    s.attacks(a.instances)
    s.records.sort(key=lambda r: r["ts_end"])
    with open(a.out, "w") as f:
        for rec in s.records:
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()

#!/bin/sh
# Seed corpus for the fuzz targets (tests/fuzz/corpus/<target>/), from the
# project's own configs and from files netlof itself writes.
#
#   scripts/make_fuzz_corpus.sh build/netlof
#
# Files named crash-* in a corpus folder are inputs fuzzing once crashed on;
# they are kept (regression tests) and this script never removes them.
set -eu
NETLOF=${1:?usage: make_fuzz_corpus.sh path/to/netlof}
cd "$(dirname "$0")/.."
C=tests/fuzz/corpus
mkdir -p $C/config $C/allowlist $C/pipeline $C/csv $C/jsonl $C/model $C/event
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cp configs/netlof.yaml $C/config/seed-netlof.yaml
printf 'model: {path: m.bin, pipeline: p.yaml, neighbors: 5, contamination: auto, learn: {records: 10, duration: 90s}}\nallowlist: [a.yaml, /etc/b.yaml]\nalerts: {path: a.jsonl, fold_window: 0}\nrecords: {path: r.jsonl}\nsensor: {ringbuf_kib: 64, udp_idle: 5m}\nstats_interval: 10s\n' \
    > $C/config/seed-flow.yaml
for f in configs/allowlist*.yaml; do cp "$f" $C/allowlist/seed-$(basename "$f"); done
cat > $C/allowlist/seed-every-form.yaml <<'YAML'
processes:
  curl: ["10.0.0.0/8", "192.0.2.10:443", "[2001:db8::1]:8000-8100", "2001:db8::/32", "::ffff:192.0.2.1"]
executables:
  "/usr/lib/firefox/*": ["0.0.0.0/0:443", "[::/0]:443"]
mute_lof:
  - {process: backup, destination: 10.1.0.3}
  - {executable: "/opt/agent/*"}
YAML
for f in configs/pipeline-*.yaml tests/data/lof/*/pipeline.yaml; do
    cp "$f" $C/pipeline/seed-$(echo "$f" | tr / _)
done
cp tests/data/notebook-examples.csv $C/csv/seed-notebook-examples.csv
head -5 tests/data/lof/notebook/train.csv > $C/csv/seed-notebook-train.csv
printf 'a,"b ""q"", c",d\r\n1,"x\ny",3\r\n\r\n4,5,6\r\n' > $C/csv/seed-quotes.csv

cat > $C/jsonl/seed-records.jsonl <<'JSON'
{"ts_start":1700000000.25,"ts_end":1700000000.5,"duration":0.25,"pid":10,"ppid":1,"uid":0,"process_name":"curl","exe":"/usr/bin/curl","cgroup_id":1,"family":4,"proto":"tcp","src_ip":"10.0.0.1","src_port":5000,"dst_ip":"93.184.216.34","dst_port":443,"bytes_sent":512,"bytes_received":2048,"outcome":"closed"}
{"ts_start":1700000001,"ts_end":1700000001,"duration":0,"pid":11,"ppid":1,"uid":0,"process_name":"we\"ird\u00e9","exe":"","cgroup_id":1,"family":6,"proto":"tcp","src_ip":"::1","src_port":5001,"dst_ip":"::1","dst_port":9,"bytes_sent":0,"bytes_received":0,"outcome":"refused","error":"Connection refused"}
JSON

# Models: the notebook's pipeline fitted on a few rows, and the default one.
"$NETLOF" train --pipeline tests/data/lof/notebook/pipeline.yaml --in $C/csv/seed-notebook-train.csv \
    --out $C/model/seed-notebook.bin --neighbors 2 --contamination auto
head -40 tests/data/lof/clusters/train.csv > "$tmp/clusters.csv"
"$NETLOF" train --pipeline tests/data/lof/clusters/pipeline.yaml --in "$tmp/clusters.csv" \
    --out $C/model/seed-clusters.bin --neighbors 5

# Ring-buffer records, laid out as bpf/events.h (pinned by test_events_layout.cpp).
/usr/bin/python3 - "$C/event" <<'PY'
import socket, struct, sys
out = sys.argv[1]
def event(etype, family, saddr, daddr, outcome=1, proto=6, sent=4096, recv=512, error=0, comm=b"curl"):
    conn = struct.pack("<7Q4Ii3H2B16s16s16s4x",
                       0xffff888012345678, 4242, 1_000_000_000, 2_000_000_000, 0, sent, recv,
                       1234, 1234, 1, 0, error, family, 40000, 443, proto, outcome,
                       saddr.ljust(16, b"\0"), daddr.ljust(16, b"\0"), comm.ljust(16, b"\0"))
    hdr = struct.pack("<QII", 2_000_000_000, etype, 16 + len(conn))
    return hdr + conn
v4 = lambda s: socket.inet_pton(socket.AF_INET, s)
v6 = lambda s: socket.inet_pton(socket.AF_INET6, s)
seeds = {
    "seed-process-seen": event(1, 2, v4("127.0.0.1"), v4("127.0.0.2")),
    "seed-tcp-close-v4": event(2, 2, v4("10.0.0.1"), v4("93.184.216.34")),
    "seed-tcp-close-v6": event(2, 10, v6("2001:db8::1"), v6("2001:db8::2")),
    "seed-tcp-flush": event(3, 2, v4("10.0.0.1"), v4("10.0.0.2"), outcome=0),
    "seed-connect-failed": event(4, 2, v4("10.0.0.1"), v4("10.0.0.3"), outcome=2, error=-111),
    "seed-udp-close": event(2, 10, v6("::ffff:10.0.0.1"), v6("::ffff:10.0.0.53"), proto=17),
}
for name, data in seeds.items():
    assert len(data) == 152, len(data)
    open(f"{out}/{name}", "wb").write(data)
PY
echo "fuzz corpus seeds written under $C"

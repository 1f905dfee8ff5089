#!/bin/sh
# `make run`: netlof run with configs/netlof.yaml, its state and logs under
# ./run instead of /var, and a short learning phase. Demo processes (named
# loadgens on loopback addresses) make normal traffic to learn from, then an
# unknown process uploads 5 MB and a known one leaves its allowlist. The
# daemon then keeps running until Ctrl-C (or NETLOF_RUN_SECONDS); run/report.html
# shows what it saw.
#   scripts/daemon-demo.sh build/netlof build/netlof-loadgen run
set -eu
netlof=$(realpath "${1:-build/netlof}")
loadgen=$(realpath "${2:-build/netlof-loadgen}")
mkdir -p "${3:-run}"
out=$(realpath "${3:-run}")
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out/state" "$out/log"
if [ "$(id -u)" != 0 ]; then echo "make run: netlof run loads eBPF programs and needs root (sudo make run)" >&2; exit 2; fi

# The shipped config with local paths; learning ends after 240 records.
# Copies owned by root, 0644: netlof refuses files others could write, and a
# checkout may belong to a user.
mkdir -p "$out/etc"
install -m 0644 "$here/configs/allowlist.yaml" "$here/configs/allowlist-demo.yaml" "$here/configs/pipeline-default.yaml" "$out/etc/"
sed -e "\|/etc/netlof/allowlist.yaml|a\\  - $out/etc/allowlist-demo.yaml" \
    -e "s|/etc/netlof|$out/etc|g" -e "s|/var/lib/netlof|$out/state|g" -e "s|/var/log/netlof|$out/log|g" \
    -e "s|learn: {[^}]*}|learn: {records: 240, duration: 24h}|" \
    -e "s|stats_interval: 5m|stats_interval: 30s|" "$here/configs/netlof.yaml" > "$out/netlof.yaml"
chmod 0644 "$out/netlof.yaml"
"$netlof" check-config "$out/netlof.yaml"

: > "$out/log/netlof.log"
tail -n +1 -f "$out/log/netlof.log" &
tail_pid=$!
"$netlof" run --config "$out/netlof.yaml" 2>> "$out/log/netlof.log" &
daemon=$!
stop() { kill -TERM "$daemon" 2>/dev/null || true; wait "$daemon" || true; sleep 0.2; kill "$tail_pid" 2>/dev/null || true; }
trap 'stop; exit 0' INT TERM

wait_log() {  # text, seconds
    i=0
    while ! grep -q "$1" "$out/log/netlof.log"; do
        kill -0 "$daemon" 2>/dev/null || { stop; echo "make run: netlof run exited" >&2; exit 2; }
        i=$((i + 1)); [ $i -le $(($2 * 10)) ] || { stop; echo "make run: no '$1' after $2 s" >&2; exit 1; }
        sleep 0.1
    done
}
traffic() { "$loadgen" --threads 8 --rate 400 "$@" > /dev/null; }

wait_log "running:" 10
if grep -q "learning normal traffic" "$out/log/netlof.log"; then
    echo "== demo: normal traffic to learn from (demo-web, demo-api, demo-db)"
    traffic --name demo-web --dst 127.0.0.2 --port 8080 --connections 80 --payload 300 --payload-max 1500 \
        --reply 5000 --reply-max 60000 --hold-ms-max 300
    traffic --name demo-api --dst 127.0.0.3 --port 9000 --connections 80 --payload 2000 --payload-max 8000 \
        --reply 200 --reply-max 900 --hold-ms-max 100
    traffic --name demo-db --dst 127.0.0.4 --port 5432 --connections 80 --payload 100 --payload-max 400 \
        --reply 1000 --reply-max 200000 --hold-ms 20 --hold-ms-max 200
    wait_log "; detecting" 30
fi
echo "== demo: a normal demo-web connection, demo-exfil uploading 5 MB, demo-web leaving its allowlist, another binary calling itself demo-web"
traffic --name demo-web --dst 127.0.0.2 --port 8080 --connections 1 --payload 800 --reply 25000 --hold-ms 150
traffic --name demo-exfil --dst 127.0.0.9 --port 4444 --connections 1 --payload 5000000 --reply 16
traffic --name demo-web --dst 127.0.0.5 --port 8080 --connections 1 --payload 800 --reply 25000 --hold-ms 150
install -m 0755 "$loadgen" "$out/state/not-demo-web"  # the same program from another file: not what learning saw
"$out/state/not-demo-web" --threads 1 --name demo-web --dst 127.0.0.2 --port 8080 --connections 1 --payload 800 \
    --reply 25000 --hold-ms 150 > /dev/null
sleep 1
echo "== $out/log/alerts.jsonl (rule: output)"
/usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    a = json.loads(line)
    if a["output_fields"]["proc.name"].startswith("demo-"):
        print(a["rule"] + ": " + a["output"])' "$out/log/alerts.jsonl"
"$netlof" report --config "$out/netlof.yaml" --records "$out/log/records.jsonl" --alerts "$out/log/alerts.jsonl" \
    --out "$out/report.html" 2>> "$out/log/report.log" || { echo "make run: netlof report failed: $(cat "$out/log/report.log")" >&2; stop; exit 1; }
echo "== report with plots of what the sensor saw: $out/report.html (one file; open it in a browser)"
echo "== netlof is running (pid $daemon): tail -f $out/log/alerts.jsonl; Ctrl-C stops it"
if [ -n "${NETLOF_RUN_SECONDS:-}" ]; then sleep "$NETLOF_RUN_SECONDS"; stop; exit 0; fi
wait "$daemon"

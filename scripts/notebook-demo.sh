#!/bin/sh
# The notebook end to end with netlof: synthesize its connections, train the
# seed pipeline and LOF (k=20, contamination=0.1), score its three examples.
#   scripts/notebook-demo.sh build/netlof build/demo
set -eu
netlof=${1:-build/netlof}
out=${2:-build/demo}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"

echo "== netlof synth --seed 42 (the notebook's data)"
"$netlof" synth --seed 42 --out "$out/connections.csv"
tail -n 5 "$out/connections.csv"

echo "== netlof train (configs/pipeline-seed.yaml, k=20, contamination=0.1)"
"$netlof" train --pipeline "$here/configs/pipeline-seed.yaml" --in "$out/connections.csv" \
    --out "$out/model.bin" --neighbors 20 --contamination 0.1 --labels-out "$out/labels.csv"

echo "== netlof score: the notebook's three example connections"
"$netlof" score --model "$out/model.bin" --in "$here/tests/data/notebook-examples.csv" --out "$out/examples-scored.csv" \
    --explain
# process, destination, lof, verdict and why of each scored example
awk -F, 'NR > 1 { why = $13; for (i = 14; i <= NF; i++) why = why "," $i; gsub(/"/, "", why)
                  printf "%-20s -> %-15s lof %.10f  %s\n", $2, $5, $11, ($12 == 1 ? "Anomaly" : "Normal")
                  if (why != "") printf "    why: %s\n", why }' "$out/examples-scored.csv"
echo "files in $out/"

#!/usr/bin/env bash
# Latency-aware DARTS against plain DARTS (issue 24, benchmark b): a one-hot latency MLP fitted
# on 1,000 NAS-Bench-201 cells of a latency column (default raspi4), then `hao darts` at lambda
# 0 and LAMBDAS on Fashion-MNIST; each derived cell trained standalone, timed on this CPU and
# mapped on DEVICE. The cells are then looked up in NAS-Bench-201's tables (something hao did
# not compute): the column's measured latency, CIFAR-10 accuracy, and the distance to the
# table's accuracy-latency Pareto front at that latency (the best accuracy among cells no
# slower, minus the cell's).
# Usage: bench/darts_sweep.sh [OUT] [LAMBDAS] [STEPS] [COLUMN] [DEVICE] [THREADS]  (after a build)
#   defaults: /tmp/darts_sweep 0,0.005,0.01,0.02 600 raspi4 zu9eg 2
# Prints a markdown table; hao's JSON stays in OUT (a rerun with the same OUT reuses it).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/darts_sweep}
lambdas=${2:-0,0.005,0.01,0.02}
steps=${3:-600}
column=${4:-raspi4}
device=${5:-zu9eg}
threads=${6:-2}
hao=build/apps/hao/hao
data=../shared/data/nb201
mkdir -p "$out"
model="$out/${column}_onehot.json"
if [ ! -s "$model" ]; then
  # The table's first 1,000 cells (arch_index order is unrelated to the cells' structure).
  head -1001 "$data/latency_ms.csv" > "$out/latency_1000.csv"
  head -1001 "$data/accuracy.csv" > "$out/archs_1000.csv"
  "$hao" calibrate --kind mlp --space nb201 --encoding onehot --measurements \
    "$out/latency_1000.csv" --archs "$out/archs_1000.csv" --column "$column" --out "$model" \
    > "$out/calibrate.txt"
fi
result="$out/darts_${steps}_${lambdas//,/_}.json"
if [ ! -s "$result" ]; then
  "$hao" darts --latency-model "$model" --lambda "$lambdas" --steps "$steps" \
    --device "$device" --threads "$threads" --json "$result" | tee "$out/darts.txt"
fi
/usr/bin/python3 - "$result" "$data" "$column" <<'PY'
import csv, json, sys
result, data, column = sys.argv[1:4]
acc = {r["arch_str"]: (int(r["arch_index"]), float(r["cifar10_test_acc"]))
       for r in csv.DictReader(open(f"{data}/accuracy.csv"))}
lat = {int(r["arch_index"]): float(r[column]) for r in csv.DictReader(open(f"{data}/latency_ms.csv"))}
cells = [(lat[i], a) for i, a in acc.values()]
def front_gap(ms, a):
    best = max(x for m, x in cells if m <= ms)
    return best - a
j = json.load(open(result))
dev = j["runs"][0].get("device", "device")
print(f"| lambda | derived cell | MLP {column} ms | measured {column} ms (table) | host CPU ms | "
      f"{dev} ms | FMNIST test acc | CIFAR-10 acc (table) | gap to the table's front |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
for r in j["runs"]:
    i, a = acc[r["genotype"]]
    ms = lat[i]
    dms = r.get("device_ms", 0)
    print(f"| {r['lambda']:g} | `{r['genotype']}` | {r['predicted_ms']:.2f} | {ms:.2f} | "
          f"{r['host_cpu_ms']:.2f} | {dms:.3f} | {100 * r.get('test_accuracy', 0):.2f}% | "
          f"{a:.2f}% | {front_gap(ms, a):.2f} |")
PY

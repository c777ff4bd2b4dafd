#!/usr/bin/env bash
# AutoShrink against random cells (issue 24, benchmark c): `hao search --space fmnist-autoshrink
# --strategy autoshrink` (its whole trajectory, timed), then RANDOM random cells with the best
# cell's edge count (canonical: every edge leaves a node the input reaches). Every cell gets the
# same two trainings: the search's proxy (120 steps on 12,000 images, 1,000 held out: hao
# search's default evaluator; VALIDATION held-out images, the search's --validation) for the score
# it optimizes, val acc - 10 log10(MACs / 1e6), and a standalone training (EPOCHS epochs) for its
# test accuracy.
# Usage: bench/autoshrink_vs_random.sh [OUT] [RANDOM] [EPOCHS] [THREADS] [VALIDATION]  (after a build)
#   defaults: /tmp/autoshrink_vs_random 5 1 2 1000
# Prints a markdown table; everything stays in OUT (a rerun with the same OUT reuses it).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/autoshrink_vs_random}
random=${2:-5}
epochs=${3:-1}
threads=${4:-2}
validation=${5:-1000}
hao=$PWD/build/apps/hao/hao
mkdir -p "$out"
if [ ! -s "$out/report/autoshrink_trajectory.csv" ]; then
  start=$(date +%s)
  "$hao" search --space fmnist-autoshrink --strategy autoshrink --storage "$out/studies.db" \
    --out "$out/report" --threads "$threads" --validation "$validation" > "$out/search.txt" 2> "$out/search.err"
  echo $(($(date +%s) - start)) > "$out/search_seconds"
fi
best=$(/usr/bin/python3 -c "
import csv, sys
print(next(r['cell'] for r in csv.DictReader(open('$out/report/autoshrink_trajectory.csv')) if r['best'] == '1'))")
# Random canonical cells with the best cell's edge count, drawn with a fixed seed.
/usr/bin/python3 - "$best" "$random" > "$out/cells.txt" <<'PY'
import itertools, random, sys
best, n = sys.argv[1], int(sys.argv[2])
nodes = [part.split(":") for part in best.split(";")]
ops = [op for op, _ in nodes]
edges_of_best = sum(len(p.split(",")) for _, p in nodes if p)
slots = [(i, j) for j in range(1, len(ops) + 1) for i in range(j)]
rng = random.Random(2020)
cells = [best]
while len(cells) < n + 1:
    chosen = set(rng.sample(slots, edges_of_best))
    reached = {0}
    for i, j in slots:
        if (i, j) in chosen and i in reached:
            reached.add(j)
    if any(i not in reached for i, _ in chosen):
        continue  # not canonical: an edge leaves an unreached node
    cell = ";".join(f"{op}:" + ",".join(str(i) for i, jj in slots if jj == j and (i, jj) in chosen)
                    for j, op in enumerate(ops, 1))
    if cell not in cells:
        cells.append(cell)
print("\n".join(cells))
PY
k=0
while read -r cell; do
  k=$((k + 1))
  for kind in proxy standalone; do
    f="$out/${kind}_$k.json"
    if [ -s "$f" ]; then continue; fi
    if [ "$kind" = proxy ]; then
      args=(--steps 120 --subset 12000 --validation "$validation")
    else
      args=(--epochs "$epochs")
    fi
    "$hao" train "autoshrink:$cell" "${args[@]}" --threads "$threads" --json "$f" > /dev/null 2>&1
  done
done < "$out/cells.txt"
/usr/bin/python3 - "$out" <<'PY'
import json, math, statistics, sys
out = sys.argv[1]
cells = open(f"{out}/cells.txt").read().split()
rows = []
for k, cell in enumerate(cells, 1):
    p = json.load(open(f"{out}/proxy_{k}.json"))
    s = json.load(open(f"{out}/standalone_{k}.json"))
    score = 100 * p["val_accuracy"] - 10 * (math.log10(p["macs"]) - 6)
    rows.append((cell, p["macs"], 100 * p["val_accuracy"], score, 100 * s["test_accuracy"]))
secs = open(f"{out}/search_seconds").read().strip()
print(f"AutoShrink search: {secs} s (hao search, default budget: the whole trajectory)")
print("| cell | edges | MMACs | proxy val acc | score | standalone test acc |")
print("|---|---:|---:|---:|---:|---:|")
for i, (cell, macs, acc, score, test) in enumerate(rows):
    edges = sum(len(p.split(":")[1].split(",")) for p in cell.split(";") if p.split(":")[1])
    name = "AutoShrink's best" if i == 0 else f"random {i}"
    print(f"| {name}: `{cell}` | {edges} | {macs / 1e6:.2f} | {acc:.2f}% | {score:.2f} | {test:.2f}% |")
rand = rows[1:]
print(f"| mean of {len(rand)} random | | {statistics.mean(r[1] for r in rand) / 1e6:.2f} | "
      f"{statistics.mean(r[2] for r in rand):.2f}% | {statistics.mean(r[3] for r in rand):.2f} | "
      f"{statistics.mean(r[4] for r in rand):.2f}% |")
PY

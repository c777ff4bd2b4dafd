#!/usr/bin/env bash
# Learned latency regressor against hao's lookup table (issue 24, benchmark a): on each measured
# latency column, `hao calibrate --kind lut` and `--kind mlp` fitted on 100, 300 and 1,000
# random architectures and tested on all the others, over SEEDS seeds (the rows drawn and the
# MLP's initialization), plus each kind's 5-fold cross-validation on all rows (seed 1).
# Usage: bench/latency_regressors.sh [OUT] [SEEDS] [EXTRA_CSV:COLUMN]   (after a build in build/)
#   EXTRA_CSV:COLUMN adds a NAS-Bench-201 column measured elsewhere, e.g. the host CPU's from
#   `hao profile --space nb201 --archs ../shared/data/nb201/accuracy.csv --sample 1000
#   --out cpu.csv` as cpu.csv:host_cpu_ms (its curve stops below its row count).
# Prints a markdown table of median (over seeds) MAPE and median APE per size and kind; the
# models with their learning curves stay in OUT (a rerun with the same OUT skips those done).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/latency_regressors}
seeds=${2:-3}
extra=${3:-}
hao=build/apps/hao/hao
data=../shared/data
mkdir -p "$out"
runs=(
  "nb201 $data/nb201/latency_ms.csv fpga 100,300,1000"
  "nb201 $data/nb201/latency_ms.csv raspi4 100,300,1000"
  "nb201 $data/nb201/latency_ms.csv 1080ti_1 100,300,1000"
  "anb $data/accel-nasbench/calibration.csv zcu102_latency_ms 100,300"
)
if [ -n "$extra" ]; then
  rows=$(($(wc -l < "${extra%:*}") - 1))
  sizes=$(/usr/bin/python3 -c "print(','.join(str(s) for s in (100, 300, 1000) if s < $rows))")
  runs+=("nb201 ${extra%:*} ${extra##*:} $sizes")
fi
for run in "${runs[@]}"; do
  read -r space file column sizes <<< "$run"
  archs=()
  if [ "$space" = nb201 ] && ! head -1 "$file" | grep -q arch_str; then
    archs=(--archs "$data/nb201/accuracy.csv")
  fi
  for kind in lut mlp; do
    for seed in $(seq "$seeds"); do
      folds=2
      if [ "$seed" = 1 ]; then folds=5; fi
      model="$out/${column}_${kind}_$seed.json"
      if [ -s "$model" ]; then continue; fi  # a rerun resumes
      echo "calibrate $kind $column seed $seed" >&2
      "$hao" calibrate --kind "$kind" --space "$space" --measurements "$file" "${archs[@]}" \
        --column "$column" --folds "$folds" --seed "$seed" --train-sizes "$sizes" \
        --out "$model" > /dev/null
    done
  done
done
/usr/bin/python3 - "$out" "$seeds" <<'PY'
import json, statistics, sys, glob, os
out, seeds = sys.argv[1], int(sys.argv[2])
columns = sorted({os.path.basename(p).rsplit("_", 2)[0] for p in glob.glob(out + "/*_1.json")})
print("| column | rows | kind | 5-fold CV MAPE (median APE) | " +
      " | ".join(f"fit on {n}: MAPE (median APE)" for n in (100, 300, 1000)) + " |")
print("|---|---:|---|---:|" + "---:|" * 3)
for column in columns:
    for kind in ("lut", "mlp"):
        models = [json.load(open(f"{out}/{column}_{kind}_{s}.json")) for s in range(1, seeds + 1)]
        cells = []
        for n in (100, 300, 1000):
            points = [p for m in models for p in m.get("learning_curve", []) if p["train_rows"] == n]
            if not points:
                cells.append("-")
                continue
            mape = statistics.median(p["test"]["mape_pct"] for p in points)
            med = statistics.median(p["test"]["median_ape_pct"] for p in points)
            unseen = max(p["unknown_samples"] for p in points)
            cells.append(f"{mape:.1f}% ({med:.1f}%)" + (f", {unseen} unseen" if unseen else ""))
        cv = models[0]["cv"]
        print(f"| {column} | {models[0]['samples']} | {kind} | {cv['mape_pct']:.2f}% "
              f"({cv['median_ape_pct']:.2f}%) | " + " | ".join(cells) + " |")
PY

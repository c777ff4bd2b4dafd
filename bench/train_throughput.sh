#!/usr/bin/env bash
# Training throughput of the same network, batch size and threads in hao (LibTorch, C++) and in
# PyTorch (Debian's python3-torch), run alternately so that both see the same machine state.
# Usage: bench/train_throughput.sh [STEPS] [ROUNDS] [THREADS]   (after a build in build/)
# Prints images/s per round and the median ratios. "PyTorch" is python3-torch as installed;
# "PyTorch+heap" the same with glibc told what hao tells it at run time (keep large blocks in
# the heap: GLIBC_TUNABLES mmap and trim thresholds of 1 GiB), the like-for-like comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-100}
rounds=${2:-3}
threads=${3:-2}
model=examples/fmnist_mbv2.yaml
hao=build/apps/hao/hao
ratios=()
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf "%-6s %10s %10s %14s %8s %8s\n" round hao PyTorch PyTorch+heap ratio ratio+heap
heap_ratios=()
for r in $(seq "$rounds"); do
  "$hao" train "$model" --steps "$steps" --threads "$threads" --validation 0 \
    --json "$tmp/hao.json" >/dev/null 2>&1
  h=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["steady_images_per_s"])' \
    "$tmp/hao.json")
  p=$(/usr/bin/python3 bench/train_throughput.py "$model" --steps "$steps" --threads "$threads" |
      /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["images_per_s"])')
  q=$(GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=1073741824 \
      /usr/bin/python3 bench/train_throughput.py "$model" --steps "$steps" --threads "$threads" |
      /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["images_per_s"])')
  ratio=$(/usr/bin/python3 -c "print(round($h / $p, 3))")
  heap_ratio=$(/usr/bin/python3 -c "print(round($h / $q, 3))")
  ratios+=("$ratio")
  heap_ratios+=("$heap_ratio")
  printf "%-6s %10.1f %10.1f %14.1f %8s %8s\n" "$r" "$h" "$p" "$q" "$ratio" "$heap_ratio"
done
median() { /usr/bin/python3 -c "import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))" "$@"; }
echo "median hao / PyTorch: $(median "${ratios[@]}"); hao / PyTorch+heap: $(median "${heap_ratios[@]}")"

#!/usr/bin/env bash
# How much AutoShrink's proxy can tell apart (issue 24, benchmark c): the fully connected cell of
# fmnist-autoshrink and each of its one-edge removals that leave every node reached (the cells
# the search's first iteration compares), each trained by the search's proxy protocol (`hao train
# autoshrink:CELL --steps 120 --subset 12000 --validation VALIDATION`) once per seed. Prints per
# cell its MACs, the validation accuracy the search would score (VALIDATION held-out images) and
# the test accuracy of the same trained network (10,000 images) per seed and their mean; then
# the mean standard deviation over seeds of each (also with each seed's common offset removed),
# and the Kendall tau-b between each pair of seeds' rankings of the cells: how often a one-seed
# proxy orders two such cells as another seed does.
# Usage: bench/autoshrink_proxy_noise.sh [OUT] [SEEDS] [VALIDATION] [THREADS]  (after a build)
#   defaults: /tmp/autoshrink_proxy_noise 3 1000 2   (30 trainings of about 20 s each)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/autoshrink_proxy_noise}
seeds=${2:-3}
validation=${3:-1000}
threads=${4:-2}
hao=$PWD/build/apps/hao/hao
mkdir -p "$out"
/usr/bin/python3 - > "$out/cells.txt" <<'PY'
# The full 4-node cell (fmnist-autoshrink: sep3, conv1, sep3, conv1), then each edge i -> j
# removed in turn (by j, then i), where every node stays reached from the input.
ops = ["sep3", "conv1", "sep3", "conv1"]
full = {j: list(range(j)) for j in range(1, len(ops) + 1)}
def label(preds):
    return ";".join(f"{op}:" + ",".join(map(str, preds[j])) for j, op in enumerate(ops, 1))
print(label(full))
for j in range(1, len(ops) + 1):
    for i in range(j):
        preds = {k: [p for p in v if (p, k) != (i, j)] for k, v in full.items()}
        if all(preds[k] for k in preds):  # node 0 reaches every node through its predecessors
            print(label(preds))
PY
for s in $(seq 1 "$seeds"); do
  k=0
  while read -r cell; do
    k=$((k + 1))
    f="$out/p_${k}_s$s.json"
    [ -s "$f" ] || "$hao" train "autoshrink:$cell" --steps 120 --subset 12000 \
      --validation "$validation" --seed "$s" --threads "$threads" --json "$f" > /dev/null 2>&1
  done < "$out/cells.txt"
done
/usr/bin/python3 - "$out" "$seeds" "$PWD/bench" <<'PY'
import itertools, json, statistics, sys
out, seeds = sys.argv[1], range(1, int(sys.argv[2]) + 1)
sys.path.insert(0, sys.argv[3])
from supernet_rank import kendall_tau  # Kendall tau-b, as the other bench scripts
cells = open(f"{out}/cells.txt").read().split()
val, test, macs = {}, {}, {}
for k, cell in enumerate(cells, 1):
    for s in seeds:
        j = json.load(open(f"{out}/p_{k}_s{s}.json"))
        val[k, s], test[k, s], macs[k] = 100 * j["val_accuracy"], 100 * j["test_accuracy"], j["macs"]
ks = range(1, len(cells) + 1)
print("| cell | MMACs | val acc per seed (mean) | test acc per seed (mean) |")
print("|---|---:|---|---|")
for k in ks:
    v = [val[k, s] for s in seeds]
    t = [test[k, s] for s in seeds]
    name = "full" if k == 1 else "removal"
    print(f"| {name} `{cells[k - 1]}` | {macs[k] / 1e6:.2f} | "
          f"{' / '.join(f'{x:.1f}' for x in v)} ({statistics.mean(v):.2f}) | "
          f"{' / '.join(f'{x:.2f}' for x in t)} ({statistics.mean(t):.2f}) |")
if len(seeds) > 1:
    sd_v = statistics.mean(statistics.stdev([val[k, s] for s in seeds]) for k in ks)
    sd_t = statistics.mean(statistics.stdev([test[k, s] for s in seeds]) for k in ks)
    print(f"\nmean standard deviation over seeds: validation {sd_v:.2f} points, test {sd_t:.2f}")
    # A seed also draws the split and the training subset, which move every cell alike; a
    # search's candidates share them, so what reorders its cells is the spread without that.
    def within(acc):
        mean = {s: statistics.mean(acc[k, s] for k in ks) for s in seeds}
        return statistics.mean(statistics.stdev([acc[k, s] - mean[s] for s in seeds]) for k in ks)
    print(f"the same with each seed's mean over the cells removed: validation {within(val):.2f}, "
          f"test {within(test):.2f}")
    for a, b in itertools.combinations(seeds, 2):
        print(f"seeds {a} and {b}: Kendall tau of the cells' rankings, validation "
              f"{kendall_tau([val[k, a] for k in ks], [val[k, b] for k in ks]):.3f}, test "
              f"{kendall_tau([test[k, a] for k in ks], [test[k, b] for k in ks]):.3f}")
    mv = [statistics.mean(val[k, s] for s in seeds) for k in ks]
    mt = [statistics.mean(test[k, s] for s in seeds) for k in ks]
    print(f"means over the seeds: validation against test, Kendall tau {kendall_tau(mv, mt):.3f}")
PY

#!/usr/bin/python3
"""HURRICANE's kept operator pools per target, side by side (issue 23: do the targets differ?).

Reads the hurricane_operators.csv that `hao search --strategy hurricane` writes into its report
folder, one folder per target (e.g. the hurricane runs of bench/oneshot_peers.py for
--target dataflow, engine and cpu), and prints per block position the operators each target
keeps, whether the kept sets differ, and the operator each ranks first; writes the same as JSON.

Usage: bench/operator_pools.py --out pools.json TARGET=REPORT_DIR [TARGET=REPORT_DIR ...]
"""
import argparse
import csv
import json
import os


def read_pools(report):
    """position -> list of (operator, score, kept), in the file's order (best first)."""
    pools = {}
    with open(os.path.join(report, "hurricane_operators.csv")) as f:
        for row in csv.DictReader(f):
            op = (row["operator"].replace("kernel=", "k").replace(" expansion=", "e")
                  .replace(" operator=", "/"))
            pools.setdefault(row["position"], []).append((op, float(row["score"]), row["kept"] == "1"))
    return pools


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="")
    p.add_argument("runs", nargs="+", help="TARGET=REPORT_DIR")
    args = p.parse_args()
    targets = {}
    for run in args.runs:
        name, _, report = run.partition("=")
        targets[name] = read_pools(report)
    names = list(targets)
    positions = list(targets[names[0]])
    rows, differing = [], 0
    for pos in positions:
        kept = {t: sorted(op for op, _, k in targets[t][pos] if k) for t in names}
        first = {t: targets[t][pos][0][0] for t in names}
        differs = len({tuple(v) for v in kept.values()}) > 1
        differing += differs
        rows.append({"position": pos, "kept": kept, "first": first, "differs": differs})
    print("| position | " + " | ".join(f"{t}: kept (first)" for t in names) + " | differ |")
    print("|---|" + "---|" * len(names) + "---|")
    for r in rows:
        cells = [", ".join(r["kept"][t]) + f" ({r['first'][t]})" for t in names]
        print(f"| {r['position']} | " + " | ".join(cells) + f" | {'yes' if r['differs'] else 'no'} |")
    pairs = {}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            pairs[f"{a}/{b}"] = sum(r["kept"][a] != r["kept"][b] for r in rows)
    print(f"\npositions whose kept pools differ: {differing} of {len(rows)}; per pair: " +
          ", ".join(f"{k} {v}" for k, v in pairs.items()))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"targets": {t: run.partition("=")[2] for t, run in zip(names, args.runs)},
                       "positions": rows, "differing": differing, "pairs": pairs}, f, indent=1)


if __name__ == "__main__":
    main()

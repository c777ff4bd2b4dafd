#!/usr/bin/python3
"""How repeatable a measured NAS-Bench-201 latency column is, from cells that compute the same
graph: with edge 2<-1 `none`, nodes 1 and 2 are interchangeable, so the cell
(a 1<-0, b 2<-0, c 3<-1, d 3<-2, e 3<-0) and its twin (b 1<-0, a 2<-0, d 3<-1, c 3<-2, e 3<-0)
are the same network with two nodes renumbered. Whatever a latency model predicts from the
graph, it gives both the same figure, so the twins' differences bound how close any model can
come to the column.

Usage: bench/latency_twins.py [../shared/data/nb201] [--json]

Prints per column (fpga, raspi4, 1080ti_1): the pairs, the MAPE of predicting each cell by its
twin, and over the pairs whose every non-none edge is on an input-output path (no dead branch
a runtime might prune in one twin and not the other), the twins' relative difference
|a - b| / max(a, b): mean, median, 90th percentile. For any prediction p of a pair, the mean of
|p - a| / a and |p - b| / b is at least (max - min) / (2 max): half that mean is a floor on the
MAPE over those cells. Also the share of pairs where the twin whose node-1 path has the heavier
operators is the slower one (near 50%: the difference is not the numbering)."""

import csv
import json
import os
import statistics
import sys

FROM = [0, 0, 1, 0, 1, 2]
TO = [1, 2, 2, 3, 3, 3]
WEIGHT = {"none": 0, "skip_connect": 1, "avg_pool_3x3": 2, "nor_conv_1x1": 3, "nor_conv_3x3": 4}


def ops_of(arch):
    ops = []
    for node in arch.split("+"):
        for term in node.strip("|").split("|"):
            ops.append(term.split("~")[0])
    return tuple(ops)  # 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2


def twin(o):
    return (o[1], o[0], "none", o[3], o[5], o[4])


def fully_live(o):
    forward = [True, False, False, False]
    for e in range(6):
        if o[e] != "none" and forward[FROM[e]]:
            forward[TO[e]] = True
    backward = [False, False, False, True]
    for e in reversed(range(6)):
        if o[e] != "none" and backward[TO[e]]:
            backward[FROM[e]] = True
    return forward[3] and all(
        o[e] == "none" or (forward[FROM[e]] and backward[TO[e]]) for e in range(6))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    data = args[0] if args else os.path.join(os.path.dirname(__file__), "../../shared/data/nb201")
    with open(os.path.join(data, "accuracy.csv")) as f:
        arch = {r["arch_index"]: ops_of(r["arch_str"]) for r in csv.DictReader(f)}
    with open(os.path.join(data, "latency_ms.csv")) as f:
        rows = list(csv.DictReader(f))
    index = {o: k for k, o in arch.items()}
    pairs = [(k, index[twin(o)]) for k, o in arch.items()
             if o[2] == "none" and twin(o) > o]
    out = {}
    for column in [c for c in rows[0] if c != "arch_index"]:
        lat = {r["arch_index"]: float(r[column]) for r in rows}
        by_twin = []
        live, heavier_slower, oriented = [], 0, 0
        for k, t in pairs:
            a, b = lat[k], lat[t]
            by_twin += [abs(a - b) / a, abs(a - b) / b]
            if fully_live(arch[k]):
                live.append(abs(a - b) / max(a, b))
            o = arch[k]
            first = (WEIGHT[o[0]], WEIGHT[o[4]])
            second = (WEIGHT[o[1]], WEIGHT[o[5]])
            if first != second and a != b:
                oriented += 1
                heavier_slower += (first > second) == (a > b)
        live.sort()
        out[column] = {
            "pairs": len(pairs),
            "mape_by_twin": 100 * statistics.mean(by_twin),
            "fully_live_pairs": len(live),
            "fully_live_difference_mean": 100 * statistics.mean(live),
            "fully_live_difference_median": 100 * statistics.median(live),
            "fully_live_difference_p90": 100 * live[int(0.9 * len(live))],
            "mape_floor_fully_live": 50 * statistics.mean(live),
            "heavier_node1_path_slower": 100 * heavier_slower / max(1, oriented),
        }
    if "--json" in sys.argv:
        print(json.dumps(out, indent=1))
        return
    print("column     pairs  MAPE by twin  fully live  difference mean / median / p90  floor  "
          "heavier node-1 path slower")
    for column, r in out.items():
        print("%-9s %6d  %11.2f%%  %10d  %8.1f%% / %5.1f%% / %5.1f%%  %4.1f%%  %5.1f%%" % (
            column, r["pairs"], r["mape_by_twin"], r["fully_live_pairs"],
            r["fully_live_difference_mean"], r["fully_live_difference_median"],
            r["fully_live_difference_p90"], r["mape_floor_fully_live"],
            r["heavier_node1_path_slower"]))


if __name__ == "__main__":
    main()

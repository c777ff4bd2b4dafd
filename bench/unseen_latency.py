#!/usr/bin/python3
"""Latency columns of three made-up devices for NAS-Bench-201, to test `hao bench` on columns
no strategy was tuned on (issue 6: "columns of devices you have never seen").

Each device prices a cell's ops with its own costs (ms) and noise; none is fitted to anything:
  dev_a  edge accelerator: live ops only (a dead op is pruned), 3x3 conv 2.0, 1x1 0.6,
         pool 0.4, skip 0.05, base 1.0, 3% log-normal noise
  dev_b  naive runtime: every op but `none` runs, dead or not; 3x3 1.0, 1x1 0.9, pool 0.7,
         skip 0.3, base 2.0, 8% noise
  dev_c  GPU-like: 3 + (live MACs, 1x1 = 1, 3x3 = 9)^0.7 + 0.5 per live op (launches), 5% noise
An op is live when it lies on an input-to-output path of non-`none` edges.

Usage: bench/unseen_latency.py ../shared/data/nb201/accuracy.csv > unseen.csv
then:  hao bench nb201 --latency unseen.csv:dev_a
"""
import csv
import sys

import numpy as np

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
FROM = [0, 0, 1, 0, 1, 2]
TO = [1, 2, 2, 3, 3, 3]


def ops_of(arch):
    return [OPS.index(t.split("~")[0]) for t in arch.replace("+", "").split("|") if t]


def live(g):
    on = [g[e] != 0 for e in range(6)]
    reached = [True, False, False, False]
    for e in range(6):
        reached[TO[e]] = reached[TO[e]] or (reached[FROM[e]] and on[e])
    reaches = [False, False, False, True]
    for e in range(5, -1, -1):
        reaches[FROM[e]] = reaches[FROM[e]] or (reaches[TO[e]] and on[e])
    return [on[e] and reached[FROM[e]] and reaches[TO[e]] for e in range(6)], on


def main():
    rng = np.random.default_rng(42)
    out = csv.writer(sys.stdout)
    out.writerow(["arch_index", "dev_a", "dev_b", "dev_c"])
    for row in csv.DictReader(open(sys.argv[1])):
        g = ops_of(row["arch_str"])
        lv, on = live(g)
        a = 1.0 + sum({1: 0.05, 2: 0.6, 3: 2.0, 4: 0.4}[g[e]] for e in range(6) if lv[e])
        b = 2.0 + sum({1: 0.3, 2: 0.9, 3: 1.0, 4: 0.7}[g[e]] for e in range(6) if on[e])
        macs = sum({2: 1.0, 3: 9.0}.get(g[e], 0) for e in range(6) if lv[e])
        c = 3.0 + macs ** 0.7 + 0.5 * sum(lv)
        a *= rng.lognormal(0, 0.03)
        b *= rng.lognormal(0, 0.08)
        c *= rng.lognormal(0, 0.05)
        out.writerow([row["arch_index"], f"{a:.5f}", f"{b:.5f}", f"{c:.5f}"])


if __name__ == "__main__":
    main()

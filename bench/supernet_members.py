#!/usr/bin/python3
"""How a supernet judges the networks between its largest and its smallest: N seeded random
members of an mbv2 space (every block's kernel, expansion, bits and, where the space has pools,
operator drawn uniformly), each judged with `hao supernet eval` at its bits, batch norms
re-estimated on 500 training images (as `hao search` judges). Prints each member and the mean,
median, min and max validation accuracy; writes JSON with --json.

    cmake --build build -j2 && /usr/bin/python3 bench/supernet_members.py \\
        --space examples/spaces/fmnist-mbv3.yaml --checkpoint mbv3.pt [--members 12] [--seed 7]

docs/benchmarks.md ("Members between the ends of the fmnist-mbv3 supernet") used the defaults.
"""
import argparse
import json
import os
import random
import re
import statistics
import subprocess

from supernet_rank import HAO, space_choices


def space_operators(path):
    """The space's operator pool (`choices.operators`), or [None] when it has none."""
    m = re.search(r"^\s*operators:\s*\[([^\]]*)\]", open(path).read(), re.M)
    return [o.strip() for o in m.group(1).split(",")] if m else [None]


def members(n, stages, c, ops, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = []
        for s in range(stages):
            depth, width = rng.choice(c["depth"]), rng.choice(c["width"])
            blocks = []
            for _ in range(int(depth)):
                k, e, b, op = (rng.choice(c["kernel"]), rng.choice(c["expansion"]),
                               rng.choice(c["bits"]), rng.choice(ops))
                blocks.append(f"k{k}e{e}b{b}" + (f"/{op}" if op else ""))
            parts.append(f"s{s}:d{depth},w{width}|" + "|".join(blocks))
        out.append(";".join(parts) + ";head:b" + rng.choice(c["bits"]))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--space", required=True, help="the space's YAML file")
    p.add_argument("--checkpoint", required=True, help="its supernet (hao supernet train --out)")
    p.add_argument("--members", type=int, default=12)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", default="")
    args = p.parse_args()
    stages, c = space_choices(args.space)
    rows = []
    for label in members(args.members, stages, c, space_operators(args.space), args.seed):
        out = subprocess.run([HAO, "supernet", "eval", "--space", args.space, "--checkpoint",
                              args.checkpoint, "--genotype", label, "--threads", str(args.threads),
                              "--recalibration-images", "500"],
                             capture_output=True, text=True, check=True).stdout
        acc = float(re.search(r"validation accuracy ([\d.]+)%", out).group(1))
        rows.append({"genotype": label, "accuracy": acc})
        print(f"{acc:6.2f}%  {label}", flush=True)
    accs = [r["accuracy"] for r in rows]
    summary = {"mean": statistics.mean(accs), "median": statistics.median(accs),
               "min": min(accs), "max": max(accs)}
    print("mean {mean:.1f}%  median {median:.2f}%  min {min:.1f}%  max {max:.1f}%".format(**summary))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"space": args.space, "checkpoint": os.path.abspath(args.checkpoint),
                       "seed": args.seed, "members": rows, **summary}, f, indent=1)


if __name__ == "__main__":
    main()

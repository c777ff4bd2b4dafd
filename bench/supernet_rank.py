#!/usr/bin/python3
"""Rank fidelity of the supernet: does judging a network with inherited weights order networks as
training each alone does? Trains the supernet of a space once (`hao supernet train`), draws
genotypes spread over the space (both ends, then random depths, widths, kernels, expansions and
bits 4/8), judges each on the supernet (`hao supernet eval`, at its bits), trains each alone from
scratch with one schedule (`hao train` on its description: float steps, then quantization-aware
steps at its bits) and measures it on the same validation images. Prints the table, Kendall tau,
Spearman rho and the mean gap, and writes JSON.

    cmake --build build -j2 && /usr/bin/python3 bench/supernet_rank.py \\
        [--genotypes 16] [--steps 400] [--qat-steps 60] [--supernet-steps 600] \\
        [--supernet-qat-steps 150] [--recalibration-images 1000] [--threads 2] \\
        [--out supernet_rank.json]

The standalone trainings are seeded and do not depend on the supernet: `--standalone
EARLIER.json` takes them from an earlier run's output (same genotypes, same schedule) and judges
only the supernet, minutes instead of an hour.

Same arguments, same figures (every run is seeded); the time is the machine's.
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAO = os.path.join(ROOT, "build", "apps", "hao", "hao")
SPACE = os.path.join(ROOT, "examples", "spaces", "fmnist-mbv2.yaml")


def space_choices(path):
    """The stage count and the choice lists of an mbv2 space YAML (flow-style lists only)."""
    text = open(path).read()
    stages = len(re.findall(r"^\s*-\s*\{channels:", text, re.M))
    choices = {}
    for key in ("depth", "width", "kernel", "expansion", "bits"):
        m = re.search(r"^\s*" + key + r":\s*\[([^\]]*)\]", text, re.M)
        # As hao's labels write them: 1.0 is "1", 0.75 "0.75".
        choices[key] = [format(float(v), "g") for v in m.group(1).split(",")]
    return stages, choices


def label(stages, blocks, head_bits):
    """hao's genotype label: per stage dD,wW then kKeEbB per block; head:bB."""
    parts = []
    for s, (depth, width, per_block) in enumerate(blocks):
        parts.append("s%d:d%s,w%s" % (s, depth, width) +
                     "".join("|k%se%sb%s" % b for b in per_block[:int(depth)]))
    return ";".join(parts) + ";head:b" + head_bits


def genotypes(n, stages, c, seed):
    rng = random.Random(seed)
    out = []
    for end in (-1, 0):  # the largest, the smallest
        out.append(label(stages, [(c["depth"][end], c["width"][end],
                                   [(c["kernel"][end], c["expansion"][end], c["bits"][end])] *
                                   int(c["depth"][end])) for _ in range(stages)],
                         c["bits"][end]))
    while len(out) < n:
        # Alternate uniform 4-bit, uniform 8-bit and mixed networks.
        mode = len(out) % 3
        def bits():
            return c["bits"][0] if mode == 0 else c["bits"][-1] if mode == 1 else rng.choice(c["bits"])
        blocks = []
        for _ in range(stages):
            depth = rng.choice(c["depth"])
            blocks.append((depth, rng.choice(c["width"]),
                           [(rng.choice(c["kernel"]), rng.choice(c["expansion"]), bits())
                            for _ in range(int(depth))]))
        g = label(stages, blocks, bits())
        if g not in out:
            out.append(g)
    return out


def run(args):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(args), r.stderr))
    return r


def kendall_tau(x, y):
    """Kendall's tau-b (ties counted in neither direction)."""
    concordant = discordant = tx = ty = 0
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            a, b = x[i] - x[j], y[i] - y[j]
            if a == 0 and b == 0:
                continue
            if a == 0:
                tx += 1
            elif b == 0:
                ty += 1
            elif (a > 0) == (b > 0):
                concordant += 1
            else:
                discordant += 1
    n = concordant + discordant
    return (concordant - discordant) / (((n + tx) * (n + ty)) ** 0.5) if n else 0.0


def ranks(v):
    order = sorted(range(len(v)), key=lambda i: v[i])
    r = [0.0] * len(v)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2.0
        i = j + 1
    return r


def spearman(x, y):
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    num = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    den = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return num / den if den else 0.0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--genotypes", type=int, default=16)
    p.add_argument("--steps", type=int, default=400, help="standalone float steps (batch 64)")
    p.add_argument("--qat-steps", type=int, default=60, help="standalone quantization-aware steps")
    p.add_argument("--supernet-steps", type=int, default=600)
    p.add_argument("--supernet-qat-steps", type=int, default=150)
    p.add_argument("--validation", type=int, default=5000)
    p.add_argument("--recalibration-images", type=int, default=1000,
                   help="training images that re-estimate each judged network's batch norms")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--space", default=SPACE)
    p.add_argument("--supernet", help="a trained supernet of the space (skips its training)")
    p.add_argument("--standalone", help="an earlier run's JSON: its standalone accuracies are reused")
    p.add_argument("--out", default="supernet_rank.json")
    a = p.parse_args()
    earlier = {}
    if a.standalone:
        old = json.load(open(a.standalone))
        for key in ("steps", "qat_steps", "validation", "seed"):
            if key in old.get("settings", {}) and old["settings"][key] != getattr(a, key):
                sys.exit("%s: trained with --%s %s, not %s" % (a.standalone, key.replace("_", "-"),
                                                              old["settings"][key], getattr(a, key)))
        earlier = {r["genotype"]: r for r in old["genotypes"]}
    stages, choices = space_choices(a.space)
    gs = genotypes(a.genotypes, stages, choices, a.seed)
    tmp = tempfile.mkdtemp(prefix="hao_rank_")
    t0 = time.time()
    supernet = a.supernet or os.path.join(tmp, "supernet.pt")
    if not a.supernet:
        print("training the supernet (%d + %d steps) ..." % (a.supernet_steps, a.supernet_qat_steps),
              file=sys.stderr)
        run([HAO, "supernet", "train", "--space", a.space, "--steps", str(a.supernet_steps),
             "--qat-steps", str(a.supernet_qat_steps), "--validation", str(a.validation),
             "--seed", str(a.seed), "--threads", str(a.threads), "--out", supernet])
    supernet_s = time.time() - t0
    rows = []
    for i, g in enumerate(gs):
        d = os.path.join(tmp, "g%d" % i)
        os.makedirs(d)
        run([HAO, "supernet", "eval", "--space", a.space, "--checkpoint", supernet, "--genotype", g,
             "--recalibration-images", str(a.recalibration_images), "--threads", str(a.threads),
             "--json", os.path.join(d, "eval.json")])
        ev = json.load(open(os.path.join(d, "eval.json")))
        if g in earlier:
            rows.append({"genotype": g, "supernet": ev["val_accuracy"],
                         "standalone": earlier[g]["standalone"],
                         "standalone_float": earlier[g].get("standalone_float"),
                         "train_seconds": 0, "standalone_from": a.standalone})
            print("%2d  supernet %6.2f%%  alone %6.2f%% (earlier)  %s" %
                  (i, rows[-1]["supernet"], rows[-1]["standalone"], g), file=sys.stderr)
            continue
        run([HAO, "supernet", "export", "--space", a.space, "--checkpoint", supernet, "--genotype", g,
             "--out", os.path.join(d, "net.pt")])
        t1 = time.time()
        run([HAO, "train", os.path.join(d, "model.yaml"), "--steps", str(a.steps), "--batch-size",
             "64", "--lr", "0.05", "--qat-steps", str(a.qat_steps), "--validation",
             str(a.validation), "--seed", str(a.seed), "--threads", str(a.threads), "--json",
             os.path.join(d, "train.json")])
        alone = json.load(open(os.path.join(d, "train.json")))
        rows.append({"genotype": g, "supernet": ev["val_accuracy"],
                     "standalone": 100 * alone["val_accuracy"],
                     "standalone_float": 100 * alone["float_val_accuracy"],
                     "train_seconds": time.time() - t1})
        print("%2d  supernet %6.2f%%  alone %6.2f%%  %s" % (i, rows[-1]["supernet"],
                                                          rows[-1]["standalone"], g),
              file=sys.stderr)
    x = [r["supernet"] for r in rows]
    y = [r["standalone"] for r in rows]
    result = {
        "command": " ".join(sys.argv),
        "date": time.strftime("%Y-%m-%d"),
        "space": a.space,
        "settings": vars(a),
        "kendall_tau": kendall_tau(x, y),
        "spearman": spearman(x, y),
        "mean_gap": sum(b - s for s, b in zip(x, y)) / len(rows),
        "supernet_seconds": supernet_s,
        "seconds": time.time() - t0,
        "genotypes": rows,
    }
    print("| # | genotype | supernet | alone |")
    print("|---|---|---|---|")
    for i, r in enumerate(rows):
        print("| %d | `%s` | %.2f%% | %.2f%% |" % (i, r["genotype"], r["supernet"], r["standalone"]))
    print("\nKendall tau %.3f, Spearman %.3f, mean gap (alone - supernet) %.2f points; %d s" %
          (result["kendall_tau"], result["spearman"], result["mean_gap"], result["seconds"]))
    json.dump(result, open(a.out, "w"), indent=2)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""One-shot searches side by side on one supernet (issue 23's benchmark: dataflow, engine or CPU).

Runs `hao search` with each peer strategy on the same space, device, budget and kept supernet:
hao, netadapt (NetAdaptV2's multi-layer coordinate descent, L=4 J=10), netadapt --layers 1
(NetAdapt's single-layer descent), hurricane (HURRICANE's operator selection and two-stage
evolution, its defaults: 3 operators per position, population 10, the automatic limit),
random, and on request hurricane-all (hurricane keeping every operator: no selection, a
device-agnostic pool); every run judges without the memo (--no-reuse), so each one's time is
its own. With --target engine the latency is program 2's optimal layer-sequential engine's on
the device (--latency-model: a calibrated model of the device's pinned engine, e.g. the ZCU102's
DPU); with --target cpu it is this CPU's at one thread, from one piece table that every run
shares (DIR/cpu_table.json). Then per run: evaluations, wall time, the hypervolume of the
judged candidates (supernet accuracy at their bits against fps) and of the measured frontier
(the finalists' test accuracy after the same fine-tuning against fps), and the judged
hypervolume over the first N evaluations of each run, N the fewest any run made (a descent
stops once it reaches the fastest network). Hypervolume: the area dominated in (log10 fps - 2,
accuracy in points), reference 100 fps and 0%.

Usage: bench/oneshot_peers.py [--out DIR] [--space S] [--supernet FILE] [--device D]
                              [--target dataflow|engine|cpu] [--latency-model M]
                              [--budget N] [--seed S] [--latency-limit MS]
                              [--peers hao,netadapt,scd,hurricane,random,hurricane-all]
                              (after a build)
Prints a markdown table and writes DIR/oneshot_peers[-SPACE][-TARGET]-sSEED.json (SPACE when
not fmnist-mbv2; TARGET: cpu, engine-DEVICE[-MODEL]). A rerun with the same DIR reuses the
runs already there. hurricane-all keeps every operator of a position: 6 in fmnist-mbv2 (2
kernels x 3 expansions), 24 in fmnist-mbv3 (x 4 operators); --all-operators N for another
space.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAO = os.path.join(ROOT, "build", "apps", "hao", "hao")
PEERS = {
    "hao": ["--strategy", "hao"],
    "netadapt": ["--strategy", "netadapt", "--layers", "4", "--samples", "10"],
    "scd": ["--strategy", "netadapt", "--layers", "1"],
    "hurricane": ["--strategy", "hurricane"],
    # HURRICANE without operator selection: every operator of the space kept (a device-agnostic
    # pool); main() sets how many that is
    "hurricane-all": ["--strategy", "hurricane", "--operators"],
    "random": ["--strategy", "random"],
}


def hypervolume(points):
    """Area dominated by (fps, accuracy) points above 100 fps and 0%, on log10 fps."""
    pts = sorted(((math.log10(f) - 2, a) for f, a in points if f > 100 and a > 0), reverse=True)
    area, best = 0.0, 0.0
    for i, (x, a) in enumerate(pts):  # fastest first: each adds its strip down to the next
        best = max(best, a)
        nxt = pts[i + 1][0] if i + 1 < len(pts) else 0.0
        area += best * (x - nxt)
    return area


def where(args):
    """The target as run names and the table say it."""
    if args.target == "engine":
        model = os.path.splitext(os.path.basename(args.latency_model))[0] if args.latency_model else ""
        device = os.path.splitext(os.path.basename(args.device))[0]
        return "engine-" + device + ("-" + model if model else "")
    return args.device if args.target == "dataflow" else args.target


def space_tag(args):
    """The space as run names say it: nothing for the default."""
    if args.space == "fmnist-mbv2":
        return ""
    return os.path.splitext(os.path.basename(args.space))[0] + "-"


def run(peer, args):
    where_ = where(args)
    name = f"{peer}-{space_tag(args)}{where_}-b{args.budget}" + (f"-s{args.seed}" if args.seed != 1 else "") + (
        f"-l{args.latency_limit:g}" if args.latency_limit and peer.startswith("hurricane") else "")
    report = os.path.join(args.out, "report-" + name)
    out_json = os.path.join(args.out, name + ".json")
    if not os.path.exists(out_json):
        cmd = [HAO, "search", *PEERS[peer], "--space", args.space, "--device", args.device, "--budget", str(args.budget),
               "--seed", str(args.seed), "--study", name, "--storage", os.path.join(args.out, "studies.db"),
               "--files", os.path.join(args.out, "files"), "--out", report, "--json", out_json,
               "--no-reuse"]
        if args.supernet:
            cmd += ["--supernet", args.supernet]
        if args.target == "engine":
            cmd += ["--target", "engine"]
            if args.latency_model:
                cmd += ["--latency-model", args.latency_model]
        if args.latency_limit and peer.startswith("hurricane"):
            cmd += ["--latency-limit", str(args.latency_limit)]
        if args.target == "cpu":  # this CPU, one thread, one piece table for every run
            cmd += ["--target", args.target, "--threads", "1",
                    "--cpu-table", os.path.join(args.out, "cpu_table.json")]
        start = time.time()
        with open(os.path.join(args.out, name + ".err"), "w") as err, \
                open(os.path.join(args.out, name + ".txt"), "w") as log:
            subprocess.run(cmd, check=True, stdout=log, stderr=err)
        with open(os.path.join(args.out, name + ".seconds"), "w") as f:
            f.write(f"{time.time() - start:.1f}\n")
    with open(out_json) as f:
        j = json.load(f)
    with open(os.path.join(args.out, name + ".seconds")) as f:
        seconds = float(f.read())
    # In the order they were evaluated, so that runs compare at equal evaluations.
    judged = [(e["fps"] or 0, e["accuracy"]) for e in sorted(j["evaluations"], key=lambda e: e["design"])]
    front = [(d["fps"], d["test_accuracy"]) for d in j["frontier"]]
    return {
        "peer": peer,
        "command": "hao search " + " ".join(PEERS[peer]),
        "seconds": seconds,
        "evaluations": len(j["evaluations"]),
        "judged": [[f, a] for f, a in judged],
        "judged_hypervolume": hypervolume(judged),
        "frontier": [{"fps": f, "test_accuracy": a} for f, a in sorted(front)],
        "measured_hypervolume": hypervolume(front),
        "best_test_accuracy": max((a for _, a in front), default=0),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="/tmp/oneshot_peers")
    p.add_argument("--space", default="fmnist-mbv2")
    p.add_argument("--all-operators", type=int, default=0,
                   help="hurricane-all's --operators (default: 24 for fmnist-mbv3, else 6)")
    p.add_argument("--supernet", default="")
    p.add_argument("--device", default="zu3eg")
    p.add_argument("--target", default="dataflow", choices=["dataflow", "engine", "cpu"],
                   help="cpu: this CPU at one thread, its piece table shared by the runs")
    p.add_argument("--latency-model", default="",
                   help="--target engine: a calibrated model of the device's pinned engine")
    p.add_argument("--latency-limit", type=float, default=0,
                   help="hurricane peers: one frame interval limit in ms for all (default: each "
                   "its own, the median of random networks of its kept pools)")
    p.add_argument("--budget", type=int, default=150)
    p.add_argument("--seed", type=int, default=1, help="the strategies' (and, without --supernet, "
                   "the supernet's)")
    p.add_argument("--peers", default="hao,netadapt,scd,hurricane,random")
    args = p.parse_args()
    PEERS["hurricane-all"] = PEERS["hurricane-all"][:3] + [
        str(args.all_operators or (24 if "mbv3" in args.space else 6))]
    os.makedirs(args.out, exist_ok=True)
    rows = []
    for peer in args.peers.split(","):
        print(f"running {peer} ...", file=sys.stderr, flush=True)
        rows.append(run(peer, args))
    # Runs that stop early (a descent that reaches the fastest network) compare with the others
    # over as many evaluations as the shortest made: NetAdaptV2's "no more evaluations".
    equal = min(r["evaluations"] for r in rows)
    for r in rows:
        r["judged_hypervolume_at_equal_evaluations"] = [equal, hypervolume(r["judged"][:equal])]
    print(f"| peer ({space_tag(args)}{where(args)}, budget {args.budget}, seed {args.seed}) | evaluations | time (s) | judged HV | "
          f"judged HV, first {equal} | frontier | measured HV | best test acc |")
    print("|---|---:|---:|---:|---:|---|---:|---:|")
    for r in rows:
        front = "; ".join(f"{d['test_accuracy']:.2f}% @{d['fps']:,.0f}" for d in r["frontier"])
        print(f"| `{r['command']}` | {r['evaluations']} | {r['seconds']:.0f} | "
              f"{r['judged_hypervolume']:.1f} | {r['judged_hypervolume_at_equal_evaluations'][1]:.1f} | "
              f"{front} | {r['measured_hypervolume']:.1f} | {r['best_test_accuracy']:.2f}% |")
    suffix = ("-" + space_tag(args)[:-1] if space_tag(args) else "") + (
        "" if args.target == "dataflow" else "-" + where(args)) + (
        f"-l{args.latency_limit:g}" if args.latency_limit else "")
    with open(os.path.join(args.out, f"oneshot_peers{suffix}-s{args.seed}.json"), "w") as f:
        json.dump({"space": args.space, "device": args.device, "target": args.target,
                   "latency_limit_ms": args.latency_limit or None,
                   "latency_model": args.latency_model, "budget": args.budget,
                   "seed": args.seed, "runs": rows}, f, indent=1)


if __name__ == "__main__":
    main()

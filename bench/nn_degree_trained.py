#!/usr/bin/python3
"""NN-Degree against the accuracy of trained networks of FLASH's DenseNet space (issue 25).

Reads every evaluation of the densenet studies in a hao study store (SQLite), measures each
evaluation's kept checkpoint on the 10,000 Fashion-MNIST test images (`hao train SPACE:LABEL
--init CKPT --epochs 0`; results cached in STORE.test.json, so a rerun only measures what is
new), and prints Kendall tau-b of each topology measure against the study's validation accuracy
(1,000 held-out images, what the search decided on) and against the test accuracy, per study
and over all of them.

The measures are computed here from the labels, apart from hao's C++ (search/nn_degree.cpp,
search/dense_domain.cpp), so the figures are also a check of it: hao's study note
`predictor_kendall.nn_degree` must equal this script's NN-Degree tau on validation accuracy.
  nn-degree      hao's: per cell w + w sum_j min(t, j - 1) / d (whole earlier layers linked)
  +transition    the cell's transition conv a vertex too (it reads the previous cell's width)
  flash t=tw     FLASH's w + t (d - 1) / d with t w skip channels in every layer after the first
  width          the sum of the cells' widths (NN-Degree without the skips)
  parameters     the network's weights

Usage: /usr/bin/python3 bench/nn_degree_trained.py STORE [--hao build/apps/hao/hao]
       [--space fmnist-densenet] [--threads 1] [--json out.json]
"""
import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys

from supernet_rank import kendall_tau  # Kendall tau-b, ties in neither direction


def cells(label):
    out = []
    for part in label.split(";"):
        m = re.fullmatch(r"c\d+:w(\d+),d(\d+),t(\d+),b(\d+)", part)
        if not m:
            sys.exit(f"label '{label}': not a densenet label")
        out.append(tuple(int(v) for v in m.groups()))
    return out


def nn_degree(cs):
    return sum(w + w * sum(min(t, j - 1) for j in range(1, d + 1)) / d for w, d, t, _ in cs)


def with_transition(cs, channels=1):
    total, previous = 0.0, channels
    for w, d, t, _ in cs:
        links = previous * w + sum(w * w * (1 + min(t, j - 1)) for j in range(1, d + 1))
        total += links / (w * (d + 1))
        previous = w
    return total


def flash_tw(cs):
    return sum(w + t * w * (d - 1) / d for w, d, t, _ in cs)


def width(cs):
    return sum(w for w, _, _, _ in cs)


def parameters(cs, channels=1, kernel=3, classes=10):
    total, previous = 0.0, channels
    for w, d, t, _ in cs:
        total += kernel * kernel * previous * w
        total += sum(kernel * kernel * w * w * (1 + min(t, j - 1)) for j in range(1, d + 1))
        previous = w
    return total + previous * classes


MEASURES = {"nn-degree": nn_degree, "+transition": with_transition, "flash t=tw": flash_tw,
            "width": width, "parameters": parameters}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("store")
    p.add_argument("--hao", default="build/apps/hao/hao")
    p.add_argument("--space", default="fmnist-densenet")
    p.add_argument("--threads", default="1")
    p.add_argument("--json")
    a = p.parse_args()
    db = sqlite3.connect(f"file:{a.store}?mode=ro", uri=True)
    studies = [r[0] for r in db.execute(
        "select name from study where name like ? order by name", (a.space + "-%",))]
    if not studies:
        sys.exit(f"{a.store}: no study of space {a.space}")
    cache_path = a.store + ".test.json"
    cache = json.load(open(cache_path)) if os.path.exists(cache_path) else {}
    rows = []
    for study in studies:
        evals = db.execute("select idx, label, accuracy, extra from evaluation where study = ? "
                           "and accuracy is not null order by idx", (study,)).fetchall()
        for k, (idx, label, val, extra) in enumerate(evals):
            key = f"{study}/{idx}"
            if key not in cache:
                checkpoint = json.loads(extra)["checkpoint"]
                if not os.path.isabs(checkpoint):
                    checkpoint = os.path.join(os.path.dirname(os.path.abspath(a.store)), checkpoint)
                out = subprocess.run([a.hao, "train", f"{a.space}:{label}", "--init", checkpoint,
                                      "--epochs", "0", "--threads", a.threads, "--json", "-"],
                                     capture_output=True, text=True)
                if out.returncode != 0:
                    sys.exit(f"{key}: hao train failed: {out.stderr.strip()}")
                cache[key] = 100 * json.loads(out.stdout[out.stdout.index("{"):])["test_accuracy"]
                json.dump(cache, open(cache_path, "w"), indent=1)
                print(f"[{study} {k + 1}/{len(evals)}] val {val:.2f}% test {cache[key]:.2f}%",
                      file=sys.stderr)
            rows.append((study, cells(label), val, cache[key]))
    report = {"store": a.store, "studies": {}}
    groups = [(s, [r for r in rows if r[0] == s]) for s in studies] + [("all", rows)]
    print(f"| study | networks | accuracy | " + " | ".join(MEASURES) + " |")
    print("|---|---:|---|" + "---:|" * len(MEASURES))
    for name, group in groups:
        entry = {"networks": len(group)}
        for column, at in (("validation", 2), ("test", 3)):
            acc = [r[at] for r in group]
            taus = {m: kendall_tau([f(r[1]) for r in group], acc) for m, f in MEASURES.items()}
            entry[column] = taus
            print(f"| {name} | {len(group)} | {column} | " +
                  " | ".join(f"{t:.3f}" for t in taus.values()) + " |")
        report["studies"][name] = entry
    if a.json:
        json.dump(report, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()

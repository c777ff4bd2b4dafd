#!/usr/bin/python3
"""hao's ONNX import against PyTorch on torchvision's classification networks, as users export
them (torch.onnx.export in eval mode, opset 13, export_params=False to keep the files small).

For each network: PyTorch's MAC count (forward hooks on every Conv2d and Linear:
tests/fixtures/make_onnx.py's count_macs) and parameter count, against what `hao map --json`
reports for the exported file (network.macs, params_trained, params_deployed), or the error
hao stops with. Prints a markdown table; --json writes the rows.

    /usr/bin/python3 bench/torchvision_import.py [--hao build/apps/hao/hao] [--out DIR] [--json F]

Needs Debian's python3-torch and python3-torchvision (the product does not).
"""
import argparse
import json
import os
import subprocess
import sys
import warnings

import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "fixtures"))
from make_onnx import count_macs  # noqa: E402  (the fixtures' count, one definition)

MODELS = ["alexnet", "vgg11", "resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2",
          "googlenet", "inception_v3", "squeezenet1_0", "squeezenet1_1", "densenet121",
          "densenet161", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
          "mnasnet0_5", "mnasnet1_0", "efficientnet_b0", "efficientnet_v2_s", "regnet_x_400mf",
          "regnet_y_400mf", "shufflenet_v2_x1_0", "convnext_tiny"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hao", default="build/apps/hao/hao")
    ap.add_argument("--out", default="/tmp/torchvision_onnx")
    ap.add_argument("--json")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    rows = []
    for name in MODELS:
        kw = {"aux_logits": False, "init_weights": False} if name in ("googlenet",
                                                                       "inception_v3") else {}
        model = getattr(torchvision.models, name)(**kw).eval()
        size = 299 if name == "inception_v3" else 224
        x = torch.zeros(1, 3, size, size)
        macs, params = count_macs(model, x), sum(p.numel() for p in model.parameters())
        path = os.path.join(args.out, name + ".onnx")
        torch.onnx.export(model, x, path, export_params=False, opset_version=13,
                          input_names=["input"], output_names=["logits"])
        report = os.path.join(args.out, name + ".json")
        run = subprocess.run([args.hao, "map", path, "--device", "u250", "--method", "greedy",
                              "--json", report], capture_output=True, text=True)
        row = {"model": name, "torch_macs": macs, "torch_params": params}
        if os.path.exists(report) and run.returncode in (0, 3):
            net = json.load(open(report))["network"]
            row.update(layers=net["layers"], macs=net["macs"], params_trained=net["params_trained"],
                       params_deployed=net["params_deployed"])
            os.remove(report)
        else:
            row["error"] = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else "exit %d" % run.returncode
        rows.append(row)
        print(name, "imported" if "macs" in row else "refused", flush=True)
    print()
    print("| network | hao layers | PyTorch MACs | hao MACs | PyTorch params | hao trained params "
          "| hao deployed params |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if "macs" in r:
            same = "" if r["macs"] == r["torch_macs"] else " (differs)"
            print(f"| {r['model']} | {r['layers']} | {r['torch_macs']:,} | {r['macs']:,}{same} | "
                  f"{r['torch_params']:,} | {r['params_trained']:,} | {r['params_deployed']:,} |")
        else:
            print(f"| {r['model']} | refused: {r['error'][:160]} | | | | | |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()

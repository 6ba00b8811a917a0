#!/usr/bin/env python3
"""Fixtures of the scale-out test (ddp.test.ts): zoo nets trained a few steps with 2-process DDP by
tools/train_ddp.py, a grouped DO-Conv net and the official PyTorch sample's state dicts; for each, the
PyTorch outputs on the first test images, for doconv to reproduce after `doconv import`.

    /usr/bin/python3 test/interop/ddp_fixtures.py OUT_DIR

OUT_DIR/<case>/checkpoint.safetensors (+ checkpoint.json for the zoo runs) and OUT_DIR/<case>/io.safetensors
(x: NCHW float32 test images, y: what the TF.js model outputs — probabilities for softmax heads, the
task nets' dense maps as NHWC);
OUT_DIR/twins/<zoo name>/: every zoo twin with random D and BN statistics (the task nets on 64×64 scenes).
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from doconv_torch import checkpoint, data, zoo  # noqa: E402
from doconv_torch.layers import ConvFactory, DOConv2d, dense  # noqa: E402
from save_safetensors import save_safetensors  # noqa: E402
import train_ddp  # noqa: E402

TEST_IMAGES = 200  # the fixed test slice: the accuracies of both sides are compared on it
IO_IMAGES = 16  # images whose outputs are compared value by value

# name, model, steps, optimizer args: a plain DO-Conv net (Flatten → Dense: the row permutation) and a
# depthwise one (DO-DConv, groups = C, with BatchNorm), each trained by 2 DDP processes.
ZOO_RUNS = [
    ("tf-mnist-sample", "tf-mnist-sample", 20, ["--optimizer", "adam", "--lr", "0.003"]),
    ("mobilenet-v1", "mobilenet-v1", 4, ["--optimizer", "sgd", "--lr", "0.05"]),
]


def write_io(out, model, x):
    model.eval()
    with torch.no_grad():
        y = model.predict(x) if hasattr(model, "predict") else model(x)
    if y.dim() == 4:  # a dense map: TF.js's layout
        y = y.permute(0, 2, 3, 1).contiguous()
    save_safetensors({"x": x.float(), "y": y.float()}, os.path.join(out, "io.safetensors"))


def zoo_run(root, name, model, steps, extra):
    out = os.path.join(root, name)
    # In this process: the 2 DDP ranks fork from it (tools/train_ddp.py --nproc 2, gloo).
    train_ddp.main(["--nproc", "2", "--model", model, "--conv", "doconv", "--epochs", "1",
                    "--max-steps", str(steps), "--batch-size", "32", "--train-limit", "2000",
                    "--test-limit", str(TEST_IMAGES), "--seed", "5", "--out", out, "--quiet", *extra])
    state, _ = checkpoint.read_safetensors(os.path.join(out, "checkpoint.safetensors"))
    net = zoo.build(model, "doconv", (28, 28, 1), 10)
    net.load_state_dict(state)
    write_io(out, net, data.load("mnist", "test", limit=IO_IMAGES)[0])


def scenes(count):
    """64×64 inputs for the task nets (mnist-scenes' size): four MNIST test digits on a 2×2 grid of 32 px
    cells, so every map has strokes and background. Their labels play no part: outputs are compared."""
    digits = data.load("mnist", "test", limit=4 * count)[0]
    x = torch.zeros(count, 1, 64, 64)
    for i in range(4 * count):
        row, col = divmod(i % 4, 2)
        x[i // 4, :, 32 * row + 2: 32 * row + 30, 32 * col + 2: 32 * col + 30] = digits[i]
    return x


# The task nets' twins: mnist-scenes' shape and class counts (segmentation counts the background).
TASK_SHAPES = {"segmentation": ((64, 64, 1), 11), "detection": ((64, 64, 1), 10)}


def twins(root):
    """Every zoo twin, untrained but with random D and BatchNorm statistics (D = 0 and identity BN would
    hide a layout or wiring slip), in eval mode: checks each PyTorch definition against the TS builder."""
    for name in zoo.ZOO:
        torch.manual_seed(13)
        task = zoo.task(name)
        shape, classes = TASK_SHAPES.get(task, ((28, 28, 1), 10))
        net = zoo.build(name, "doconv", shape, classes)
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, DOConv2d):
                    m.D.normal_(0, 0.3)
                elif isinstance(m, nn.BatchNorm2d):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.normal_(0, 0.2)
                    m.running_mean.normal_(0, 0.2)
                    m.running_var.uniform_(0.5, 1.5)
        out = os.path.join(root, "twins", name)
        checkpoint.save(out, net, {"model": name, "conv": "doconv",
                                   "dataset": "mnist" if task == "classification" else "mnist-scenes",
                                   "normalize": "none", "inputShape": list(shape), "numClasses": classes})
        write_io(out, net, data.load("mnist", "test", limit=4)[0] if task == "classification" else scenes(2))


class Grouped(zoo.ZooNet):
    """Not a zoo net: DO-GConv (1 < groups < C, where the official module departs from the definition)
    and DO-DConv with multiplier 2, trained a few steps so D is not zero. TF.js twin in ddp.test.ts."""

    def __init__(self):
        super().__init__("grouped", "doconv")
        conv = ConvFactory("doconv")
        self.add("conv1", conv.conv2d(1, 8, 3, 1, "same"))
        self.add("g2", conv.conv2d(8, 12, 3, 2, "same", groups=2))
        self.add("g4", conv.conv2d(12, 16, 3, 1, "valid", groups=4))
        self.add("dw", conv.depthwise_conv2d(16, 3, 1, "same", multiplier=2))
        self.add("fc", dense(32 * 12 * 12, 10))

    def forward(self, x):
        x = F.relu(self.g4(F.relu(self.g2(F.relu(self.conv1(x))))))
        return self.fc(torch.flatten(F.relu(self.dw(x)), 1))


def grouped(root):
    out = os.path.join(root, "grouped")
    torch.manual_seed(7)
    net = Grouped()
    x, y = data.load("mnist", "train", limit=256)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for i in range(0, 256, 32):  # enough for D to move well away from 0
        loss = F.cross_entropy(net(x[i:i + 32]), y[i:i + 32])
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert all(m.D.abs().max() > 1e-3 for m in net.modules() if isinstance(m, DOConv2d))
    os.makedirs(out, exist_ok=True)
    save_safetensors(net.state_dict(), os.path.join(out, "checkpoint.safetensors"))
    write_io(out, net, data.load("mnist", "test", limit=IO_IMAGES)[0])


class OfficialDOConv2d(nn.Module):
    """The official PyTorch DOConv2d's parameters (W, D, d_diag as a frozen Parameter, bias) and, for
    groups 1, its function: K = einsum('ims,ois->oim', D + d_diag, W)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.W = nn.Parameter(torch.empty(cout, cin, 9))
        nn.init.kaiming_uniform_(self.W, a=math.sqrt(5))
        self.D = nn.Parameter(0.2 * torch.randn(cin, 9, 9))  # as after training: not zero
        self.d_diag = nn.Parameter(torch.eye(9).repeat(cin, 1, 1), requires_grad=False)
        self.bias = nn.Parameter(0.1 * torch.randn(cout))

    def forward(self, x):
        k = torch.einsum("ims,ois->oim", self.D + self.d_diag, self.W).reshape(self.W.shape[0], -1, 3, 3)
        return F.conv2d(x, k, self.bias, 2, 1)


def official_sample(root):
    """The sample's nn.Sequential (keys 0.W, 0.D, 0.d_diag, 0.bias, 2.W, ...; its nn.Conv2d version 0.weight)."""
    for kind in ("doconv", "conv"):
        torch.manual_seed(11)
        conv = OfficialDOConv2d if kind == "doconv" else (lambda a, b: nn.Conv2d(a, b, 3, stride=2, padding=1))
        net = nn.Sequential(conv(1, 16), nn.ReLU(), conv(16, 16), nn.ReLU(), conv(16, 10), nn.ReLU(),
                            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        out = os.path.join(root, f"official-{kind}")
        os.makedirs(out, exist_ok=True)
        save_safetensors(net.state_dict(), os.path.join(out, "checkpoint.safetensors"))
        write_io(out, net, data.load("mnist", "test", limit=IO_IMAGES)[0])


if __name__ == "__main__":
    root = sys.argv[1]
    os.makedirs(root, exist_ok=True)
    for run in ZOO_RUNS:
        zoo_run(root, *run)
    twins(root)
    grouped(root)
    official_sample(root)
    with open(os.path.join(root, "fixtures.json"), "w") as f:
        json.dump({"testImages": TEST_IMAGES, "ioImages": IO_IMAGES}, f)
    print(f"scale-out fixtures written to {root}")

#!/usr/bin/env python3
"""Interop fixtures: small PyTorch nets with a DO-Conv module written from the paper's definition (and,
for the layers where the official code departs from it, the official composition), their weights as
safetensors, inputs, outputs and the gradients of sum(y * G). Run by `npm run test:interop`.

    python3 test/interop/make_fixtures.py OUT_DIR
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
from save_safetensors import save_safetensors  # noqa: E402
from doconv_torch.layers import DOConv1d  # noqa: E402

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)  # references in float64; TF.js compares in float32


class DOConv2d(nn.Module):
    """DO-Conv from the definition, state_dict laid out like the official module: W [F, C/g, D_mul],
    D [C, M*N, D_mul], d_diag. composition='official' reproduces the official W reshape instead."""

    def __init__(self, cin, cout, k, D_mul=None, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 composition="definition"):
        super().__init__()
        self.k, self.groups, self.stride, self.padding, self.dilation = k, groups, stride, padding, dilation
        self.cin, self.cout, self.composition = cin, cout, composition
        mn = k * k
        self.D_mul = mn if D_mul is None or mn == 1 else D_mul
        self.W = nn.Parameter(torch.empty(cout, cin // groups, self.D_mul))
        nn.init.kaiming_uniform_(self.W, a=math.sqrt(5))
        if mn > 1:
            # Random D (a zero D would hide layout mistakes).
            self.D = nn.Parameter(0.3 * torch.randn(cin, mn, self.D_mul))
            diag = torch.zeros(cin, mn, self.D_mul)
            for s in range((self.D_mul // mn) * mn):
                diag[:, s % mn, s] = 1
            self.d_diag = nn.Parameter(diag, requires_grad=False)
        self.bias = nn.Parameter(0.1 * torch.randn(cout)) if bias else None

    def kernel(self):
        k, g, mn = self.k, self.groups, self.k * self.k
        if mn == 1:
            return self.W.reshape(self.cout, self.cin // g, k, k)
        dhat = self.D + self.d_diag  # [C, MN, S]
        if self.composition == "official":
            w = self.W.reshape(self.cout // g, self.cin, self.D_mul)
            return torch.einsum("ims,ois->oim", dhat, w).reshape(self.cout, self.cin // g, k, k)
        cg, fg = self.cin // g, self.cout // g
        # K[o, j, m] = sum_s Dhat[c, m, s] W[o, j, s], c = (o // (F/g)) * (C/g) + j
        c = (torch.arange(self.cout) // fg)[:, None] * cg + torch.arange(cg)[None, :]
        return torch.einsum("ojms,ojs->ojm", dhat[c], self.W).reshape(self.cout, cg, k, k)

    def forward(self, x):
        return F.conv2d(x, self.kernel(), self.bias, self.stride, self.padding, self.dilation, self.groups)


class PtMnistSample(nn.Module):
    """The official PyTorch MNIST sample, DO-Conv version."""

    def __init__(self):
        super().__init__()
        self.conv1 = DOConv2d(1, 16, 3, stride=2, padding=1)
        self.conv2 = DOConv2d(16, 16, 3, stride=2, padding=1)
        self.conv3 = DOConv2d(16, 10, 3, stride=2, padding=1)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.relu(self.conv3(x))
        return F.adaptive_avg_pool2d(x, 1).view(-1, 10)


class LeNetish(nn.Module):
    """conv, BN, pool, flatten, linear — plus the hard cases: dilation 2 with D_mul not a multiple of M*N,
    and the two official departures (groups 2; depthwise with multiplier 2)."""

    def __init__(self):
        super().__init__()
        self.conv1 = DOConv2d(1, 8, 5, padding=2)
        self.bn1 = nn.BatchNorm2d(8)
        self.dil = DOConv2d(8, 8, 3, D_mul=11, padding=2, dilation=2)
        self.grouped = DOConv2d(8, 8, 3, padding=1, groups=2, composition="official")
        self.dw = DOConv2d(8, 16, 3, padding=1, groups=8, composition="official")
        self.conv2 = nn.Conv2d(16, 12, 3)
        self.bn2 = nn.BatchNorm2d(12)
        self.fc1 = nn.Linear(12 * 6 * 6, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)  # 14
        x = F.relu(self.dil(x))
        x = F.relu(self.grouped(x))
        x = self.dw(x)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)  # 14 -> 12 -> 6
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


class Sequence1d(nn.Module):
    """tools/doconv_torch's DOConv1d ('same' with dilation 2; stride 2 with D_mul ≠ k) and a plain Conv1d,
    with random D (a zero D would hide layout mistakes). Input [B, C, L]."""

    def __init__(self):
        super().__init__()
        self.do1 = DOConv1d(3, 6, 3, padding="same", dilation=2, bias_init=lambda t: nn.init.normal_(t, 0, 0.1))
        self.do2 = DOConv1d(6, 4, 5, stride=2, d_mul=7, bias=False)
        self.plain = nn.Conv1d(4, 5, 3)
        for m in (self.do1, self.do2):
            m.D.data = 0.3 * torch.randn_like(m.D)

    def forward(self, x):
        return self.plain(F.relu(self.do2(F.relu(self.do1(x)))))


def randomize_bn(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data = 0.5 + torch.rand_like(m.weight)
            m.bias.data = 0.2 * torch.randn_like(m.bias)
            m.running_mean = 0.2 * torch.randn_like(m.running_mean)
            m.running_var = 0.5 + torch.rand_like(m.running_var)
            m.num_batches_tracked = torch.tensor(7, dtype=torch.int64)


def export(name, model, x, out_dir):
    model.eval()
    x = x.clone().requires_grad_(True)
    y = model(x)
    g = torch.randn_like(y)
    (y * g).sum().backward()
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    f32 = lambda t: t.detach().to(torch.float32)  # noqa: E731
    state = {k: (v if v.dtype == torch.int64 else f32(v)) for k, v in model.state_dict().items()}
    save_safetensors(state, os.path.join(out_dir, f"{name}.safetensors"))
    io = {"x": f32(x), "y": f32(y), "g": f32(g), "grad.x": f32(x.grad)}
    io.update({f"grad.{n}": f32(p.grad) for n, p in params.items()})
    save_safetensors(io, os.path.join(out_dir, f"{name}.io.safetensors"))


if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    export("pt_mnist_sample", PtMnistSample(), torch.rand(3, 1, 28, 28), out)
    lenet = LeNetish()
    randomize_bn(lenet)
    export("lenet", lenet, torch.rand(2, 1, 28, 28), out)
    export("sequence1d", Sequence1d(), torch.randn(2, 3, 17), out)
    print(f"fixtures written to {out}")

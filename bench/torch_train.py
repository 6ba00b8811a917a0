"""PyTorch side of bench/train.ts: the same two nets, Conv and DO-Conv, timed on random data.

Usage (called by train.ts): python3 bench/torch_train.py '[{"net": "resnet20", "variant": "conv", "batch": 128, "steps": 10}]'
Prints progress to stderr and one JSON line (a list of rows) to stdout. Benchmark only: the
product never uses PyTorch.
"""
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class DOConv2d(nn.Module):
    """DO-Conv (Cao et al. 2020) from its definition: K = compose(D + D_diag, W), then a plain conv.

    W: [out, in, D_mul]; D: [in, M*N, D_mul], zero at init, so the layer starts as a plain conv with
    kernel W (D_diag is the identity). Composition: K[o, i, m] = sum_s (D + D_diag)[i, m, s] * W[o, i, s].
    """

    def __init__(self, in_ch, out_ch, k, stride=1, padding=0, bias=True):
        super().__init__()
        self.k, self.stride, self.padding, self.out_ch, self.in_ch = k, stride, padding, out_ch, in_ch
        mn = k * k
        self.W = nn.Parameter(torch.empty(out_ch, in_ch, mn))
        nn.init.kaiming_uniform_(self.W.view(out_ch, in_ch, k, k), a=5 ** 0.5)
        if mn > 1:
            self.D = nn.Parameter(torch.zeros(in_ch, mn, mn))
            self.register_buffer('D_diag', torch.eye(mn).unsqueeze(0).repeat(in_ch, 1, 1))
        else:
            self.D = None
        self.bias = nn.Parameter(torch.zeros(out_ch)) if bias else None

    def forward(self, x):
        if self.D is not None:
            kernel = torch.einsum('ims,ois->oim', self.D + self.D_diag, self.W)
        else:
            kernel = self.W
        kernel = kernel.reshape(self.out_ch, self.in_ch, self.k, self.k)
        return F.conv2d(x, kernel, self.bias, self.stride, self.padding)


def conv_factory(variant):
    if variant == 'conv':
        return lambda i, o, k, s=1, p=0, bias=True: nn.Conv2d(i, o, k, s, p, bias=bias)
    if variant == 'doconv':
        return lambda i, o, k, s=1, p=0, bias=True: DOConv2d(i, o, k, s, p, bias=bias)
    raise ValueError(f'variant: unknown {variant!r}; known conv, doconv')


def mnist_sample(conv):
    """The TF.js MNIST sample net: conv 32 3x3 relu -> conv 8 3x3 relu -> flatten -> dense 10."""
    return nn.Sequential(conv(1, 32, 3), nn.ReLU(), conv(32, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 24 * 24, 10))


class Block(nn.Module):
    def __init__(self, conv, i, o, stride):
        super().__init__()
        self.c1, self.b1 = conv(i, o, 3, stride, 1, bias=False), nn.BatchNorm2d(o)
        self.c2, self.b2 = conv(o, o, 3, 1, 1, bias=False), nn.BatchNorm2d(o)
        self.short = None if stride == 1 and i == o else nn.Sequential(conv(i, o, 1, stride, 0, bias=False), nn.BatchNorm2d(o))

    def forward(self, x):
        r = F.relu(self.b1(self.c1(x)))
        r = self.b2(self.c2(r))
        return F.relu(r + (x if self.short is None else self.short(x)))


def resnet20(conv):
    """ResNet-20 for CIFAR with projection shortcuts, as bench/nets.ts builds it."""
    layers = [conv(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    i = 16
    for stage, o in enumerate([16, 32, 64]):
        for block in range(3):
            layers.append(Block(conv, i, o, 2 if stage > 0 and block == 0 else 1))
            i = o
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


NETS = {'mnist-sample': (mnist_sample, (1, 28, 28)), 'resnet20': (resnet20, (3, 32, 32))}


def time_job(job):
    build, shape = NETS[job['net']]
    model = build(conv_factory(job['variant']))
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(job['batch'], *shape)
    y = torch.randint(0, 10, (job['batch'],))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    first = step()  # warm-up
    t0 = time.perf_counter()
    last = first
    for _ in range(job['steps']):
        last = step()
    seconds = time.perf_counter() - t0
    return {
        'net': job['net'], 'variant': job['variant'], 'backend': 'pytorch', 'batch': job['batch'],
        'steps': job['steps'], 'imagesPerSec': job['batch'] * job['steps'] / seconds,
        'firstLoss': first, 'lastLoss': last, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
    }


def main():
    # Debian's OpenMP build starts with 1 thread here; use every core, as the figures did.
    torch.set_num_threads(int(os.environ.get('TORCH_THREADS', os.cpu_count() or 1)))
    jobs = json.loads(sys.argv[1])
    rows = []
    for job in jobs:
        row = time_job(job)
        print(f"{row['net']} {row['variant']} pytorch: {row['imagesPerSec']:.1f} img/s", file=sys.stderr)
        rows.append(row)
    print(json.dumps(rows))


if __name__ == '__main__':
    main()

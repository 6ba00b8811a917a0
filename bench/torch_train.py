"""PyTorch side of bench/train.ts: the same two nets, Conv and DO-Conv, timed on random data.

Usage (called by train.ts, after its own runs, never concurrently with them):
  python3 bench/torch_train.py '[{"net": "resnet20", "variants": ["conv", "doconv"], "batch": 128,
                                  "steps": 2, "windows": 3, "warmup": 2}]'
Same method as train.ts: warm-up, then timed windows with the variants interleaved in alternating
order; per-window images/s. Prints progress to stderr and one JSON line (a list of rows) to stdout.
Benchmark only: the product never uses PyTorch.
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


def window_order(items, w):
    """Variants in window w: reversed every other window (as bench/stats.ts windowOrder)."""
    return list(items) if w % 2 == 0 else list(reversed(items))


def time_job(job):
    """One net, its variants interleaved: warm-up, then `windows` windows of `steps` steps each."""
    build, shape = NETS[job['net']]
    x = torch.randn(job['batch'], *shape)
    y = torch.randint(0, 10, (job['batch'],))
    steppers, rows = {}, {}
    for variant in job['variants']:
        model = build(conv_factory(variant))
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step(model=model, opt=opt):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss.item()

        steppers[variant] = step
        first = step()
        for _ in range(job['warmup'] - 1):
            step()
        rows[variant] = {
            'net': job['net'], 'variant': variant, 'backend': 'pytorch', 'batch': job['batch'],
            'stepsPerWindow': job['steps'], 'windows': [], 'cpuMsWindows': [], 'firstLoss': first,
            'torch': torch.__version__, 'threads': torch.get_num_threads(),
        }
    for w in range(job['windows']):
        for variant in window_order(job['variants'], w):
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(job['steps']):
                rows[variant]['lastLoss'] = steppers[variant]()
            rows[variant]['windows'].append(job['batch'] * job['steps'] / (time.perf_counter() - t0))
            # CPU time of the process (all threads) per step, as train.ts records it.
            rows[variant]['cpuMsWindows'].append((time.process_time() - c0) * 1000 / job['steps'])
    return list(rows.values())


def main():
    # Debian's OpenMP build starts with 1 thread here; use every core, as the figures did.
    torch.set_num_threads(int(os.environ.get('TORCH_THREADS', os.cpu_count() or 1)))
    jobs = json.loads(sys.argv[1])
    rows = []
    for job in jobs:
        for row in time_job(job):
            print(f"{row['net']} {row['variant']} pytorch: windows {[round(v, 1) for v in row['windows']]} img/s",
                  file=sys.stderr)
            rows.append(row)
    print(json.dumps(rows))


if __name__ == '__main__':
    main()

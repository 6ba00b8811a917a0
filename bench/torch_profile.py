"""Where a PyTorch training step's time goes, op by op (the counterpart of bench/profile.ts).

  /usr/bin/python3 bench/torch_profile.py [NET] [conv|doconv] [steps] [threads] [--json]

NET is a zoo net of tools/doconv_torch (resnet-20, mobilenet-v2, ...) or one of bench/nets.ts's two
older names (resnet20, mnist-sample), built as bench/torch_train.py builds them. Profiles the forward+backward passes and the Adam update
separately (as profile.ts does) and prints self CPU time per op per step, largest first; with --json,
one JSON line instead: {version, threads, passes: [{key, ms, calls}], update: [...], passWallMs,
updateWallMs}. Benchmark only: the product never uses PyTorch.
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(__file__))
from torch_train import LEGACY, zoo  # noqa: E402

BATCH = {'resnet20': 128, 'mnist-sample': 32, 'resnet-20': 128, 'tf-mnist-sample': 32}


def accumulate(totals, prof, steps):
    """Adds one profiled step's self CPU time (ms) and calls per op into totals, divided by steps."""
    for e in prof.key_averages():
        ms, calls = totals.get(e.key, (0.0, 0.0))
        totals[e.key] = (ms + e.self_cpu_time_total / 1000 / steps, calls + e.count / steps)


def rows(totals):
    return [{'key': k, 'ms': ms, 'calls': calls} for k, (ms, calls) in sorted(totals.items(), key=lambda kv: -kv[1][0])]


def main():
    args = [a for a in sys.argv[1:] if a != '--json']
    as_json = '--json' in sys.argv
    net = args[0] if len(args) > 0 else 'resnet20'
    variant = args[1] if len(args) > 1 else 'conv'
    steps = int(args[2]) if len(args) > 2 else 3
    torch.set_num_threads(int(args[3]) if len(args) > 3 else (os.cpu_count() or 1))
    name, shape = LEGACY.get(net, (net, [32, 32, 3]))
    h, w, c = shape
    model = zoo.build(name, variant, shape, 10)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    batch = BATCH.get(net, 64)
    x = torch.randn(batch, c, h, w)
    y = torch.randint(0, 10, (batch,))

    def passes():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()

    for _ in range(2):
        passes()
        opt.step()
    pass_ops, update_ops = {}, {}
    pass_s = update_s = 0.0
    # Alternate as in training; each half of each step is recorded by a profiler of its own.
    for _ in range(steps):
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            t = time.perf_counter()
            passes()
            pass_s += time.perf_counter() - t
        accumulate(pass_ops, prof, steps)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            t = time.perf_counter()
            opt.step()
            update_s += time.perf_counter() - t
        accumulate(update_ops, prof, steps)
    result = {
        'version': torch.__version__,
        'threads': torch.get_num_threads(),
        'passes': rows(pass_ops),
        'update': rows(update_ops),
        'passWallMs': pass_s / steps * 1000,
        'updateWallMs': update_s / steps * 1000,
    }
    if as_json:
        print(json.dumps(result))
        return
    print(f'{net} {variant} pytorch {result["version"]}, {result["threads"]} threads')
    for title, key, wall in [('forward+backward', 'passes', 'passWallMs'), ('Adam update', 'update', 'updateWallMs')]:
        print(f'{title}: {result[wall]:.0f} ms wall per step (self CPU per op below)')
        for r in result[key][:20]:
            print(f'{r["ms"]:9.1f} ms {r["calls"]:5.0f}x  {r["key"]}')


if __name__ == '__main__':
    main()

"""Where a PyTorch training step's time goes, op by op (the counterpart of bench/profile.ts).

  /usr/bin/python3 bench/torch_profile.py [resnet20|mnist-sample] [conv|doconv] [steps] [threads]

Uses the nets of bench/torch_train.py. Prints self CPU time per op per step, largest first.
Benchmark only: the product never uses PyTorch.
"""
import os
import sys

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(__file__))
from torch_train import NETS, conv_factory  # noqa: E402

BATCH = {'resnet20': 128, 'mnist-sample': 32}


def main():
    net = sys.argv[1] if len(sys.argv) > 1 else 'resnet20'
    variant = sys.argv[2] if len(sys.argv) > 2 else 'conv'
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    torch.set_num_threads(int(sys.argv[4]) if len(sys.argv) > 4 else (os.cpu_count() or 1))
    build, shape = NETS[net]
    model = build(conv_factory(variant))
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(BATCH[net], *shape)
    y = torch.randint(0, 10, (BATCH[net],))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    step()
    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events) / steps / 1000
    print(f'{net} {variant} pytorch {torch.__version__}, {torch.get_num_threads()} threads: '
          f'{total:.0f} ms self CPU per step (wall per thread-pool op, not summed over threads)')
    for e in sorted(events, key=lambda e: -e.self_cpu_time_total)[:25]:
        print(f'{e.self_cpu_time_total / steps / 1000:9.1f} ms {e.count // steps:5d}×  {e.key}')


if __name__ == '__main__':
    main()

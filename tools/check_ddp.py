#!/usr/bin/env python3
"""Checks what tools/train_ddp.py's DDP computes: P processes with global batch G train the same weights
as one process with batch G (for 2 processes: each rank's batch doubled in one process).

    /usr/bin/python3 tools/check_ddp.py [--nproc 2] [--steps 20] [--json report.json]

Cases (each trains from the same seed, twice: --nproc P and one process, same global batch):
  float64, no BatchNorm, 20 SGD-momentum steps: max |Δw| ≤ 1e-12. DDP averages the P shard
      gradients (one all-reduce, then ÷P) where one process sums the whole batch in one backward: the
      same value up to summation order, i.e. float64 rounding (~1e-16), which training amplifies; 1e-12
      leaves room for that and would catch any real difference (a wrong shard, a missing ÷P: ≥ 1e-4).
  float32, same net, 5 steps: max |Δw| ≤ 1e-5. float32 rounding (~1e-7 per step) grows with each
      step — measured 1.5e-8 after 1 step, 2e-7 after 5, 3e-5 after 20 at lr 0.01 — so float32
      equality is only a few-step statement; the float64 case is the proof of the arithmetic.
  float64, with BatchNorm (resnet-20): DIFFERENT (max |Δw| > 1e-6). Each rank's BN normalises its
      own shard (PyTorch DDP without SyncBatchNorm, as doconv's --workers), so the update is not the
      full batch's; the check asserts the difference so the docs' claim stays tested.
Exit status 1 when a case fails.
"""
import argparse
import json
import os
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_ddp  # noqa: E402
from doconv_torch.checkpoint import read_safetensors  # noqa: E402


def train(out, nproc, model, conv, steps, batch, float64):
    """One run of the launcher, in this process (its --nproc children fork from it: no torch re-import)."""
    argv = ["--model", model, "--conv", conv, "--optimizer", "sgd", "--lr", "0.01", "--epochs", "1",
            "--max-steps", str(steps), "--batch-size", str(batch), "--train-limit", "4000", "--test-limit", "100",
            "--threads", "1", "--nproc", str(nproc), "--seed", "3", "--out", out, "--quiet"]
    try:
        train_ddp.main(argv + (["--float64"] if float64 else []))
    finally:
        torch.set_default_dtype(torch.float32)  # --float64 sets it for the process
    return read_safetensors(os.path.join(out, "checkpoint.safetensors"))[0]


def max_diff(a, b):
    if a.keys() != b.keys():
        raise SystemExit(f"checkpoints hold different keys: {sorted(a.keys() ^ b.keys())}")
    return max((a[k].double() - b[k].double()).abs().max().item() for k in a if a[k].is_floating_point())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nproc", type=int, default=2)
    p.add_argument("--steps", type=int, default=20, help="steps of the float64 cases")
    p.add_argument("--batch-size", type=int, default=32, help="global batch (each of P ranks: batch/P)")
    p.add_argument("--json", help="write the report here")
    args = p.parse_args()
    cases = [
        # name, model, conv, steps, float64, expectation, tolerance
        ("float64 no-BN", "tf-mnist-sample", "doconv", args.steps, True, "equal", 1e-12),
        ("float64 no-BN conv", "pt-mnist-sample", "conv", args.steps, True, "equal", 1e-12),
        ("float32 no-BN", "tf-mnist-sample", "doconv", 5, False, "equal", 1e-5),
        ("float64 BN", "resnet-20", "doconv", 3, True, "differ", 1e-6),
    ]
    report, failed = [], False
    with tempfile.TemporaryDirectory() as tmp:
        for name, model, conv, steps, f64, expect, tol in cases:
            dirs = [os.path.join(tmp, f"{model}-{conv}-{steps}-{f64}-{n}") for n in (args.nproc, 1)]
            ddp = train(dirs[0], args.nproc, model, conv, steps, args.batch_size, f64)
            single = train(dirs[1], 1, model, conv, steps, args.batch_size, f64)
            d = max_diff(ddp, single)
            ok = d <= tol if expect == "equal" else d > tol
            failed |= not ok
            row = {"case": name, "model": model, "conv": conv, "steps": steps, "float64": f64,
                   "nproc": args.nproc, "batchSize": args.batch_size, "expect": expect, "tolerance": tol,
                   "maxAbsDiff": d, "ok": ok}
            report.append(row)
            print(f"{'ok  ' if ok else 'FAIL'} {name}: {model} ({conv}), {steps} steps, {args.nproc} processes "
                  f"vs 1 at batch {args.batch_size}: max |Δw| = {d:.3g} (expected {'≤' if expect == 'equal' else '>'} {tol:g})",
                  flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

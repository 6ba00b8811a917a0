"""PyTorch side of bench/train.ts and bench/rounds.ts: the project's own twins of the zoo nets
(tools/doconv_torch, layer for layer the TF.js builders), Conv and DO-Conv, timed on random data.

Two ways to call it (never concurrently with the TF.js side):
  python3 bench/torch_train.py '[{"net": "resnet20", "variants": ["conv", "doconv"], "batch": 128,
                                  "steps": 2, "windows": 3, "warmup": 2}]'
      bench/train.ts's phases: a list of jobs, one JSON line (a list of rows) on stdout. Its two nets'
      names ('mnist-sample', 'resnet20', bench/nets.ts) are the zoo's tf-mnist-sample and resnet-20.
  python3 bench/torch_train.py --serve
      bench/rounds.ts: one job per stdin line, one JSON line per job on stdout ({"rows": [...]} or
      {"error": "..."}), so one warm process serves every round. A job names a zoo net with its
      inputShape [h, w, c], numClasses, task and output (bench/zooNets.ts), and either `steps` per
      window or `windowSeconds` (the step count is then calibrated on one untimed step).

Method (as the TF.js side): warm-up, then timed windows with the variants interleaved in
alternating order; per-window images/s and CPU time per step (all threads). Peak memory per variant:
the resident high-water mark (VmHWM), reset before the variant is built (Linux /proc, as
bench/memory.ts). TORCH_THREADS sets the intra-op threads (default: every core).
Benchmark only: the product never uses PyTorch.
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tools.doconv_torch import zoo  # noqa: E402  (the repository root is on the path only now)

# bench/nets.ts's two nets are zoo nets under older names.
LEGACY = {"mnist-sample": ("tf-mnist-sample", [28, 28, 1]), "resnet20": ("resnet-20", [32, 32, 3])}


def reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss():
    """(bytes, resettable): VmHWM where /proc has it, else the lifetime maximum (ru_maxrss)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024, True
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, False


def window_order(items, w):
    """Variants in window w: reversed every other window (as bench/stats.ts windowOrder)."""
    return list(items) if w % 2 == 0 else list(reversed(items))


def batch_for(job, model):
    """Random inputs (NCHW) and targets for the job's task, with the loss bench/zooNets.ts uses."""
    h, w, c = job["inputShape"]
    x = torch.randn(job["batch"], c, h, w)
    model.eval()  # a probe of one image: BatchNorm's batch statistics need more than one value
    with torch.no_grad():
        out_shape = model(x[:1]).shape[1:]
    model.train()
    if job.get("task") == "detection":
        return x, torch.rand(job["batch"], *out_shape), F.mse_loss
    classes = out_shape[0]
    y = torch.randint(0, classes, (job["batch"], *out_shape[1:]))
    return x, y, F.cross_entropy  # on logits; tf-mnist-sample's forward returns them too


def make_stepper(job, variant):
    model = zoo.build(job["net"], variant, job["inputShape"], job.get("numClasses", 10))
    x, y, loss_fn = batch_for(job, model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def time_job(job):
    """One net, its variants interleaved: warm-up, then `windows` windows of `steps` steps each."""
    net = job["net"]
    if net in LEGACY:
        job = {**job, "net": LEGACY[net][0], "inputShape": LEGACY[net][1], "numClasses": 10}
    steppers, rows, step_seconds = {}, {}, {}
    for variant in job["variants"]:
        resettable = reset_peak_rss()
        step = make_stepper(job, variant)
        first = step()
        for _ in range(job["warmup"] - 1):
            step()
        t0 = time.perf_counter()
        step()
        step_seconds[variant] = time.perf_counter() - t0
        peak, _ = peak_rss()
        steppers[variant] = step
        rows[variant] = {
            "net": net, "variant": variant, "backend": "pytorch", "batch": job["batch"],
            "windows": [], "cpuMsWindows": [], "firstLoss": first,
            "peakRssBytes": peak, "peakRssResettable": resettable,
            "torch": torch.__version__, "threads": torch.get_num_threads(),
        }
    steps = job.get("steps") or max(1, round(job["windowSeconds"] / max(step_seconds.values())))
    for w in range(job["windows"]):
        for variant in window_order(job["variants"], w):
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(steps):
                rows[variant]["lastLoss"] = steppers[variant]()
            rows[variant]["windows"].append(job["batch"] * steps / (time.perf_counter() - t0))
            # CPU time of the process (all threads) per step, as train.ts records it.
            rows[variant]["cpuMsWindows"].append((time.process_time() - c0) * 1000 / steps)
    for row in rows.values():
        row["stepsPerWindow"] = steps
    return list(rows.values())


def serve():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = {"rows": time_job(json.loads(line))}
        except Exception as e:  # the bench prints it and goes on with the other nets
            reply = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)


def main():
    # Debian's OpenMP build starts with 1 thread here; use every core, as the figures did.
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", os.cpu_count() or 1)))
    if sys.argv[1:] == ["--serve"]:
        serve()
        return
    rows = []
    for job in json.loads(sys.argv[1]):
        for row in time_job(job):
            print(f"{row['net']} {row['variant']} pytorch: windows {[round(v, 1) for v in row['windows']]} img/s",
                  file=sys.stderr)
            rows.append(row)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()

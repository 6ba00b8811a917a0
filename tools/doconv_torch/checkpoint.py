"""What the DDP launcher writes and `doconv import` reads:

    <out>/checkpoint.safetensors   the state_dict (float32; BN's num_batches_tracked int64), keys
                                   `<TF.js layer name>.<param>`, __metadata__ = the identity fields below
    <out>/checkpoint.json          model, conv, composition, dataset, normalize, input shape, classes,
                                   PyTorch test accuracy, the command, world size, seed, torch version, ...

Both are written to a temp name and renamed: a crash never leaves a half-written file.
"""
import json
import os
import sys

sys.path.insert(0, os.path.normpath(os.path.join(os.path.dirname(__file__), "..")))
from save_safetensors import save_safetensors  # noqa: E402

FORMAT = "doconv-pytorch-checkpoint/1"
# 'definition': DO-Conv layers compose K[o,j,m] = Σ_s D̂[c,m,s]·W[o,j,s] for every `groups` (doconv's
# function), so the importer must NOT apply the official module's grouped W reshape.
COMPOSITION = "definition"
IDENTITY_KEYS = ("format", "model", "conv", "composition", "dataset", "normalize", "inputShape", "numClasses")


def save(out_dir, model, record):
    """Writes checkpoint.safetensors and checkpoint.json into `out_dir`; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    record = {"format": FORMAT, "composition": COMPOSITION, **record}
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    weights = os.path.join(out_dir, "checkpoint.safetensors")
    meta = {k: json.dumps(record[k]) if not isinstance(record[k], str) else record[k] for k in IDENTITY_KEYS}
    save_safetensors(state, weights, metadata=meta)
    info = os.path.join(out_dir, "checkpoint.json")
    with open(info + ".tmp", "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    os.replace(info + ".tmp", info)
    return weights, info


def read_safetensors(path):
    """(state_dict, metadata) — the reader the check scripts compare checkpoints with (torch only)."""
    import struct

    import numpy as np
    import torch
    dtypes = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        arr = np.frombuffer(data[8 + n + b: 8 + n + end], dtype=dtypes[e["dtype"]]).reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out, meta

#!/usr/bin/env python3
"""Save a PyTorch state_dict as .safetensors for doconv's readSafetensors, with nothing but torch.

    python3 tools/save_safetensors.py checkpoint.pt model.safetensors   # a saved state_dict or module
or, from your own code:
    from save_safetensors import save_safetensors
    save_safetensors(model.state_dict(), "model.safetensors")

The format: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}
padded with spaces to a multiple of 8, then the tensors' bytes (little-endian, C order).
"""
import json
import struct
import sys

import torch

DTYPES = {
    torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}


def tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: same 16 bits as int16
        t = t.view(torch.int16)
    data = t.numpy().tobytes()
    if sys.byteorder != "little" and t.element_size() > 1:
        raise RuntimeError("big-endian hosts are not supported")
    return data


def save_safetensors(state_dict, path, metadata=None):
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(state_dict):
        t = state_dict[name]
        if t.dtype not in DTYPES:
            raise ValueError(f"tensor {name!r}: dtype {t.dtype} has no safetensors code")
        data = tensor_bytes(t)
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    raw = json.dumps(header).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:  # write then rename: no half-written file on failure
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for c in chunks:
            f.write(c)
    import os
    os.replace(tmp, path)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    obj = torch.load(sys.argv[1], map_location="cpu")
    state = obj.state_dict() if hasattr(obj, "state_dict") else obj
    save_safetensors(state, sys.argv[2])
    print(f"wrote {len(state)} tensors to {sys.argv[2]}")

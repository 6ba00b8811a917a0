"""PyTorch twins of doconv's zoo nets, for users who train in PyTorch (e.g. with DDP on many machines)
and bring the result into doconv with `doconv import`. A companion: the doconv package never imports it.

    layers.py      DOConv2d from the paper's definition (per-channel D for every `groups`), TF 'same' padding
    zoo.py         the zoo nets, module names = doconv's TF.js layer names
    data.py        MNIST / Fashion-MNIST from the IDX files doconv reads, seeded sharded batches
    checkpoint.py  safetensors + JSON written the way `doconv import` reads them
"""

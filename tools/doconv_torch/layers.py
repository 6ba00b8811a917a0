"""Layers of the zoo twins: DO-Conv as doconv computes it, plain convs with TF's padding, and the
initialisers of doconv's builders (same distributions; fans computed on the TF.js weight layouts).

Parameter layouts are the official PyTorch DOConv2d's, which doconv's `loadPytorchStateDict` converts:
    W [F, C/g, D_mul], D [C, M·N, D_mul] (only when M·N > 1), d_diag [C, M·N, D_mul] (a buffer), bias [F]
and the composed kernel, for output o, group-local input channel j, kernel position m = kh·N + kw,
reading input channel c = ⌊o/(F/g)⌋·(C/g) + j:
    K[o, j, m] = Σ_s D̂[c, m, s] · W[o, j, s],   D̂ = D + d_diag
This is the definition for EVERY `groups` (doconv's DOConv2D / DODepthwiseConv2D compute it); the
official module reshapes W differently for 1 < groups < C, so its grouped layers are not this function.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def tf_padding(size, kernel, stride, dilation=1):
    """(before, after) of TF's 'same' padding on one axis: TF puts the odd pixel at the END (bottom/right);
    PyTorch's `padding=` is symmetric, so a stride-2 3×3 conv on 28 px would differ by one row."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def pad_same(x, kernel, stride, dilation=1):
    top, bottom = tf_padding(x.shape[-2], kernel, stride, dilation)
    left, right = tf_padding(x.shape[-1], kernel, stride, dilation)
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom))


def diag_identity(channels, area, d_mul):
    """d_diag [C, M·N, D_mul]: the M·N identity tiled ⌊D_mul/M·N⌋ times, zero-padded (doconv's diagIdentity)."""
    d = torch.zeros(channels, area, d_mul)
    for s in range((d_mul // area) * area):
        d[:, s % area, s] = 1
    return d


# ---- initialisers. A kernel initialiser is (fan_in, fan_out) → (tensor → None), given the fans of the
# TF.js layout, so a twin starts from the distributions doconv's builders draw from (not the same values). ----

def variance_scaling_uniform(scale, mode):
    """uniform(±√(3·scale/fan)) — tf.initializers.varianceScaling({distribution: 'uniform'})."""
    def make(fan_in, fan_out):
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
        limit = math.sqrt(3 * scale / fan)
        return lambda t: nn.init.uniform_(t, -limit, limit)
    return make


glorot_uniform = variance_scaling_uniform(1.0, "fan_avg")


def uniform(bound):
    return lambda t: nn.init.uniform_(t, -bound, bound)


def zeros(t):
    return nn.init.zeros_(t)


def constant(value):
    return lambda t: nn.init.constant_(t, value)


def check_dilation(stride, dilation):
    """TF refuses strides > 1 with dilation > 1 (and so do doconv's layers)."""
    if dilation < 1 or (dilation > 1 and stride > 1):
        raise ValueError(f"dilation must be ≥ 1, and 1 when stride > 1; got dilation {dilation}, stride {stride}")


class Conv(nn.Module):
    """A plain conv (nn.Conv2d's weight layout OIHW) with TF's 'same'/'valid' padding. With groups = C it
    is TF's DepthwiseConv2D (weight [C·mult, 1, k, k], output o = c·mult + m, as TF orders them).
    With dilation > 1 it is doconv's DilatedConv2D (the same function, other gradient route).
    `fans` = (fan_in, fan_out) of the TF.js layout for the initialiser; default a Conv2D's."""

    def __init__(self, cin, cout, k, stride=1, padding="valid", bias=True, groups=1,
                 kernel_init=None, bias_init=zeros, fans=None, dilation=1):
        super().__init__()
        if padding not in ("same", "valid"):
            raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
        check_dilation(stride, dilation)
        self.k, self.stride, self.padding, self.groups = k, stride, padding, groups
        self.dilation = dilation
        self.weight = nn.Parameter(torch.empty(cout, cin // groups, k, k))
        self.bias = nn.Parameter(torch.empty(cout)) if bias else None
        fans = fans or (cin // groups * k * k, cout * k * k)
        (kernel_init or glorot_uniform)(*fans)(self.weight.data)
        if bias:
            bias_init(self.bias.data)

    def forward(self, x):
        if self.padding == "same":
            x = pad_same(x, self.k, self.stride, self.dilation)
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class DOConv2d(nn.Module):
    """DO-Conv from the definition, for every `groups` (1: DO-Conv, C: DO-DConv, between: DO-GConv).
    D starts at zero, so a fresh layer is the conv with kernel K0[m] = Σ_t W[m + t·M·N]. A dilated one
    composes the same K and dilates it (doconv computes it by space-to-batch: the same function).
    `fans` as for Conv; default a DOConv2D's W [D_mul, C/g, F] (the factory passes DO-DConv's)."""

    def __init__(self, cin, cout, k, stride=1, padding="valid", bias=True, groups=1, d_mul=None,
                 kernel_init=None, bias_init=zeros, fans=None, dilation=1):
        super().__init__()
        area = k * k
        if area == 1:
            raise ValueError("a 1×1 DO-Conv is a plain conv: build Conv (doconv's factory does)")
        if padding not in ("same", "valid"):
            raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
        if cin % groups or cout % groups:
            raise ValueError(f"groups {groups} must divide in ({cin}) and out ({cout}) channels")
        self.d_mul = area if d_mul is None else d_mul
        if self.d_mul < area:
            raise ValueError(f"d_mul must be ≥ M·N = {area}, got {self.d_mul}")
        check_dilation(stride, dilation)
        self.cin, self.cout, self.k, self.stride, self.padding, self.groups = cin, cout, k, stride, padding, groups
        self.dilation = dilation
        self.W = nn.Parameter(torch.empty(cout, cin // groups, self.d_mul))
        self.D = nn.Parameter(torch.zeros(cin, area, self.d_mul))
        self.register_buffer("d_diag", diag_identity(cin, area, self.d_mul))
        self.bias = nn.Parameter(torch.empty(cout)) if bias else None
        fans = fans or (cin // groups * self.d_mul, cout * self.d_mul)
        (kernel_init or glorot_uniform)(*fans)(self.W.data)
        if bias:
            bias_init(self.bias.data)
        # c(o, j) = ⌊o/(F/g)⌋·(C/g) + j, the input channel D̂ is taken from for output o, group-local j.
        cg, fg = cin // groups, cout // groups
        self.register_buffer("channel", (torch.arange(cout)[:, None] // fg) * cg + torch.arange(cg)[None, :],
                             persistent=False)

    def kernel(self):
        dhat = self.D + self.d_diag  # [C, MN, S]
        if self.groups == 1:  # c = j: one einsum, no gather
            k = torch.einsum("jms,ojs->ojm", dhat, self.W)
        else:
            k = torch.einsum("ojms,ojs->ojm", dhat[self.channel], self.W)
        return k.reshape(self.cout, self.cin // self.groups, self.k, self.k)

    def forward(self, x):
        if self.padding == "same":
            x = pad_same(x, self.k, self.stride, self.dilation)
        return F.conv2d(x, self.kernel(), self.bias, self.stride, 0, self.dilation, self.groups)


def pad_same_1d(x, kernel, stride, dilation=1):
    """TF's 'same' padding of a 1D conv (the odd element at the end), as pad_same."""
    left, right = tf_padding(x.shape[-1], kernel, stride, dilation)
    return x if left == right == 0 else F.pad(x, (left, right))


class DOConv1d(nn.Module):
    """DO-Conv for Conv1d (doconv's DOConv1D), with the official DOConv2d's composition for a 1D kernel:
        K[o, c, m] = Σ_s D̂[c, m, s] · W[o, c, s],   D̂ = D + d_diag
    W [F, C, D_mul], D [C, k, D_mul] (zero at start), d_diag [C, k, D_mul] (a buffer), bias [F]; the state_dict
    loads into doconv's DOConv1D with loadPytorchStateDict. Groups 1 (as tf.layers.conv1d); padding
    'same' is TF's. k = 1 has no D: build nn.Conv1d (a 1-wide DO-Conv is a plain conv)."""

    def __init__(self, cin, cout, k, stride=1, padding="valid", bias=True, d_mul=None, kernel_init=None,
                 bias_init=zeros, fans=None, dilation=1):
        super().__init__()
        if k == 1:
            raise ValueError("a 1-wide DO-Conv is a plain conv: build nn.Conv1d")
        if padding not in ("same", "valid"):
            raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
        check_dilation(stride, dilation)
        self.d_mul = k if d_mul is None else d_mul
        if self.d_mul < k:
            raise ValueError(f"d_mul must be ≥ k = {k}, got {self.d_mul}")
        self.k, self.stride, self.padding, self.dilation = k, stride, padding, dilation
        self.W = nn.Parameter(torch.empty(cout, cin, self.d_mul))
        self.D = nn.Parameter(torch.zeros(cin, k, self.d_mul))
        self.register_buffer("d_diag", diag_identity(cin, k, self.d_mul))
        self.bias = nn.Parameter(torch.empty(cout)) if bias else None
        fans = fans or (cin * self.d_mul, cout * self.d_mul)  # doconv's W [D_mul, C, F]
        (kernel_init or glorot_uniform)(*fans)(self.W.data)
        if bias:
            bias_init(self.bias.data)

    def kernel(self):
        return torch.einsum("cms,ocs->ocm", self.D + self.d_diag, self.W)  # [F, C, k]

    def forward(self, x):
        if self.padding == "same":
            x = pad_same_1d(x, self.k, self.stride, self.dilation)
        return F.conv1d(x, self.kernel(), self.bias, self.stride, 0, self.dilation)


class ConvFactory:
    """doconv's convFactory: with kind 'doconv' every k×k conv (k > 1) and depthwise conv is DO-Conv /
    DO-DConv; 1×1 convs stay plain. Kernel init defaults to glorot-uniform on the TF.js layout's fans."""

    def __init__(self, kind):
        if kind not in ("conv", "doconv"):
            raise ValueError(f"conv kind must be 'conv' or 'doconv', got {kind!r}")
        self.kind = kind

    def conv2d(self, cin, cout, k, stride=1, padding="valid", bias=True, groups=1, kernel_init=None,
               bias_init=zeros, dilation=1):
        over = self.kind == "doconv" and k > 1
        # TF.js fans: Conv2D kernel [k, k, C/g, F]; DOConv2D W [D_mul, C/g, F] (D_mul = k·k here).
        fans = (cin // groups * k * k, cout * k * k)
        cls = DOConv2d if over else Conv
        return cls(cin, cout, k, stride, padding, bias, groups, kernel_init=kernel_init, bias_init=bias_init,
                   fans=fans, dilation=dilation)

    def depthwise_conv2d(self, channels, k, stride=1, padding="valid", bias=True, multiplier=1,
                         kernel_init=None, bias_init=zeros):
        over = self.kind == "doconv" and k > 1
        # TF.js fans: DepthwiseConv2D [k, k, C, mult]; DODepthwiseConv2D [D_mul, C, mult].
        fans = (channels * k * k, multiplier * k * k)
        cls = DOConv2d if over else Conv
        return cls(channels, channels * multiplier, k, stride, padding, bias, channels,
                   kernel_init=kernel_init, bias_init=bias_init, fans=fans)


def resize_bilinear(x, height, width):
    """tf.image.resizeBilinear(x, [height, width]) with its defaults (alignCorners false, halfPixelCenters
    false), which tf.layers.upSampling2d({interpolation: 'bilinear'}) calls: output pixel i reads the
    source at i·in/out (TF1's grid, origin on the first pixel), between ⌊·⌋ and min(⌈·⌉, in − 1).
    Not F.interpolate: its align_corners=False reads (i + ½)·in/out − ½ (half-pixel centres), which
    shifts a ×2 upsampling by a quarter pixel. Interpolates along W, then H, as TF.js's kernels do."""
    def grid(size_in, size_out):
        src = torch.arange(size_out, dtype=torch.float64) * (size_in / size_out)
        lo = src.floor()
        hi = torch.clamp(src.ceil(), max=size_in - 1)
        return lo.long(), hi.long(), (src - lo).to(x.dtype)

    top, bottom, fy = grid(x.shape[-2], height)
    left, right, fx = grid(x.shape[-1], width)

    def along_w(rows):
        a, b = rows[..., left], rows[..., right]
        return a + (b - a) * fx

    upper, lower = along_w(x[..., top, :]), along_w(x[..., bottom, :])
    return upper + (lower - upper) * fy[:, None]


def batch_norm(channels):
    """doconv's zoo BN: epsilon 1e-5, Keras momentum 0.9 = PyTorch momentum 0.1 (the same update)."""
    return nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1)


def dense(cin, cout, kernel_init=None, bias_init=zeros):
    """nn.Linear with doconv's Dense init (glorot-uniform on [in, out], zero bias unless given)."""
    layer = nn.Linear(cin, cout)
    (kernel_init or glorot_uniform)(cin, cout)(layer.weight.data)
    bias_init(layer.bias.data)
    return layer

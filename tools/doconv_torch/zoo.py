"""doconv's zoo nets in PyTorch, layer for layer (src/models/*.ts). Every weight-bearing module is
registered under the TF.js layer's name (conv1, s1b1_bn1, b3_dw, logits, ...), so the state_dict key
`<layer>.<param>` names the TF.js layer it goes to and `doconv import` derives the mapping from the
TS builder instead of a table per net.

`forward` returns scores before any softmax; `predict` returns what the TF.js model outputs (softmax
probabilities for tf-mnist-sample, whose Dense has activation 'softmax'; the scores for the others).
Inputs and the task nets' dense outputs are NCHW here, NHWC in TF.js; Flatten → Linear rows are
permuted by the importer.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import ConvFactory, batch_norm, constant, dense, resize_bilinear, uniform, variance_scaling_uniform


class ZooNet(nn.Module):
    output = "logits"

    def __init__(self, name, conv_kind):
        super().__init__()
        self.zoo_name, self.conv_kind = name, conv_kind

    def add(self, name, module):
        if name in self._modules:  # TF.js refuses two layers of one name; add_module would replace
            raise ValueError(f"{self.zoo_name}: two modules named {name!r}")
        self.add_module(name, module)
        return module

    def predict(self, x):
        y = self(x)
        return F.softmax(y, dim=1) if self.output == "softmax" else y

    def add_conv_bn(self, name, conv, cin, cout, k, stride=1, dilation=1, depthwise=False):
        """A bias-free 'same' conv (or depthwise conv, cout = cin) `name` and its BN `<name>_bn`."""
        if depthwise:
            self.add(name, conv.depthwise_conv2d(cin, k, stride, "same", bias=False))
        else:
            self.add(name, conv.conv2d(cin, cout, k, stride, "same", bias=False, dilation=dilation))
        self.add(name + "_bn", batch_norm(cout))

    def conv_bn(self, name, x, act=F.relu):
        """`<name>_bn(name(x))`, then `act` (None: linear)."""
        y = getattr(self, name + "_bn")(getattr(self, name)(x))
        return y if act is None else act(y)


class TfMnistSample(ZooNet):
    """conv 32 3×3 relu → conv 8 3×3 relu → flatten → dense softmax (valid padding, Keras init)."""
    output = "softmax"

    def __init__(self, conv, shape, classes):
        super().__init__("tf-mnist-sample", conv.kind)
        h, w, c = shape
        self.add("conv1", conv.conv2d(c, 32, 3))
        self.add("conv2", conv.conv2d(32, 8, 3))
        self.add("dense", dense(8 * (h - 4) * (w - 4), classes))

    def forward(self, x):
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.dense(torch.flatten(x, 1))  # NCHW flatten: the importer permutes the rows


class PtMnistSample(ZooNet):
    """3× conv 3×3 stride 2, padding 1 each side (ZeroPadding2D(1) + valid in TF.js), relu → global
    average pool. PyTorch's default init: kernels varianceScaling(1/3, fan_in), biases U(±1/√fan_in)."""

    def __init__(self, conv, shape, classes):
        super().__init__("pt-mnist-sample", conv.kind)
        cin = shape[2]
        for i, filters in enumerate((16, 16, classes)):
            self.add(f"conv{i + 1}", conv.conv2d(cin, filters, 3, 2, "valid",
                                                 kernel_init=variance_scaling_uniform(1 / 3, "fan_in"),
                                                 bias_init=uniform(1 / math.sqrt(cin * 9))))
            cin = filters

    def forward(self, x):
        for conv in (self.conv1, self.conv2, self.conv3):
            x = F.relu(conv(F.pad(x, (1, 1, 1, 1))))
        return x.mean(dim=(2, 3))


class GluonLenet(ZooNet):
    """conv 20 5×5 tanh → maxpool 2 → conv 50 5×5 tanh → maxpool 2 → dense 500 tanh → dense tanh;
    Xavier(magnitude 2.24) = varianceScaling(2.24/3, fan_avg) on every weight, zero biases."""

    def __init__(self, conv, shape, classes):
        super().__init__("gluon-lenet", conv.kind)
        h, w, c = shape
        xavier = variance_scaling_uniform(2.24 / 3, "fan_avg")
        self.add("conv1", conv.conv2d(c, 20, 5, kernel_init=xavier))
        self.add("conv2", conv.conv2d(20, 50, 5, kernel_init=xavier))
        fh, fw = ((h - 4) // 2 - 4) // 2, ((w - 4) // 2 - 4) // 2
        self.add("dense1", dense(50 * fh * fw, 500, kernel_init=xavier))
        self.add("dense2", dense(500, classes, kernel_init=xavier))

    def forward(self, x):
        x = F.max_pool2d(torch.tanh(self.conv1(x)), 2)
        x = F.max_pool2d(torch.tanh(self.conv2(x)), 2)
        return torch.tanh(self.dense2(torch.tanh(self.dense1(torch.flatten(x, 1)))))


class CifarResNet(ZooNet):
    """CIFAR ResNets (resnetCifar.ts): 'v1' conv-BN-ReLU with projection shortcuts (1×1 conv + BN),
    'v2' pre-activation, 'plain' v1 without shortcuts. 'same' padding, no conv bias, BN eps 1e-5."""

    STAGES = (16, 32, 64)
    PREFIX = {"v1": "resnet", "v2": "preresnet", "plain": "plain"}

    def __init__(self, conv, shape, classes, depth, variant):
        super().__init__(f"{self.PREFIX[variant]}-{depth}", conv.kind)
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"depth must be 6n + 2 with n ≥ 1, got {depth}")
        self.variant, self.blocks = variant, []
        c = lambda cin, cout, k, s: conv.conv2d(cin, cout, k, s, "same", bias=False)  # noqa: E731
        self.add("stem_conv", c(shape[2], 16, 3, 1))
        if variant != "v2":
            self.add("stem_bn", batch_norm(16))
        channels = 16
        for stage, filters in enumerate(self.STAGES):
            for block in range((depth - 2) // 6):
                p = f"s{stage + 1}b{block + 1}_"
                stride = 2 if stage > 0 and block == 0 else 1
                project = stride != 1 or channels != filters
                if variant == "v2":
                    self.add(p + "bn1", batch_norm(channels))
                if project and variant != "plain":
                    self.add(p + "proj", c(channels, filters, 1, stride))
                self.add(p + "conv1", c(channels, filters, 3, stride))
                if variant != "v2":
                    self.add(p + "bn1", batch_norm(filters))
                self.add(p + "bn2", batch_norm(filters))
                self.add(p + "conv2", c(filters, filters, 3, 1))
                if project and variant == "v1":
                    self.add(p + "proj_bn", batch_norm(filters))
                self.blocks.append((p, project and variant != "plain"))
                channels = filters
        if variant == "v2":
            self.add("final_bn", batch_norm(channels))
        self.add("logits", dense(channels, classes))

    def forward(self, x):
        m = lambda name: getattr(self, name)  # noqa: E731
        y = self.stem_conv(x)
        if self.variant != "v2":
            y = F.relu(self.stem_bn(y))
        for p, project in self.blocks:
            if self.variant == "v2":
                pre = F.relu(m(p + "bn1")(y))
                shortcut = m(p + "proj")(pre) if project else y
                r = F.relu(m(p + "bn2")(m(p + "conv1")(pre)))
                y = m(p + "conv2")(r) + shortcut
            else:
                r = F.relu(m(p + "bn1")(m(p + "conv1")(y)))
                r = m(p + "bn2")(m(p + "conv2")(r))
                if self.variant == "v1":
                    r = r + (m(p + "proj_bn")(m(p + "proj")(y)) if project else y)
                y = F.relu(r)
        if self.variant == "v2":
            y = F.relu(self.final_bn(y))
        return self.logits(y.mean(dim=(2, 3)))


V1_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1),
             (512, 1), (512, 1), (1024, 2), (1024, 1))
V2_STAGES = ((1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
             (6, 320, 1, 1))


class MobileNet(ZooNet):
    """CIFAR-sized MobileNet-v1 / -v2 (mobilenet.ts): every conv and depthwise conv is followed by a BN
    named `<conv>_bn`; depthwise 3×3 convs are DO-DConv (groups = C) under 'doconv'."""

    def __init__(self, conv, shape, classes, version):
        super().__init__(f"mobilenet-v{version}", conv.kind)
        self.version, self.steps = version, []
        self._conv, channels = conv, shape[2]
        self._cbn("stem_conv", channels, 32, 3, 1)
        channels = 32
        if version == 1:
            for i, (filters, stride) in enumerate(V1_BLOCKS):
                self._dw(f"b{i + 1}_dw", channels, stride)
                self._cbn(f"b{i + 1}_pw", channels, filters, 1, 1)
                self.steps.append((f"b{i + 1}_", None, False))
                channels = filters
        else:
            index = 0
            for t, c, n, s in V2_STAGES:
                for r in range(n):
                    index += 1
                    p, stride = f"b{index}_", s if r == 0 else 1
                    if t != 1:
                        self._cbn(p + "expand", channels, channels * t, 1, 1)
                    self._dw(p + "dw", channels * t, stride)
                    self._cbn(p + "project", channels * t, c, 1, 1)
                    self.steps.append((p, t != 1, stride == 1 and channels == c))
                    channels = c
            self._cbn("head_conv", channels, 1280, 1, 1)
            channels = 1280
        self.add("logits", dense(channels, classes))
        del self._conv

    def _cbn(self, name, cin, cout, k, stride):
        self.add_conv_bn(name, self._conv, cin, cout, k, stride)

    def _dw(self, name, channels, stride):
        self.add_conv_bn(name, self._conv, channels, channels, 3, stride, depthwise=True)

    def forward(self, x):
        act = F.relu if self.version == 1 else F.relu6
        y = self.conv_bn("stem_conv", x, act)
        for p, expand, residual in self.steps:
            if self.version == 1:
                y = self.conv_bn(p + "pw", self.conv_bn(p + "dw", y, act), act)
                continue
            h = self.conv_bn(p + "expand", y, act) if expand else y
            h = self.conv_bn(p + "project", self.conv_bn(p + "dw", h, act), None)
            y = y + h if residual else h
        if self.version == 2:
            y = self.conv_bn("head_conv", y, act)
        return self.logits(y.mean(dim=(2, 3)))


def aspp_rates(feature_side):
    """deeplabMini.ts's asppRates: ⌈f/4⌉ and ⌈f/2⌉ on a feature map of side f (2 and 4 on 8×8)."""
    return max(1, -(-feature_side // 4)), max(1, -(-feature_side // 2))


class DeeplabMini(ZooNet):
    """deeplabMini.ts: conv-BN-ReLU backbone to output stride 8 (stem, s2_conv1 and s3_conv1 stride 2;
    s3_conv2_dilated rate 2), ASPP (1×1, rates aspp_rates(f), image pooling broadcast back), aspp_project
    1×1, decoder (bilinear ×2, concat with decoder_low(s2_conv2's stride-4 map), decoder_conv 3×3), the
    1×1 classifier (bias) and bilinear ×4. Every conv 'same', bias-free before a BN; TF.js's bilinear grid
    (resize_bilinear); concatenations in the builder's order. Outputs logits [N, classes, H, W]."""

    OUTPUT_STRIDE = 8

    def __init__(self, conv, shape, classes, widths=(16, 32, 64), aspp=64, decoder=(16, 32)):
        super().__init__("deeplab-mini", conv.kind)
        h, w, cin = shape
        if h % self.OUTPUT_STRIDE or w % self.OUTPUT_STRIDE:
            raise ValueError(f"deeplab-mini: input height and width must be multiples of {self.OUTPUT_STRIDE}, "
                             f"got {list(shape)}")
        (c1, c2, c3), (low, dec) = widths, decoder
        self.size, self.feature = (h, w), (h // self.OUTPUT_STRIDE, w // self.OUTPUT_STRIDE)
        rates = aspp_rates(min(self.feature))
        self.aspp = ("aspp_1x1", *(f"aspp_rate{r}" for r in rates))
        for name, a, b, k, stride, dilation in (
                ("stem", cin, c1, 3, 2, 1), ("s2_conv1", c1, c2, 3, 2, 1), ("s2_conv2", c2, c2, 3, 1, 1),
                ("s3_conv1", c2, c3, 3, 2, 1), ("s3_conv2_dilated", c3, c3, 3, 1, 2),
                ("aspp_1x1", c3, aspp, 1, 1, 1), (self.aspp[1], c3, aspp, 3, 1, rates[0]),
                (self.aspp[2], c3, aspp, 3, 1, rates[1]), ("aspp_pool_conv", c3, aspp, 1, 1, 1),
                ("aspp_project", 4 * aspp, aspp, 1, 1, 1), ("decoder_low", c2, low, 1, 1, 1),
                ("decoder_conv", aspp + low, dec, 3, 1, 1)):
            self.add_conv_bn(name, conv, a, b, k, stride, dilation)
        self.add("classifier", conv.conv2d(dec, classes, 1))

    def forward(self, x):
        y = self.conv_bn("s2_conv1", self.conv_bn("stem", x))
        low = self.conv_bn("s2_conv2", y)
        y = self.conv_bn("s3_conv2_dilated", self.conv_bn("s3_conv1", low))
        pool = self.conv_bn("aspp_pool_conv", y.mean(dim=(2, 3), keepdim=True))
        branches = [self.conv_bn(name, y) for name in self.aspp] + [pool.expand(-1, -1, *self.feature)]
        y = self.conv_bn("aspp_project", torch.cat(branches, 1))
        fh, fw = self.feature
        y = resize_bilinear(y, 2 * fh, 2 * fw)
        y = self.conv_bn("decoder_conv", torch.cat([y, self.conv_bn("decoder_low", low)], 1))
        return resize_bilinear(self.classifier(y), *self.size)


HEATMAP_PRIOR_BIAS = -2.19  # centerNetMini.ts's: −log((1 − π)/π), π ≈ 0.1


class CenterNetMini(ZooNet):
    """centerNetMini.ts: stem conv 3×3 stride 2, depthwise-separable blocks `<b>_dw` (DO-DConv under
    'doconv') + `<b>_pw` 1×1, each with BN + ReLU, to stride 8; bilinear ×2, concat with b3's stride-4 map,
    merge_pw, b6; head_conv 3×3 (bias, ReLU) and the 1×1 heads heatmap (bias −2.19), size, offset,
    concatenated: [N, classes + 4, H/4, W/4]."""

    BLOCKS = (("b1", 32, 1), ("b2", 48, 2), ("b3", 48, 1), ("b4", 96, 2), ("b5", 96, 1))

    def __init__(self, conv, shape, classes):
        super().__init__("centernet-mini", conv.kind)
        h, w, cin = shape
        if h % 8 or w % 8:
            raise ValueError(f"centernet-mini: input height and width must be multiples of 8, got {list(shape)}")
        self.add_conv_bn("stem", conv, cin, 16, 3, 2)
        channels = 16
        for name, filters, stride in self.BLOCKS:
            self._separable(conv, name, channels, filters, stride)
            channels = filters
        self.add_conv_bn("merge_pw", conv, channels + 48, 64, 1)
        self._separable(conv, "b6", 64, 64, 1)
        self.add("head_conv", conv.conv2d(64, 32, 3, 1, "same"))
        self.add("heatmap", conv.conv2d(32, classes, 1, bias_init=constant(HEATMAP_PRIOR_BIAS)))
        self.add("size", conv.conv2d(32, 2, 1))
        self.add("offset", conv.conv2d(32, 2, 1))

    def _separable(self, conv, name, cin, cout, stride):
        self.add_conv_bn(name + "_dw", conv, cin, cin, 3, stride, depthwise=True)
        self.add_conv_bn(name + "_pw", conv, cin, cout, 1)

    def separable(self, name, x):
        return self.conv_bn(name + "_pw", self.conv_bn(name + "_dw", x))

    def forward(self, x):
        y = self.conv_bn("stem", x)
        for name in ("b1", "b2"):
            y = self.separable(name, y)
        c4 = self.separable("b3", y)
        y = self.separable("b5", self.separable("b4", c4))
        y = resize_bilinear(y, *c4.shape[-2:])
        y = self.separable("b6", self.conv_bn("merge_pw", torch.cat([y, c4], 1)))
        t = F.relu(self.head_conv(y))
        return torch.cat([self.heatmap(t), self.size(t), self.offset(t)], 1)


ZOO = {
    "tf-mnist-sample": TfMnistSample,
    "pt-mnist-sample": PtMnistSample,
    "gluon-lenet": GluonLenet,
    "plain-20": lambda c, s, n: CifarResNet(c, s, n, 20, "plain"),
    "resnet-20": lambda c, s, n: CifarResNet(c, s, n, 20, "v1"),
    "resnet-32": lambda c, s, n: CifarResNet(c, s, n, 32, "v1"),
    "resnet-56": lambda c, s, n: CifarResNet(c, s, n, 56, "v1"),
    "preresnet-20": lambda c, s, n: CifarResNet(c, s, n, 20, "v2"),
    "mobilenet-v1": lambda c, s, n: MobileNet(c, s, n, 1),
    "mobilenet-v2": lambda c, s, n: MobileNet(c, s, n, 2),
    "deeplab-mini": DeeplabMini,
    "centernet-mini": CenterNetMini,
}
# zoo.ts's `task` (absent: classification). numClasses: segmentation counts the background class.
TASKS = {"deeplab-mini": "segmentation", "centernet-mini": "detection"}


def task(name):
    return TASKS.get(name, "classification")


def build(name, conv, input_shape, num_classes):
    """The twin of doconv's buildModel(name, {conv, inputShape: [h, w, c], numClasses})."""
    if name not in ZOO:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(ZOO)}")
    return ZOO[name](ConvFactory(conv), tuple(input_shape), num_classes)

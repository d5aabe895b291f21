"""The CycleGAN generator: an encoder, a stack of residual blocks, a decoder.

Zhu et al. (2017) translate images with the network of Johnson et al. (2016).
In their notation, for ``ngf=64``, two down-samplings and nine blocks::

    c7s1-64, d128, d256, R256 x 9, u128, u64, c7s1-3

``c7s1-k`` is a 7x7 convolution with stride 1 and ``k`` filters (reflection
padding, then norm and ReLU); ``dk`` a 3x3 stride-2 convolution; ``Rk`` a
residual block of two 3x3 convolutions; ``uk`` a 3x3 stride-1/2 (transposed)
convolution. The last layer has no norm and ends in ``tanh``, so images live in
``[-1, 1]``. The network is fully convolutional: one set of weights serves
32 px faces and 256 px photographs alike, as long as each down-sampling can
halve the size exactly.
"""

from __future__ import annotations

import torch
from torch import nn

from emolab.core.errors import ConfigError
from emolab.models.init import init_weights

NORMS = ("instance", "batch", "none")
PADDINGS = ("reflect", "replicate", "zero")
GENERATORS = {"resnet_9blocks": 9, "resnet_6blocks": 6}


def norm_layer(norm: str, channels: int) -> nn.Module:
    """The normalisation after a convolution: ``instance``, ``batch`` or ``none``.

    Instance norm follows CycleGAN: no learned scale/shift and no running
    statistics, so it normalises each image by its own mean and variance at
    training and at test time alike.
    """
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if norm == "batch":
        return nn.BatchNorm2d(channels, affine=True, track_running_stats=True)
    if norm == "none":
        return nn.Identity()
    raise ConfigError(f"unknown norm {norm!r}; choose one of {NORMS}")


def conv_bias(norm: str) -> bool:
    """Whether a convolution followed by ``norm`` needs its own bias.

    Batch norm has a learned shift that makes a bias redundant; CycleGAN's
    instance norm has none, so the convolution keeps its bias, and so does a
    convolution with no norm at all (where the reference code drops it).
    """
    return norm != "batch"


def _padding(padding: str, size: int) -> tuple[list[nn.Module], int]:
    """An explicit padding layer and the ``padding=`` left for the convolution."""
    if padding == "reflect":
        return [nn.ReflectionPad2d(size)], 0
    if padding == "replicate":
        return [nn.ReplicationPad2d(size)], 0
    if padding == "zero":
        return [], size
    raise ConfigError(f"unknown padding {padding!r}; choose one of {PADDINGS}")


class ResnetBlock(nn.Module):
    """``x + f(x)`` with ``f`` = pad, conv3x3, norm, ReLU, [dropout], pad, conv3x3, norm."""

    def __init__(self, channels: int, norm: str = "instance", dropout: float = 0.0,
                 padding: str = "reflect"):
        super().__init__()
        bias = conv_bias(norm)
        layers: list[nn.Module] = []
        for second in (False, True):
            pad, conv_pad = _padding(padding, 1)
            layers += pad + [nn.Conv2d(channels, channels, 3, padding=conv_pad, bias=bias),
                             norm_layer(norm, channels)]
            if not second:
                layers.append(nn.ReLU(inplace=True))
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class ResnetGenerator(nn.Module):
    """The CycleGAN generator (Johnson et al.'s residual network), any size and channels.

    Input and output are ``(batch, channels, H, W)`` with the same ``H, W``;
    ``H`` and ``W`` must be multiples of ``2 ** n_downsampling`` and at least
    twice that (so the residual blocks see a map of at least 2x2): with the
    default two down-samplings, 32, 48, 64, 128 and 256 px all work.

    ``residual=True`` (off in CycleGAN) makes the network edit its input
    instead of redrawing it: the last convolution's output ``h`` is added to
    the input in the tanh's pre-activation space,
    ``y = tanh(atanh(x) + h)`` (``x`` clipped to ``|x| <= residual_clip``), so the
    output stays in ``(-1, 1)``, starts close to ``x`` (``h`` is small at
    initialisation) and a pixel the mapping does not need to change costs
    nothing to keep. This is the idea of residual image generators
    (Shen & Liu, 2017; GANimation's attention mask is a gated form of it):
    translations between facial expressions change a few regions of a face,
    and with a short training budget a generator that must redraw the whole
    face leaves high-frequency noise everywhere else. Needs
    ``in_channels == out_channels``.

    ``residual_clip`` (0.999 by default) bounds how saturated an input pixel
    may be: the gradient that reaches ``h`` through the tanh is
    ``1 - y**2``, which at ``|x| = 0.999`` is 0.002, so a generator cannot
    move pixels that start saturated. Where the translation must change such
    pixels (desaturating a painting's boosted colours) a lower clip, e.g.
    0.9, keeps the gradient at 0.19 or more, at the price of starting from
    ``clip(x)`` rather than exactly ``x``.

    ``color_path=True`` (with ``residual``) adds a 1x1 convolution of the input's
    pre-activation to ``h``, initialised to zero: ``y = tanh(a + h(x) + W a + b)``
    with ``a = atanh(clip(x))``. It is a per-pixel colour transform (a
    desaturation, a white balance) that the network can learn in a few hundred
    steps; through the instance-normalised layers the same map is slow to find,
    since they discard each image's global colour.
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, ngf: int = 64,
                 n_blocks: int = 9, n_downsampling: int = 2, norm: str = "instance",
                 dropout: float = 0.0, padding: str = "reflect", residual: bool = False,
                 residual_clip: float = 0.999, color_path: bool = False):
        super().__init__()
        if color_path and not residual:
            raise ConfigError("color_path needs residual=True (it adds to the residual)")
        if not 0.0 < residual_clip < 1.0:
            raise ConfigError(f"residual_clip must be in (0, 1), got {residual_clip}")
        if min(in_channels, out_channels, ngf) < 1:
            raise ConfigError("ResnetGenerator channel counts and ngf must be positive")
        if n_blocks < 0 or n_downsampling < 0:
            raise ConfigError("ResnetGenerator n_blocks and n_downsampling must be >= 0")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        if residual and in_channels != out_channels:
            raise ConfigError(f"a residual generator needs in_channels == out_channels, "
                              f"got {in_channels} and {out_channels}")
        norm_layer(norm, 1)  # validate the names before building anything
        _padding(padding, 1)
        bias = conv_bias(norm)

        # c7s1-ngf: the stem always reflects, as in CycleGAN, whatever ``padding`` says.
        layers: list[nn.Module] = [nn.ReflectionPad2d(3),
                                   nn.Conv2d(in_channels, ngf, 7, bias=bias),
                                   norm_layer(norm, ngf), nn.ReLU(inplace=True)]
        width = ngf
        for _ in range(n_downsampling):  # d(2*width)
            layers += [nn.Conv2d(width, 2 * width, 3, stride=2, padding=1, bias=bias),
                       norm_layer(norm, 2 * width), nn.ReLU(inplace=True)]
            width *= 2
        layers += [ResnetBlock(width, norm, dropout, padding) for _ in range(n_blocks)]
        for _ in range(n_downsampling):  # u(width/2)
            layers += [nn.ConvTranspose2d(width, width // 2, 3, stride=2, padding=1,
                                          output_padding=1, bias=bias),
                       norm_layer(norm, width // 2), nn.ReLU(inplace=True)]
            width //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, out_channels, 7)]
        if not residual:
            layers.append(nn.Tanh())
        self.model = nn.Sequential(*layers)
        self.residual = residual
        self.residual_clip = float(residual_clip)
        # a 1x1 convolution of the input's pre-activation, added to the residual: a
        # per-pixel colour transform the generator can learn in a few hundred steps
        self.color = nn.Conv2d(in_channels, out_channels, 1) if color_path else None
        if self.color is not None:
            nn.init.zeros_(self.color.weight)
            nn.init.zeros_(self.color.bias)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.n_blocks = n_blocks
        self.n_downsampling = n_downsampling

    def check_size(self, height: int, width: int) -> None:
        """Raise ``ValueError`` naming the allowed sizes unless ``height x width`` fits."""
        step = 2 ** self.n_downsampling
        smallest = max(2 * step, 4)  # reflection padding needs more pixels than it pads
        if height % step or width % step or min(height, width) < smallest:
            raise ValueError(
                f"ResnetGenerator with n_downsampling={self.n_downsampling} needs height "
                f"and width that are multiples of {step} and at least {smallest} "
                f"(e.g. 32, 48, 64, 128, 256 px); got {height}x{width}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected input of shape (batch, {self.in_channels}, H, W), "
                             f"got {tuple(x.shape)}")
        self.check_size(x.shape[2], x.shape[3])
        if self.residual:
            pre = torch.atanh(x.clamp(-self.residual_clip, self.residual_clip))
            h = self.model(x)
            if self.color is not None:
                h = h + self.color(pre)
            return torch.tanh(pre + h)
        return self.model(x)


def define_generator(kind: str = "resnet_9blocks", in_channels: int = 3,
                     out_channels: int = 3, ngf: int = 64, norm: str = "instance",
                     init_type: str = "normal", init_gain: float = 0.02,
                     dropout: float = 0.0) -> ResnetGenerator:
    """A CycleGAN generator, initialised: ``resnet_9blocks`` (256 px in the paper)
    or ``resnet_6blocks`` (128 px and smaller)."""
    if kind not in GENERATORS:
        raise ConfigError(f"unknown generator {kind!r}; choose one of {tuple(GENERATORS)}")
    net = ResnetGenerator(in_channels, out_channels, ngf=ngf, n_blocks=GENERATORS[kind],
                          norm=norm, dropout=dropout)
    return init_weights(net, init_type, init_gain)

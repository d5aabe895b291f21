"""PatchGAN discriminators: one real/fake score per overlapping image patch.

Isola et al. (2017) and CycleGAN judge an image patch by patch: a small fully
convolutional network maps ``(batch, C, H, W)`` to a ``(batch, 1, h, w)`` map
of scores, one per input patch of ``receptive_field(n_layers)`` pixels. For
``n_layers=3`` that is the "70x70 PatchGAN" (``C64-C128-C256-C512`` in the
paper's notation, then a 1-channel convolution). The scores are logits: the
losses (``GANLoss``) apply the sigmoid or the least-squares target themselves.

Output size for an ``S`` px input: each stride-2 layer takes ``S`` to
``S // 2``, the two stride-1 layers each remove one pixel, so ``n_layers=3``
gives 2x2 at 32 px, 4x4 at 48 px, 6x6 at 64 px, 14x14 at 128 px and 30x30 at
256 px. At 32 px the 70 px receptive field is wider than the image: each score
sees the whole (zero-padded) face, and the "patch" discriminator acts almost
as an image discriminator; ``n_layers=2`` (34 px patches) keeps it local.
"""

from __future__ import annotations

import torch
from torch import nn

from emolab.core.errors import ConfigError
from emolab.models.init import init_weights
from emolab.models.resnet import conv_bias, norm_layer

DISCRIMINATORS = ("basic", "n_layers", "pixel")


def _layer_geometry(n_layers: int) -> list[tuple[int, int]]:
    """``(kernel, stride)`` of each convolution of ``NLayerDiscriminator``, input first."""
    return [(4, 2)] * n_layers + [(4, 1), (4, 1)]


def receptive_field(n_layers: int) -> int:
    """Side in pixels of the input patch one output score depends on.

    Walking back from one output unit, a layer with kernel ``k`` and stride
    ``s`` widens a field of ``r`` units to ``r * s + (k - s)``: 70 for
    ``n_layers=3``, 34 for 2, 16 for 1 (in general ``9 * 2**n_layers - 2``).
    """
    if n_layers < 1:
        raise ConfigError(f"n_layers must be >= 1, got {n_layers}")
    field = 1
    for kernel, stride in reversed(_layer_geometry(n_layers)):
        field = field * stride + (kernel - stride)
    return field


def min_input_size(n_layers: int) -> int:
    """Smallest input side for which the score map is at least 1x1: ``3 * 2**n_layers``."""
    if n_layers < 1:
        raise ConfigError(f"n_layers must be >= 1, got {n_layers}")
    return 3 * 2 ** n_layers


class NLayerDiscriminator(nn.Module):
    """The PatchGAN: ``n_layers`` 4x4 stride-2 convolutions, a stride-1 one, a 1-channel map.

    Widths are ``ndf * min(2**i, 8)``; every convolution but the first and the
    last is followed by ``norm``; every one but the last by LeakyReLU(0.2).
    """

    def __init__(self, in_channels: int = 3, ndf: int = 64, n_layers: int = 3,
                 norm: str = "instance"):
        super().__init__()
        if min(in_channels, ndf) < 1:
            raise ConfigError("NLayerDiscriminator in_channels and ndf must be positive")
        if n_layers < 1:
            raise ConfigError(f"n_layers must be >= 1, got {n_layers}")
        norm_layer(norm, 1)  # validate the name before building anything
        bias = conv_bias(norm)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, stride=2, padding=1),
                                   nn.LeakyReLU(0.2, inplace=True)]
        width = ndf
        for i in range(1, n_layers + 1):
            stride = 2 if i < n_layers else 1
            new = ndf * min(2 ** i, 8)
            layers += [nn.Conv2d(width, new, 4, stride=stride, padding=1, bias=bias),
                       norm_layer(norm, new), nn.LeakyReLU(0.2, inplace=True)]
            width = new
        layers.append(nn.Conv2d(width, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)
        self.in_channels = in_channels
        self.n_layers = n_layers

    @property
    def receptive_field(self) -> int:
        return receptive_field(self.n_layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected input of shape (batch, {self.in_channels}, H, W), "
                             f"got {tuple(x.shape)}")
        smallest = min_input_size(self.n_layers)
        if min(x.shape[2], x.shape[3]) < smallest:
            raise ValueError(f"NLayerDiscriminator with n_layers={self.n_layers} needs inputs "
                             f"of at least {smallest}x{smallest} px; got "
                             f"{x.shape[2]}x{x.shape[3]}")
        return self.model(x)


class PixelDiscriminator(nn.Module):
    """The 1x1 PixelGAN: judges each pixel's colour alone (receptive field 1)."""

    def __init__(self, in_channels: int = 3, ndf: int = 64, norm: str = "instance"):
        super().__init__()
        if min(in_channels, ndf) < 1:
            raise ConfigError("PixelDiscriminator in_channels and ndf must be positive")
        bias = conv_bias(norm)
        self.model = nn.Sequential(
            nn.Conv2d(in_channels, ndf, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, 2 * ndf, 1, bias=bias), norm_layer(norm, 2 * ndf),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * ndf, 1, 1, bias=bias))
        self.in_channels = in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected input of shape (batch, {self.in_channels}, H, W), "
                             f"got {tuple(x.shape)}")
        return self.model(x)


def define_discriminator(kind: str = "basic", in_channels: int = 3, ndf: int = 64,
                         n_layers: int = 3, norm: str = "instance",
                         init_type: str = "normal", init_gain: float = 0.02) -> nn.Module:
    """A CycleGAN discriminator, initialised.

    ``basic`` is the 70x70 PatchGAN (``n_layers=3``, whatever ``n_layers`` says);
    ``n_layers`` uses the given depth; ``pixel`` is the 1x1 PixelGAN.
    """
    if kind == "basic":
        net: nn.Module = NLayerDiscriminator(in_channels, ndf, n_layers=3, norm=norm)
    elif kind == "n_layers":
        net = NLayerDiscriminator(in_channels, ndf, n_layers=n_layers, norm=norm)
    elif kind == "pixel":
        net = PixelDiscriminator(in_channels, ndf, norm=norm)
    else:
        raise ConfigError(f"unknown discriminator {kind!r}; choose one of {DISCRIMINATORS}")
    return init_weights(net, init_type, init_gain)

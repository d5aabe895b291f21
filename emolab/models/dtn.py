"""The networks of the Domain Transfer Network (Taigman et al., 2017) that SIGAN keeps (Mao et al., 2018, §6.1.1).

SIGAN "keeps the network architecture fixed with DTN": a convolutional
encoder ``E`` whose code ``h`` feeds both a classifier ``F`` and a decoder
``G``, and a convolutional critic ``D``. At ``size = 32``:

====================  ============================  ==============================
E (encoder)           G (generator)                 D (critic)
====================  ============================  ==============================
x     C x 32 x 32     h     code x 1 x 1            x     C x 32 x 32
conv4/2  w  x 16x16   convT4  4w x 4 x 4   (G^1)    conv4/2  w  x 16 x 16
conv4/2 2w  x  8x8    convT4/2 2w x 8 x 8  (G^2)    conv4/2 2w  x  8 x 8
conv4/2 4w  x  4x4    convT4/2  w x 16x16           conv4/2 4w  x  4 x 4
conv4   code x 1x1    convT4/2  C x 32x32, tanh     conv4   1   (no activation)
====================  ============================  ==============================

The attention loss (eqs. 9-10) compares ``P(G^1)`` with ``P(E^{L-1})`` (the
4x4 maps) and ``P(G^2)`` with ``P(E^{L-2})`` (the 8x8 maps): the encoder and
the generator are mirror images, as §6.1.1 demands. ``E(x, maps=True)`` and
``G(h, maps=True)`` also return those feature maps, coarsest first.
``F`` is one linear layer on ``h`` (DTN's ``f`` is E followed by it).
"""

from __future__ import annotations

import torch
from torch import nn

from emolab.core.errors import ConfigError


def _check_size(size: int) -> int:
    """Number of stride-2 stages from ``size`` down to 4x4 (``size`` a power of two >= 16)."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 16 or size & (size - 1):
        raise ConfigError(f"DTN networks take square images with a power-of-two side >= 16, got {size!r}")
    return size.bit_length() - 3  # 32 -> 3 stages: 16, 8, 4


class DTNEncoder(nn.Module):
    """``E``: images ``[N, C, S, S]`` in [-1, 1] -> codes ``[N, code_dim]``."""

    def __init__(self, in_channels: int = 1, width: int = 32, code_dim: int = 128, size: int = 32):
        super().__init__()
        if min(in_channels, width, code_dim) < 1:
            raise ConfigError("DTNEncoder in_channels, width and code_dim must be positive")
        stages = _check_size(size)
        layers, c = [], in_channels
        for k in range(stages):
            out = width * 2 ** min(k, 2)
            layers.append(nn.Sequential(nn.Conv2d(c, out, 4, 2, 1), nn.LeakyReLU(0.2)))
            c = out
        self.stages = nn.ModuleList(layers)
        self.head = nn.Conv2d(c, code_dim, 4)
        self.in_channels, self.size, self.code_dim = in_channels, size, code_dim

    def forward(self, x: torch.Tensor, maps: bool = False):
        if x.ndim != 4 or x.shape[1:] != (self.in_channels, self.size, self.size):
            raise ValueError(f"DTNEncoder expects images [N, {self.in_channels}, {self.size}, {self.size}], "
                             f"got {tuple(x.shape)}")
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        h = self.head(x).flatten(1)
        # feats[-1] is E^{L-1} (4x4), feats[-2] is E^{L-2} (8x8)
        return (h, [feats[-1], feats[-2]]) if maps else h


class DTNGenerator(nn.Module):
    """``G``: codes ``[N, code_dim]`` -> images ``[N, C, S, S]`` in [-1, 1] (tanh)."""

    def __init__(self, out_channels: int = 1, width: int = 32, code_dim: int = 128, size: int = 32):
        super().__init__()
        if min(out_channels, width, code_dim) < 1:
            raise ConfigError("DTNGenerator out_channels, width and code_dim must be positive")
        stages = _check_size(size)
        widths = [width * 2 ** min(k, 2) for k in range(stages)][::-1]   # 4w, 2w, w at 32 px
        self.stem = nn.Sequential(nn.ConvTranspose2d(code_dim, widths[0], 4), nn.BatchNorm2d(widths[0]),
                                  nn.ReLU())
        ups = []
        for k in range(stages - 1):
            ups.append(nn.Sequential(nn.ConvTranspose2d(widths[k], widths[k + 1], 4, 2, 1),
                                     nn.BatchNorm2d(widths[k + 1]), nn.ReLU()))
        self.ups = nn.ModuleList(ups)
        self.out = nn.Sequential(nn.ConvTranspose2d(widths[-1], out_channels, 4, 2, 1), nn.Tanh())
        self.code_dim = code_dim

    def forward(self, h: torch.Tensor, maps: bool = False):
        if h.ndim != 2 or h.shape[1] != self.code_dim:
            raise ValueError(f"DTNGenerator expects codes [N, {self.code_dim}], got {tuple(h.shape)}")
        x = self.stem(h[:, :, None, None])
        feats = [x]                       # G^1: 4x4
        for up in self.ups:
            x = up(x)
            feats.append(x)               # G^2: 8x8, ...
        img = self.out(x)
        return (img, feats[:2]) if maps else img


class DTNCritic(nn.Module):
    """``D``: the WGAN critic of eq. (11), images -> one unbounded score each (no final activation)."""

    def __init__(self, in_channels: int = 1, width: int = 32, size: int = 32):
        super().__init__()
        stages = _check_size(size)
        layers, c = [], in_channels
        for k in range(stages):
            out = width * 2 ** min(k, 2)
            layers += [nn.Conv2d(c, out, 4, 2, 1), nn.LeakyReLU(0.2)]
            c = out
        self.net = nn.Sequential(*layers, nn.Conv2d(c, 1, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


class CodeClassifier(nn.Module):
    """``F``: codes -> class logits (dropout, then one linear layer)."""

    def __init__(self, code_dim: int = 128, num_classes: int = 10, dropout: float = 0.0):
        super().__init__()
        self.net = nn.Sequential(nn.LeakyReLU(0.2), nn.Dropout(dropout), nn.Linear(code_dim, num_classes))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(h)


def define_dtn(channels: int = 1, width: int = 32, code_dim: int = 128, size: int = 32,
               num_classes: int = 10) -> dict[str, nn.Module]:
    """``{"E", "G", "D", "F"}`` at one width."""
    return {"E": DTNEncoder(channels, width, code_dim, size), "G": DTNGenerator(channels, width, code_dim, size),
            "D": DTNCritic(channels, width, size), "F": CodeClassifier(code_dim, num_classes)}


__all__ = ["CodeClassifier", "DTNCritic", "DTNEncoder", "DTNGenerator", "define_dtn"]

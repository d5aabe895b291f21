"""The StarGAN backbone (Choi et al., 2018): one generator for every target condition.

The generator takes an image and a condition vector ``c`` (a one-hot emotion in
StarGAN, a point of the 2-D emotion space in GANmut), tiles ``c`` over the
image plane and concatenates it to the image's channels:

    input  [N, C + c_dim, S, S]
    7x7 conv, ngf                              IN, ReLU
    2 x (4x4 conv stride 2, doubling widths)   IN, ReLU      -> S / 4
    n_blocks residual blocks (3x3 convs)       IN
    2 x (4x4 transposed conv stride 2)         IN, ReLU      -> S
    7x7 conv, C                                tanh

The discriminator is a stack of ``n_layers`` 4x4 stride-2 convolutions with
leaky ReLU (0.01) and no normalisation (WGAN-GP penalises per-sample
gradients, which batch statistics would couple), and heads on its last map:

* ``src``: a 3x3 convolution to one channel, a patch map of real/fake scores;
* ``cls``: a convolution over the whole map to ``n_classes`` logits
  (StarGAN's auxiliary classifier, eq. 2-3 of its paper; a fully connected
  layer on the flattened map, as ExprADA's Table 2 writes it); ``None``
  with ``n_classes=0``;
* ``code`` (optional, GANmut's third head): a convolution to ``code_dim``
  regressed condition coordinates.

Sizes follow the paper at 128 px (``ngf = ndf = 64``, 6 blocks, 6 layers:
128 -> 2 px, final width 2048); smaller images use fewer layers
(``n_layers = log2(S) - 1``), so the class head always sees a 2x2 map.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from emolab.core.errors import ConfigError
from emolab.models.init import init_weights


class ResidualBlockIN(nn.Module):
    """``x + (conv3x3, IN, ReLU, conv3x3, IN)(x)``: the residual block of StarGAN and ExprADA."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.InstanceNorm2d(channels, affine=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x):
        return x + self.body(x)


class StarGANGenerator(nn.Module):
    """``G(x, c)``: an image ``[N, C, S, S]`` and a condition ``[N, c_dim]`` to an image."""

    def __init__(self, in_channels: int = 3, c_dim: int = 7, ngf: int = 64, n_blocks: int = 6,
                 n_down: int = 2):
        super().__init__()
        if min(in_channels, c_dim, ngf, n_blocks, n_down) < 1:
            raise ConfigError("in_channels, c_dim, ngf, n_blocks and n_down must be >= 1")
        self.c_dim, self.in_channels, self.n_down = c_dim, in_channels, n_down
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels + c_dim, ngf, 7, padding=3, bias=False),
            nn.InstanceNorm2d(ngf, affine=True), nn.ReLU(inplace=True)]
        width = ngf
        for _ in range(n_down):
            layers += [nn.Conv2d(width, width * 2, 4, stride=2, padding=1, bias=False),
                       nn.InstanceNorm2d(width * 2, affine=True), nn.ReLU(inplace=True)]
            width *= 2
        layers += [ResidualBlockIN(width) for _ in range(n_blocks)]
        for _ in range(n_down):
            layers += [nn.ConvTranspose2d(width, width // 2, 4, stride=2, padding=1, bias=False),
                       nn.InstanceNorm2d(width // 2, affine=True), nn.ReLU(inplace=True)]
            width //= 2
        layers += [nn.Conv2d(width, in_channels, 7, padding=3, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ConfigError(f"StarGANGenerator expects images [N, {self.in_channels}, S, S], "
                              f"got {tuple(x.shape)}")
        if c.shape != (x.shape[0], self.c_dim):
            raise ConfigError(f"condition must be [N, {self.c_dim}] for N = {x.shape[0]}, "
                              f"got {tuple(c.shape)}")
        if x.shape[-1] % (2 ** self.n_down):
            raise ConfigError(f"image side {x.shape[-1]} must be a multiple of {2 ** self.n_down}")
        tiled = c.to(x.dtype)[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        return self.net(torch.cat([x, tiled], dim=1))


class StarGANDiscriminator(nn.Module):
    """``D(x) -> (src [N, 1, h, w], cls [N, n_classes] or None, code [N, code_dim] or None)``."""

    def __init__(self, image_size: int = 128, in_channels: int = 3, n_classes: int = 7,
                 ndf: int = 64, n_layers: int | None = None, code_dim: int = 0):
        super().__init__()
        if n_layers is None:
            n_layers = int(math.log2(image_size)) - 1
        if n_layers < 1 or image_size % (2 ** n_layers):
            raise ConfigError(f"image_size {image_size} must be divisible by 2**n_layers = {2 ** n_layers}")
        if n_classes < 0 or code_dim < 0:
            raise ConfigError("n_classes and code_dim must be >= 0")
        self.in_channels = in_channels
        layers: list[nn.Module] = []
        width_in, width = in_channels, ndf
        for _ in range(n_layers):
            layers += [nn.Conv2d(width_in, width, 4, stride=2, padding=1), nn.LeakyReLU(0.01)]
            width_in, width = width, width * 2
        self.trunk = nn.Sequential(*layers)
        final = image_size // 2 ** n_layers
        self.src = nn.Conv2d(width_in, 1, 3, padding=1, bias=False)
        # a convolution whose kernel covers the whole final map is a fully connected layer
        self.cls = nn.Conv2d(width_in, n_classes, final, bias=False) if n_classes else None
        self.code = nn.Conv2d(width_in, code_dim, final, bias=False) if code_dim else None

    def forward(self, x: torch.Tensor):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ConfigError(f"StarGANDiscriminator expects images [N, {self.in_channels}, S, S], "
                              f"got {tuple(x.shape)}")
        h = self.trunk(x)
        code = self.code(h).flatten(1) if self.code is not None else None
        cls = self.cls(h).flatten(1) if self.cls is not None else None
        return self.src(h), cls, code


def define_stargan(image_size: int = 128, in_channels: int = 3, c_dim: int = 7, n_classes: int = 7,
                   ngf: int = 64, ndf: int = 64, n_blocks: int = 6, code_dim: int = 0,
                   init_type: str = "default", init_gain: float = 0.02):
    """``(G, D)`` of StarGAN; paper size at the defaults (128 px). ``default``
    keeps PyTorch's initialisation, as the official code does."""
    G = StarGANGenerator(in_channels, c_dim, ngf, n_blocks)
    D = StarGANDiscriminator(image_size, in_channels, n_classes, ndf, code_dim=code_dim)
    return init_weights(G, init_type, init_gain), init_weights(D, init_type, init_gain)

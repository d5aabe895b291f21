"""Multi-layer perceptrons: the generators and discriminators of the 2-D toy."""

from __future__ import annotations

import torch
from torch import nn

from emolab.core.errors import ConfigError


class MLP(nn.Module):
    """``depth`` hidden layers of width ``hidden`` with LeakyReLU.

    With ``residual=True`` the network outputs ``x + f(x)`` (input and output
    sizes must agree): a translator that starts near the identity, which is
    what a CycleGAN generator between two nearby manifolds wants.
    """

    def __init__(self, in_features: int, out_features: int, hidden: int = 64,
                 depth: int = 2, residual: bool = False, slope: float = 0.2):
        super().__init__()
        if min(in_features, out_features, hidden) < 1 or depth < 1:
            raise ConfigError("MLP sizes and depth must be positive")
        if residual and in_features != out_features:
            raise ConfigError("a residual MLP needs in_features == out_features")
        layers: list[nn.Module] = []
        width = in_features
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(slope)]
            width = hidden
        layers.append(nn.Linear(width, out_features))
        self.net = nn.Sequential(*layers)
        self.in_features = in_features
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"expected input of shape (batch, {self.in_features}), "
                             f"got {tuple(x.shape)}")
        out = self.net(x)
        return x + out if self.residual else out


def point_generator(dim: int = 2, hidden: int = 64, depth: int = 3) -> MLP:
    """Generator for points: residual MLP ``R^dim -> R^dim``."""
    return MLP(dim, dim, hidden=hidden, depth=depth, residual=True)


def point_discriminator(dim: int = 2, hidden: int = 64, depth: int = 3) -> MLP:
    """Discriminator for points: MLP ``R^dim -> R`` (a score, no sigmoid)."""
    return MLP(dim, 1, hidden=hidden, depth=depth)

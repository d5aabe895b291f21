"""GANmut's learned conditional spaces (d'Apolito et al., 2021, §3 and §4).

Both are 2-D spaces whose layout is *learned* with the GAN, from basic-emotion
labels only; a point ``z`` of either is the generator's condition.

* :class:`LinearSpace` (Approach I, "GANmut"): polar coordinates
  ``z = (θ, ρ)`` on the unit disc. Each basic emotion ``c`` owns a learnable
  direction ``θ_c``; ``ρ`` is the intensity, and the disc ``ρ < τ = 0.2`` is
  neutral. A training batch is split into ``S_c`` (codes along the
  directions, ``(θ_c, ρ)`` with ``ρ ~ U[0, 1]``) and ``S_r`` (codes anywhere,
  ``θ ~ U[0, 2π]``, ``ρ ~ U[0, 1]``).
* :class:`GaussianSpace` (Approach II, "GGANmut"): ``z ∈ [-1, 1]^2`` with one
  Gaussian mode per emotion (neutral included): mean ``μ_c = tanh(w_c)``,
  covariance ``Σ_c = R(φ_c) diag(σ1_c², σ2_c²) R(φ_c)^T`` from two eigenvalues and
  an orientation; ``p_z(c) = softmax_c(-d²_{c,z})`` with the Mahalanobis
  distance ``d_{c,z}``.

Codes are returned in Cartesian coordinates ``[N, 2]`` (what the generator
takes and the discriminator's code head regresses).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from emolab.core.errors import ConfigError


def polar(theta: torch.Tensor, rho: torch.Tensor) -> torch.Tensor:
    """``(θ, ρ) -> ρ (cos θ, sin θ)``, stacked on the last axis."""
    return torch.stack([rho * torch.cos(theta), rho * torch.sin(theta)], dim=-1)


class LinearSpace(nn.Module):
    """The polar space: one learnable direction per basic emotion, neutral at the origin.

    Args:
        n_classes: the number of labels, neutral included.
        neutral: the index of neutral among them.
        tau: the radius of the neutral disc (the paper's 0.2).

    ``angles[k]`` is the direction of the ``k``-th non-neutral class
    (``emotions`` maps it back to the label index); the paper initialises
    them at random, as here (from the global torch generator).
    """

    kind = "linear"

    def __init__(self, n_classes: int = 7, neutral: int = 6, tau: float = 0.2):
        super().__init__()
        if n_classes < 2 or not 0 <= neutral < n_classes:
            raise ConfigError(f"LinearSpace needs n_classes >= 2 and 0 <= neutral < n_classes, "
                              f"got {n_classes}, {neutral}")
        if not 0.0 < tau < 1.0:
            raise ConfigError(f"tau must be in (0, 1), got {tau}")
        self.n_classes, self.neutral, self.tau = n_classes, neutral, tau
        self.emotions = [c for c in range(n_classes) if c != neutral]
        self.angles = nn.Parameter(torch.rand(len(self.emotions)) * 2 * math.pi)
        lookup = torch.full((n_classes,), -1, dtype=torch.long)
        lookup[self.emotions] = torch.arange(len(self.emotions))
        self.register_buffer("_slot", lookup, persistent=False)

    def direction(self, labels: torch.Tensor) -> torch.Tensor:
        """``θ_c`` of each (non-neutral) label."""
        slot = self._slot[labels]
        if (slot < 0).any():
            raise ConfigError("neutral has no direction (it is the disc around the origin)")
        return self.angles[slot]

    def code(self, labels: torch.Tensor, rho: torch.Tensor, phi: torch.Tensor | None = None) -> torch.Tensor:
        """Codes along the directions: ``(θ_c, ρ)``; a neutral label gets a point of
        the neutral disc, ``(φ, τ ρ)`` at angle ``phi`` (0 when None)."""
        is_neutral = labels == self.neutral
        safe = torch.where(is_neutral, torch.full_like(labels, self.emotions[0]), labels)
        theta = self.direction(safe)
        if phi is None:
            phi = torch.zeros_like(rho)
        theta = torch.where(is_neutral, phi, theta)
        r = torch.where(is_neutral, rho * self.tau, rho)
        return polar(theta, r)

    def targets(self, labels: torch.Tensor, rho: torch.Tensor) -> torch.Tensor:
        """The class ``D`` should see in ``G(x, (θ_c, ρ))``: ``c``, or neutral inside ``ρ < τ``."""
        return torch.where(rho < self.tau, torch.full_like(labels, self.neutral), labels)

    def sample_split(self, labels: torch.Tensor, n_c: int):
        """One training batch's codes: the first ``n_c`` along the directions of
        ``labels[:n_c]`` (``S_c``), the rest anywhere in the disc (``S_r``).

        Returns ``(z [N, 2], rho [N], targets [n_c])``; ``rho`` is the radius
        of every code (the intensity eq. 7 asks ``D`` to read)."""
        n = len(labels)
        if not 0 <= n_c <= n:
            raise ConfigError(f"n_c must be in [0, {n}], got {n_c}")
        dev = self.angles.device
        rho = torch.rand(n, device=dev)
        phi = torch.rand(n, device=dev) * 2 * math.pi
        lab = labels[:n_c]
        z_c = self.code(lab, rho[:n_c], phi[:n_c])
        rho_c = torch.where(lab == self.neutral, rho[:n_c] * self.tau, rho[:n_c])
        z_r = polar(phi[n_c:], rho[n_c:])
        return torch.cat([z_c, z_r]), torch.cat([rho_c, rho[n_c:]]), self.targets(lab, rho_c)

    def sample_uniform(self, n: int) -> torch.Tensor:
        """``θ ~ U[0, 2π]``, ``ρ ~ U[0, 1]`` (the paper's sampling for FED)."""
        dev = self.angles.device
        return polar(torch.rand(n, device=dev) * 2 * math.pi, torch.rand(n, device=dev))

    def extreme(self, labels: torch.Tensor) -> torch.Tensor:
        """``(θ_c, 1)`` (the origin for neutral): the codes of Table 3."""
        z = self.code(labels, torch.ones(len(labels), device=self.angles.device))
        return torch.where((labels == self.neutral)[:, None], torch.zeros_like(z), z)

    def unit_directions(self) -> torch.Tensor:
        """``[n_classes - 1, 2]`` unit vectors of the learned directions (order of ``emotions``)."""
        a = self.angles.detach()
        return torch.stack([torch.cos(a), torch.sin(a)], dim=1)


class GaussianSpace(nn.Module):
    """The Gaussian space on ``[-1, 1]^2``: one learnable mode ``(μ_c, Σ_c)`` per class.

    Args:
        n_classes: the number of labels (neutral is a mode too, as in the paper's Fig. 3).
        sigma: the initial standard deviation along both axes.
        init_scale: the spread of the random initial ``w_c``.
    """

    kind = "gaussian"

    def __init__(self, n_classes: int = 7, sigma: float = 0.3, init_scale: float = 0.6):
        super().__init__()
        if n_classes < 2 or sigma <= 0 or init_scale < 0:
            raise ConfigError("GaussianSpace needs n_classes >= 2, sigma > 0 and init_scale >= 0")
        self.n_classes = n_classes
        self.w = nn.Parameter(torch.randn(n_classes, 2) * init_scale)
        self.log_sigma = nn.Parameter(torch.full((n_classes, 2), math.log(sigma)))
        self.orientation = nn.Parameter(torch.rand(n_classes) * math.pi)

    @property
    def means(self) -> torch.Tensor:
        """``μ_c = tanh(w_c)``, ``[n_classes, 2]``."""
        return torch.tanh(self.w)

    def covariances(self) -> torch.Tensor:
        """``Σ_c = R diag(σ1², σ2²) R^T``, ``[n_classes, 2, 2]``."""
        c, s = torch.cos(self.orientation), torch.sin(self.orientation)
        rot = torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)
        var = torch.exp(2 * self.log_sigma)
        return rot @ torch.diag_embed(var) @ rot.transpose(-1, -2)

    def mahalanobis2(self, z: torch.Tensor) -> torch.Tensor:
        """``d²_{c,z}`` for every code and mode, ``[N, n_classes]``."""
        c, s = torch.cos(self.orientation), torch.sin(self.orientation)
        diff = z[:, None, :] - self.means[None]                          # [N, K, 2]
        # coordinates in each mode's eigenbasis, divided by its standard deviations
        u = (diff[..., 0] * c + diff[..., 1] * s) / torch.exp(self.log_sigma[:, 0])
        v = (-diff[..., 0] * s + diff[..., 1] * c) / torch.exp(self.log_sigma[:, 1])
        return u * u + v * v

    def distribution(self, z: torch.Tensor) -> torch.Tensor:
        """``p_z(c) = softmax_c(-d²_{c,z})``, ``[N, n_classes]``."""
        return torch.softmax(-self.mahalanobis2(z), dim=1)

    def log_distribution(self, z: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(-self.mahalanobis2(z), dim=1)

    def sample_split(self, labels: torch.Tensor, n_c: int):
        """``S_c``: the modes ``μ_c`` of ``labels[:n_c]``; ``S_r``: ``z ~ U([-1, 1]^2)``.

        Returns ``(z [N, 2], targets [n_c])``."""
        n = len(labels)
        if not 0 <= n_c <= n:
            raise ConfigError(f"n_c must be in [0, {n}], got {n_c}")
        z_r = torch.rand(n - n_c, 2, device=self.w.device) * 2 - 1
        return torch.cat([self.means[labels[:n_c]], z_r]), labels[:n_c]

    def sample_uniform(self, n: int) -> torch.Tensor:
        return torch.rand(n, 2, device=self.w.device) * 2 - 1

    def extreme(self, labels: torch.Tensor) -> torch.Tensor:
        """``μ_c``: the codes of Table 3."""
        return self.means[labels]

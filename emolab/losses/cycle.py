"""Cycle-consistency (eq. 5 of Zhu et al., 2018; Zhu et al., 2017) and identity mapping."""

from __future__ import annotations

import torch
from torch import nn


def _mean_absolute_error(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    return (a - b).abs().mean()


class CycleConsistencyLoss(nn.Module):
    """``E ||F(G(r)) - r||_1``: the mean absolute reconstruction error of one cycle.

    The full eq. (5) is the sum of this loss over both directions.
    """

    def forward(self, reconstructed: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
        return _mean_absolute_error(reconstructed, original)


class IdentityLoss(nn.Module):
    """``E_t ||G(t) - t||_1``: a translator fed a sample of its own output domain
    should leave it alone (CycleGAN's identity mapping, Zhu et al., 2017, §5.2;
    Taigman et al., 2017).

    For ``G: R -> T`` called on a real ``t``, the mean absolute error between
    ``G(t)`` and ``t``. CycleGAN adds
    ``lambda_idt * lambda_cyc * (L_idt(G(t), t) + L_idt(F(r), r))`` to the
    generators' loss; it only makes sense when R and T have the same shape.
    """

    def forward(self, translated: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
        return _mean_absolute_error(translated, original)

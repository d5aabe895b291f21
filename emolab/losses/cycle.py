"""Cycle-consistency (eq. 5 of Zhu et al., 2018; Zhu et al., 2017)."""

from __future__ import annotations

import torch
from torch import nn


class CycleConsistencyLoss(nn.Module):
    """``E ||F(G(r)) - r||_1``: the mean absolute reconstruction error of one cycle.

    The full eq. (5) is the sum of this loss over both directions.
    """

    def forward(self, reconstructed: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
        if reconstructed.shape != original.shape:
            raise ValueError(f"shapes differ: {tuple(reconstructed.shape)} vs {tuple(original.shape)}")
        return (reconstructed - original).abs().mean()

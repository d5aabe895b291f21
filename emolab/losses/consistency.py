"""Semantic consistency between a source image and its adaptation, and smoothness of the adaptation.

* :func:`label_consistency` -- SIGAN's L_LabelConst (Mao et al., 2018, eq. 4):
  the cross-entropy of the classifier on adapted images with the source
  labels, ``-y . log F(E(g^s))`` (Bousmalis et al.'s "task-specific loss").
* :func:`f_constancy` -- DTN's L_CONST (Taigman et al., 2017): the squared
  distance between the features of a source image and of its adaptation,
  ``||f(x^s) - f(G(x^s))||^2``, the stronger constraint SIGAN replaces.
* :func:`total_variation` -- the anisotropic TV of SIGAN's eq. (6),
  ``sum_ij ((z_{i,j+1} - z_ij)^2 + (z_{i+1,j} - z_ij)^2)^{B/2}``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from emolab.core.errors import ConfigError


def label_consistency(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Eq. (4), batch mean: ``logits`` ``[N, K]`` of ``F(E(g^s))``, ``labels`` ``[N]`` the source labels."""
    if logits.ndim != 2 or labels.shape != (logits.shape[0],):
        raise ConfigError(f"label_consistency needs logits [N, K] and labels [N], got {tuple(logits.shape)} "
                          f"and {tuple(labels.shape)}")
    return F.cross_entropy(logits.float(), labels)


def f_constancy(features_source: torch.Tensor, features_adapted: torch.Tensor) -> torch.Tensor:
    """DTN's f-constancy: ``sum_k (f(x^s)_k - f(G(x^s))_k)^2``, batch mean (the source side is a target:
    detached)."""
    if features_source.shape != features_adapted.shape:
        raise ConfigError(f"f_constancy needs features of one shape, got {tuple(features_source.shape)} and "
                          f"{tuple(features_adapted.shape)}")
    return (features_source.detach() - features_adapted).pow(2).flatten(1).sum(1).mean()


def total_variation(z: torch.Tensor, beta: float = 1.0, eps: float = 1e-8) -> torch.Tensor:
    """Eq. (6) per image, summed over pixels and channels, averaged over the batch.

    ``beta`` is the paper's ``B`` (1: the sum of gradient magnitudes); ``eps``
    keeps the square root differentiable on flat regions. The last row and
    column, which have no forward neighbour, are left out.
    """
    if z.ndim != 4:
        raise ConfigError(f"total_variation expects images [N, C, H, W], got {tuple(z.shape)}")
    if beta <= 0:
        raise ConfigError(f"total_variation needs B > 0, got {beta}")
    dx = z[..., :-1, 1:] - z[..., :-1, :-1]
    dy = z[..., 1:, :-1] - z[..., :-1, :-1]
    return (dx.pow(2) + dy.pow(2) + eps).pow(beta / 2).flatten(1).sum(1).mean()


__all__ = ["f_constancy", "label_consistency", "total_variation"]

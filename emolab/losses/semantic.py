"""Emotional semantic consistency (CycleEmotionGAN, Zhao et al., 2019, eq. 5-7).

A translator ``G_ST`` that adapts source images to the target domain should
not change what they express. With a classifier ``F`` that outputs emotion
probabilities, eq. (5) penalises the distance between its predictions on a
source image and on its adaptation,

(5)  L_ESC(G_ST) = E_{x_S} d(F(x_S), F(G_ST(x_S))),

with two choices of ``d``:

(7)  SKL(p || q) = KL(p || q) + KL(q || p),  KL(p || q) = sum_l p_l ln p_l - p_l ln q_l,

the symmetrised Kullback-Leibler divergence between the two distributions;
and Mikels' wheel. On the wheel the distance between two emotions is
``1 + steps`` (:func:`emolab.data.taxonomy.wheel_distance`), and the paper
uses it between *labels*. Our ``F`` gives probability vectors, so we use its
differentiable extension, the **expected wheel distance** between a class
drawn from ``p`` and one drawn from ``q``,

     d_W(p, q) = sum_ij p_i D_ij q_j = p^T D q,   D_ij = 1 + steps(i, j).

For one-hot ``p`` and ``q`` it is exactly the paper's label distance, so it
equals 1 (its minimum, since every ``D_ij >= 1``) when both predictions are
sure of the same class, and grows by one with every step between the two
classes; for soft predictions it interpolates linearly. Unlike SKL it knows
that amusement is closer to excitement than to sadness. It is also not zero
for two equal but unsure predictions (``p^T D p > 1`` unless ``p`` is
one-hot): it asks the adapted image to be as *clearly* the source's emotion
as the source image was.

Which input gets the gradient: in Algorithm 1 only the generators are
updated with this loss (``F`` is fixed during that step); pass ``F``'s
outputs on both images and let the optimiser decide what moves.
"""

from __future__ import annotations

import torch
from torch import nn

from emolab.core.errors import ConfigError
from emolab.data.taxonomy import MIKELS8, wheel_distance_matrix

ESC_DISTANCES = ("skl", "mikels")


def _check_probs(p: torch.Tensor, q: torch.Tensor) -> None:
    if p.shape != q.shape or p.ndim != 2:
        raise ValueError(f"expected two (batch, classes) probability tensors of one shape, "
                         f"got {tuple(p.shape)} and {tuple(q.shape)}")


def symmetric_kl(p: torch.Tensor, q: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Eq. (7) per row: ``KL(p||q) + KL(q||p)`` for ``(batch, classes)`` probabilities.

    ``eps`` keeps the logarithms finite where a probability is exactly zero.
    """
    _check_probs(p, q)
    lp, lq = (p + eps).log(), (q + eps).log()
    return ((p - q) * (lp - lq)).sum(dim=1)  # = KL(p||q) + KL(q||p), expanded


def mikels_distance(p: torch.Tensor, q: torch.Tensor, D: torch.Tensor | None = None) -> torch.Tensor:
    """Expected Mikels' wheel distance ``p^T D q`` per row (see the module's text).

    ``D`` defaults to the 8x8 wheel-distance matrix in :data:`MIKELS8` order.
    """
    _check_probs(p, q)
    if D is None:
        D = torch.tensor(wheel_distance_matrix(MIKELS8), dtype=p.dtype, device=p.device)
    if D.shape != (p.shape[1], p.shape[1]):
        raise ValueError(f"distance matrix {tuple(D.shape)} does not match {p.shape[1]} classes")
    return ((p @ D) * q).sum(dim=1)


class EmotionalSemanticConsistencyLoss(nn.Module):
    """Eq. (5): the batch mean of ``d(F(x_S), F(G_ST(x_S)))``.

    Args:
        distance: ``"skl"`` (eq. 7) or ``"mikels"`` (the expected wheel distance).
        classes: the class order of ``F``'s outputs, for ``"mikels"`` (Mikels'
            eight emotions in :data:`MIKELS8` order by default); ``"skl"`` takes any
            classes (e.g. facial expressions).
        from_logits: the inputs are logits (softmax is applied) rather than probabilities.
    """

    def __init__(self, distance: str = "skl", classes: tuple[str, ...] = MIKELS8, from_logits: bool = True):
        super().__init__()
        if distance not in ESC_DISTANCES:
            raise ConfigError(f"unknown ESC distance {distance!r}; choose one of {ESC_DISTANCES}")
        self.distance = distance
        self.from_logits = from_logits
        # the wheel only exists for Mikels' emotions; SKL works on any classes (e.g. faces)
        D = wheel_distance_matrix(tuple(classes)) if distance == "mikels" else [[0.0]]
        self.register_buffer("D", torch.tensor(D, dtype=torch.float32), persistent=False)

    def forward(self, source: torch.Tensor, adapted: torch.Tensor) -> torch.Tensor:
        p, q = (source.softmax(1), adapted.softmax(1)) if self.from_logits else (source, adapted)
        if self.distance == "skl":
            return symmetric_kl(p, q).mean()
        return mikels_distance(p, q, self.D.to(p.dtype)).mean()


__all__ = ["ESC_DISTANCES", "EmotionalSemanticConsistencyLoss", "mikels_distance", "symmetric_kl"]

"""GANmut's evaluation (§5.2-5.3), as plain functions of a judge's outputs.

The paper judges generated faces with a separately trained VGGNet ``C``; here
any classifier's softmax and penultimate features serve.

* :func:`smoothness_score` (§5.2, Table 1): along an interpolation from neutral
  to emotion ``c`` in 10 steps, the largest rise of ``C(c | x_j)`` in one step
  divided by its range ``max_j - min_j``. 0.1 is a perfectly even ramp, 1 a
  single jump; lower is smoother.
* :func:`ere_targets` and :func:`emotion_reconstruction_error` (§5.3, Table 2):
  per batch of 16 test images, the judge's most ambiguous softmax (the one
  whose 3rd, setting 1, or 2nd, setting 2, largest score is highest) is the
  target; a grid search finds the code whose generated face the judge scores
  closest to it (MSE); ERE is that smallest MSE, averaged.
* :func:`frechet_distance` (FED, Table 2): the Fréchet distance of two
  Gaussians fitted to features.
* :func:`procrustes_angle_errors`: the angle between each learned direction
  and its true direction after the best orthogonal map (rotation or
  reflection) between the two sets of unit vectors; a learned 2-D space is
  only defined up to such a map.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from emolab.core.errors import ConfigError


def smoothness_score(scores: torch.Tensor | np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """``max_j (s_{j+1} - s_j) / (max_j s_j - min_j s_j)`` per row of ``scores [N, J]``.

    A row that never rises scores 0 in the numerator (clipped at 0); a flat
    row (range below ``eps``) scores 1, the worst: the emotion never appears.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2 or s.shape[1] < 2:
        raise ConfigError(f"scores must be [N, J] with J >= 2 steps, got {s.shape}")
    rise = np.clip(np.diff(s, axis=1).max(axis=1), 0.0, None)
    span = s.max(axis=1) - s.min(axis=1)
    return np.where(span > eps, rise / np.maximum(span, eps), 1.0)


def stargan_interpolation(label: int, neutral: int, n_classes: int, steps: int = 10) -> torch.Tensor:
    """StarGAN's codes from one-hot neutral to one-hot ``label``: ``[steps + 1, n_classes]``."""
    t = torch.linspace(0, 1, steps + 1)[:, None]
    return (1 - t) * torch.eye(n_classes)[neutral] + t * torch.eye(n_classes)[label]


def ere_targets(probs: torch.Tensor, top: int, batch: int = 16) -> torch.Tensor:
    """Indices of the targets: in each batch of ``batch`` rows, the row whose
    ``top``-th largest probability is highest (the most ambiguous)."""
    if top < 1 or top > probs.shape[1]:
        raise ConfigError(f"top must be in [1, {probs.shape[1]}], got {top}")
    kth = probs.topk(top, dim=1).values[:, -1]
    out = [start + int(kth[start:start + batch].argmax()) for start in range(0, len(probs) - batch + 1, batch)]
    if not out:
        raise ConfigError(f"ERE needs at least one full batch of {batch} images, got {len(probs)}")
    return torch.tensor(out)


def polar_grid(radius_step: float = 0.05, n_angles: int = 21) -> torch.Tensor:
    """The paper's GANmut grid: radii ``0.05, 0.1, ..., 1`` times ``n_angles`` angles, plus the origin."""
    radii = torch.arange(1, round(1 / radius_step) + 1) * radius_step
    angles = torch.arange(n_angles) * (2 * math.pi / n_angles)
    r, a = torch.meshgrid(radii, angles, indexing="ij")
    pts = torch.stack([r * torch.cos(a), r * torch.sin(a)], -1).reshape(-1, 2)
    return torch.cat([torch.zeros(1, 2), pts])


def square_grid(step: float = 0.1) -> torch.Tensor:
    """The paper's GGANmut grid on ``[-1, 1]^2`` with ``step``."""
    ticks = torch.linspace(-1, 1, round(2 / step) + 1)
    u, v = torch.meshgrid(ticks, ticks, indexing="ij")
    return torch.stack([u, v], -1).reshape(-1, 2)


def emotion_reconstruction_error(judge_probs: Callable[[torch.Tensor], torch.Tensor], codes: torch.Tensor,
                                 target: torch.Tensor) -> tuple[float, int]:
    """``min_k MSE(judge_probs(codes)[k], target)`` and the best ``k``.

    ``judge_probs(codes)`` returns the judge's softmax of the face generated
    with each code (``[K, n_classes]``)."""
    mse = (judge_probs(codes) - target[None]).pow(2).mean(1)
    k = int(mse.argmin())
    return float(mse[k]), k


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """``||μ_a - μ_b||^2 + tr(Σ_a + Σ_b - 2 (Σ_a Σ_b)^{1/2})`` of features ``[N, d]``."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ConfigError(f"features must be [N, d] with equal d and N >= 2, got {a.shape} and {b.shape}")
    mu = a.mean(0) - b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # tr (Σ_a Σ_b)^{1/2} = Σ sqrt(eig(Σ_a Σ_b)); the eigenvalues are real and >= 0 in exact arithmetic
    eig = np.linalg.eigvals(ca @ cb)
    tr_sqrt = np.sqrt(np.clip(eig.real, 0.0, None)).sum()
    return float(mu @ mu + np.trace(ca) + np.trace(cb) - 2 * tr_sqrt)


def procrustes_angle_errors(learned: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Angle errors (degrees) of unit vectors ``learned [K, 2]`` against ``true [K, 2]``
    after the orthogonal ``R`` minimising ``Σ ||R l_k - t_k||^2``; returns ``(errors, R)``."""
    learned, true = np.asarray(learned, np.float64), np.asarray(true, np.float64)
    if learned.shape != true.shape or learned.ndim != 2 or learned.shape[1] != 2:
        raise ConfigError(f"learned and true must both be [K, 2], got {learned.shape} and {true.shape}")
    unit = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)  # noqa: E731
    lu, tu = unit(learned), unit(true)
    u, _, vt = np.linalg.svd(tu.T @ lu)
    R = u @ vt
    mapped = lu @ R.T
    cos = np.clip((mapped * tu).sum(1), -1.0, 1.0)
    return np.degrees(np.arccos(cos)), R


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two 1-D arrays (no ties expected)."""
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = math.sqrt(float((ra * ra).sum() * (rb * rb).sum()))
    return float((ra * rb).sum() / den) if den else 0.0

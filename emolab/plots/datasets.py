"""Pictures of datasets: a grid of samples per class, and the class histogram."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torchvision.utils import make_grid

from emolab.plots.style import apply_style


def class_examples(dataset, per_class: int = 8, seed: int = 0) -> dict[str, list[int]]:
    """Up to ``per_class`` random item indices of every class (seeded)."""
    targets = np.asarray(dataset.targets)
    rng = np.random.default_rng(seed)
    out = {}
    for k, name in enumerate(dataset.classes):
        idx = np.flatnonzero(targets == k)
        out[name] = sorted(rng.choice(idx, size=min(per_class, len(idx)), replace=False).tolist())
    return out


def _as_rgb(img: torch.Tensor) -> torch.Tensor:
    img = torch.as_tensor(img, dtype=torch.float32)
    return img.expand(3, -1, -1) if img.shape[0] == 1 else img[:3]


def fig_class_grid(dataset, per_class: int = 8, seed: int = 0, title: str | None = None) -> Figure:
    """One row per class, ``per_class`` samples each, class names on the left."""
    apply_style()
    examples = class_examples(dataset, per_class, seed)
    first = _as_rgb(dataset[next(i for ids in examples.values() for i in ids)][0])
    blank = torch.ones_like(first)
    rows = []
    for ids in examples.values():
        imgs = [_as_rgb(dataset[i][0]) for i in ids]
        imgs += [blank] * (per_class - len(imgs))
        rows.extend(imgs)
    grid = make_grid(torch.stack(rows), nrow=per_class, padding=2, pad_value=1.0)
    n_rows = len(examples)
    # Show small images at least 64 px large, large ones pixel for pixel: a
    # grid upscaled beyond that only makes the PNG heavier.
    scale = max(1.0, 64 / first.shape[-1]) / 100  # inches per grid pixel at 100 dpi
    fig, ax = plt.subplots(figsize=(grid.shape[2] * scale + 1.4, grid.shape[1] * scale + 0.5),
                           dpi=100, constrained_layout=True)
    ax.imshow(grid.permute(1, 2, 0).clamp(0, 1).numpy(), interpolation="nearest")
    h = grid.shape[1] / n_rows
    ax.set_yticks([h * (r + 0.5) for r in range(n_rows)], list(examples))
    ax.set_xticks([])
    ax.grid(False)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(title or getattr(dataset, "name", ""))
    return fig


def fig_class_histogram(counts: dict[str, int], title: str = "") -> Figure:
    """Bar chart of class counts."""
    apply_style()
    fig, ax = plt.subplots(figsize=(max(4.0, 0.7 * len(counts) + 1.5), 2.8), constrained_layout=True)
    ax.bar(list(counts), list(counts.values()), color="0.35")
    for x, (_, n) in enumerate(counts.items()):
        ax.text(x, n, str(n), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("images")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=30)
    return fig

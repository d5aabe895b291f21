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


def circumplex_points(taxonomies: dict[str, tuple[str, ...]], coords: dict[str, tuple[float, float]]):
    """The anchors of several taxonomies on the valence-arousal plane, one point per place:
    ``[(valence, arousal, names, owners)]`` where ``names`` are the class names drawn
    there (``angry`` and ``anger`` share a place) and ``owners`` the taxonomies they come
    from, in the order of ``taxonomies``."""
    points: dict[tuple[float, float], tuple[list[str], list[str]]] = {}
    for owner, names in taxonomies.items():
        for name in names:
            names_here, owners = points.setdefault(tuple(coords[name]), ([], []))
            if name not in names_here:
                names_here.append(name)
            if owner not in owners:
                owners.append(owner)
    return [(v, a, names, owners) for (v, a), (names, owners) in points.items()]


def fig_circumplex(taxonomies: dict[str, tuple[str, ...]], coords: dict[str, tuple[float, float]],
                   colors: tuple[str, ...] = ("C0", "C3"), both_color: str = "C4") -> Figure:
    """The classes of two taxonomies (e.g. Ekman's and Mikels') as anchors on Russell's
    circumplex. Classes at the same place share one point and one label (``angry /
    anger``); a point of both taxonomies is drawn in ``both_color``. Labels sit on the
    outer side of their point (left of the negative-valence ones), so that the crowded
    upper-left quadrant stays legible."""
    apply_style()
    owners_all = list(taxonomies)
    if len(owners_all) != len(colors):
        raise ValueError(f"one colour per taxonomy: {len(owners_all)} taxonomies, {len(colors)} colours")
    color_of = dict(zip(owners_all, colors))
    markers = dict(zip(owners_all, ("o", "s", "^", "D")))
    fig, ax = plt.subplots(figsize=(6.2, 5.4), constrained_layout=True)
    points = sorted(circumplex_points(taxonomies, coords), key=lambda p: (p[0], -p[1]))
    for v, a, names, owners in points:
        color = color_of[owners[0]] if len(owners) == 1 else both_color
        ax.scatter(v, a, marker=markers[owners[0]], s=46, color=color, zorder=3)
        # Label beside the point, away from the centre. Of two points closer than 0.2
        # side by side, the right one's label goes above it, and the left one's (on the
        # right half) below it.
        def near(dv: float) -> bool:
            return any(0 < dv * (v - v2) < 0.2 and abs(a - a2) < 0.1 for v2, a2, _, _ in points)

        if near(1):
            xy, ha, va = (0, 7), "center", "bottom"
        elif near(-1) and v >= 0:
            xy, ha, va = (0, -7), "center", "top"
        elif v < 0:
            xy, ha, va = (-7, 0), "right", "center"
        else:
            xy, ha, va = (7, 0), "left", "center"
        ax.annotate(" / ".join(names), (v, a), textcoords="offset points", xytext=xy, ha=ha, va=va,
                    fontsize=8, color=color)
    ax.axhline(0, color="0.6", lw=0.8)
    ax.axvline(0, color="0.6", lw=0.8)
    handles = [plt.Line2D([], [], ls="", marker=markers[o], color=color_of[o], label=o) for o in owners_all]
    handles.append(plt.Line2D([], [], ls="", marker=markers[owners_all[0]], color=both_color,
                              label=" and ".join(owners_all)))
    ax.legend(handles=handles, loc="lower left", fontsize=8)
    ax.set(xlim=(-1, 1), ylim=(-1, 1), xlabel="valence", ylabel="arousal", title="Anchors on Russell's circumplex")
    ax.set_aspect("equal")
    return fig

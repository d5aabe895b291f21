"""Figures of the CycleGAN augmentation chapter (Zhu et al., 2018, Fig. 3, Fig. 4, Tables 1-2)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from torchvision.utils import make_grid

from emolab.data.taxonomy import EKMAN7
from emolab.experiments.augment import (
    PAPER_RESULTS,
    REFERENCE,
    SETTINGS,
    TABLE1_TARGETS,
)
from emolab.plots.style import EMOTION_COLORS, GENERATED_COLOR, apply_style

#: How the settings of Tables 1-2 are written in tables and legends.
SETTING_LABELS = {
    "baseline": "baseline",
    "plus_disgust": "+disgust",
    "plus_sad": "+sad",
    "plus_both": "+both",
    "dag": "DAG",
}
#: The paper's Fig. 4 panels: which generated classes join the real faces.
TSNE_PANELS = (
    ("(a) baseline", ()),
    ("(b) + generated disgust", ("disgust",)),
    ("(c) + generated sad", ("sad",)),
    ("(d) + both", ("disgust", "sad")),
)
TRAINING_CURVES = ("G_adv_T", "D_T", "cycle")


# ----------------------------------------------------------------------------- Fig. 3
def _pad(x: torch.Tensor, n: int, like: torch.Tensor) -> torch.Tensor:
    """The first ``n`` images of ``x``, white images after the last one."""
    x = x[:n].detach().float().cpu()
    blank = torch.ones((n - len(x), *like.shape[1:]))
    return torch.cat([x, blank]) if len(blank) else x


def _image_rows(ax, rows: dict[str, torch.Tensor], n: int, title: str) -> None:
    """Rows of ``n`` grey images in [-1, 1] on one Axes, the row names on the left."""
    images = torch.cat(list(rows.values()))
    grid = make_grid(images, nrow=n, padding=2, pad_value=1.0)[0]
    ax.imshow(grid.numpy(), cmap="gray", vmin=-1.0, vmax=1.0, interpolation="nearest")
    h = grid.shape[0] / len(rows)
    ax.set_yticks([h * (r + 0.5) for r in range(len(rows))], list(rows))
    ax.set_xticks([])
    ax.grid(False)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(title)


def _sources(result) -> torch.Tensor | None:
    sources = getattr(result, "sources", None)
    if isinstance(sources, dict):
        sources = sources.get("x")
    return sources


def fig_generated_samples(result, n: int = 8, seed: int = 0) -> Figure:
    """Fig. 3: per class, ``n`` faces translated from neutral ones (left) beside ``n`` real
    training faces (right, a seeded random pick). The neutral sources, where the result
    keeps them (``result.sources``), make the first row: column ``j`` of every generated
    row is the translation of source ``j``."""
    apply_style()
    x, y = result.data["x_train"], torch.as_tensor(result.data["y_train"])
    rng = np.random.default_rng(seed)
    classes = [c for c in EKMAN7 if c in result.generated]
    like = x[:1]

    def real(c: str) -> torch.Tensor:
        idx = np.flatnonzero(y.numpy() == EKMAN7.index(c))
        return _pad(x[np.sort(rng.choice(idx, size=min(n, len(idx)), replace=False))], n, like)

    generated, reals = {}, {}
    sources = _sources(result)
    if sources is not None:
        generated[f"{REFERENCE} (source)"] = _pad(sources, n, like)
        reals[REFERENCE] = real(REFERENCE)
    for c in classes:
        generated[c] = _pad(result.generated[c], n, like)
        reals[c] = real(c)

    size = x.shape[-1]
    scale = max(1.0, 64 / size) / 100  # inches per grid pixel at 100 dpi
    width, height = (n * (size + 2) + 2) * scale, (len(generated) * (size + 2) + 2) * scale
    # One panel above the other: side by side, a book column shrinks faces of 32 px to
    # half the size they are drawn at here.
    fig, axes = plt.subplots(2, 1, figsize=(width + 2.4, 2 * height + 1.0), dpi=100,
                             constrained_layout=True)
    _image_rows(axes[0], generated, n, f"generated: G({REFERENCE}) → class")
    _image_rows(axes[1], reals, n, "real training faces")
    return fig


# ----------------------------------------------------------------------------- Fig. 4
def _stratified(y: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """At most ``total`` indices of ``y``, each class in proportion to its size (largest
    remainders), drawn without replacement; sorted."""
    if len(y) <= total:
        return np.arange(len(y))
    classes, counts = np.unique(y, return_counts=True)
    share = total * counts / counts.sum()
    quota = np.floor(share).astype(int)
    quota[np.argsort(quota - share)[: total - quota.sum()]] += 1
    keep = [rng.choice(np.flatnonzero(y == c), size=q, replace=False) for c, q in zip(classes, quota)]
    return np.sort(np.concatenate(keep))


def tsne_embedding(result, max_real: int = 1500, seed: int = 0):
    """One 2-D t-SNE of real training faces and the generated Table-1 faces.

    At most ``max_real`` real faces (a seeded, class-stratified subsample), then
    every generated face of :data:`TABLE1_TARGETS` (disgust, then sad), flattened
    pixels, PCA to 50 dimensions, t-SNE. Returns ``(emb [N, 2], labels [N] (class
    index in EKMAN7), is_generated [N] bool)``, real faces first.
    """
    rng = np.random.default_rng(seed)
    y = torch.as_tensor(result.data["y_train"]).numpy()
    keep = _stratified(y, max_real, rng)
    xs = [result.data["x_train"][torch.as_tensor(keep)]]
    labels = [y[keep]]
    for c in TABLE1_TARGETS:
        if c in result.generated:
            xs.append(result.generated[c])
            labels.append(np.full(len(result.generated[c]), EKMAN7.index(c)))
    is_generated = np.concatenate([np.zeros(len(keep), bool)] + [np.ones(len(a), bool) for a in labels[1:]])
    feats = torch.cat([t.detach().float().cpu().flatten(1) for t in xs]).numpy()
    feats = PCA(n_components=min(50, *feats.shape), random_state=seed).fit_transform(feats)
    tsne = TSNE(n_components=2, init="pca", random_state=seed,
                perplexity=min(30.0, (len(feats) - 1) / 3))
    return tsne.fit_transform(feats), np.concatenate(labels), is_generated


def plot_embedding(ax, emb, labels, is_generated, generated: tuple[str, ...] = (), title: str = ""):
    """Real faces as dots, the generated faces of the classes ``generated`` as crosses."""
    for k, c in enumerate(EKMAN7):
        pts = emb[(labels == k) & ~is_generated]
        if len(pts):
            ax.scatter(pts[:, 0], pts[:, 1], s=6, color=EMOTION_COLORS[c], alpha=0.6, linewidths=0,
                       label=f"{c} ({len(pts)})")
    for c in generated:
        pts = emb[(labels == EKMAN7.index(c)) & is_generated]
        ax.scatter(pts[:, 0], pts[:, 1], s=12, marker="x", color=EMOTION_COLORS[c], alpha=0.8,
                   linewidths=0.8, label=f"{c}, generated ({len(pts)})")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def fig_tsne(result, max_real: int = 1500, seed: int = 0, embedding=None) -> Figure:
    """Fig. 4: the training set in one t-SNE embedding, (a) real faces only, (b) with the
    generated disgust faces, (c) with the generated sad ones, (d) with both.
    ``embedding``: a :func:`tsne_embedding` result to reuse."""
    apply_style()
    emb, labels, is_generated = embedding if embedding is not None else tsne_embedding(result, max_real, seed)
    fig, axes = plt.subplots(2, 2, figsize=(8.6, 7.6), sharex=True, sharey=True, constrained_layout=True)
    for ax, (title, classes) in zip(axes.flat, TSNE_PANELS):
        shown = tuple(c for c in classes if c in result.generated)
        plot_embedding(ax, emb, labels, is_generated, shown, title)
    handles = [Line2D([], [], ls="", marker="o", ms=5, color=EMOTION_COLORS[c], label=c)
               for k, c in enumerate(EKMAN7) if ((labels == k) & ~is_generated).any()]
    handles += [Line2D([], [], ls="", marker="x", ms=6, color=EMOTION_COLORS[c], label=f"{c}, generated")
                for c in TABLE1_TARGETS if c in result.generated]
    fig.legend(handles=handles, loc="outside right center", fontsize=8)
    return fig


# ----------------------------------------------------------------------------- training
def fig_training_curves(result, keys: tuple[str, ...] = TRAINING_CURVES) -> Figure:
    """One panel per CycleGAN: its generator's adversarial loss, its target
    discriminator's loss (eq. 2-3) and the cycle loss (eq. 5), against steps."""
    apply_style()
    names = [k for k in result.histories if k.startswith("cyclegan_")]
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.8 * cols + 0.6, 2.9 * rows), sharey=True,
                             constrained_layout=True, squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.remove()
    for ax, name in zip(axes.flat, names):
        h = result.histories[name]
        steps = np.asarray(h["step"])
        for key in keys:
            if key in h and len(h[key]):
                ax.plot(steps[-len(h[key]):], h[key], lw=1.2, label=key,
                        marker="o" if len(h[key]) < 10 else None, ms=3)
        ax.set_title(f"{REFERENCE} → {name.removeprefix('cyclegan_')}")
        ax.set_xlabel("step")
    for ax in axes[:, 0]:
        ax.set_ylabel("loss")
    axes[0, 0].legend(fontsize=8)
    return fig


# ----------------------------------------------------------------------------- Tables 1-2
def accuracy_table(metrics: dict, paper: dict | None = None) -> pd.DataFrame:
    """Overall and per-class test accuracy (percent) of every setting; with ``paper``
    (``PAPER_RESULTS``), the paper's rows below ours (NaN where it gives no number,
    rows where it gives none left out)."""
    classes = list(metrics["class_names"])
    rows = {}
    for s in SETTINGS:
        rows[SETTING_LABELS[s]] = [metrics[f"acc_{s}"], *metrics["per_class"][s]]
    if paper is not None:
        for s in SETTINGS:
            row = [paper.get(f"acc_{s}", np.nan), *paper.get("per_class", {}).get(s, [np.nan] * len(classes))]
            if not np.all(np.isnan(row)):
                rows[f"paper: {SETTING_LABELS[s]}"] = row
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["overall", *classes], dtype=float)
    table.index.name = "setting"
    return table


def fig_per_class(result, paper: dict | None = None) -> Figure:
    """Per-class test accuracy of every setting, grouped by class; the legend gives the
    overall accuracy. With ``paper``, the paper's per-class numbers as black ticks."""
    apply_style()
    m = result.metrics
    classes = list(m["class_names"])
    k, width = len(SETTINGS), 0.8 / len(SETTINGS)
    palette = plt.get_cmap("viridis")(np.linspace(0.05, 0.9, k))
    fig, ax = plt.subplots(figsize=(11, 3.8), constrained_layout=True)
    pos = np.arange(len(classes))
    paper_rows = (paper or {}).get("per_class", {})
    for i, s in enumerate(SETTINGS):
        x = pos + (i - (k - 1) / 2) * width
        ax.bar(x, m["per_class"][s], width, color=palette[i],
               label=f"{SETTING_LABELS[s]} ({m[f'acc_{s}']:.1f}%)")
        if s in paper_rows:
            first = s == next(t for t in SETTINGS if t in paper_rows)
            ax.scatter(x, paper_rows[s], marker="_", s=60, color="k", zorder=3,
                       label="paper (FER2013)" if first else None)
    ax.set_xticks(pos, classes)
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 105)
    ax.legend(fontsize=8, ncols=3 if paper is not None else k, loc="lower center",
              bbox_to_anchor=(0.5, 1.0), frameon=False)
    return fig


# ----------------------------------------------------------------------------- ground truth
#: The ground-truth columns a reader compares, as ``(group, column) -> metrics key``.
GROUND_TRUTH_COLUMNS = {
    ("pattern match", "generated"): "pattern_match_generated",
    ("pattern match", "real"): "pattern_match_real",
    ("pattern match", f"{REFERENCE} source"): "pattern_match_source",
    ("intensity", "generated"): "intensity_generated",
    ("intensity", "real"): "intensity_real",
    ("intensity", "real, true"): "intensity_real_true",
    ("identity", "kept"): "identity_kept",
}


def ground_truth_table(metrics: dict) -> pd.DataFrame | None:
    """The ground truth of the generated faces, one row per class and the columns of
    :data:`GROUND_TRUTH_COLUMNS` under short two-level headers (``metrics``: a run's
    metrics.json). ``None`` where the run measured no ground truth (real data)."""
    gt = metrics.get("ground_truth")
    if not gt:
        return None
    columns = {label: key for label, key in GROUND_TRUTH_COLUMNS.items() if all(key in v for v in gt.values())}
    table = pd.DataFrame({label: [gt[c][key] for c in gt] for label, key in columns.items()}, index=list(gt))
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    table.index.name = "class"
    return table.astype(float)


def fig_ground_truth(result) -> Figure | None:
    """EmoFaces only: how often a face's action pattern is nearest its class's prototype
    (generated, real, and the neutral sources as the floor), and how much of the source's
    identity a generated face keeps. ``None`` where the result has no ground truth."""
    gt = result.metrics.get("ground_truth")
    if not gt:
        return None
    apply_style()
    classes = sorted(gt, key=lambda c: EKMAN7.index(c) if c in EKMAN7 else len(EKMAN7))
    pos = np.arange(len(classes))
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), constrained_layout=True,
                             gridspec_kw={"width_ratios": [3, 2]})
    bars = [(label, key, color) for label, key, color in (
        ("generated", "pattern_match_generated", GENERATED_COLOR),
        ("real", "pattern_match_real", "0.3"),
        (f"{REFERENCE} source", "pattern_match_source", "0.75"),
    ) if all(key in gt[c] for c in classes)]
    width = 0.8 / len(bars)
    for i, (label, key, color) in enumerate(bars):
        axes[0].bar(pos + (i - (len(bars) - 1) / 2) * width, [gt[c][key] for c in classes], width,
                    color=color, label=label)
    axes[0].set_xticks(pos, classes)
    axes[0].set_ylim(0, 1.05)
    axes[0].set_ylabel("fraction")
    axes[0].set_title("action pattern nearest the class's prototype")
    axes[0].legend(fontsize=8)
    axes[1].bar(pos, [gt[c]["identity_kept"] for c in classes], 0.6, color=GENERATED_COLOR)
    axes[1].axhline(1.0, color="0.3", ls="--", lw=1)
    axes[1].axhline(0.0, color="0.3", lw=0.8)
    axes[1].set_xticks(pos, classes)
    axes[1].set_title("identity kept (1: source's, 0: a stranger's)")
    for ax in axes:
        ax.tick_params(axis="x", rotation=30)
    return fig


def chapter_figures(result) -> dict[str, Figure]:
    """Every figure ``emolab run augment`` saves, by file stem."""
    figures = {
        "generated_samples": fig_generated_samples(result),
        "tsne": fig_tsne(result),
        "training_curves": fig_training_curves(result),
        "per_class": fig_per_class(result, paper=PAPER_RESULTS),
        "ground_truth": fig_ground_truth(result),
    }
    return {k: f for k, f in figures.items() if f is not None}

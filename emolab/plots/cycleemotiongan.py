"""Figures and tables of the CycleEmotionGAN chapter (Zhao et al., 2019, Fig. 4, Figs. 5-6, Tables 1-2).

Every function takes a :class:`~emolab.experiments.cycleemotiongan.CycleEmotionGANResult`
(the tables also take its ``metrics`` dict) and a direction (``"art_to_photo"``,
``"photo_to_art"``, or ``"fer2013_to_ckplus48"`` on the real faces, where there
is no Mikels variant and no lambda sweep).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from torch import nn
from torchvision.utils import make_grid

from emolab.data.taxonomy import MIKELS8
from emolab.experiments.cycleemotiongan import METHOD_LABELS, METHODS
from emolab.methods.cycleemotiongan import PAPER_LAMBDA
from emolab.plots.augment import _stratified
from emolab.plots.style import EMOTION_COLORS, MIKELS_COLORS, apply_style, legend_of_lines, panel_grid

_CB = sns.color_palette("colorblind", 10).as_hex()
#: One colour per method, the same in every figure of the chapter.
METHOD_COLORS = {
    "source_only": "0.45",
    "cyclegan": _CB[0],                # blue
    "cycleemotiongan_skl": _CB[3],     # vermilion
    "cycleemotiongan_mikels": _CB[2],  # green
    "oracle": "0.1",
}
#: The rows of Fig. 4 under the source images: ``(key in result.data[direction], method)``.
ADAPTED_ROWS = (
    ("adapted_cyclegan", "cyclegan"),
    ("adapted_skl", "cycleemotiongan_skl"),
    ("adapted_mikels", "cycleemotiongan_mikels"),
)
#: The baselines drawn as horizontal lines in the lambda figure.
SWEEP_BASELINES = ("source_only", "cyclegan", "oracle")
#: The losses of :func:`fig_training_curves`, one panel each: ``(history key, title)``.
TRAINING_CURVES = (
    ("G_adv_T", "GAN, G_ST (eq. 1)"),
    ("D_T", "D_T (eq. 1)"),
    ("cycle", "cycle (eq. 3)"),
    ("esc", "ESC (eq. 5)"),
    ("task", "task, F (eq. 8)"),
)
_LINESTYLES = ("-", "--", ":", "-.")
_CHAR_EM = 0.6  # a generous mean character width of the sans-serif font, in em


# ----------------------------------------------------------------------------- helpers
def _metrics(result_or_metrics) -> dict:
    """A result's ``metrics``, or the metrics dict itself."""
    return getattr(result_or_metrics, "metrics", result_or_metrics)


def direction_title(direction: str) -> str:
    """``"art_to_photo"`` -> ``"art → photo"``."""
    return direction.replace("_to_", " → ")


def class_colors(classes) -> list:
    """One colour per class name: Mikels' colours, then the basic emotions', then a palette."""
    spare = iter(sns.color_palette("husl", len(classes)))
    return [MIKELS_COLORS.get(c) or EMOTION_COLORS.get(c) or next(spare) for c in classes]


def _entry(result, direction: str, method: str) -> dict | None:
    """``metrics["directions"][direction][method]``, ``None`` where the method did not run."""
    return _metrics(result)["directions"].get(direction, {}).get(method)


def _shown_methods(result, direction: str, methods) -> list[str]:
    """The methods of ``methods`` that ran in ``direction`` (a result with a model for each)."""
    return [m for m in methods if _entry(result, direction, m) is not None
            and m in result.models.get(direction, {})]


def _plain(ax) -> None:
    ax.grid(False)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)


# ----------------------------------------------------------------------------- Fig. 4
def adapted_columns(result, direction: str, n: int = 6, seed: int = 0):
    """The columns of :func:`fig_adapted_images`: ``(source_idx, target_idx, labels)``.

    ``n`` classes present in both the source training set and the target test set
    (a seeded random choice, in class order; with fewer classes than ``n`` they
    repeat), then per column one seeded random source image and one random
    target test image of its class (no image twice).
    """
    d = result.data[direction]
    ys, yt = np.asarray(d["y_source"]), np.asarray(d["y_target"])
    rng = np.random.default_rng(seed)
    classes = np.array([k for k in np.unique(ys) if (yt == k).any()])
    if not len(classes):
        raise ValueError(f"{direction}: no class is present in both the source and the target images")
    if n <= len(classes):
        labels = np.sort(rng.choice(classes, size=n, replace=False))
    else:
        labels = np.sort(np.resize(rng.permutation(classes), n))

    def pick(y: np.ndarray) -> np.ndarray:
        used: set[int] = set()
        out = []
        for k in labels:
            pool = [i for i in np.flatnonzero(y == k) if i not in used]
            if not pool:  # more columns of this class than images: reuse
                pool = list(np.flatnonzero(y == k))
            i = int(rng.choice(pool))
            used.add(i)
            out.append(i)
        return np.array(out)

    return pick(ys), pick(yt), labels


def _grid_image(rows: list[torch.Tensor], n: int):
    """``make_grid`` of the rows (each ``[n, C, H, W]`` in [-1, 1]), white padding; with
    ``imshow`` keywords: grey in [-1, 1] for one channel, RGB in [0, 1] otherwise."""
    images = torch.cat([r.detach().float().cpu().clamp(-1.0, 1.0) for r in rows])
    grid = make_grid(images, nrow=n, padding=2, pad_value=1.0)
    if images.shape[1] == 1:
        return grid[0].numpy(), {"cmap": "gray", "vmin": -1.0, "vmax": 1.0}
    return ((grid + 1.0) / 2.0).clamp(0.0, 1.0).permute(1, 2, 0).numpy(), {}


def fig_adapted_images(result, direction: str, n: int = 6, seed: int = 0) -> Figure:
    """Fig. 4: source images (first row) and their translations into the target domain by
    the CycleGAN and by each CycleEmotionGAN (SKL, Mikels where it ran), column ``j`` of
    every row the same source image; the last row a random target test image of the same
    class for comparison. Column titles: the emotion. Picks: :func:`adapted_columns`."""
    apply_style()
    d = result.data[direction]
    classes = list(_metrics(result)["class_names"])
    src_idx, tgt_idx, labels = adapted_columns(result, direction, n, seed)
    src_sel = torch.as_tensor(src_idx)
    rows = {f"source ({d['source']})": d["x_source"][src_sel]}
    for key, method in ADAPTED_ROWS:
        if d.get(key) is not None:
            rows[METHOD_LABELS[method]] = d[key][src_sel]
    rows[f"target ({d['target']}), same class"] = d["x_target"][torch.as_tensor(tgt_idx)]

    img, kw = _grid_image(list(rows.values()), n)
    size = d["x_source"].shape[-1]
    scale = max(1.0, 64 / size) / 100  # inches per grid pixel at 100 dpi
    width, height = img.shape[1] * scale, img.shape[0] * scale
    names = [classes[k] for k in labels]
    # column titles at 8 pt, else 7 pt, else slanted, whichever first fits a column
    room = 0.95 * (size + 2) * scale / (0.58 * max(map(len, names)) / 72)  # the largest font that fits, pt
    fontsize = 8 if room >= 8 else 7
    slant = room < 7
    title = f"{direction_title(direction)}: source images adapted to the target domain"
    # a fixed layout in inches (constrained layout does not always make room for the row
    # names beside an image axes): row names | grid, column titles and title above
    left = 0.15 + _CHAR_EM * 9 / 72 * max(map(len, rows))
    top = 0.45 + (0.55 if slant else 0.25)
    fig_w = max(left + width + 0.15, 0.3 + _CHAR_EM * 10 / 72 * len(title))
    fig_h = top + height + 0.1
    fig = plt.figure(figsize=(fig_w, fig_h), dpi=100)
    ax = fig.add_axes((left / fig_w, 0.1 / fig_h, width / fig_w, height / fig_h))
    ax.imshow(img, interpolation="nearest", **kw)
    ax.set_yticks([(size + 2) * (r + 0.5) + 1 for r in range(len(rows))], list(rows), fontsize=9)
    ax.set_xticks([(size + 2) * (j + 0.5) + 1 for j in range(n)], names, fontsize=fontsize,
                  rotation=30 if slant else 0, ha="left" if slant else "center", rotation_mode="anchor")
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    _plain(ax)
    fig.suptitle(title, fontsize=10, y=1 - 0.06 / fig_h, va="top")
    return fig


# ----------------------------------------------------------------------------- Figs. 5-6
def _sweeps(metrics: dict) -> dict:
    """``{direction: {"lambdas", "average"}}`` of every swept direction (empty: no sweep)."""
    sweeps = metrics.get("lambda_sweeps")
    if sweeps:
        return sweeps
    one = metrics.get("lambda_sweep")
    return {one["direction"]: one} if one else {}


def fig_lambda_sensitivity(result) -> Figure | None:
    """Figs. 5-6: target accuracy of CycleEmotionGAN against the ESC weight lambda of
    eq. (6), one panel per swept direction, lambda on a symlog axis (it starts at 0, where
    the model is a CycleGAN training F alongside). Dashed lines: that direction's
    source-only, CycleGAN and oracle accuracy; dotted: the paper's lambda (10 for SKL).
    ``None`` where the result has no sweep."""
    m = _metrics(result)
    sweeps = _sweeps(m)
    if not sweeps:
        return None
    apply_style()
    distance = (m.get("lambda_sweep") or {}).get("distance", "skl")
    method = f"cycleemotiongan_{distance}"
    fig, axes = plt.subplots(1, len(sweeps), figsize=(4.6 * len(sweeps) + 1.8, 3.6), sharey=True,
                             constrained_layout=True, squeeze=False)
    for ax, (direction, sweep) in zip(axes[0], sweeps.items()):
        lambdas = np.asarray(sweep["lambdas"], dtype=float)
        ax.plot(lambdas, sweep["average"], marker="o", lw=1.6, color=METHOD_COLORS[method],
                label=METHOD_LABELS[method])
        for base in SWEEP_BASELINES:
            entry = m["directions"].get(direction, {}).get(base)
            if entry is not None:
                ax.axhline(entry["average"], ls="--", lw=1.2, color=METHOD_COLORS[base], label=METHOD_LABELS[base])
        ax.axvline(PAPER_LAMBDA[distance], ls=":", lw=1.2, color="0.4",
                   label=f"paper's λ = {PAPER_LAMBDA[distance]:g}")
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_xticks(lambdas, [f"{lam:g}" for lam in lambdas])
        # 6% of the (symlog) range beside the outermost lambdas, the paper's included
        to_axis = ax.xaxis.get_transform()
        lo, hi = to_axis.transform(np.array([min(lambdas.min(), PAPER_LAMBDA[distance]),
                                             max(lambdas.max(), PAPER_LAMBDA[distance])]))
        ax.set_xlim(*to_axis.inverted().transform(np.array([lo - 0.06 * (hi - lo), hi + 0.06 * (hi - lo)])))
        ax.set_xlabel("λ (ESC weight)")
        ax.set_title(direction_title(direction))
    axes[0, 0].set_ylabel("target test accuracy (%)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", fontsize=8)
    return fig


# ----------------------------------------------------------------------------- t-SNE
@torch.no_grad()
def target_features(net: nn.Module, x: torch.Tensor, batch: int = 256) -> np.ndarray:
    """The classifier's penultimate embedding ``net.features(x)`` as ``[N, D]`` float32,
    in eval mode (the net's mode is restored), on the net's device, ``batch`` at a time."""
    param = next(net.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    was = net.training
    net.eval()
    try:
        feats = [net.features(c.to(device)).float().flatten(1).cpu() for c in x.split(batch)]
    finally:
        net.train(was)
    return torch.cat(feats).numpy()


def _tsne(feats: np.ndarray, seed: int) -> np.ndarray:
    feats = PCA(n_components=min(50, *feats.shape), random_state=seed).fit_transform(feats)
    tsne = TSNE(n_components=2, init="pca", random_state=seed, perplexity=min(30.0, (len(feats) - 1) / 3))
    return tsne.fit_transform(feats)


def fig_tsne_target(result, direction: str, methods=("source_only", "cycleemotiongan_skl"), seed: int = 0,
                    max_points: int = 600) -> Figure:
    """The target test set in each method's feature space (:func:`target_features`, PCA to
    50 dimensions, t-SNE), one panel per method that ran, points coloured by their true
    emotion; titled with the method and its target accuracy. At most ``max_points`` images
    (a seeded, class-stratified subsample, the same for every panel)."""
    apply_style()
    d = result.data[direction]
    classes = list(_metrics(result)["class_names"])
    colors = class_colors(classes)
    y = np.asarray(d["y_target"])
    keep = _stratified(y, max_points, np.random.default_rng(seed))
    x, labels = d["x_target"][torch.as_tensor(keep)], y[keep]
    shown = _shown_methods(result, direction, methods)
    if not shown:
        raise ValueError(f"none of the methods {tuple(methods)} ran in {direction}")
    fig, axes = plt.subplots(1, len(shown), figsize=(4.4 * len(shown) + 1.8, 4.4), constrained_layout=True,
                             squeeze=False)
    for ax, method in zip(axes[0], shown):
        emb = _tsne(target_features(result.models[direction][method], x), seed)
        for k, c in enumerate(classes):
            pts = emb[labels == k]
            if len(pts):
                ax.scatter(pts[:, 0], pts[:, 1], s=9, color=colors[k], alpha=0.75, linewidths=0, label=c)
        ax.set_title(f"{METHOD_LABELS[method]} ({_entry(result, direction, method)['average']:.1f}%)")
        ax.set_xticks([])
        ax.set_yticks([])
    handles = [Line2D([], [], ls="", marker="o", ms=5, color=colors[k], label=c)
               for k, c in enumerate(classes) if (labels == k).any()]
    fig.legend(handles=handles, loc="outside right center", fontsize=8,
               title=f"{d['target']} test images")
    fig.suptitle(f"{direction_title(direction)}: target features")
    return fig


# ----------------------------------------------------------------------------- confusion
def normalised_confusion(cm) -> np.ndarray:
    """A confusion matrix ``[true, predicted]`` in percent of each true class (rows sum to
    100); NaN rows for classes without test images."""
    cm = np.asarray(cm, dtype=float)
    total = cm.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 100.0 * cm / total, np.nan)


def fig_confusion(result, direction: str, methods=("source_only", "cycleemotiongan_skl")) -> Figure:
    """Row-normalised confusion matrices on the target test set (percent of each true
    emotion; the diagonal is the per-class accuracy of Tables 1-2), one panel per method
    that ran, titled with its accuracy."""
    apply_style()
    classes = list(_metrics(result)["class_names"])
    shown = [m for m in methods if _entry(result, direction, m) is not None
             and m in result.confusion.get(direction, {})]
    if not shown:
        raise ValueError(f"none of the methods {tuple(methods)} ran in {direction}")
    side = 0.5 * len(classes) + 1.6
    fig, axes = plt.subplots(1, len(shown), figsize=(side * len(shown) + 1.0, side), constrained_layout=True,
                             squeeze=False)
    for i, (ax, method) in enumerate(zip(axes[0], shown)):
        pct = normalised_confusion(result.confusion[direction][method])
        last = i == len(shown) - 1
        sns.heatmap(pct, ax=ax, vmin=0, vmax=100, cmap="Blues", annot=True, fmt=".0f",
                    annot_kws={"fontsize": 7}, square=True, cbar=last,
                    cbar_kws={"label": "% of the true class", "shrink": 0.8} if last else None,
                    xticklabels=classes, yticklabels=classes if i == 0 else False)
        ax.set_xlabel("predicted")
        ax.tick_params(axis="x", rotation=45)
        ax.set_title(f"{METHOD_LABELS[method]} ({_entry(result, direction, method)['average']:.1f}%)")
    axes[0, 0].set_ylabel("true")
    axes[0, 0].tick_params(axis="y", rotation=0)
    fig.suptitle(f"{direction_title(direction)}: confusion on the target test set")
    return fig


# ----------------------------------------------------------------------------- Tables 1-2
def accuracy_table(result, direction: str, paper: bool = False) -> pd.DataFrame | None:
    """Tables 1-2: per-class and average target accuracy (percent), one row per method
    that ran (labels of ``METHOD_LABELS``, in ``METHODS`` order), columns the class names
    and ``"Average"``. ``result``: a result or its metrics dict. With ``paper=True`` the
    paper's table for the direction instead (``None`` where there is none, e.g. faces)."""
    m = _metrics(result)
    if paper:
        table = (m.get("paper") or {}).get(direction)
        if table is None:
            return None
        # the paper's numbers are in MIKELS8 order; shown in ours where ours is a reordering
        classes = list(m["class_names"]) if set(m["class_names"]) == set(MIKELS8) else list(MIKELS8)
        order = [MIKELS8.index(c) for c in classes]
        rows = {METHOD_LABELS[k]: [*(v["per_class"][i] for i in order), v["average"]]
                for k in METHODS if (v := table.get(k)) is not None}
    else:
        classes = list(m["class_names"])
        rows = {METHOD_LABELS[k]: [*v["per_class"], v["average"]]
                for k in METHODS if (v := m["directions"][direction].get(k)) is not None}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=[*classes, "Average"], dtype=float)
    out.index.name = "method"
    return out


def seed_table(metrics_list, direction: str, formatted: bool = True) -> pd.DataFrame:
    """Tables 1-2 over several seeds: mean and standard deviation (sample std, ``ddof=1``;
    0 with one seed) of each method's per-class and average accuracy (percent), over the
    metrics dicts (or results) of ``metrics_list``. Rows: the methods that ran in every
    seed; columns: the class names and ``"Average"``; NaN per-class entries are skipped.

    ``formatted=True`` (for reading in a notebook): one frame of ``"xx.x ± y.y"`` strings,
    its column axis named with the number of seeds. ``formatted=False``: numbers, with
    two-level columns ``("mean" | "std", column)``.
    """
    ms = [_metrics(m) for m in metrics_list]
    if not ms:
        raise ValueError("seed_table needs at least one metrics dict")
    classes = list(ms[0]["class_names"])
    if any(list(m["class_names"]) != classes for m in ms):
        raise ValueError("the metrics dicts have different class names")
    means, stds = {}, {}
    for k in METHODS:
        entries = [m["directions"][direction].get(k) for m in ms]
        if any(e is None for e in entries):
            continue
        values = np.array([[*e["per_class"], e["average"]] for e in entries], dtype=float)
        means[METHOD_LABELS[k]] = np.nanmean(values, axis=0)
        stds[METHOD_LABELS[k]] = (np.nanstd(values, axis=0, ddof=1) if len(values) > 1
                                  else np.zeros(values.shape[1]))
    columns = [*classes, "Average"]
    mean = pd.DataFrame.from_dict(means, orient="index", columns=columns, dtype=float)
    std = pd.DataFrame.from_dict(stds, orient="index", columns=columns, dtype=float)
    if not formatted:
        out = pd.concat({"mean": mean, "std": std}, axis=1)
    else:
        out = pd.DataFrame(
            [[f"{a:.1f} ± {b:.1f}" for a, b in zip(mean.loc[r], std.loc[r])] for r in mean.index],
            index=mean.index, columns=columns)
        out.columns.name = f"mean ± std over {len(ms)} seed{'s' if len(ms) > 1 else ''}"
    out.index.name = "method"
    return out


# ----------------------------------------------------------------------------- training
def _runs(histories: dict) -> list[str]:
    """The CycleGAN and CycleEmotionGAN histories, in the result's order."""
    return [k for k in histories if k == "cyclegan" or "/cycleemotiongan_" in k]


def run_label(name: str) -> str:
    """``"cyclegan"`` -> ``"CycleGAN"``; ``"art_to_photo/cycleemotiongan_skl"`` -> ``"art → photo, SKL"``."""
    if name == "cyclegan":
        return "CycleGAN"
    direction, method = name.split("/", 1)
    return f"{direction_title(direction)}, {method.removeprefix('cycleemotiongan_').upper()}"


def fig_training_curves(result, curves=TRAINING_CURVES) -> Figure:
    """Training losses against steps, one panel per loss (``curves``: ``(history key,
    title)``) with one line per run that logs it: the CycleGAN (black) and each
    CycleEmotionGAN (colour: the distance, line style: the direction). The ESC and task
    panels hold the CycleEmotionGANs only."""
    apply_style()
    runs = _runs(result.histories)
    curves = [(k, t) for k, t in curves if any(len(result.histories[r].get(k, ())) for r in runs)]
    directions = list(dict.fromkeys(r.split("/")[0] for r in runs if r != "cyclegan"))
    # The legend takes a spare cell of the grid where there is one, else the right margin.
    fig, panels, _ = panel_grid(len(curves), (3.3, 2.8), legend_width=1.8, ylabel="loss")
    for ax, (key, title) in zip(panels, curves):
        for name in runs:
            h = result.histories[name]
            values = h.get(key, [])
            if not len(values):
                continue
            steps = np.asarray(h["step"])[-len(values):]
            if name == "cyclegan":
                color, ls = "k", "-"
            else:
                direction, method = name.split("/", 1)
                color, ls = METHOD_COLORS.get(method, "C0"), _LINESTYLES[directions.index(direction) % 4]
            ax.plot(steps, values, color=color, ls=ls, lw=1.2, label=run_label(name),
                    marker="o" if len(values) < 10 else None, ms=3)
        ax.set_title(title)
        ax.set_xlabel("step")
    legend_of_lines(fig, panels, fontsize=8)
    return fig


def chapter_figures(result) -> dict[str, Figure]:
    """Every figure ``emolab run cycleemotiongan`` saves, by file stem: per direction
    ``adapted_*``, ``tsne_*`` and ``confusion_*``; ``lambda_sensitivity`` where a sweep
    ran; ``training_curves``."""
    figures: dict[str, Figure | None] = {}
    for direction in _metrics(result)["directions"]:
        figures[f"adapted_{direction}"] = fig_adapted_images(result, direction)
        figures[f"tsne_{direction}"] = fig_tsne_target(result, direction)
        figures[f"confusion_{direction}"] = fig_confusion(result, direction)
    figures["lambda_sensitivity"] = fig_lambda_sensitivity(result)
    figures["training_curves"] = fig_training_curves(result)
    return {k: f for k, f in figures.items() if f is not None}

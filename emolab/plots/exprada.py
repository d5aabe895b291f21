"""Figures and tables of the ExprADA chapter (Bozorgtabar et al., 2019: Figs. 4-5, Tables 3, 5-6).

Every function takes an :class:`~emolab.experiments.exprada.ExprADAResult`; the
tables also take its ``metrics`` dict (or the seed-mean of several).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from emolab.experiments.exprada import CGIT_METHODS, METHOD_LABELS, UIT_METHODS
from emolab.plots.augment import _stratified
from emolab.plots.cycleemotiongan import _grid_image, _metrics, _plain, _tsne, class_colors, target_features
from emolab.plots.style import apply_style, legend_of_lines, panel_grid

_CB = sns.color_palette("colorblind", 10).as_hex()
#: One colour per translator, the same in every figure of the chapter.
METHOD_COLORS = {"source_only": "0.55", "cyclegan": _CB[0], "stargan": _CB[2], "exprada_uit": _CB[3],
                 "exprada_cgit": _CB[3], "full": _CB[3], "no_bi": _CB[0], "no_re": _CB[2], "real": "0.25"}
UIT_ORDER = ("source_only", "stargan", "cyclegan", "exprada_uit")
#: The losses of :func:`fig_training_curves`: ``(history key, title)``.
TRAINING_CURVES = (("G_adv", "adversarial, G (eq. 1)"), ("D_s", "D_s (eq. 1)"), ("bi", "L_bi (eq. 4)"),
                   ("re", "L_re (eq. 5)"), ("cls_f", "L_cls_f (eq. 3)"))


def _runs(metrics_list) -> list[dict]:
    """One result / metrics dict, or a list of them (one per seed) -> a list of metrics dicts."""
    return [_metrics(m) for m in (metrics_list if isinstance(metrics_list, list) else [metrics_list])]


def _seed_table(runs: list[dict], key: str, names) -> pd.DataFrame:
    """``runs[i][key][name]`` as a table: a row per name, a column per seed, mean ± std over seeds."""
    values = np.array([[r[key][m] for r in runs] for m in names])
    df = pd.DataFrame(values, index=[METHOD_LABELS[m] for m in names],
                      columns=[f"seed {r.get('seed', i)}" for i, r in enumerate(runs)])
    if len(runs) > 1:
        df["mean"], df["std"] = values.mean(1), values.std(1, ddof=1)
    return df.round(1)


def _image_panel(ax, rows: list[torch.Tensor], n: int, row_labels: list[str], col_labels=None) -> None:
    img, kw = _grid_image(rows, n)
    ax.imshow(img, **kw)
    _plain(ax)
    side = rows[0].shape[-1] + 2
    ax.set_yticks([side * (i + 0.5) for i in range(len(rows))], row_labels)
    ax.set_xticks([side * (j + 0.5) for j in range(n)] if col_labels else [],
                  col_labels if col_labels else [])
    ax.tick_params(length=0)


# ----------------------------------------------------------------------------- Fig. 4
@torch.no_grad()
def expression_transfer(result, n: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Fig. 4's faces: ``n`` target test faces (seeded choice) and, per face, the full
    CGIT's translation to each expression: ``(inputs [n, C, H, W], outputs [n, K, C, H, W])``."""
    x = result.data["x_target_test"]
    pick = torch.as_tensor(np.random.default_rng(seed).choice(len(x), size=n, replace=False))
    model = result.translators["cgit"]["full"]
    k = len(result.metrics["class_names"])
    device = next(model.parameters()).device
    outs = []
    for i in pick:
        xi = x[i:i + 1].repeat(k, 1, 1, 1).to(device)
        outs.append(model.to_source(xi, torch.arange(k, device=device)).float().cpu())
    return x[pick], torch.stack(outs)


def fig_expression_transfer(result, n: int = 4, seed: int = 0) -> Figure:
    """Fig. 4: each row a simulated (target) face, then the full CGIT's real-looking face
    showing each of the expressions, in class order."""
    apply_style()
    inputs, outs = expression_transfer(result, n, seed)
    classes = list(result.metrics["class_names"])
    rows = [torch.cat([inputs[i:i + 1], outs[i]]) for i in range(n)]
    fig, ax = plt.subplots(figsize=(1.05 * (len(classes) + 1) + 0.6, 1.1 * n + 0.6), constrained_layout=True)
    _image_panel(ax, rows, len(classes) + 1, [f"face {i + 1}" for i in range(n)], ["input", *classes])
    ax.xaxis.tick_top()
    ax.set_title("ExprADA-CGIT: one simulated face, seven expressions (Fig. 4)", pad=22)
    return fig


# ----------------------------------------------------------------------------- Fig. 5
def fig_uit_examples(result, n: int = 8, seed: int = 0) -> Figure:
    """Target test faces (first row), their translations to the source domain by each UIT
    translator, and (EmoFaces) the perfect translation: the same faces rendered as source."""
    apply_style()
    x = result.data["x_target_test"]
    y = np.asarray(result.data["y_target_test"])
    keep = torch.as_tensor(_stratified(y, n, np.random.default_rng(seed))[:n])
    rows, labels = [x[keep]], ["target (raw)"]
    for m in ("stargan", "cyclegan", "exprada_uit"):
        rows.append(result.translated[m][keep])
        labels.append(METHOD_LABELS[m].replace(" (", "\n("))
    if "x_paired" in result.data:
        rows.append(result.data["x_paired"][keep])
        labels.append("perfect translation\n(same face as source)")
    classes = result.metrics["class_names"]
    fig, ax = plt.subplots(figsize=(1.0 * n + 2.6, 1.0 * len(rows) + 0.5), constrained_layout=True)
    _image_panel(ax, rows, len(keep), labels, [classes[int(k)] for k in y[keep.numpy()]])
    ax.xaxis.tick_top()
    return fig


def uit_table(metrics_list) -> pd.DataFrame:
    """C^s accuracy (%) on the target test set, raw and after each translator: a column
    per seed and the mean ± std over the runs given (one metrics dict or a list)."""
    runs = _runs(metrics_list)
    return _seed_table(runs, "uit", [m for m in UIT_ORDER if all(m in r["uit"] for r in runs)])


def fig_uit_accuracy(metrics_list) -> Figure:
    """Fig. 5 (right): C^s's target accuracy per translator (mean over the runs given, a dot
    per run), with the perfect translation (EmoFaces) as a dashed ceiling."""
    apply_style()
    runs = _runs(metrics_list)
    names = [m for m in UIT_ORDER if all(m in r["uit"] for r in runs)]
    fig, ax = plt.subplots(figsize=(6.2, 3.2), constrained_layout=True)
    for i, m in enumerate(names):
        vals = [r["uit"][m] for r in runs]
        ax.bar(i, np.mean(vals), color=METHOD_COLORS[m], width=0.65)
        ax.scatter(np.full(len(vals), i), vals, color="k", s=12, zorder=3)
        ax.text(i, np.mean(vals) + 1, f"{np.mean(vals):.1f}", ha="center", va="bottom", fontsize=8)
    ceiling = [r.get("uit_perfect_translation") for r in runs]
    if all(c is not None for c in ceiling):
        ax.axhline(np.mean(ceiling), ls="--", color="k", lw=1)
        ax.text(len(names) - 0.5, np.mean(ceiling), " perfect\n translation", va="center", fontsize=8)
    ax.set_xticks(range(len(names)), [METHOD_LABELS[m].replace(" (", "\n(") for m in names], fontsize=8)
    ax.set_ylabel("C^s accuracy on target (%)")
    ax.set_xlim(-0.6, len(names) + 0.2)
    ax.set_title("UIT for adaptation (Fig. 5, right)")
    return fig


def fig_tsne(result, seed: int = 0, max_points: int = 500) -> Figure:
    """Fig. 5 (left): C^s's embedding of the target test faces, raw and after ExprADA-UIT,
    each panel with the real source test faces (grey) for reference; colours: true emotion."""
    apply_style()
    classes = list(result.metrics["class_names"])
    colors = class_colors(classes)
    y = np.asarray(result.data["y_target_test"])
    keep = torch.as_tensor(_stratified(y, max_points, np.random.default_rng(seed)))
    ys = np.asarray(result.data["y_source_test"])
    keep_s = torch.as_tensor(_stratified(ys, max_points, np.random.default_rng(seed + 1)))
    xs = result.data["x_source_test"][keep_s]
    net = result.classifiers["c_s"]
    panels = (("source_only", result.translated["source_only"]), ("exprada_uit", result.translated["exprada_uit"]))
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.6), constrained_layout=True)
    for ax, (name, x) in zip(axes, panels, strict=True):
        feats = target_features(net, torch.cat([xs, x[keep]]))
        emb = _tsne(feats, seed)
        src, tgt = emb[:len(xs)], emb[len(xs):]
        ax.scatter(src[:, 0], src[:, 1], s=7, color="0.8", linewidths=0, label="source (real)")
        for k, c in enumerate(classes):
            pts = tgt[y[keep.numpy()] == k]
            if len(pts):
                ax.scatter(pts[:, 0], pts[:, 1], s=9, color=colors[k], alpha=0.8, linewidths=0)
        acc = result.metrics["uit"][name]
        ax.set_title(f"target faces, {METHOD_LABELS[name]} ({acc:.1f}%)")
        ax.set_xticks([])
        ax.set_yticks([])
    handles = [Line2D([], [], ls="", marker="o", ms=5, color=colors[k], label=c) for k, c in enumerate(classes)]
    handles.append(Line2D([], [], ls="", marker="o", ms=5, color="0.8", label="source faces"))
    fig.legend(handles=handles, loc="outside right center", fontsize=8)
    fig.suptitle("C^s features of the target test faces (Fig. 5, left)")
    return fig


# ----------------------------------------------------------------------------- Table 3
def augmentation_table(metrics_list, rare: bool = False) -> pd.DataFrame:
    """Table 3's layout: a row per augmentation method, a column per number of generated
    faces per class (0 = real faces only); accuracy (%) on real source test faces (``rare``:
    the mean accuracy of the rare classes), mean over the runs given."""
    runs = _runs(metrics_list)
    aug = runs[0]["augmentation"]
    key = "augmentation_rare" if rare else "augmentation"
    methods = [m for m in aug if m not in ("sizes", "rare_classes")]
    values = {METHOD_LABELS[m] if m != "exprada_cgit" else "ExprADA-CGIT":
              np.mean([r[key][m] for r in runs], axis=0) for m in methods}
    df = pd.DataFrame(values, index=[f"+{k}/class" if k else "real only" for k in aug["sizes"]]).T
    return df.round(1)


def fig_augmentation(metrics_list) -> Figure:
    """Table 3 as curves: overall and rare-class accuracy against the number of generated
    faces per class, one line per CGIT translator (mean over the runs given)."""
    apply_style()
    runs = _runs(metrics_list)
    aug = runs[0]["augmentation"]
    sizes = aug["sizes"]
    methods = [m for m in aug if m not in ("sizes", "rare_classes")]
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.3), constrained_layout=True)
    for ax, key, title in ((axes[0], "augmentation", "all classes"),
                           (axes[1], "augmentation_rare", f"rare classes ({', '.join(aug['rare_classes'])})")):
        for m in methods:
            mean = np.mean([r[key][m] for r in runs], axis=0)
            ax.plot(range(len(sizes)), mean, marker="o", color=METHOD_COLORS[m],
                    label="ExprADA-CGIT" if m == "exprada_cgit" else METHOD_LABELS[m])
        ax.set_xticks(range(len(sizes)), [str(k) for k in sizes])
        ax.set_xlabel("generated faces per class")
        ax.set_title(title)
    axes[0].set_ylabel("accuracy on real source faces (%)")
    axes[1].legend(fontsize=8)
    fig.suptitle("CGIT for augmentation (Table 3)")
    return fig


# ----------------------------------------------------------------------------- Tables 5-6
def ablation_table(metrics_list) -> pd.DataFrame:
    """Tables 5-6: the judge's accuracy (%) on real source faces and on faces each CGIT
    translator was asked to show (the asked expression counts as the label)."""
    return _seed_table(_runs(metrics_list), "ablation", ["real", *CGIT_METHODS])


def ground_truth_table(metrics_list) -> pd.DataFrame | None:
    """Identity kept, action cosine and paired L1 per translator (EmoFaces only), mean over runs."""
    runs = _runs(metrics_list)
    if any(r.get("ground_truth") is None for r in runs):
        return None
    names = list(runs[0]["ground_truth"])
    cols = {"identity kept": "identity_kept", "action cosine": "action_cos", "L1 to perfect": "paired_l1"}
    data = {c: [np.mean([r["ground_truth"][n][k] for r in runs]) for n in names] for c, k in cols.items()}
    return pd.DataFrame(data, index=[METHOD_LABELS.get(n, n) for n in names]).round(3)


# ----------------------------------------------------------------------------- training
def fig_training_curves(result, curves=TRAINING_CURVES) -> Figure:
    """Losses against steps, one panel per loss, a line per translator (UIT solid, CGIT dashed)."""
    apply_style()
    runs = list(result.histories)
    curves = [(k, t) for k, t in curves if any(len(result.histories[r].get(k, ())) for r in runs)]
    fig, panels, _ = panel_grid(len(curves), (3.1, 2.7), legend_width=2.0)
    for ax, (key, title) in zip(panels, curves, strict=True):
        for name in runs:
            values = result.histories[name].get(key, [])
            if not len(values):
                continue
            kind, method = name.split("/")
            steps = np.asarray(result.histories[name]["step"])[-len(values):]
            ax.plot(steps, values, lw=1.1, color=METHOD_COLORS.get(method, "C0"), ls="-" if kind == "uit" else "--",
                    label=f"{kind.upper()}: {METHOD_LABELS.get(method, method)}")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step")
    legend_of_lines(fig, panels, fontsize=7)
    return fig


def chapter_figures(result) -> dict[str, Figure]:
    """Every figure ``emolab run exprada`` saves, by file stem."""
    return {
        "expression_transfer": fig_expression_transfer(result),
        "uit_examples": fig_uit_examples(result),
        "uit_accuracy": fig_uit_accuracy(result),
        "tsne_target": fig_tsne(result),
        "augmentation": fig_augmentation(result),
        "training_curves": fig_training_curves(result),
    }

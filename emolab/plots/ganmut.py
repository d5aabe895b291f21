"""Figures and tables of the GANmut chapter (d'Apolito et al., 2021, Figs. 1 and 3-7, Tables 1-3).

Every function takes a :class:`~emolab.experiments.ganmut.GANmutResult` (the
tables also take its ``metrics`` dict).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Ellipse
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from emolab.data.taxonomy import EKMAN7
from emolab.experiments.ganmut import (
    EMOTIONS,
    LABELS,
    PAPER_ACCURACY,
    PAPER_ERE_FED,
    PAPER_SMOOTHNESS,
    TABLE2,
    learned_directions,
    space_map,
    true_directions,
)
from emolab.plots.style import EMOTION_COLORS, apply_style, legend_of_lines, panel_grid

#: One colour per GAN, the same in every figure of the chapter.
METHOD_COLORS = {"stargan": "0.35", "ganmut_rho1": "#56b4e9", "ganmut_rho4": "#0072b2", "gganmut": "#d55e00",
                 "ganmut": "#0072b2", "real": "0.1"}
_RGB = np.array([plt.matplotlib.colors.to_rgb(EMOTION_COLORS[e]) for e in EKMAN7])


def _metrics(result_or_metrics) -> dict:
    return result_or_metrics if isinstance(result_or_metrics, dict) else result_or_metrics.metrics


def to_image(x: torch.Tensor) -> np.ndarray:
    """A ``[C, S, S]`` image in [-1, 1] as ``[S, S, 3]`` in [0, 1]."""
    img = ((x.detach().cpu().float() + 1) / 2).clamp(0, 1)
    if img.shape[0] == 1:
        img = img.expand(3, -1, -1)
    return img.permute(1, 2, 0).numpy()


def map_rgb(probs: np.ndarray) -> np.ndarray:
    """The judge's softmax ``[n, n, 7]`` as colours: each emotion's colour weighted by its
    probability (white outside the space)."""
    rgb = np.nan_to_num(probs) @ _RGB
    rgb[np.isnan(probs[..., 0])] = 1.0
    return rgb.clip(0, 1)


def draw_space(ax, model, probs: np.ndarray, title: str = "") -> None:
    """The map of the learned space with its directions (GANmut) or modes (GGANmut)."""
    ax.imshow(map_rgb(probs), extent=(-1, 1, -1, 1), origin="upper", interpolation="bilinear")
    gaussian = getattr(model, "gaussian", False)
    if gaussian:
        mu = model.space.means.detach().cpu().numpy()
        cov = model.space.covariances().detach().cpu().numpy()
        for k, e in enumerate(EKMAN7):
            vals, vecs = np.linalg.eigh(cov[k])
            angle = np.degrees(np.arctan2(vecs[1, 1], vecs[0, 1]))
            ax.add_patch(Ellipse(mu[k], 2 * np.sqrt(vals[1]), 2 * np.sqrt(vals[0]), angle=angle, fill=False,
                                 lw=1.5, ec="k"))
            ax.annotate(e, mu[k], fontsize=8, ha="center", va="center",
                        bbox=dict(boxstyle="round,pad=0.15", fc="w", alpha=0.8, lw=0))
    else:
        ax.add_patch(Circle((0, 0), model.space.tau, fill=False, ls="--", lw=1, ec="k"))
        for e, (u, v) in zip(EMOTIONS, learned_directions(model), strict=True):
            ax.annotate("", (u, v), (0, 0), arrowprops=dict(arrowstyle="->", lw=1.8, color="k"))
            ax.annotate(e, (1.12 * u, 1.12 * v), fontsize=8, ha="center", va="center",
                        bbox=dict(boxstyle="round,pad=0.15", fc="w", alpha=0.8, lw=0))
    ax.set_xlim(-1.25, 1.25)
    ax.set_ylim(-1.25, 1.25)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.set_title(title)


def _legend_patches(ax):
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=EMOTION_COLORS[e], label=e) for e in EKMAN7], loc="center left",
              bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)


def fig_space(result, n: int = 33, source: int = 0) -> Figure:
    """Figs. 1 and 3: the judge's reading of ``G(x, z)`` over the learned spaces (GANmut λρ = 4
    with its directions, GGANmut with its modes), for one test face."""
    apply_style()
    x = result.data["x_test"][source]
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 4.4))
    for ax, name in zip(axes, ("ganmut_rho4", "gganmut"), strict=True):
        model = result.gans[name]
        draw_space(ax, model, space_map(model, result.judge, x, result.device, n), LABELS[name])
    _legend_patches(axes[-1])
    fig.suptitle("The learned conditional spaces, coloured by the judge's softmax of the generated face")
    fig.tight_layout()
    return fig


def fig_directions(result) -> Figure:
    """The learned directions after the Procrustes map, against the valence-arousal anchors."""
    apply_style()
    m = _metrics(result)
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 4.2))
    truth = true_directions()
    for ax, name in zip(axes, ("ganmut_rho4", "ganmut_rho1"), strict=True):
        R = np.asarray(m["direction_angles"][name]["R"])
        mapped = learned_directions(result.gans[name]) @ R.T
        ax.add_patch(Circle((0, 0), 1, fill=False, lw=0.8, ec="0.6"))
        for e, t, l in zip(EMOTIONS, truth, mapped, strict=True):
            c = EMOTION_COLORS[e]
            ax.annotate("", t, (0, 0), arrowprops=dict(arrowstyle="->", lw=1.2, color=c, ls="--"))
            ax.annotate("", l, (0, 0), arrowprops=dict(arrowstyle="->", lw=2.2, color=c))
            ax.text(*(1.15 * l), e, color=c, ha="center", va="center", fontsize=8)
        ax.set_xlim(-1.3, 1.3)
        ax.set_ylim(-1.3, 1.3)
        ax.set_aspect("equal")
        ax.set_xlabel("valence")
        ax.set_ylabel("arousal")
        ax.set_title(f"{LABELS[name]}: mean error {m['direction_angles'][name]['mean']:.0f}°")
    fig.suptitle("Learned directions (solid, after the best rotation/reflection) vs. valence-arousal anchors "
                 "(dashed)", fontsize=10)
    fig.tight_layout()
    return fig


def fig_interpolations(result, emotions=("surprise", "angry"), source: int = 0) -> Figure:
    """Fig. 4: neutral -> emotion in 10 steps for StarGAN, GANmut λρ = 1 and λρ = 4, with the
    judge's score of the emotion along each strip."""
    apply_style()
    rows = ("stargan", "ganmut_rho1", "ganmut_rho4")
    strips = result.curves["strips"]
    fig = plt.figure(figsize=(12, 2.9 * len(emotions)))
    outer = fig.add_gridspec(len(emotions), 2, width_ratios=(4.2, 1), wspace=0.12, hspace=0.35)
    for i, emotion in enumerate(emotions):
        inner = outer[i, 0].subgridspec(len(rows), 12, wspace=0.03, hspace=0.05)
        for r, name in enumerate(rows):
            faces = strips[name][emotion][source]
            ax = fig.add_subplot(inner[r, 0])
            ax.imshow(to_image(result.curves["strip_sources"][source]))
            ax.set_axis_off()
            ax.text(-0.08, 0.5, LABELS[name], transform=ax.transAxes, ha="right", va="center", fontsize=8)
            if r == 0:
                ax.set_title("input", fontsize=8)
            for j in range(faces.shape[0]):
                ax = fig.add_subplot(inner[r, j + 1])
                ax.imshow(to_image(faces[j]))
                ax.set_axis_off()
                if r == 0:
                    ax.set_title(f"{0.1 * j:.1f}", fontsize=8)
        ax = fig.add_subplot(outer[i, 1])
        for name in rows:
            ax.plot(np.arange(11) / 10, result.curves["smoothness"][name][emotion], marker="o", ms=3,
                    color=METHOD_COLORS[name], label=LABELS[name])
        ax.set_ylim(0, 1)
        ax.set_title(f"neutral → {emotion}: C({emotion} | x)", fontsize=9)
        ax.set_xlabel("ρ / blend", fontsize=8)
        if i == 0:
            ax.legend(fontsize=7)
    return fig


def fig_smoothness_curves(result) -> Figure:
    """The judge's mean score of each emotion along neutral -> emotion (what Table 1 summarises)."""
    apply_style()
    fig, axes, _ = panel_grid(len(EMOTIONS), (3.0, 2.5), legend_width=1.6, ylabel="C(emotion | x_j)", sharey=True)
    for ax, emotion in zip(axes, EMOTIONS, strict=True):
        for name in ("stargan", "ganmut_rho1", "ganmut_rho4", "gganmut"):
            ax.plot(np.arange(11) / 10, result.curves["smoothness"][name][emotion], marker="o", ms=2.5,
                    color=METHOD_COLORS[name], label=LABELS[name])
        ax.set_title(emotion)
        ax.set_xlabel("step / 10")
    legend_of_lines(fig, axes, fontsize=8)
    return fig


def _tsne(feats: np.ndarray, seed: int) -> np.ndarray:
    feats = PCA(n_components=min(50, *feats.shape), random_state=seed).fit_transform(feats)
    tsne = TSNE(n_components=2, init="pca", random_state=seed, perplexity=min(30.0, (len(feats) - 1) / 3))
    return tsne.fit_transform(feats)


def fig_tsne(result, n: int = 250, seed: int = 0) -> Figure:
    """Fig. 5: t-SNE of the judge's features of real and generated faces, with each method's FED."""
    apply_style()
    feats, fed = result.curves["features"], _metrics(result)["fed"]
    methods = list(TABLE2)
    fig, axes = plt.subplots(1, len(methods), figsize=(4 * len(methods), 3.8))
    for ax, name in zip(axes, methods, strict=True):
        real, gen = feats["real"][:n], feats[name][:n]
        emb = _tsne(np.concatenate([real, gen]), seed)
        ax.scatter(*emb[:len(real)].T, s=6, c="#e69f00", label="real", alpha=0.7)
        ax.scatter(*emb[len(real):].T, s=6, c="#0072b2", label="generated", alpha=0.7)
        ax.set_title(f"{LABELS[name]} (FED {fed[name]:.2f})")
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


@torch.no_grad()
def fig_gamut(result, source: int = 0, n_radii: int = 4, n_angles: int = 12, n_square: int = 7) -> Figure:
    """Figs. 6-7: one face across the gamut. Left: GANmut λρ = 4 on a polar grid (rows:
    ρ, columns: angle); right: GGANmut on a square grid over ``[-1, 1]^2``."""
    from emolab.experiments.ganmut import generate

    apply_style()
    x = result.data["x_test"][source]
    dev = result.device
    radii = torch.linspace(1 / n_radii, 1, n_radii)
    angles = torch.arange(n_angles) * (2 * np.pi / n_angles)
    r, a = torch.meshgrid(radii, angles, indexing="ij")
    polar_codes = torch.stack([r * torch.cos(a), r * torch.sin(a)], -1).reshape(-1, 2)
    ticks = torch.linspace(-1, 1, n_square)
    v, u = torch.meshgrid(ticks.flip(0), ticks, indexing="ij")
    square_codes = torch.stack([u, v], -1).reshape(-1, 2)
    fig = plt.figure(figsize=(14, 5))
    gs = fig.add_gridspec(1, 2, width_ratios=(n_angles / n_radii * 0.55, 1), wspace=0.08)
    for cell, name, codes, shape, title in (
            (gs[0], "ganmut_rho4", polar_codes, (n_radii, n_angles),
             "GANmut: rows ρ = 0.25..1, columns θ = 0°..330°"),
            (gs[1], "gganmut", square_codes, (n_square, n_square), "GGANmut: z over [-1, 1]²")):
        faces = generate(result.gans[name], x[None].expand(len(codes), -1, -1, -1), codes, dev)
        inner = cell.subgridspec(*shape, wspace=0.02, hspace=0.02)
        for k in range(len(codes)):
            ax = fig.add_subplot(inner[k // shape[1], k % shape[1]])
            ax.imshow(to_image(faces[k]))
            ax.set_axis_off()
        fig.text((cell.get_position(fig).x0 + cell.get_position(fig).x1) / 2, 0.95, title, ha="center",
                 fontsize=10)
    return fig


def fig_training_curves(result) -> Figure:
    """The losses of every GAN (critic total, classification, info, ρ/div)."""
    apply_style()
    keys = (("D_total", "critic (eq. 1)"), ("G_cls", "L_cls^f (eq. 4/10)"), ("rec", "L_rec (eq. 8)"),
            ("G_info", "L_info (eq. 6)"), ("G_rho", "L_ρ (eq. 7)"), ("G_div", "L_div (eq. 9)"))
    fig, axes, _ = panel_grid(len(keys), (3.3, 2.6))
    for ax, (key, title) in zip(axes, keys, strict=True):
        for name, h in result.histories.items():
            if key in h and len(h[key]):
                vals = np.asarray(h[key], float)
                k = max(1, len(vals) // 20)
                ax.plot(np.asarray(h["step"])[k - 1:], np.convolve(vals, np.ones(k) / k, "valid"),
                        color=METHOD_COLORS[name], label=LABELS[name])
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step")
    axes[0].legend(fontsize=7)
    return fig


# ----------------------------------------------------------------------------- tables
def smoothness_table(result_or_metrics, paper: bool = True) -> pd.DataFrame:
    """Table 1: the smoothness score per emotion (lower is smoother), with the paper's columns."""
    m = _metrics(result_or_metrics)
    cols = {LABELS[k]: m["smoothness"][k] for k in ("stargan", "ganmut_rho1", "ganmut_rho4")}
    if "smoothness_gganmut" in m:
        cols[LABELS["gganmut"]] = m["smoothness_gganmut"]
    if paper:
        cols["paper: StarGAN"] = PAPER_SMOOTHNESS["stargan"]
        cols["paper: GANmut"] = PAPER_SMOOTHNESS["ganmut"]
    return pd.DataFrame(cols).loc[list(EMOTIONS)].round(3)


def ere_fed_table(result_or_metrics, paper: bool = True) -> pd.DataFrame:
    """Table 2: ERE (settings 1 and 2) and FED, with the paper's numbers."""
    m = _metrics(result_or_metrics)
    rows = {"real": {"ERE setting 1": np.nan, "ERE setting 2": np.nan, "FED": m["fed"]["real"]}}
    for k in TABLE2:
        rows[k] = {"ERE setting 1": m["ere"][k]["setting1"], "ERE setting 2": m["ere"][k]["setting2"],
                   "FED": m["fed"][k]}
    df = pd.DataFrame(rows).T
    if paper:
        for k, v in PAPER_ERE_FED.items():
            df.loc[k, "paper ERE 1"] = v.get("setting1", np.nan)
            df.loc[k, "paper ERE 2"] = v.get("setting2", np.nan)
            df.loc[k, "paper FED"] = v["fed"]
    df.index = [LABELS[k] for k in df.index]
    return df.round(4)


def accuracy_table(result_or_metrics, paper: bool = False) -> pd.DataFrame:
    """Table 3: the judge's accuracy (%) on generated faces per target emotion."""
    m = _metrics(result_or_metrics)
    src = PAPER_ACCURACY if paper else m["gen_accuracy"]
    order = ("neutral", "happy", "sad", "surprise", "fear", "disgust", "angry")
    df = pd.DataFrame({LABELS[k]: src[k] for k in ("real", *TABLE2)}).T[list(order)]
    return df.round(1)


def seed_table(metrics_list) -> pd.DataFrame:
    """One row per seed: the three claims' numbers."""
    rows = []
    for m in metrics_list:
        c = m["claims"]
        rows.append({"seed": m.get("seed"),
                     "smoother (λρ=4), of 6": len(c["smoother_emotions"]["ganmut_rho4"]),
                     "smoother (λρ=1), of 6": len(c["smoother_emotions"]["ganmut_rho1"]),
                     "FED StarGAN": m["fed"]["stargan"], "FED GANmut": m["fed"]["ganmut"],
                     "mean angle error (°)": c["mean_direction_error_deg"]})
    return pd.DataFrame(rows).set_index("seed").round(2)


def chapter_figures(result) -> dict[str, Figure]:
    """Every figure ``emolab run ganmut`` saves, by file stem."""
    return {"space": fig_space(result), "directions": fig_directions(result),
            "interpolations": fig_interpolations(result), "smoothness_curves": fig_smoothness_curves(result),
            "tsne": fig_tsne(result), "gamut": fig_gamut(result), "training_curves": fig_training_curves(result)}


__all__ = ["METHOD_COLORS", "accuracy_table", "chapter_figures", "draw_space", "ere_fed_table", "fig_directions",
           "fig_gamut", "fig_interpolations", "fig_smoothness_curves", "fig_space", "fig_training_curves",
           "fig_tsne", "map_rgb", "seed_table", "smoothness_table", "to_image"]

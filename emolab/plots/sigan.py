"""Figures and tables of the SIGAN chapter (Mao et al., 2018: Table 1, Fig. 6, Fig. 7, feature t-SNE).

Every function takes a :class:`~emolab.experiments.sigan.SIGANResult` (the
tables also take its ``metrics`` dict, or several seeds' ``metrics["pairs"]``)
and, where it draws one pair, the pair's name.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as nnf
from matplotlib.figure import Figure
from sklearn.manifold import TSNE
from torchvision.utils import make_grid

from emolab.experiments.sigan import METHOD_LABELS, METHODS, PAPER_TABLE1, embed, mean_std
from emolab.losses.attention import attention_map
from emolab.plots.style import CLASS_COLORS, apply_style

#: Fig. 7's rows: SIGAN, DTN ("primitive method"), SIGAN without attention.
GRID_METHODS = ("sigan", "dtn", "no_attention")


def table1(tables: list[dict] | dict) -> pd.DataFrame:
    """Table 1's layout: one row per method, one ``mean ± std`` column per pair, and the paper's SVHN -> MNIST.

    ``tables``: one seed's ``metrics`` (or ``metrics["pairs"]``), or a list of several seeds' ``metrics["pairs"]``.
    """
    if isinstance(tables, dict):
        tables = [tables.get("pairs", tables)]
    stats = mean_std(tables)
    rows = {}
    for m in METHODS:
        row = {}
        for pair, by_method in stats.items():
            if m in by_method:
                mu, sd = by_method[m]
                row[pair] = f"{mu:.1f} ± {sd:.1f}" if len(tables) > 1 else f"{mu:.1f}"
        row["paper (SVHN→MNIST)"] = f"{PAPER_TABLE1[m]:.2f}" if m in PAPER_TABLE1 else ""
        if any(k != "paper (SVHN→MNIST)" for k in row):
            rows[METHOD_LABELS[m]] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def fig_accuracies(result_or_tables, title: str = "") -> Figure:
    """Bars of every method's target accuracy per pair (mean ± std when several seeds are given)."""
    apply_style()
    tables = result_or_tables if isinstance(result_or_tables, list) else [result_or_tables.metrics["pairs"]]
    stats = mean_std(tables)
    pairs = list(stats)
    methods = [m for m in METHODS if any(m in stats[p] for p in pairs)]
    fig, ax = plt.subplots(figsize=(2.2 + 1.0 * len(methods) * len(pairs) / 2, 3.4))
    width = 0.8 / len(pairs)
    for k, pair in enumerate(pairs):
        mu = [stats[pair].get(m, (np.nan, 0))[0] for m in methods]
        sd = [stats[pair].get(m, (np.nan, 0))[1] for m in methods]
        ax.bar(np.arange(len(methods)) + (k - (len(pairs) - 1) / 2) * width, mu, width, yerr=sd, capsize=2,
               label=pair.replace("_", " "))
    ax.set_xticks(np.arange(len(methods)), [m.replace("_", "\n") for m in methods], fontsize=7)
    ax.set_ylabel("target accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8)
    ax.set_title(title or f"Target accuracy ({len(tables)} seed{'s' if len(tables) > 1 else ''})")
    fig.tight_layout()
    return fig


def _one_per_class(y: torch.Tensor, n: int) -> list[int]:
    """The first image of each digit, in class order, at most ``n``."""
    y = y.numpy()
    return [int(np.flatnonzero(y == c)[0]) for c in range(10) if (y == c).any()][:n]


def _show(img: torch.Tensor) -> np.ndarray:
    x = img.detach().float().cpu().clamp(-1, 1).add(1).div(2)
    return x.permute(1, 2, 0).squeeze(-1).numpy()


@torch.no_grad()
def fig_attention(result, pair: str, method: str = "sigan", n: int = 6) -> Figure:
    """Fig. 6: source images and their adaptations with the attention maps of the mirrored layers,
    upsampled to the image size (E^{L-1}, E^{L-2} on the source; G^1, G^2 on the way to g^s)."""
    apply_style()
    model = result.models[pair][method]
    x = result.data[pair]["x_source"][_one_per_class(result.data[pair]["y_source"], n)]
    was_e, was_g = model.E.training, model.G.training
    model.E.eval()
    model.G.eval()
    h, e_maps = model.E(x, maps=True)
    g, g_maps = model.G(h, maps=True)
    model.E.train(was_e)
    model.G.train(was_g)
    size = x.shape[-1]
    up = lambda t: nnf.interpolate(attention_map(t)[:, None], size=size, mode="bilinear",  # noqa: E731
                                   align_corners=False)[:, 0]
    cols = [("source x^s", x, "img"), ("P(E^{L-1}) 4x4", up(e_maps[0]), "map"), ("P(E^{L-2}) 8x8", up(e_maps[1]), "map"),
            ("adapted g^s", g, "img"), ("P(G^1) 4x4", up(g_maps[0]), "map"), ("P(G^2) 8x8", up(g_maps[1]), "map")]
    fig, axes = plt.subplots(n, len(cols), figsize=(1.3 * len(cols), 1.3 * n))
    for j, (title, imgs, kind) in enumerate(cols):
        for i in range(n):
            ax = axes[i, j]
            if kind == "img":
                ax.imshow(_show(imgs[i]), cmap="gray", vmin=0, vmax=1)
            else:
                ax.imshow(imgs[i].numpy(), cmap="jet")
            ax.axis("off")
        axes[0, j].set_title(title, fontsize=7)
    fig.suptitle(f"Attention maps, {METHOD_LABELS[method]}, {pair.replace('_', ' ')} (cf. Fig. 6)", fontsize=9)
    fig.tight_layout()
    return fig


def fig_generated(result, pair: str, methods=GRID_METHODS, n: int = 10) -> Figure:
    """Fig. 7: one row of source images (one per class), then each method's adaptation ``G(E(x^s))``."""
    apply_style()
    d = result.data[pair]
    idx = _one_per_class(d["y_source"], n)
    x = d["x_source"][idx]
    rows = [("source", x)]
    rows += [(METHOD_LABELS[m], result.models[pair][m].translate(x)) for m in methods if m in result.models[pair]]
    rows.append(("target (real, test)", d["x_test"][_one_per_class(d["y_test"], n)]))
    fig, axes = plt.subplots(len(rows), 1, figsize=(0.75 * len(idx), 0.95 * len(rows)))
    for ax, (title, imgs) in zip(np.atleast_1d(axes), rows, strict=True):
        grid = make_grid(imgs.float().clamp(-1, 1).add(1).div(2), nrow=len(imgs), padding=1, pad_value=1)
        ax.imshow(grid.permute(1, 2, 0).numpy())
        ax.set_title(title, fontsize=8, loc="left")
        ax.axis("off")
    fig.suptitle(f"Source → generated, {pair.replace('_', ' ')} (cf. Fig. 7)", fontsize=9)
    fig.tight_layout()
    return fig


def fig_tsne(result, pair: str, methods=("source_only", "sigan"), seed: int = 0) -> Figure:
    """t-SNE of E's codes of source (circles) and target (crosses) test-like images, coloured by class."""
    apply_style()
    d = result.data[pair]
    n = result.config.n_embed
    rng = np.random.default_rng(seed)       # the sets may be sorted by class: a random subset of each
    i, j = rng.permutation(len(d["x_source"]))[:n], rng.permutation(len(d["x_test"]))[:n]
    xs, ys = d["x_source"][i], d["y_source"][i].numpy()
    xt, yt = d["x_test"][j], d["y_test"][j].numpy()
    methods = [m for m in methods if m in result.models[pair]]
    fig, axes = plt.subplots(1, len(methods), figsize=(4.2 * len(methods), 4.0), squeeze=False)
    for ax, m in zip(axes[0], methods, strict=True):
        net = result.models[pair][m]
        net = net.classifier if hasattr(net, "classifier") else net
        feats = torch.cat([embed(net, xs, "cpu"), embed(net, xt, "cpu")]).numpy()
        emb = TSNE(n_components=2, init="pca", random_state=seed,
                   perplexity=min(30.0, (len(feats) - 1) / 3)).fit_transform(feats)
        k = len(xs)
        for c in range(10):
            ax.scatter(*emb[:k][ys == c].T, s=8, color=CLASS_COLORS[c], marker="o", alpha=0.6)
            ax.scatter(*emb[k:][yt == c].T, s=12, color=CLASS_COLORS[c], marker="x", alpha=0.8)
        ax.set_title(f"{METHOD_LABELS[m]}: source o, target x", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"E's features, {pair.replace('_', ' ')} (colour = digit)", fontsize=9)
    fig.tight_layout()
    return fig


def chapter_figures(result) -> dict[str, Figure]:
    """Every figure ``emolab run sigan`` saves."""
    figs = {"accuracies": fig_accuracies(result)}
    for pair in result.metrics["pairs"]:
        models = result.models[pair]
        if "sigan" in models:
            figs[f"attention_{pair}"] = fig_attention(result, pair)
        if any(m in models for m in GRID_METHODS):
            figs[f"generated_{pair}"] = fig_generated(result, pair)
        figs[f"tsne_{pair}"] = fig_tsne(result, pair)
    return figs


__all__ = ["GRID_METHODS", "chapter_figures", "fig_accuracies", "fig_attention", "fig_generated", "fig_tsne",
           "table1"]

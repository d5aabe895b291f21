"""Figures of the toy chapter (Zhu et al., 2018, Fig. 2 b, c)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

from emolab.plots.style import CLASS_COLORS, GENERATED_COLOR, apply_style, panel_grid

PANEL_TITLES = {
    "imbalanced": "imbalanced (1000 / 1000 / 100)",
    "augmented": "+ 900 CycleGAN points",
    "class_weighted": "class-weighted SVM",
    "oversampled": "random oversampling",
    "balanced_oracle": "oracle: + 900 real points",
}


def _limits(x: np.ndarray, pad: float = 1.5):
    lo, hi = x.min(0) - pad, x.max(0) + pad
    return (lo[0], hi[0]), (lo[1], hi[1])


def covariance_ellipse(ax, mean, cov, n_std: float = 2.0, **kw) -> Ellipse:
    """The ``n_std`` contour of a 2-D Gaussian."""
    vals, vecs = np.linalg.eigh(cov)
    angle = np.degrees(np.arctan2(vecs[1, 1], vecs[0, 1]))
    w, h = 2 * n_std * np.sqrt(vals[::-1])
    e = Ellipse(mean, w, h, angle=angle, fill=False, **kw)
    ax.add_patch(e)
    return e


def plot_decision_regions(ax, clf, result, *, title: str = "", extra: np.ndarray | None = None,
                          extra_label: str = "generated", resolution: int = 300):
    """Training points, the SVM's regions and boundaries, and its test accuracy."""
    data = result.data
    n = data.n_classes
    (x0, x1), (y0, y1) = _limits(np.concatenate([data.x_train, data.x_test]))
    xx, yy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    zz = clf.predict(np.c_[xx.ravel(), yy.ravel()]).reshape(xx.shape)
    cmap = ListedColormap(CLASS_COLORS[:n])
    ax.contourf(xx, yy, zz, levels=np.arange(n + 1) - 0.5, cmap=cmap, alpha=0.15)
    ax.contour(xx, yy, zz, levels=np.arange(n - 1) + 0.5, colors="k", linewidths=1.0)
    for k in range(n):
        pts = data.class_points(k)
        ax.scatter(pts[:, 0], pts[:, 1], s=4, color=CLASS_COLORS[k], alpha=0.5,
                   label=f"class {k} ({len(pts)})")
    if extra is not None:
        ax.scatter(extra[:, 0], extra[:, 1], s=4, marker="x", color=GENERATED_COLOR, alpha=0.6,
                   label=f"{extra_label} ({len(extra)})")
    acc = 100 * np.mean(clf.predict(data.x_test) == data.y_test)
    ax.set_title(f"{title}\ntest accuracy {acc:.1f}%")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=7, markerscale=3)
    return ax


def fig_boundaries(result) -> Figure:
    """Fig. 2 (b) and (c): the linear SVM before and after CycleGAN augmentation."""
    apply_style()
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2), constrained_layout=True)
    plot_decision_regions(axes[0], result.classifiers["imbalanced"], result,
                          title="(b) " + PANEL_TITLES["imbalanced"])
    plot_decision_regions(axes[1], result.classifiers["augmented"], result,
                          title="(c) " + PANEL_TITLES["augmented"], extra=result.generated)
    return fig


def fig_all_classifiers(result) -> Figure:
    """Every remedy side by side: what the boundaries look like for each."""
    apply_style()
    names = list(result.classifiers)
    fig, axes, _ = panel_grid(len(names), (3.6, 3.8))
    for ax, name in zip(axes, names):
        plot_decision_regions(ax, result.classifiers[name], result, title=PANEL_TITLES[name],
                              extra=result.generated if name == "augmented" else None,
                              resolution=200)
    return fig


def fig_generated_vs_real(result, n_arrows: int = 40) -> Figure:
    """Where the generator sends reference points, against the true minority distribution."""
    apply_style()
    data, cfg = result.data, result.config
    R, T = cfg.reference_class, cfg.minority_class
    fig, ax = plt.subplots(figsize=(6.2, 5.6), constrained_layout=True)
    ref, real = data.class_points(R), data.class_points(T)
    ax.scatter(ref[:, 0], ref[:, 1], s=4, color=CLASS_COLORS[R], alpha=0.3, label=f"reference class {R}")
    ax.scatter(real[:, 0], real[:, 1], s=14, color=CLASS_COLORS[T], label=f"real minority class {T} ({len(real)})")
    ax.scatter(result.generated[:, 0], result.generated[:, 1], s=5, marker="x", color=GENERATED_COLOR,
               alpha=0.6, label=f"G(reference) ({len(result.generated)})")
    for a, b in zip(result.reference_used[:n_arrows], result.generated[:n_arrows]):
        ax.annotate("", xy=b, xytext=a, arrowprops=dict(arrowstyle="->", color="0.4", lw=0.5, alpha=0.6))
    covariance_ellipse(ax, data.means[T], data.cov, color=CLASS_COLORS[T], lw=2, label="true 2σ contour")
    covariance_ellipse(ax, result.generated.mean(0), np.cov(result.generated.T), color=GENERATED_COLOR,
                       lw=2, ls="--", label="generated 2σ contour")
    ax.set_aspect("equal")
    ax.set_title("CycleGAN translation G: reference → minority")
    ax.legend(loc="upper right", fontsize=7, markerscale=2)
    return fig


def fig_training_curves(result, window: int = 20) -> Figure:
    """Generator, discriminator and cycle losses (running mean over ``window`` logs)."""
    apply_style()
    h = pd.DataFrame(result.history).set_index("step")
    smooth = h.rolling(window, min_periods=1).mean()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), constrained_layout=True)
    smooth[["G_adv_T", "G_adv_R"]].plot(ax=axes[0], title="generators: adversarial terms")
    smooth[["D_T", "D_R"]].plot(ax=axes[1], title="discriminators: eqs. (2), (3)")
    smooth[["cycle"]].plot(ax=axes[2], title="cycle loss, eq. (5)", logy=True, legend=False)
    for ax in axes:
        ax.set_xlabel("step")
    return fig


def accuracy_table(metrics: dict, paper: dict | None = None) -> pd.DataFrame:
    """Our accuracies beside the paper's (percent)."""
    rows = []
    for name, title in PANEL_TITLES.items():
        key = f"svm_acc_{name}"
        rows.append({"training set": title, "ours": metrics[key],
                     "paper": (paper or {}).get(key, np.nan)})
    return pd.DataFrame(rows).set_index("training set")


def chapter_figures(result) -> dict[str, Figure]:
    """Every figure ``emolab run toy`` saves, by file stem."""
    return {
        "boundaries": fig_boundaries(result),
        "all_classifiers": fig_all_classifiers(result),
        "generated_vs_real": fig_generated_vs_real(result),
        "training_curves": fig_training_curves(result),
    }

"""Figures and tables of the CycleGAN augmentation chapter, on one smoke run."""

import types

import matplotlib.pyplot as plt
import numpy as np
import pytest

from emolab.core import seed_everything
from emolab.data.taxonomy import EKMAN7
from emolab.experiments import augment
from emolab.plots import FIGURES
from emolab.plots import augment as pa

plt.switch_backend("Agg")

TARGETS = [c for c in EKMAN7 if c != augment.REFERENCE]

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def result(one_thread):
    seed_everything(0)
    return augment.run("smoke", seed=0)


@pytest.fixture(scope="module")
def embedding(result):
    return pa.tsne_embedding(result, max_real=300, seed=0)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def with_(result, **fields):
    """A copy of the result with some attributes replaced or added."""
    return types.SimpleNamespace(**{**vars(result), **fields})


def image_of(ax) -> np.ndarray:
    (im,) = ax.get_images()
    return np.asarray(im.get_array())


def cell(img: np.ndarray, row: int, col: int, size: int, pad: int = 2) -> np.ndarray:
    """Image ``(row, col)`` of a ``make_grid`` grid."""
    top, left = pad + row * (size + pad), pad + col * (size + pad)
    return img[top:top + size, left:left + size]


def test_generated_samples_rows_hold_the_generated_and_real_faces(result):
    n, size = 5, result.config.image_size
    fig = pa.fig_generated_samples(with_(result, sources=None), n=n)  # no source row
    left, right = fig.axes
    # the generated faces above the real ones, each panel the figure's full width
    assert left.get_subplotspec().rowspan.start == 0 and right.get_subplotspec().rowspan.start == 1
    assert [t.get_text() for t in left.get_yticklabels()] == TARGETS
    assert [t.get_text() for t in right.get_yticklabels()] == TARGETS
    img = image_of(left)
    assert img.shape == (len(TARGETS) * (size + 2) + 2, n * (size + 2) + 2)
    im = left.get_images()[0]
    assert im.get_cmap().name == "gray" and im.get_clim() == (-1.0, 1.0)
    for r, c in enumerate(TARGETS):
        for j in (0, n - 1):
            np.testing.assert_allclose(cell(img, r, j, size), result.generated[c][j, 0].numpy(), atol=1e-6)
    # every face on the right is a real training face of its row's class
    real = image_of(right)
    x, y = result.data["x_train"][:, 0].numpy(), result.data["y_train"].numpy()
    for r, c in enumerate(TARGETS):
        pool = x[y == EKMAN7.index(c)]
        for j in range(n):
            assert np.abs(pool - cell(real, r, j, size)).max(axis=(1, 2)).min() < 1e-6


def test_generated_samples_show_the_sources_and_pad_short_rows(result):
    size, n = result.config.image_size, 20
    sources = result.data["x_train"][result.data["y_train"] == EKMAN7.index("neutral")][:n]
    fig = pa.fig_generated_samples(with_(result, sources={"x": sources}), n=n)
    left, right = fig.axes
    assert [t.get_text() for t in left.get_yticklabels()] == ["neutral (source)", *TARGETS]
    assert [t.get_text() for t in right.get_yticklabels()] == ["neutral", *TARGETS]
    np.testing.assert_allclose(cell(image_of(left), 0, 3, size), sources[3, 0].numpy(), atol=1e-6)
    # fewer real disgust faces than n: the row ends in white
    n_disgust = result.metrics["train_counts"][EKMAN7.index("disgust")]
    assert n_disgust < n
    row = 1 + TARGETS.index("disgust")
    assert (cell(image_of(right), row, n - 1, size) == 1.0).all()
    assert not (cell(image_of(right), row, n_disgust - 1, size) == 1.0).all()


def test_tsne_embedding_holds_the_real_subsample_and_the_generated_faces(result, embedding):
    emb, labels, is_generated = embedding
    n_gen = {c: len(result.generated[c]) for c in augment.TABLE1_TARGETS}
    assert emb.shape == (300 + sum(n_gen.values()), 2) and np.isfinite(emb).all()
    assert labels.shape == is_generated.shape == (len(emb),)
    assert is_generated.sum() == n_gen["disgust"] + n_gen["sad"]
    assert not is_generated[:300].any()  # real faces first
    expected = np.concatenate([np.full(n_gen[c], EKMAN7.index(c)) for c in augment.TABLE1_TARGETS])
    assert np.array_equal(labels[is_generated], expected)
    # the real subsample keeps the class proportions of the training set
    counts = np.bincount(labels[~is_generated], minlength=len(EKMAN7))
    train = np.asarray(result.metrics["train_counts"])
    assert counts.sum() == 300
    assert np.all(np.abs(counts - 300 * train / train.sum()) <= 1)


def test_stratified_subsample():
    y = np.repeat(np.arange(3), [50, 30, 20])
    rng = np.random.default_rng(0)
    assert np.array_equal(pa._stratified(y, 500, rng), np.arange(100))
    keep = pa._stratified(y, 11, rng)
    assert len(keep) == 11 and len(np.unique(keep)) == 11
    assert np.bincount(y[keep]).tolist() in ([6, 3, 2], [5, 4, 2], [5, 3, 3])


def test_tsne_is_fixed_by_the_seed(result):
    a = pa.tsne_embedding(result, max_real=80, seed=3)
    b = pa.tsne_embedding(result, max_real=80, seed=3)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_fig_tsne_panels_share_one_embedding(result, embedding):
    emb, labels, is_generated = embedding
    fig = pa.fig_tsne(result, embedding=embedding)
    assert len(fig.axes) == 4
    assert fig.axes[0].get_gridspec().get_geometry() == (2, 2)  # two panels a row
    n_real = int((~is_generated).sum())
    n_dis = int((is_generated & (labels == EKMAN7.index("disgust"))).sum())
    n_sad = int((is_generated & (labels == EKMAN7.index("sad"))).sum())
    expected = [(n_real, {}), (n_real, {"disgust": n_dis}), (n_real, {"sad": n_sad}),
                (n_real, {"disgust": n_dis, "sad": n_sad})]
    for ax, (real, gen) in zip(fig.axes, expected):
        offsets = [c.get_offsets() for c in ax.collections]
        crosses = {c.get_label().split(",")[0]: len(c.get_offsets())
                   for c in ax.collections if "generated" in c.get_label()}
        assert sum(map(len, offsets)) == real + sum(gen.values()) and crosses == gen
    last = np.concatenate([c.get_offsets() for c in fig.axes[3].collections])
    np.testing.assert_allclose(np.sort(last, axis=0), np.sort(emb, axis=0))
    (legend,) = fig.legends
    texts = [t.get_text() for t in legend.get_texts()]
    assert "disgust, generated" in texts and "sad, generated" in texts and "neutral" in texts
    assert fig.axes[0].get_title().startswith("(a)") and fig.axes[3].get_title().startswith("(d)")


def test_training_curves_plot_every_cyclegans_losses(result):
    fig = pa.fig_training_curves(result)
    assert len(fig.axes) == len(result.histories)
    for ax, (name, h) in zip(fig.axes, result.histories.items()):
        assert ax.get_title().endswith(name.removeprefix("cyclegan_"))
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert set(lines) == set(pa.TRAINING_CURVES)
        for key, line in lines.items():
            np.testing.assert_allclose(line.get_ydata(), h[key])
            np.testing.assert_allclose(line.get_xdata(), h["step"])


def test_accuracy_table_matches_the_metrics(result):
    m = result.metrics
    table = pa.accuracy_table(m)
    assert table.index.tolist() == ["baseline", "+disgust", "+sad", "+both", "DAG"]
    assert table.columns.tolist() == ["overall", *EKMAN7]
    for setting, label in pa.SETTING_LABELS.items():
        assert table.loc[label, "overall"] == pytest.approx(m[f"acc_{setting}"])
        np.testing.assert_allclose(table.loc[label, list(EKMAN7)], m["per_class"][setting])


def test_accuracy_table_with_the_paper(result):
    paper = augment.PAPER_RESULTS
    table = pa.accuracy_table(result.metrics, paper=paper)
    assert table.index.tolist()[5:] == ["paper: baseline", "paper: +disgust", "paper: +sad", "paper: DAG"]
    assert table.loc["paper: +disgust", "disgust"] == 91.30
    assert table.loc["paper: baseline", "overall"] == paper["acc_baseline"]
    assert table.loc["paper: DAG", "overall"] == 94.71
    assert table.loc["paper: DAG", list(EKMAN7)].isna().all()


def test_per_class_bars(result):
    m = result.metrics
    fig = pa.fig_per_class(result)
    (ax,) = fig.axes
    heights = [p.get_height() for p in ax.patches]
    expected = [v for s in augment.SETTINGS for v in m["per_class"][s]]
    np.testing.assert_allclose(heights, expected)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(EKMAN7)
    assert any(f"{m['acc_baseline']:.1f}%" in t.get_text() for t in ax.get_legend().get_texts())
    assert not ax.collections
    fig = pa.fig_per_class(result, paper=augment.PAPER_RESULTS)
    ticks = [c.get_offsets()[:, 1] for c in fig.axes[0].collections]
    np.testing.assert_allclose(ticks, list(augment.PAPER_RESULTS["per_class"].values()))


def test_ground_truth_figure(result):
    gt = result.metrics["ground_truth"]
    fig = pa.fig_ground_truth(result)
    patterns, identity = fig.axes
    classes = [c for c in EKMAN7 if c in gt]
    assert [t.get_text() for t in patterns.get_xticklabels()] == classes
    expected = [gt[c][k] for k in ("pattern_match_generated", "pattern_match_real", "pattern_match_source")
                for c in classes]
    np.testing.assert_allclose([p.get_height() for p in patterns.patches], expected)
    np.testing.assert_allclose([p.get_height() for p in identity.patches],
                               [gt[c]["identity_kept"] for c in classes])
    no_gt = with_(result, metrics={**result.metrics, "ground_truth": None})
    assert pa.fig_ground_truth(no_gt) is None


def test_chapter_figures(result):
    assert FIGURES["augment"] is pa.chapter_figures
    figs = pa.chapter_figures(result)
    assert list(figs) == ["generated_samples", "tsne", "training_curves", "per_class", "ground_truth"]
    # the whole training set (600 faces < 1500) and both generated classes are embedded
    n = sum(len(c.get_offsets()) for c in figs["tsne"].axes[3].collections)
    assert n == len(result.data["y_train"]) + sum(len(result.generated[c]) for c in augment.TABLE1_TARGETS)
    plt.close("all")
    no_gt = with_(result, metrics={**result.metrics, "ground_truth": None},
                  generated={c: g[:10] for c, g in result.generated.items()})
    assert "ground_truth" not in pa.chapter_figures(no_gt)


def test_real_faces_are_a_seeded_pick(result):
    a = image_of(pa.fig_generated_samples(result, n=4, seed=1).axes[1])
    b = image_of(pa.fig_generated_samples(result, n=4, seed=1).axes[1])
    c = image_of(pa.fig_generated_samples(result, n=4, seed=2).axes[1])
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_ground_truth_table_has_short_two_level_headers(result):
    table = pa.ground_truth_table(result.metrics)
    gt = result.metrics["ground_truth"]
    assert table.index.tolist() == list(gt) and table.index.name == "class"
    assert table.columns.tolist() == list(pa.GROUND_TRUTH_COLUMNS)
    assert max(len(part) for col in table.columns for part in col) <= 15  # no header wider than its numbers
    for (group, column), key in pa.GROUND_TRUTH_COLUMNS.items():
        assert table[(group, column)].tolist() == pytest.approx([gt[c][key] for c in gt], nan_ok=True)
    # a column that some class lacks is left out; a run without ground truth has no table
    partial = {c: {k: v for k, v in row.items() if k != "identity_kept" or c != "sad"} for c, row in gt.items()}
    assert ("identity", "kept") not in pa.ground_truth_table({"ground_truth": partial}).columns
    assert pa.ground_truth_table({"ground_truth": {}}) is None and pa.ground_truth_table({}) is None

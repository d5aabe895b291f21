"""Figures and tables of the CycleEmotionGAN chapter: on one smoke run (AffectScenes, Mikels'
eight emotions, both directions, a lambda sweep) and on a hand-made faces result (six
classes, one channel, no Mikels variant, no sweep)."""

import copy
import types

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from emolab.core import seed_everything
from emolab.data.taxonomy import MIKELS8
from emolab.experiments import cycleemotiongan as ceg
from emolab.models import define_classifier
from emolab.plots import FIGURES
from emolab.plots import cycleemotiongan as pc

plt.switch_backend("Agg")

FACES = ceg.FACE_DIRECTION

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def result(one_thread):
    seed_everything(0)
    return ceg.run("smoke", seed=0)


@pytest.fixture(scope="module")
def faces(one_thread):
    """A result shaped like the real FER2013 -> CK+48 run: 6 classes, grey 32 px faces,
    untrained (random) classifiers, no Mikels variant, no lambda sweep, no paper table."""
    g = torch.Generator().manual_seed(0)
    k, size = len(ceg.FACE_CLASSES), 32

    def images(n):
        return torch.rand((n, 1, size, size), generator=g) * 2 - 1

    y_s, y_t = torch.arange(40) % k, torch.arange(30) % k
    x_s, x_t = images(40), images(30)
    data = {"source": "fer2013", "target": "ckplus48", "x_source": x_s, "y_source": y_s,
            "x_target": x_t, "y_target": y_t, "x_target_train": images(30), "y_target_train": y_t.clone(),
            "adapted_cyclegan": x_s.flip(-1), "adapted_skl": -x_s}
    models, table, confusion = {}, {}, {}
    for i, method in enumerate(("source_only", "oracle", "cyclegan", "cycleemotiongan_skl")):
        torch.manual_seed(i)
        net = define_classifier("small_cnn", k, 1, size, 4, "batch").eval()
        models[method] = net
        table[method], confusion[method] = ceg.evaluate(ceg.predict(net, x_t, "cpu"), y_t, k)
    table["cycleemotiongan_mikels"] = None
    steps = [10, 20, 30]
    histories = {
        "cyclegan": {"step": steps, "G_total": [3.0, 2.0, 1.5], "G_adv_T": [1.0, 0.9, 0.8], "G_adv_R": [1, 1, 1],
                     "cycle": [0.5, 0.4, 0.3], "D_T": [0.3, 0.25, 0.2], "D_R": [0.3, 0.3, 0.3]},
        f"{FACES}/cycleemotiongan_skl": {"step": steps, "G_total": [4.0, 3.0, 2.0], "G_adv_T": [1.1, 1.0, 0.7],
                                         "G_adv_R": [1, 1, 1], "cycle": [0.6, 0.5, 0.4], "esc": [0.2, 0.1, 0.05],
                                         "D_T": [0.3, 0.2, 0.2], "task": [1.8, 1.7, 1.6], "D_S": [0.3, 0.3, 0.3]},
    }
    metrics = {"class_names": list(ceg.FACE_CLASSES), "data_source": "real", "directions": {FACES: table},
               "paper": None, "lambda_sweep": None}
    return ceg.CycleEmotionGANResult(ceg.CycleEmotionGANConfig.for_profile("smoke"), metrics, {FACES: data},
                                     {FACES: models}, {}, histories, {FACES: confusion}, {})


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def panels(fig):
    """The figure's Axes, colour bars left out."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def image_of(ax) -> np.ndarray:
    (im,) = ax.get_images()
    return np.asarray(im.get_array())


def cell(img: np.ndarray, row: int, col: int, size: int, pad: int = 2) -> np.ndarray:
    """Image ``(row, col)`` of a ``make_grid`` grid."""
    top, left = pad + row * (size + pad), pad + col * (size + pad)
    return img[top:top + size, left:left + size]


def shown(x: torch.Tensor) -> np.ndarray:
    """How one [-1, 1] image is drawn: grey as is, colour as HWC in [0, 1]."""
    x = x.clamp(-1, 1)
    return x[0].numpy() if x.shape[0] == 1 else ((x + 1) / 2).permute(1, 2, 0).numpy()


def ticks(labels) -> list[str]:
    return [t.get_text() for t in labels]


# ----------------------------------------------------------------------------- Fig. 4
@pytest.mark.parametrize("direction", ceg.DIRECTIONS)
def test_adapted_images_keep_each_source_image_in_its_column(result, direction):
    n, d = 6, result.data[direction]
    size = d["x_source"].shape[-1]
    fig = pc.fig_adapted_images(result, direction, n=n, seed=1)
    (ax,) = fig.axes
    assert ticks(ax.get_yticklabels()) == [f"source ({d['source']})", "CycleGAN", "CycleEmotionGAN - SKL",
                                           "CycleEmotionGAN - Mikels", f"target ({d['target']}), same class"]
    columns = ticks(ax.get_xticklabels())
    assert len(columns) == n and len(set(columns)) == n  # six different emotions of the eight
    assert columns == sorted(columns, key=MIKELS8.index)
    img = image_of(ax)
    assert img.shape == (5 * (size + 2) + 2, n * (size + 2) + 2, 3)
    xs = np.stack([shown(x) for x in d["x_source"]])
    xt = np.stack([shown(x) for x in d["x_target"]])
    ys, yt = d["y_source"].numpy(), d["y_target"].numpy()
    for j, emotion in enumerate(columns):
        # the source image is one of that emotion, and every adapted row shows *its* translation
        (i,) = np.flatnonzero(np.abs(xs - cell(img, 0, j, size)).max(axis=(1, 2, 3)) < 1e-6)[:1]
        assert MIKELS8[ys[i]] == emotion
        for r, key in enumerate(("adapted_cyclegan", "adapted_skl", "adapted_mikels"), start=1):
            np.testing.assert_allclose(cell(img, r, j, size), shown(d[key][i]), atol=1e-6)
        # the last row: a target test image of the same emotion
        matches = np.flatnonzero(np.abs(xt - cell(img, 4, j, size)).max(axis=(1, 2, 3)) < 1e-6)
        assert len(matches) and all(MIKELS8[yt[t]] == emotion for t in matches)


def test_adapted_columns_are_a_seeded_pick(result):
    a = pc.adapted_columns(result, "art_to_photo", n=5, seed=3)
    b = pc.adapted_columns(result, "art_to_photo", n=5, seed=3)
    c = pc.adapted_columns(result, "art_to_photo", n=5, seed=4)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not all(np.array_equal(u, v) for u, v in zip(a, c))
    src, tgt, labels = a
    d = result.data["art_to_photo"]
    np.testing.assert_array_equal(d["y_source"].numpy()[src], labels)
    np.testing.assert_array_equal(d["y_target"].numpy()[tgt], labels)


def test_adapted_images_of_grey_faces_without_mikels(faces):
    n, size, d = 8, 32, faces.data[FACES]  # more columns than the six classes: classes repeat
    fig = pc.fig_adapted_images(faces, FACES, n=n)
    (ax,) = fig.axes
    assert ticks(ax.get_yticklabels()) == ["source (fer2013)", "CycleGAN", "CycleEmotionGAN - SKL",
                                           "target (ckplus48), same class"]
    columns = ticks(ax.get_xticklabels())
    assert len(columns) == n and set(columns) <= set(ceg.FACE_CLASSES) and len(set(columns)) == 6
    im = ax.get_images()[0]
    assert im.get_cmap().name == "gray" and im.get_clim() == (-1.0, 1.0)
    img = image_of(ax)
    assert img.shape == (4 * (size + 2) + 2, n * (size + 2) + 2)
    src, tgt, _ = pc.adapted_columns(faces, FACES, n=n)
    assert len(set(src)) == n and len(set(tgt)) == n  # a repeated class shows other images
    for j in (0, n - 1):
        np.testing.assert_allclose(cell(img, 0, j, size), d["x_source"][src[j], 0].numpy(), atol=1e-6)
        np.testing.assert_allclose(cell(img, 1, j, size), d["adapted_cyclegan"][src[j], 0].numpy(), atol=1e-6)
        np.testing.assert_allclose(cell(img, 2, j, size), d["adapted_skl"][src[j], 0].numpy(), atol=1e-6)
        np.testing.assert_allclose(cell(img, 3, j, size), d["x_target"][tgt[j], 0].numpy(), atol=1e-6)


# ----------------------------------------------------------------------------- Figs. 5-6
def test_lambda_sensitivity_plots_the_sweep_and_the_baselines(result):
    m = result.metrics
    sweep = m["lambda_sweep"]
    fig = pc.fig_lambda_sensitivity(result)
    (ax,) = fig.axes
    assert ax.get_xscale() == "symlog" and ax.get_title() == "art → photo"
    lines = {line.get_label(): line for line in ax.get_lines()}
    curve = lines["CycleEmotionGAN - SKL"]
    np.testing.assert_allclose(curve.get_xdata(), sweep["lambdas"])
    np.testing.assert_allclose(curve.get_ydata(), sweep["average"])
    # the main run's lambda (10) is the SKL result of Table 1
    assert sweep["average"][sweep["lambdas"].index(10.0)] == pytest.approx(
        m["directions"]["art_to_photo"]["cycleemotiongan_skl"]["average"])
    for method in ("source_only", "cyclegan", "oracle"):
        line = lines[ceg.METHOD_LABELS[method]]
        assert line.get_linestyle() == "--"
        np.testing.assert_allclose(line.get_ydata(), m["directions"]["art_to_photo"][method]["average"])
    np.testing.assert_allclose(lines["paper's λ = 10"].get_xdata(), 10.0)
    assert len(fig.legends) == 1


def test_lambda_sensitivity_has_one_panel_per_swept_direction(result, faces):
    m = copy.deepcopy(result.metrics)
    m["lambda_sweeps"]["photo_to_art"] = {"lambdas": [0.0, 1.0, 10.0], "average": [20.0, 30.0, 25.0]}
    fig = pc.fig_lambda_sensitivity(types.SimpleNamespace(metrics=m))
    assert [ax.get_title() for ax in fig.axes] == ["art → photo", "photo → art"]
    curve = fig.axes[1].get_lines()[0]
    np.testing.assert_allclose(curve.get_ydata(), [20.0, 30.0, 25.0])
    # only ``lambda_sweep`` (no ``lambda_sweeps``) still gives its panel; no sweep: no figure
    del m["lambda_sweeps"]
    assert len(pc.fig_lambda_sensitivity(types.SimpleNamespace(metrics=m)).axes) == 1
    assert pc.fig_lambda_sensitivity(faces) is None


# ----------------------------------------------------------------------------- t-SNE
def test_target_features_are_the_penultimate_embedding(faces):
    net = faces.models[FACES]["source_only"]
    x = faces.data[FACES]["x_target"]
    net.train()
    feats = pc.target_features(net, x, batch=7)
    assert net.training  # the mode is restored
    net.eval()
    with torch.no_grad():
        expected = net.features(x).numpy()
    assert feats.shape == (len(x), 256) and feats.dtype == np.float32
    np.testing.assert_allclose(feats, expected, rtol=1e-5, atol=1e-6)


def test_tsne_target_has_one_panel_per_method(result):
    direction, n = "photo_to_art", 64
    fig = pc.fig_tsne_target(result, direction, max_points=n)
    axes = fig.axes
    table = result.metrics["directions"][direction]
    assert [ax.get_title() for ax in axes] == [
        f"source-only ({table['source_only']['average']:.1f}%)",
        f"CycleEmotionGAN - SKL ({table['cycleemotiongan_skl']['average']:.1f}%)"]
    y = result.data[direction]["y_target"].numpy()
    per_class = np.bincount(y, minlength=8) * n / len(y)  # a balanced test set: 8 of each class
    for ax in axes:
        counts = {c.get_label(): len(c.get_offsets()) for c in ax.collections}
        assert sum(counts.values()) == n
        assert counts == {MIKELS8[k]: int(per_class[k]) for k in range(8)}
        assert np.isfinite(np.concatenate([c.get_offsets() for c in ax.collections])).all()
    (legend,) = fig.legends
    assert ticks(legend.get_texts()) == list(MIKELS8)


def test_tsne_target_skips_methods_that_did_not_run(faces):
    fig = pc.fig_tsne_target(faces, FACES, methods=("source_only", "cycleemotiongan_mikels", "oracle"))
    assert [ax.get_title().rsplit(" (", 1)[0] for ax in fig.axes] == ["source-only", "oracle (train on target)"]
    assert all(sum(len(c.get_offsets()) for c in ax.collections) == 30 for ax in fig.axes)
    with pytest.raises(ValueError, match="none of the methods"):
        pc.fig_tsne_target(faces, FACES, methods=("cycleemotiongan_mikels",))


# ----------------------------------------------------------------------------- confusion
def test_confusion_panels_are_row_normalised(result):
    direction = "art_to_photo"
    methods = ("source_only", "cyclegan", "cycleemotiongan_skl")
    fig = pc.fig_confusion(result, direction, methods=methods)
    axes = panels(fig)
    assert len(axes) == 3 and len(fig.axes) == 4  # one colour bar
    for ax, method in zip(axes, methods):
        k = len(MIKELS8)
        pct = np.ma.filled(ax.collections[0].get_array(), np.nan).reshape(k, k)
        np.testing.assert_allclose(np.nansum(pct, axis=1), 100.0)
        cm = result.confusion[direction][method]
        np.testing.assert_allclose(pct, 100 * cm / cm.sum(1, keepdims=True))
        # the diagonal is the per-class accuracy of Table 1
        np.testing.assert_allclose(np.diag(pct), result.metrics["directions"][direction][method]["per_class"])
        assert ticks(ax.get_xticklabels()) == list(MIKELS8)
        assert f"({result.metrics['directions'][direction][method]['average']:.1f}%)" in ax.get_title()
    assert ticks(axes[0].get_yticklabels()) == list(MIKELS8)
    assert axes[0].get_ylabel() == "true" and axes[0].get_xlabel() == "predicted"


def test_normalised_confusion_leaves_empty_rows_nan():
    pct = pc.normalised_confusion([[3, 1], [0, 0]])
    np.testing.assert_allclose(pct[0], [75.0, 25.0])
    assert np.isnan(pct[1]).all()


def test_confusion_on_faces_skips_mikels(faces):
    fig = pc.fig_confusion(faces, FACES, methods=("source_only", "cycleemotiongan_mikels"))
    (ax,) = panels(fig)
    assert ticks(ax.get_xticklabels()) == list(ceg.FACE_CLASSES)
    pct = np.ma.filled(ax.collections[0].get_array(), np.nan).reshape(6, 6)
    np.testing.assert_allclose(np.nansum(pct, axis=1), 100.0)
    with pytest.raises(ValueError, match="none of the methods"):
        pc.fig_confusion(faces, FACES, methods=("cycleemotiongan_mikels",))


# ----------------------------------------------------------------------------- Tables 1-2
@pytest.mark.parametrize("direction", ceg.DIRECTIONS)
def test_accuracy_table_matches_the_metrics(result, direction):
    table = pc.accuracy_table(result, direction)
    assert table.index.tolist() == [ceg.METHOD_LABELS[m] for m in ceg.METHODS]
    assert table.columns.tolist() == [*MIKELS8, "Average"]
    for method in ceg.METHODS:
        entry = result.metrics["directions"][direction][method]
        row = table.loc[ceg.METHOD_LABELS[method]]
        np.testing.assert_allclose(row[list(MIKELS8)], entry["per_class"])
        assert row["Average"] == pytest.approx(entry["average"])
    # the metrics dict alone gives the same table
    assert table.equals(pc.accuracy_table(result.metrics, direction))


def test_accuracy_table_of_the_paper(result, faces):
    table = pc.accuracy_table(result, "art_to_photo", paper=True)
    assert table.index.tolist() == [ceg.METHOD_LABELS[m] for m in ceg.METHODS]
    assert table.loc["CycleEmotionGAN - Mikels", "Average"] == 25.20
    assert table.loc["CycleEmotionGAN - Mikels", "amusement"] == 35.39
    assert table.loc["source-only", "excitement"] == 66.67
    assert table.loc["oracle (train on target)", "Average"] == 66.81
    other = pc.accuracy_table(result, "photo_to_art", paper=True)
    assert other.loc["CycleEmotionGAN - SKL", "awe"] == 70.00
    assert other.loc["oracle (train on target)", "Average"] == 44.87
    assert pc.accuracy_table(faces, FACES, paper=True) is None


def test_accuracy_table_on_faces_has_no_mikels_row(faces):
    table = pc.accuracy_table(faces, FACES)
    assert table.index.tolist() == ["source-only", "CycleGAN", "CycleEmotionGAN - SKL", "oracle (train on target)"]
    assert table.columns.tolist() == [*ceg.FACE_CLASSES, "Average"]
    np.testing.assert_allclose(table.loc["CycleGAN", "Average"],
                               faces.metrics["directions"][FACES]["cyclegan"]["average"])


def test_seed_table_gives_mean_and_std(result):
    other = copy.deepcopy(result.metrics)
    for entry in other["directions"]["art_to_photo"].values():
        entry["per_class"] = [v + 2.0 for v in entry["per_class"]]
        entry["average"] += 2.0
    other["directions"]["art_to_photo"]["cycleemotiongan_mikels"] = None  # missing in one seed: dropped
    numbers = pc.seed_table([result.metrics, other], "art_to_photo", formatted=False)
    labels = ["source-only", "CycleGAN", "CycleEmotionGAN - SKL", "oracle (train on target)"]
    assert numbers.index.tolist() == labels
    assert numbers.columns.tolist() == [(s, c) for s in ("mean", "std") for c in (*MIKELS8, "Average")]
    base = pc.accuracy_table(result, "art_to_photo").loc[labels]
    np.testing.assert_allclose(numbers["mean"].to_numpy(), base.to_numpy() + 1.0)
    np.testing.assert_allclose(numbers["std"].to_numpy(), np.sqrt(2.0))  # sample std of (a, a + 2)
    text = pc.seed_table([result.metrics, other], "art_to_photo")
    avg = base.loc["CycleGAN", "Average"] + 1.0
    assert text.loc["CycleGAN", "Average"] == f"{avg:.1f} ± 1.4"
    assert text.columns.name == "mean ± std over 2 seeds"
    one = pc.seed_table([result], "art_to_photo", formatted=False)
    assert (one["std"].to_numpy() == 0).all() and len(one) == 5
    with pytest.raises(ValueError):
        pc.seed_table([], "art_to_photo")


# ----------------------------------------------------------------------------- training
def curve_panels(fig):
    """The panels that hold curves (a spare grid cell holds the legend, axis off)."""
    return [ax for ax in fig.axes if ax.axison]


def test_training_curves_plot_every_runs_losses(result):
    fig = pc.fig_training_curves(result)
    assert [ax.get_title() for ax in curve_panels(fig)] == [t for _, t in pc.TRAINING_CURVES]
    # at most three panels a row, so that the figure reads in a book column
    rows = {}
    for ax in curve_panels(fig):
        rows.setdefault(ax.get_subplotspec().rowspan.start, []).append(ax)
    assert len(rows) == -(-len(pc.TRAINING_CURVES) // 3) and max(map(len, rows.values())) == 3
    for ax, (key, _) in zip(curve_panels(fig), pc.TRAINING_CURVES):
        lines = {line.get_label(): line for line in ax.get_lines()}
        runs = [r for r, h in result.histories.items() if key in h]
        assert set(lines) == {pc.run_label(r) for r in runs}
        if key in ("esc", "task"):
            assert "CycleGAN" not in lines
        for r in runs:
            h = result.histories[r]
            np.testing.assert_allclose(lines[pc.run_label(r)].get_ydata(), h[key])
            np.testing.assert_allclose(lines[pc.run_label(r)].get_xdata(), h["step"][-len(h[key]):])
    assert pc.run_label("photo_to_art/cycleemotiongan_mikels") == "photo → art, MIKELS"
    # five panels on a 2 x 3 grid: the sixth cell holds the one legend, a line per run
    assert not fig.legends
    (spare,) = [ax for ax in fig.axes if not ax.axison]
    assert len(spare.get_legend().get_texts()) == len(result.histories)
    assert not spare.get_lines()
    # a grid without a spare cell keeps the legend on the right of the figure
    four = pc.fig_training_curves(result, curves=pc.TRAINING_CURVES[:3])
    assert len(four.axes) == 3 and all(ax.axison for ax in four.axes)
    (legend,) = four.legends
    assert len(legend.get_texts()) == len(result.histories)


# ----------------------------------------------------------------------------- chapter
def test_chapter_figures(result):
    assert FIGURES["cycleemotiongan"] is pc.chapter_figures
    figs = pc.chapter_figures(result)
    assert list(figs) == ["adapted_art_to_photo", "tsne_art_to_photo", "confusion_art_to_photo",
                          "adapted_photo_to_art", "tsne_photo_to_art", "confusion_photo_to_art",
                          "lambda_sensitivity", "training_curves"]
    assert len(ticks(figs["adapted_photo_to_art"].axes[0].get_yticklabels())) == 5
    assert len(figs["tsne_art_to_photo"].axes) == 2


def test_chapter_figures_on_faces(faces):
    figs = pc.chapter_figures(faces)
    assert list(figs) == [f"adapted_{FACES}", f"tsne_{FACES}", f"confusion_{FACES}", "training_curves"]
    assert len(figs[f"tsne_{FACES}"].axes) == 2 and len(panels(figs[f"confusion_{FACES}"])) == 2
    assert [ax.get_title() for ax in curve_panels(figs["training_curves"])] == [t for _, t in pc.TRAINING_CURVES]

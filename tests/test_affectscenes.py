"""AffectScenes: the procedural image-emotion data set, its two domains and its cues."""

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from emolab.core.errors import ConfigError
from emolab.data.affectscenes import (
    CUE_PARAMS,
    AffectScenes,
    confusion_by_wheel_distance,
    emotion_mean_distances,
)
from emolab.data.taxonomy import MIKELS8, MIKELS_WHEEL, wheel_distance


# --------------------------------------------------------------------------- helpers

def hsv_saturation(imgs: np.ndarray) -> np.ndarray:
    x = imgs.astype(np.float32) / 255
    mx, mn = x.max(-1), x.min(-1)
    return (mx - mn) / (mx + 1e-3)


def features(imgs: np.ndarray) -> np.ndarray:
    """8x8 downsampled pixels, hue / saturation / value histograms and gradient energy."""
    x = imgs.astype(np.float32) / 255
    n, s = x.shape[:2]
    small = x.reshape(n, 8, s // 8, 8, s // 8, 3).mean((2, 4)).reshape(n, -1)
    mx = x.max(-1)
    sat = hsv_saturation(imgs)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    hue_bin = ((np.arctan2(np.sqrt(3) * (g - b), 2 * r - g - b) + np.pi) / (2 * np.pi) * 12).astype(int) % 12
    hue_hist = np.stack([(sat * (hue_bin == k)).mean((1, 2)) for k in range(12)], 1)
    sat_hist = np.stack([((sat >= k / 8) & (sat < (k + 1) / 8)).mean((1, 2)) for k in range(8)], 1)
    val_hist = np.stack([((mx >= k / 8) & (mx < (k + 1) / 8 + (k == 7))).mean((1, 2)) for k in range(8)], 1)
    lum = x @ np.array([0.299, 0.587, 0.114], np.float32)
    grad = np.stack([np.abs(np.diff(lum, axis=2)).mean((1, 2)), np.abs(np.diff(lum, axis=1)).mean((1, 2)),
                     lum.std((1, 2))], 1)
    return np.concatenate([small, hue_hist, sat_hist, val_hist, grad], 1)


def block_edge_ratio(imgs: np.ndarray, block: int) -> float:
    """Horizontal luma gradient across ``block``-pixel tile borders over the mean gradient (JPEG-like tiles)."""
    gx = np.abs(np.diff(imgs.astype(np.float32).mean(-1), axis=2))
    return float(gx[:, :, block - 1::block].mean() / gx.mean())


# --------------------------------------------------------------------------- the data set API

@pytest.mark.parametrize("size", [32, 64, 128])
def test_items_shapes_dtypes_and_sizes(size):
    ds = AffectScenes(n=12, size=size, domain="photo" if size == 64 else "art", seed=1)
    assert len(ds) == 12 and ds.name == "affectscenes" and ds.classes == list(MIKELS8)
    assert ds.targets.dtype == np.int64 and ds.targets.shape == (12,)
    x, y = ds[3]
    assert isinstance(x, torch.Tensor) and type(x) is torch.Tensor
    assert x.dtype == torch.float32 and x.shape == (3, size, size)
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert isinstance(y, int) and y == ds.targets[3]
    imgs = ds.images()
    assert imgs.dtype == np.uint8 and imgs.shape == (12, size, size, 3)
    np.testing.assert_allclose(x.numpy(), imgs[3].transpose(2, 0, 1) / 255, atol=1e-6)
    assert np.array_equal(ds[-1][0], ds[11][0])
    with pytest.raises(IndexError):
        ds[12]
    for name in CUE_PARAMS:
        assert ds.params[name].shape == (12,)
        if name not in ("hue", "accent"):
            assert 0 <= ds.params[name].min() and ds.params[name].max() <= 1
    assert ds.images([5, 0, 5]).shape == (3, size, size, 3)


def test_defaults_channels_and_transforms():
    ds = AffectScenes(n=4, size=None)
    assert ds.size == 64 and ds.domain == "art" and ds[0][0].shape == (3, 64, 64)
    grey = AffectScenes(n=4, size=32, channels=1)
    assert grey[0][0].shape == (1, 32, 32)
    seen = []
    custom = AffectScenes(n=4, size=32, transform=lambda im: seen.append(im) or "t",
                          target_transform=lambda y: y + 100)
    x, y = custom[2]
    assert x == "t" and y == custom.targets[2] + 100
    assert isinstance(seen[0], Image.Image) and seen[0].size == (32, 32) and seen[0].mode == "RGB"
    batch, labels = next(iter(torch.utils.data.DataLoader(AffectScenes(n=10, size=32), batch_size=10)))
    assert batch.shape == (10, 3, 32, 32) and labels.dtype == torch.int64


def test_fixed_by_the_seed_and_independent_of_access_order():
    a = AffectScenes(n=300, size=32, seed=7)
    b = AffectScenes(n=300, size=32, seed=7)
    c = AffectScenes(n=300, size=32, seed=8)
    picked = b.images([250, 3])  # renders b's chunks in another order than a
    assert np.array_equal(a.images(), b.images()) and np.array_equal(picked, a.images()[[250, 3]])
    assert np.array_equal(a.targets, b.targets)
    assert not np.array_equal(a.targets, c.targets)
    assert np.abs(a.images().astype(int) - c.images().astype(int)).mean() > 20
    for name, value in a.params.items():
        assert np.array_equal(value, b.params[name]), name


def test_class_priors_are_respected():
    uniform = AffectScenes(n=8000, size=32)
    np.testing.assert_allclose(np.bincount(uniform.targets, minlength=8) / 8000, 1 / 8, atol=0.015)
    priors = [0.4, 0.2, 0.1, 0.1, 0.1, 0.1, 0.0, 0.0]
    skewed = AffectScenes(n=8000, size=32, class_priors=priors)
    counts = np.bincount(skewed.targets, minlength=8) / 8000
    np.testing.assert_allclose(counts, priors, atol=0.02)
    assert counts[6] == counts[7] == 0


def test_bad_arguments_raise_config_errors_naming_valid_values():
    with pytest.raises(ConfigError, match="art, photo"):
        AffectScenes(domain="sketch")
    with pytest.raises(ConfigError, match="art, photo"):
        AffectScenes(n=4).render_as("painting")
    for size in (16, 300, 64.0, "64"):
        with pytest.raises(ConfigError, match="32 to 256"):
            AffectScenes(size=size)
    for priors in ([0.5, 0.5], [0.25] * 8, [-0.1, 0.3, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1], "uniform"):
        with pytest.raises(ConfigError, match="amusement, awe, contentment"):
            AffectScenes(class_priors=priors)
    with pytest.raises(ConfigError, match="1 .*3"):
        AffectScenes(channels=2)
    with pytest.raises(ConfigError, match="positive integer"):
        AffectScenes(n=0)
    with pytest.raises(ConfigError, match="non-negative"):
        AffectScenes(seed=-1)


# --------------------------------------------------------------------------- the two domains

def test_render_as_keeps_labels_params_and_layout():
    art = AffectScenes(n=150, size=32, domain="art", seed=3)
    photo = art.render_as("photo")
    assert photo.domain == "photo" and art.domain == "art" and len(photo) == len(art)
    assert np.array_equal(photo.targets, art.targets)
    for name, value in art.params.items():
        assert np.array_equal(value, photo.params[name]), name
    assert not np.array_equal(photo.images(), art.images())
    assert np.array_equal(photo.render_as("art").images(), art.images())
    # the same scenes: the layouts agree (luma correlates image by image)
    la = art.images().astype(np.float32).mean(-1).reshape(150, -1)
    lp = photo.images().astype(np.float32).mean(-1).reshape(150, -1)
    same = np.mean([np.corrcoef(a, p)[0, 1] for a, p in zip(la, lp)])
    shuffled = np.mean([np.corrcoef(a, p)[0, 1] for a, p in zip(la, np.roll(lp, 1, axis=0))])
    assert same > shuffled + 0.3


def test_domain_statistics_differ():
    art = AffectScenes(n=300, size=64, domain="art", seed=4)
    photo = art.render_as("photo")
    a, p = art.images(), photo.images()
    sat_art, sat_photo = hsv_saturation(a).mean(), hsv_saturation(p).mean()
    assert sat_art > sat_photo + 0.25, (sat_art, sat_photo)
    # photo: JPEG-like tiles of 64 // 16 = 4 pixels
    assert block_edge_ratio(p, 4) > block_edge_ratio(a, 4) + 0.03
    # the domains are told apart from simple statistics of the same scenes
    x, y = np.concatenate([features(a), features(p)]), np.repeat([0, 1], 300)
    half = np.arange(600) % 2 == 0
    with threadpool_limits(1):
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x[half], y[half])
    assert clf.score(x[~half], y[~half]) > 0.95


def test_wheel_neighbours_have_closer_means_than_opposites():
    dist = emotion_mean_distances(MIKELS_WHEEL)
    steps = np.array([[wheel_distance(a, b) for b in MIKELS_WHEEL] for a in MIKELS_WHEEL])
    assert dist[steps == 2].mean() < dist[steps == 5].mean() - 1.5
    assert np.allclose(dist, dist.T) and np.all(np.diag(dist) == 0)


# --------------------------------------------------------------------------- what a classifier sees

@pytest.fixture(scope="module")
def domain_results():
    """A logistic regression trained per domain and tested on both (size 32)."""
    data = {}
    for domain, (seed_train, seed_test) in {"art": (11, 12), "photo": (13, 14)}.items():
        train = AffectScenes(n=1200, size=32, domain=domain, seed=seed_train)
        test = AffectScenes(n=600, size=32, domain=domain, seed=seed_test)
        data[domain] = (features(train.images()), train.targets, features(test.images()), test.targets)
    acc, confusion = {}, {}
    with threadpool_limits(1):
        for src in data:
            clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=1000))
            clf.fit(data[src][0], data[src][1])
            for tgt in data:
                pred = clf.predict(data[tgt][2])
                acc[src, tgt] = float((pred == data[tgt][3]).mean())
                confusion[src, tgt] = confusion_matrix(data[tgt][3], pred, labels=range(8))
    return acc, confusion


def test_in_domain_classifier_beats_chance_by_far(domain_results):
    acc, _ = domain_results
    assert acc["art", "art"] > 0.7, acc
    assert acc["photo", "photo"] > 0.45, acc


def test_cross_domain_accuracy_drops(domain_results):
    acc, _ = domain_results
    # against a classifier trained on the target domain itself ...
    assert acc["art", "photo"] < acc["photo", "photo"] - 0.2, acc
    assert acc["photo", "art"] < acc["art", "art"] - 0.25, acc
    # ... and against the source domain's own test accuracy
    assert acc["art", "photo"] < acc["art", "art"] - 0.4, acc
    assert acc["photo", "art"] < acc["photo", "photo"] - 0.08, acc


def test_wheel_neighbours_are_confused_more_than_opposites(domain_results):
    _, confusion = domain_results
    for domain in ("art", "photo"):
        by_distance = confusion_by_wheel_distance(confusion[domain, domain])
        assert set(by_distance) == {2, 3, 4, 5}
        assert by_distance[2] > 1.5 * by_distance[5] + 0.01, (domain, by_distance)


def test_confusion_by_wheel_distance_on_a_known_matrix():
    cm = np.eye(8) * 10
    i, j = MIKELS8.index("contentment"), MIKELS8.index("awe")
    cm[i, j] = 10  # contentment mistaken for awe half the time: a neighbour pair
    by_distance = confusion_by_wheel_distance(cm)
    assert by_distance[2] == pytest.approx(0.5 / 16) and by_distance[5] == 0

"""EmoFaces: procedural faces whose expression, intensity, identity and pose are known."""

import time

import numpy as np
import pytest
import torch

from emolab.core import ConfigError
from emolab.data.emofaces import (
    ACTION_UNITS,
    COMPOUND_PAIRS,
    DOMAINS,
    IDENTITY_PARAMS,
    POSE_PARAMS,
    PROTOTYPES,
    EmoFaces,
    expression_actions,
    expression_valence_arousal,
    render_faces,
    sample_identities,
    sample_poses,
)
from emolab.data.taxonomy import EKMAN7, VALENCE_AROUSAL, fer2013_priors


def _faces(n, seed=0):
    rng = np.random.default_rng(seed)
    return sample_identities(n, rng), sample_poses(n, rng)


# --- expressions -------------------------------------------------------------

def test_prototypes_follow_emfacs():
    assert len(set(ACTION_UNITS)) == len(ACTION_UNITS)
    assert set(PROTOTYPES) == set(EKMAN7)
    active = {e: {au for au, x in zip(ACTION_UNITS, p) if x > 0} for e, p in PROTOTYPES.items()}
    assert active["neutral"] == set()
    assert {"AU6", "AU12"} <= active["happy"]
    assert {"AU1", "AU4", "AU15"} <= active["sad"]
    assert {"AU1", "AU2", "AU5", "AU26"} <= active["surprise"]
    assert {"AU1", "AU2", "AU4", "AU5", "AU7", "AU20", "AU26"} <= active["fear"]
    assert {"AU4", "AU5", "AU7", "AU23"} <= active["angry"]
    assert {"AU9", "AU15", "AU17"} <= active["disgust"]
    for p in PROTOTYPES.values():
        assert p.shape == (len(ACTION_UNITS),) and p.min() >= 0 and p.max() <= 1


def test_expression_actions_intensity_and_mixtures():
    for e in EKMAN7:
        np.testing.assert_allclose(expression_actions(e, 0.5), 0.5 * PROTOTYPES[e], rtol=1e-6)
        assert not expression_actions(e, 0.0).any()
    mix = expression_actions({"happy": 0.6, "surprise": 0.4}, 0.8)
    np.testing.assert_allclose(mix, 0.8 * (0.6 * PROTOTYPES["happy"] + 0.4 * PROTOTYPES["surprise"]), rtol=1e-6)
    # weights are normalised
    np.testing.assert_allclose(expression_actions({"happy": 3, "surprise": 2}), expression_actions(
        {"happy": 0.6, "surprise": 0.4}), rtol=1e-6)
    va = expression_valence_arousal({"happy": 0.6, "surprise": 0.4}, 0.5)
    expected = 0.5 * (0.6 * np.array(VALENCE_AROUSAL["happy"]) + 0.4 * np.array(VALENCE_AROUSAL["surprise"]))
    np.testing.assert_allclose(va, expected, rtol=1e-6)
    assert not expression_valence_arousal("neutral", 1.0).any()


# --- rendering ---------------------------------------------------------------

@pytest.mark.parametrize("domain", DOMAINS)
def test_shapes_and_dtypes(domain):
    native = 1 if domain == "nir" else 3
    for size in (32, 48, 64):
        ds = EmoFaces(n=6, size=size, domain=domain, seed=1)
        image, label = ds[0]
        assert image.shape == (native, size, size) and image.dtype == torch.float32
        assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0 and float(image.std()) > 0.02
        assert isinstance(label, int) and 0 <= label < 7
        imgs = ds.images()
        assert imgs.shape == (6, size, size, native) and imgs.dtype == np.uint8
    for channels in (1, 3):
        image, _ = EmoFaces(n=2, size=40, domain=domain, channels=channels)[1]
        assert image.shape == (channels, 40, 40)


def test_large_and_odd_sizes():
    ids, poses = _faces(3)
    actions = np.stack([expression_actions(e, 0.9) for e in ("happy", "sad", "surprise")])
    for size in (33, 128):
        for domain in DOMAINS:
            out = render_faces(actions, ids, poses, domain, size, rng=0)
            assert out.shape == (3, size, size, 1 if domain == "nir" else 3) and out.dtype == np.uint8


def test_dataset_attributes_and_sample():
    ds = EmoFaces(n=50, size=32, compound=0.5, n_identities=5, seed=2)
    assert ds.classes == list(EKMAN7) and ds.name == "emofaces" and ds.domain == "render" and len(ds) == 50
    assert ds.targets.dtype == np.int64 and ds.targets.shape == (50,)
    assert ds.actions.shape == (50, len(ACTION_UNITS)) and ds.intensities.shape == (50,)
    assert ds.valence_arousal.shape == (50, 2) and ds.mixtures.shape == (50, 7)
    assert ds.identities.shape == (50,) and set(ds.identities) <= set(range(5))
    assert ds.identity_params.shape == (5, len(IDENTITY_PARAMS)) and ds.poses.shape == (50, len(POSE_PARAMS))
    s = ds.sample(7)
    assert set(s) >= {"image", "label", "emotion", "intensity", "actions", "valence_arousal", "identity"}
    assert s["emotion"] == EKMAN7[s["label"]] and s["image"].shape == (32, 32, 3)
    np.testing.assert_array_equal(s["image"], ds.images([7])[0])
    np.testing.assert_allclose(ds[7][0].numpy().transpose(1, 2, 0), s["image"] / 255.0, atol=1e-6)
    neutral = ds.targets == EKMAN7.index("neutral")
    assert not ds.actions[neutral].any() and not ds.valence_arousal[neutral].any()
    assert np.all(ds.intensities[~neutral] >= 0.6) and np.all(ds.intensities <= 1.0)
    with pytest.raises(IndexError):
        ds[50]


def test_transforms():
    ds = EmoFaces(n=3, size=32, channels=1, transform=lambda im: (im.mode, im.size),
                  target_transform=lambda y: f"label {y}")
    (mode, size), label = ds[0]
    assert mode == "L" and size == (32, 32) and label.startswith("label ")


def test_deterministic_by_seed():
    for domain in ("render", "photo"):
        a = EmoFaces(n=40, size=32, domain=domain, compound=0.3, seed=5)
        b = EmoFaces(n=40, size=32, domain=domain, compound=0.3, seed=5)
        c = EmoFaces(n=40, size=32, domain=domain, compound=0.3, seed=6)
        assert np.array_equal(a.targets, b.targets) and np.array_equal(a.actions, b.actions)
        # access order does not matter: render b item by item, backwards
        items = np.stack([b.images([i])[0] for i in reversed(range(40))])[::-1]
        assert np.array_equal(a.images(), items)
        assert not np.array_equal(a.images(), c.images())
    ids, poses = _faces(20)
    acts = np.stack([expression_actions(EKMAN7[i % 7], 0.8) for i in range(20)])
    one = render_faces(acts, ids, poses, "photo", 32, rng=3, threads=1)
    two = render_faces(acts, ids, poses, "photo", 32, rng=3, threads=2)
    assert np.array_equal(one, two)


def test_lazy_blocks_agree_with_batch_access():
    ds = EmoFaces(n=600, size=32, domain="sketch", seed=4)   # two render blocks
    late, early = ds.images([590, 3]), EmoFaces(n=600, size=32, domain="sketch", seed=4).images()
    assert np.array_equal(late, early[[590, 3]])


def test_faces_do_not_depend_on_their_batch():
    ids, poses = _faces(30, seed=3)
    rng = np.random.default_rng(0)
    acts = rng.random((30, len(ACTION_UNITS))).astype(np.float32)
    batch = render_faces(acts, ids, poses, "render", 48)
    alone = np.stack([render_faces(acts[i:i + 1], ids[i:i + 1], poses[i:i + 1], "render", 48)[0]
                      for i in range(0, 30, 6)])
    assert np.array_equal(batch[::6], alone)


def test_class_priors():
    labels = EmoFaces(n=5000, class_priors="fer2013", seed=0).targets
    counts = np.bincount(labels, minlength=7)
    expected = 5000 * np.asarray(fer2013_priors())
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 22.5                                   # df = 6, p = 0.001
    assert counts.argmin() == EKMAN7.index("disgust") and counts[EKMAN7.index("disgust")] < 150
    uniform = np.bincount(EmoFaces(n=3500, seed=1).targets, minlength=7)
    assert ((uniform - 500) ** 2 / 500).sum() < 22.5
    only_happy = EmoFaces(n=50, class_priors=[0, 0, 0, 1, 0, 0, 0]).targets
    assert set(only_happy) == {EKMAN7.index("happy")}


def test_intensity_zero_is_the_neutral_face():
    ids, poses = _faces(7, seed=8)
    neutral = render_faces(np.zeros((7, len(ACTION_UNITS))), ids, poses, "render", 48)
    for e in EKMAN7:
        acts = np.stack([expression_actions(e, 0.0)] * 7)
        assert np.array_equal(render_faces(acts, ids, poses, "render", 48), neutral)
        full = render_faces(np.stack([expression_actions(e, 1.0)] * 7), ids, poses, "render", 48)
        assert (e == "neutral") == np.array_equal(full, neutral)
    ds = EmoFaces(n=30, size=32, intensity=0.0, seed=3)
    assert not ds.actions.any() and not ds.valence_arousal.any()
    again = render_faces(np.zeros((30, len(ACTION_UNITS))), ds.identity_params[ds.identities], ds.poses,
                         "render", 32)
    assert np.array_equal(ds.images(), again)


def test_compound_mixtures():
    ds = EmoFaces(n=300, size=32, compound=1.0, seed=9)
    pure = EmoFaces(n=300, size=32, compound=0.0, seed=9)
    np.testing.assert_allclose(pure.mixtures, np.eye(7)[pure.targets])
    np.testing.assert_allclose(ds.mixtures.sum(1), 1.0, rtol=1e-6)
    pairs = {frozenset(p) for p in COMPOUND_PAIRS}
    for i in range(len(ds)):
        w = ds.mixtures[i]
        if EKMAN7[ds.targets[i]] == "neutral":
            assert w[ds.targets[i]] == 1.0
            continue
        nz = np.flatnonzero(w)
        assert len(nz) == 2 and w.argmax() == ds.targets[i] and 0.55 <= w.max() <= 0.8
        assert frozenset(EKMAN7[k] for k in nz) in pairs
    proto = np.stack([PROTOTYPES[e] for e in EKMAN7])
    np.testing.assert_allclose(ds.actions, ds.intensities[:, None] * (ds.mixtures @ proto),
                               rtol=1e-5, atol=1e-6)
    anchors = np.array([VALENCE_AROUSAL[e] for e in EKMAN7])
    np.testing.assert_allclose(ds.valence_arousal, ds.intensities[:, None] * (ds.mixtures @ anchors),
                               rtol=1e-5, atol=1e-6)
    frac = EmoFaces(n=2000, compound=0.3, seed=1)
    non_neutral = frac.targets != EKMAN7.index("neutral")
    assert abs(frac.is_compound[non_neutral].mean() - 0.3) < 0.05


def test_render_as_keeps_samples_and_geometry():
    ds = EmoFaces(n=40, size=32, n_identities=6, compound=0.2, seed=3)
    for domain in ("photo", "nir", "sketch"):
        other = ds.render_as(domain)
        assert other.domain == domain and ds.domain == "render"
        for attr in ("targets", "identities", "actions", "poses", "intensities", "mixtures"):
            assert np.array_equal(getattr(other, attr), getattr(ds, attr))
        assert other.images().shape[-1] == (1 if domain == "nir" else 3)
        grey = other.images(np.arange(10)).astype(int).mean(-1)
        assert np.abs(grey - ds.images(np.arange(10)).mean(-1)).mean() > 10   # the pixels change
        assert np.array_equal(other.render_as("render").images(), ds.images())
    assert ds.render_as("render", size=48).images().shape == (40, 48, 48, 3)


def test_same_person_different_expressions_differ_only_in_the_face():
    ids, poses = _faces(1, seed=11)
    size = 64
    acts = np.stack([expression_actions(e, 1.0) for e in EKMAN7])
    imgs = render_faces(acts, np.repeat(ids, 7, 0), np.repeat(poses, 7, 0), "render", size).astype(int)
    changed = (imgs != imgs[-1]).any(-1).any(0)              # pixels any expression changes
    assert changed.any()
    rows, cols = np.nonzero(changed)
    assert rows.min() > 0.1 * size and cols.min() > 0.15 * size and cols.max() < 0.85 * size
    # in a data set, two samples of one person share the backdrop (top corners)
    ds = EmoFaces(n=60, size=48, n_identities=3, seed=2)
    a, b = np.flatnonzero(ds.identities == ds.identities[0])[:2]
    assert ds.targets[a] != ds.targets[b] or not np.array_equal(ds.actions[a], ds.actions[b])
    x, y = ds.images([a, b])
    assert np.array_equal(x[:4, :4], y[:4, :4]) and np.array_equal(x[:4, -4:], y[:4, -4:])
    assert not np.array_equal(x, y)


def test_a_linear_classifier_reads_the_expressions():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    train = EmoFaces(n=1400, size=32, channels=1, seed=1)
    test = EmoFaces(n=700, size=32, channels=1, seed=2)
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=200))
    with threadpool_limits(1):   # a threaded BLAS crawls on a busy 2-core machine
        clf.fit(train.images().reshape(1400, -1) / 255.0, train.targets)
        accuracy = (clf.predict(test.images().reshape(700, -1) / 255.0) == test.targets).mean()
    assert accuracy > 0.8                                # measured 0.90; chance is 0.14


def test_bad_arguments():
    with pytest.raises(ConfigError, match="render, photo, nir, sketch"):
        EmoFaces(n=5, domain="cartoon")
    with pytest.raises(ConfigError, match=">= 32"):
        EmoFaces(n=5, size=16)
    with pytest.raises(ConfigError, match="fer2013"):
        EmoFaces(n=5, class_priors=[0.5, 0.5])
    with pytest.raises(ConfigError, match="summing to 1"):
        EmoFaces(n=5, class_priors=[0.2] * 7)
    with pytest.raises(ConfigError, match="fer2013"):
        EmoFaces(n=5, class_priors="affectnet")
    for bad in (1.2, -0.1, (0.9, 0.1), (0.5, 1.5)):
        with pytest.raises(ConfigError, match=r"\[0, 1\]"):
            EmoFaces(n=5, intensity=bad)
    for kwargs in ({"channels": 2}, {"compound": 1.5}, {"n": 0}, {"n_identities": 0}, {"seed": -1}):
        with pytest.raises(ConfigError):
            EmoFaces(**kwargs)
    with pytest.raises(ConfigError, match="angry, disgust"):
        expression_actions("bored")
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        expression_actions("happy", 2.0)
    ids, poses = _faces(2)
    with pytest.raises(ConfigError, match="render, photo"):
        render_faces(np.zeros((2, len(ACTION_UNITS))), ids, poses, "xray", 48)
    with pytest.raises(ConfigError, match="shape"):
        render_faces(np.zeros((2, 3)), ids, poses, "render", 48)
    with pytest.raises(ConfigError, match="render, photo"):
        EmoFaces(n=5).render_as("infrared")


def test_rendering_speed():
    ids, poses = _faces(1000, seed=4)
    acts = np.stack([expression_actions(EKMAN7[i % 7], 0.8) for i in range(1000)])
    render_faces(acts[:50], ids[:50], poses[:50], "render", 64)
    start = time.perf_counter()
    render_faces(acts, ids, poses, "render", 64)
    rate = 1000 / (time.perf_counter() - start)
    assert rate >= 500, f"{rate:.0f} images/s at 64x64"   # about 3,000/s on a free 2-core machine

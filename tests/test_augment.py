"""The CycleGAN-augmentation chapter: config, the 20%-per-class sampler, a smoke run."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from emolab.core import seed_everything
from emolab.core.errors import ConfigError
from emolab.data.taxonomy import EKMAN7
from emolab.experiments import augment
from emolab.experiments.augment import AugmentConfig, sample_per_class


# ---------------------------------------------------------------- config
def test_presets_and_overrides():
    for profile in ("smoke", "cpu", "full"):
        cfg = AugmentConfig.for_profile(profile)
        assert cfg.image_size % 4 == 0
    assert AugmentConfig.for_profile("cpu", gan_steps=7).gan_steps == 7


@pytest.mark.parametrize("bad", [dict(image_size=30), dict(cnn_steps=0), dict(fer_fraction=0.0),
                                 dict(fer_fraction=1.5), dict(min_fraction=0.2), dict(gan_lr=0.0),
                                 dict(pool_size=-1), dict(n_generated=-1), dict(diffaugment="zoom")])
def test_config_validation(bad):
    with pytest.raises(ConfigError):
        AugmentConfig.for_profile("smoke", **bad)


def test_unknown_key_and_profile():
    with pytest.raises(ConfigError, match="unknown augment config keys"):
        AugmentConfig.for_profile("smoke", nonsense=1)
    with pytest.raises(ConfigError):
        AugmentConfig.for_profile("huge")


def test_train_priors_floor():
    p = augment.train_priors(AugmentConfig(min_fraction=0.05))
    assert math.isclose(p.sum(), 1.0) and p[EKMAN7.index("disgust")] > 0.045
    p0 = augment.train_priors(AugmentConfig())
    assert p0[EKMAN7.index("disgust")] < 0.02  # FER2013's rare class


# ---------------------------------------------------------------- FER2013 sampler
def test_sample_per_class_keeps_imbalance():
    targets = np.repeat(np.arange(7), [40, 5, 20, 100, 30, 10, 50])
    idx = sample_per_class(targets, 0.2, np.random.default_rng(0))
    counts = np.bincount(targets[idx], minlength=7)
    assert counts.tolist() == [8, 1, 4, 20, 6, 2, 10]
    assert len(np.unique(idx)) == len(idx) and np.all(np.diff(idx) > 0)
    again = sample_per_class(targets, 0.2, np.random.default_rng(0))
    assert np.array_equal(idx, again)


def _write_fer_csv(path, per_class_train=10, per_class_test=3):
    rng = np.random.default_rng(0)
    rows = ["emotion,pixels,Usage"]
    for usage, n in (("Training", per_class_train), ("PrivateTest", per_class_test),
                     ("PublicTest", 1)):
        for k in range(7):
            for _ in range(n * (2 if k == 3 else 1)):
                px = " ".join(map(str, rng.integers(0, 256, 48 * 48)))
                rows.append(f"{k},{px},{usage}")
    path.write_text("\n".join(rows) + "\n")


def test_fer2013_data_on_fixture(tmp_path):
    _write_fer_csv(tmp_path / "fer2013.csv")
    cfg = AugmentConfig.for_profile("smoke", n_test_per_class=2)
    data = augment.fer2013_data(cfg, tmp_path, seed=0)
    assert data["x_train"].shape[1:] == (1, 32, 32)
    assert data["x_train"].min() >= -1 and data["x_train"].max() <= 1
    # 20% of 10 per class (20 for happy): 2 each, 4 happy.
    assert np.bincount(data["y_train"].numpy(), minlength=7).tolist() == [2, 2, 2, 4, 2, 2, 2]
    assert np.bincount(data["y_test"].numpy(), minlength=7).tolist() == [2] * 7


# ---------------------------------------------------------------- the chapter
def _smoke(seed=0):
    seed_everything(seed)
    return augment.run("smoke", seed=seed)


def test_smoke_run_keys_and_determinism():
    r1 = _smoke()
    m = r1.metrics
    assert m["class_names"] == list(EKMAN7)
    for s in augment.SETTINGS:
        assert 0.0 <= m[f"acc_{s}"] <= 100.0
        assert len(m["per_class"][s]) == 7
        assert all(0.0 <= v <= 100.0 for v in m["per_class"][s])
    assert set(m["per_class"]) == set(augment.SETTINGS)
    assert m["test_per_class"] == [20] * 7
    assert set(r1.generated) == {e for e in EKMAN7 if e != "neutral"}
    g = r1.generated["disgust"]
    assert g.shape == (m["n_generated"], 1, 32, 32) and torch.isfinite(g).all()
    gt = m["ground_truth"]["disgust"]
    assert all(math.isfinite(gt[k]) for k in ("pattern_cos_generated", "intensity_generated",
                                              "id_rmse_generated", "id_rmse_real"))
    m2 = _smoke().metrics
    for s in augment.SETTINGS:
        assert m2[f"acc_{s}"] == m[f"acc_{s}"]
        assert m2["per_class"][s] == m["per_class"][s]
    assert m2["ground_truth"] == m["ground_truth"]


def test_table1_only_run_skips_dag_and_ground_truth():
    seed_everything(1)
    r = augment.run("smoke", seed=1, dag=False, ground_truth=False)
    m = r.metrics
    assert set(r.generated) == set(augment.TABLE1_TARGETS)
    assert m["acc_dag"] is None and m["per_class"]["dag"] is None
    assert m["ground_truth"] is None
    for s in ("baseline", "plus_disgust", "plus_sad", "plus_both"):
        assert 0.0 <= m[f"acc_{s}"] <= 100.0
    assert r.sources["x"].shape == (m["n_generated"], 1, 32, 32)


def test_presets_use_the_rare_class_remedies_and_the_defaults_are_the_papers():
    paper = AugmentConfig()
    assert (paper.residual_generator, paper.diffaugment, paper.gan_lr, paper.lambda_cyc) == (False, "", 2e-4, 10.0)
    for profile in ("smoke", "cpu", "full"):
        cfg = AugmentConfig.for_profile(profile)
        assert cfg.residual_generator and cfg.diffaugment == "translation"
    model = augment.build_cyclegan(AugmentConfig.for_profile("smoke"), 0, "cpu")
    assert model.G.residual and model.augment is not None
    assert augment.build_cyclegan(AugmentConfig.for_profile("smoke", diffaugment=""), 0, "cpu").augment is None


def test_cyclegan_checkpoints_resume_to_the_same_metrics(tmp_path):
    """A run that finds its CycleGANs' checkpoints continues from them (here: finished ones)
    and gives the metrics of the uninterrupted run; another config is refused."""
    cfg = AugmentConfig.for_profile("smoke", checkpoint_every=10, dag=False, ground_truth=False)
    seed_everything(0)
    first = augment.run_augment(cfg, seed=0, workdir=tmp_path).metrics
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["cyclegan_disgust", "cyclegan_sad"]
    seed_everything(0)
    again = augment.run_augment(cfg, seed=0, workdir=tmp_path, resume=True).metrics
    for s in ("baseline", "plus_disgust", "plus_sad", "plus_both"):
        assert again[f"acc_{s}"] == first[f"acc_{s}"] and again["per_class"][s] == first["per_class"][s]
    other = AugmentConfig.for_profile("smoke", checkpoint_every=10, dag=False, ground_truth=False, lambda_cyc=5.0)
    with pytest.raises(ConfigError, match="lambda_cyc"):
        augment.run_augment(other, seed=0, workdir=tmp_path, resume=True)

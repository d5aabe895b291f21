"""The ExprADA chapter: data, translators, Table 3 / ablation / ground-truth bookkeeping, the run."""

from pathlib import Path

import numpy as np
import pytest
import torch

from emolab.core import seed_everything
from emolab.core.errors import ConfigError, DatasetNotFoundError
from emolab.data.taxonomy import EKMAN7
from emolab.experiments import exprada as chapter
from emolab.experiments.exprada import ExprADAConfig

pytestmark = pytest.mark.usefixtures("one_thread")
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_paper_settings_are_the_defaults():
    cfg = ExprADAConfig()
    assert (cfg.image_size, cfg.n_blocks, cfg.gan_batch, cfg.gan_lr) == (128, 6, 8, 1e-4)
    assert (cfg.lambda_bi, cfg.lambda_re, cfg.lambda_cls) == (10.0, 10.0, 1.0)
    assert cfg.gan_mode == "lsgan" and not cfg.residual_generator
    assert cfg.aug_sizes == (1000, 2000, 5000)
    assert ExprADAConfig.for_profile("full").aug_sizes == (0, 1000, 2000, 5000)


@pytest.mark.parametrize("overrides, match", [
    ({"aug_sizes": (100, 50)}, "aug_sizes"),
    ({"aug_sizes": ()}, "aug_sizes"),
    ({"aug_methods": ("cyclegan",)}, "aug_methods"),
    ({"source_domain": "render"}, "differ"),
    ({"target_domain": "cartoon"}, "target_domain"),
    ({"image_size": 36}, "multiple of 8"),
    ({"lambda_bi": -1.0}, "lambda"),
    ({"decay_fraction": 1.0}, "decay_fraction"),
    ({"n_rare": 0}, "n_rare"),
    ({"nope": 1}, "unknown"),
])
def test_bad_configs_fail_early(overrides, match):
    with pytest.raises(ConfigError, match=match):
        ExprADAConfig.for_profile("smoke", **overrides)


def test_domains_imbalanced_source_balanced_tests_and_paired_truth():
    cfg = ExprADAConfig.for_profile("smoke", n_source=600, n_test_per_class=5)
    d = chapter.emofaces_domains(cfg, 0)
    counts = np.bincount(d["y_source"].numpy(), minlength=7)
    assert counts[EKMAN7.index("disgust")] < counts[EKMAN7.index("happy")] / 4   # FER2013's priors
    for key in ("y_source_test", "y_target_test"):
        assert np.bincount(d[key].numpy(), minlength=7).tolist() == [5] * 7
    assert d["x_paired"].shape == d["x_target_test"].shape == (35, 1, 32, 32)
    # the paired faces are the same people and expressions in the other domain: close, not equal
    assert not torch.equal(d["x_paired"], d["x_target_test"])
    gap_paired = (d["x_paired"] - d["x_target_test"]).abs().mean()
    gap_random = (d["x_paired"] - d["x_target_test"].roll(1, 0)).abs().mean()
    assert gap_paired < gap_random


def test_rare_classes_are_the_least_frequent():
    y = torch.tensor([0] * 9 + [1] * 2 + [2] * 5 + [3] * 1)
    assert chapter.rare_classes(y, 4, 2) == [1, 3]


def test_generate_per_class_asks_each_expression():
    cfg = ExprADAConfig.for_profile("smoke")
    model = chapter.build_translator(cfg, 1, 7, 0, "cpu", steps=10, lr=1e-4)
    x = torch.rand(20, 1, 32, 32) * 2 - 1
    gx, gy = chapter.generate_per_class(model, x, 3, 7, 0, "cpu")
    assert gx.shape == (21, 1, 32, 32) and np.bincount(gy.numpy()).tolist() == [3] * 7
    assert gx.abs().max() <= 1
    empty, ey = chapter.generate_per_class(model, x, 0, 7, 0, "cpu")
    assert len(empty) == len(ey) == 0
    # the asked expression reaches the generator: other labels, other faces
    a = chapter.to_source(model, x[:4], "cpu", torch.zeros(4, dtype=torch.long))
    b = chapter.to_source(model, x[:4], "cpu", torch.full((4,), 3))
    assert not torch.allclose(a, b)


def test_translator_ablations_and_linear_decay():
    cfg = ExprADAConfig.for_profile("smoke", decay_fraction=0.5)
    m = chapter.build_translator(cfg, 1, 0, 0, "cpu", steps=10, lr=1e-3, lambda_re=0.0)
    assert m.lambda_re == 0.0 and m.lambda_bi == cfg.lambda_bi and m.n_classes == 0
    lrs = []
    for _ in range(10):
        m.optimizers["G"].step()   # no gradients: a no-op, in the order torch expects
        m.schedulers["G"].step()
        lrs.append(m.optimizers["G"].param_groups[0]["lr"])
    assert lrs[3] == pytest.approx(1e-3) and lrs[7] == pytest.approx(1e-3 * 0.4) and lrs[-1] == pytest.approx(0.0)
    # the same seed starts every translator from the same networks
    m2 = chapter.build_translator(cfg, 1, 0, 0, "cpu", steps=10, lr=1e-3)
    assert all(torch.equal(p, q) for p, q in zip(m.G_ts.parameters(), m2.G_ts.parameters(), strict=True))


def test_claims_follow_the_numbers():
    m = {"uit": {"source_only": 50.0, "exprada_uit": 55.0},
         "ablation": {"real": 90.0, "full": 40.0, "no_bi": 30.0, "no_re": 41.0},
         "augmentation": {"sizes": [0, 10, 20], "exprada_cgit": [70.0, 69.5, 71.0]},
         "augmentation_rare": {"exprada_cgit": [20.0, 25.0, 30.0]}}
    c = chapter.claims(m)
    assert c == {"uit_beats_source_only": True, "full_beats_ablations": False, "augmentation_safe": True,
                 "augmentation_helps_rare": True}
    m["augmentation"]["exprada_cgit"] = [70.0, 68.0, 71.0]
    m["augmentation_rare"]["exprada_cgit"] = [20.0, 25.0, 19.0]
    c = chapter.claims(m)
    assert not c["augmentation_safe"] and not c["augmentation_helps_rare"]


@pytest.fixture(scope="module")
def smoke_run():
    seed_everything(0)
    return chapter.run("smoke", seed=0)


def test_smoke_run_metrics_layout(smoke_run):
    m = smoke_run.metrics
    assert set(m["uit"]) == {"source_only", "cyclegan", "stargan", "exprada_uit"}
    assert set(m["ablation"]) == {"real", "full", "no_bi", "no_re"}
    assert set(m["identity_preservation"]) == {"source_only", "cyclegan", "stargan", "exprada_uit", "exprada_cgit",
                                              "cgit_no_bi", "cgit_no_re"}
    aug = m["augmentation"]
    assert aug["sizes"] == [0, 8] and len(aug["exprada_cgit"]) == 2 and len(aug["rare_classes"]) == 2
    assert all(0 <= v <= 100 for v in [*m["uit"].values(), *m["ablation"].values(), *aug["exprada_cgit"]])
    assert set(m["claims"]) == {"uit_beats_source_only", "full_beats_ablations", "augmentation_safe",
                                "augmentation_helps_rare"}
    # the perfect translation is the ground truth's own reference
    gt = m["ground_truth"]["perfect"]
    assert gt["identity_kept"] == pytest.approx(1.0) and gt["paired_l1"] == 0.0
    assert m["paired_l1"]["source_only"] > 0
    # UIT translations: target test faces in the tanh range, changed by training
    for name in chapter.UIT_METHODS:
        t = smoke_run.translated[name]
        assert t.shape == smoke_run.data["x_target_test"].shape and t.abs().max() <= 1


def test_ground_truth_reads_the_perfect_translation_as_perfect(smoke_run):
    reg, mu, sd = smoke_run.regressor
    d = smoke_run.data
    out = chapter.ground_truth(reg, mu, sd, d, {"copy": d["x_paired"].clone(),
                                                "strangers": d["x_paired"].roll(1, 0)}, "cpu")
    assert out["copy"]["identity_kept"] == pytest.approx(1.0) and out["copy"]["paired_l1"] == 0.0
    assert out["strangers"]["identity_rmse"] > out["copy"]["identity_rmse"]
    assert out["strangers"]["paired_l1"] > 0


def test_smoke_run_is_deterministic(smoke_run):
    seed_everything(0)
    again = chapter.run("smoke", seed=0).metrics
    for key in ("uit", "ablation", "augmentation", "augmentation_rare", "identity_preservation", "paired_l1"):
        assert again[key] == smoke_run.metrics[key], key


def test_chapter_figures(smoke_run):
    import matplotlib.pyplot as plt

    from emolab.plots import FIGURES
    from emolab.plots.exprada import ablation_table, augmentation_table, expression_transfer, uit_table

    figs = FIGURES["exprada"](smoke_run)
    assert {"expression_transfer", "uit_accuracy", "tsne_target", "augmentation"} <= set(figs)
    for f in figs.values():
        plt.close(f)
    inputs, outs = expression_transfer(smoke_run, n=2)
    assert inputs.shape == (2, 1, 32, 32) and outs.shape == (2, 7, 1, 32, 32)
    m = smoke_run.metrics
    assert uit_table([m, m])["mean"].tolist() == uit_table(m)["seed 0"].tolist()
    assert list(augmentation_table(m).columns) == ["real only", "+8/class"]
    assert ablation_table(m).shape == (4, 1)


def test_missing_real_data_names_the_layout(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="ROOT/fer2013"):
        chapter.run("smoke", data_root=tmp_path)


@pytest.mark.skipif(not (SHARED / "fer2013").is_dir() or not (SHARED / "ckplus48").is_dir(),
                    reason="needs ../shared/data (FER2013 and CK+48)")
def test_fer2013_to_ckplus48_on_real_data():
    m = chapter.run("smoke", seed=0, data_root=SHARED, n_source=300).metrics
    assert m["class_names"] == ["angry", "disgust", "fear", "happy", "sad", "surprise"]
    assert m["data_source"] == "real" and m["identity_preservation"] is None
    assert set(m["uit"]) == {"source_only", "cyclegan", "stargan", "exprada_uit"}

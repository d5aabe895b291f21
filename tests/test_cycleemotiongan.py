"""CycleEmotionGAN: Algorithm 1's alternation, the ESC term, the chapter's experiment."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as nnf
from torch import nn

from emolab.core import seed_everything
from emolab.core.errors import ConfigError, DatasetNotFoundError
from emolab.data.taxonomy import EKMAN7, MIKELS8
from emolab.experiments import cycleemotiongan as chapter
from emolab.experiments.cycleemotiongan import METHODS, CycleEmotionGANConfig
from emolab.losses import EmotionalSemanticConsistencyLoss
from emolab.methods.cycleemotiongan import PAPER_LAMBDA, CycleEmotionGAN
from emolab.models import SmallCNN
from emolab.models.patchgan import NLayerDiscriminator
from emolab.models.resnet import ResnetGenerator
from emolab.training import Trainer

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def make_model(distance="skl", lambda_esc=None, lr_classifier=1e-3, pool_size=4, seed=0, classes=MIKELS8):
    torch.manual_seed(seed)
    nets = [ResnetGenerator(3, 3, ngf=4, n_blocks=1), ResnetGenerator(3, 3, ngf=4, n_blocks=1),
            NLayerDiscriminator(3, 4, 2), NLayerDiscriminator(3, 4, 2)]
    clf = SmallCNN(3, len(classes), width=4, image_size=32, norm="none")
    return CycleEmotionGAN(*nets, clf, distance=distance, lambda_esc=lambda_esc, classes=classes,
                           lr_classifier=lr_classifier, pool_size=pool_size, pool_seed=seed)


def batch(seed=0, n=4, k=8):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 3, 32, 32, generator=g) * 2 - 1, torch.randint(k, (n,), generator=g),
            torch.rand(n, 3, 32, 32, generator=g) * 2 - 1)


def params(net: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten().clone() for p in net.parameters()])


# ---------------------------------------------------------------- the method
def test_paper_constants_are_the_defaults():
    assert make_model("skl").lambda_esc == PAPER_LAMBDA["skl"] == 10.0
    assert make_model("mikels").lambda_esc == PAPER_LAMBDA["mikels"] == 5.0
    m = make_model("skl", lambda_esc=2.5)
    assert m.lambda_esc == 2.5 and m.alpha == 10.0 and m.G_ST is m.G and m.G_TS is m.F and m.D_S is m.D_R
    assert m.optimizers["C"].param_groups[0]["lr"] == 1e-3 and set(m.optimizers) == {"G", "D", "C"}
    assert make_model(pool_size=50).pools["T"].pool_size == 50


def test_bad_arguments_fail_early():
    with pytest.raises(ConfigError, match="ESC distance"):
        make_model("euclid")
    with pytest.raises(ConfigError, match="Mikels"):
        make_model("mikels", classes=EKMAN7)
    with pytest.raises(ConfigError):
        make_model(lambda_esc=-1.0)
    m = make_model()
    x_s, y_s, x_t = batch()
    with pytest.raises(ValueError, match="one label per source image"):
        m.training_step((x_s, y_s[:2], x_t))
    with pytest.raises(ValueError, match="labels must lie"):
        m.training_step((x_s, y_s + 8, x_t))
    with pytest.raises(ValueError, match="one shape"):
        m.training_step((x_s, y_s, x_t[:, :1]))


def test_generator_step_keeps_the_classifier_and_discriminators_fixed():
    """Line 3 of Algorithm 1: with F's learning rate 0 the G step (and D step) leave F
    as it was although the ESC loss back-propagates through it; afterwards every
    network trains again (requires_grad restored)."""
    m = make_model(lr_classifier=1e-12)
    m.optimizers["C"].param_groups[0]["lr"] = 0.0
    before_c, before_g = params(m.classifier), params(m.G)
    out = m.training_step(batch())
    assert torch.equal(params(m.classifier), before_c)
    assert not torch.equal(params(m.G), before_g)
    assert {"G_total", "esc", "task", "cycle", "D_T", "D_S"} <= set(out)
    assert all(p.requires_grad for net in (m.D_R, m.D_T, m.classifier) for p in net.parameters())


def test_esc_term_changes_the_generator_update_and_reaches_G_ST_only():
    x_s, _, _ = batch()
    m = make_model()
    m.esc(x_s, m.G(x_s)).backward()
    assert m.G.model[1].weight.grad.abs().sum() > 0       # G_ST receives the ESC gradient
    assert all(p.grad is None for p in m.F.parameters())  # G_TS does not enter eq. (5)
    # same seeds, lambda 0 vs 10: the generators move differently; lambda 0 logs no esc
    with_esc, without = make_model(lambda_esc=10.0), make_model(lambda_esc=0.0)
    out0 = without.training_step(batch())
    with_esc.training_step(batch())
    assert "esc" not in out0
    assert not torch.allclose(params(with_esc.G), params(without.G))


def test_esc_is_the_loss_module_on_classifier_logits():
    m = make_model("mikels")
    x_s, _, _ = batch()
    adapted = m.G(x_s)
    ref = EmotionalSemanticConsistencyLoss("mikels")(m.classifier(x_s), m.classifier(adapted))
    assert torch.allclose(m.esc(x_s, adapted), ref)


def test_classifier_learns_on_adapted_source_images():
    """Lines 8-9: F's cross-entropy is computed on G_ST(x_S) from the updated generator."""
    m = make_model()
    seen = []
    m.classifier.register_forward_hook(lambda mod, inp, out: seen.append((inp[0].detach().clone(), out.detach())))
    x_s, y_s, x_t = batch()
    out = m.training_step((x_s, y_s, x_t))
    last_input = seen[-1][0]
    with torch.no_grad():
        expected = m.G(x_s)
    assert torch.allclose(last_input, expected, atol=1e-6)
    assert math.isclose(out["task"], float(nnf.cross_entropy(seen[-1][1], y_s)), rel_tol=1e-5)


def test_predict_uses_eval_mode_and_restores_it():
    m = make_model()
    m.classifier.train()
    x = batch()[0]
    logits = m.predict(x, batch_size=3)
    assert logits.shape == (4, 8) and m.classifier.training
    assert torch.allclose(logits, m.classifier.eval()(x), atol=1e-6)


def test_checkpoint_resume_is_exact(tmp_path):
    """Trainer checkpoints carry F's optimizer and the pools: 2 + 2 steps == 4 steps."""
    def sample(gen):
        return batch(int(torch.randint(1000, (1,), generator=gen)))

    seed_everything(0)
    straight = make_model()
    Trainer(straight, sample, config={"a": 1}, seed=3).fit(4)
    seed_everything(0)
    first = make_model()
    Trainer(first, sample, config={"a": 1}, seed=3, checkpoint_dir=tmp_path, checkpoint_every=2).fit(2)
    resumed = make_model(seed=5)  # other init: everything must come from the checkpoint
    t = Trainer(resumed, sample, config={"a": 1}, seed=3, checkpoint_dir=tmp_path)
    assert t.resume() and t.step == 2
    t.fit(4)
    for net in ("G", "F", "D_R", "D_T", "classifier"):
        assert torch.equal(params(getattr(straight, net)), params(getattr(resumed, net))), net


# ---------------------------------------------------------------- the chapter
def test_presets_and_validation():
    for profile in ("smoke", "cpu", "full"):
        cfg = CycleEmotionGANConfig.for_profile(profile)
        assert set(cfg.sweep_directions) <= set(cfg.directions)
    d = CycleEmotionGANConfig()
    assert (d.alpha, d.lambda_skl, d.lambda_mikels, d.pool_size, d.gan_lr, d.cls_lr, d.gan_batch, d.gan_mode) == \
        (10.0, 10.0, 5.0, 50, 2e-4, 1e-4, 1, "vanilla")
    # the remedies are off in the paper's defaults and on in every preset
    assert not (d.residual_generator or d.color_path) and d.d_norm == "instance" and d.residual_clip == 0.999
    for profile in ("smoke", "cpu", "full"):
        p = CycleEmotionGANConfig.for_profile(profile)
        assert p.residual_generator and p.color_path and p.d_norm == "none" and p.residual_clip == 0.9
    model = chapter.build_cycleemotiongan(CycleEmotionGANConfig.for_profile("smoke"), 3, MIKELS8, "mikels", 5.0,
                                          0, "cpu")
    assert model.G.color is not None and model.gan_loss.mode == "vanilla" and model.lambda_esc == 5.0
    for bad in (dict(image_size=30), dict(gan_steps=0), dict(directions=("art_to_fi",)),
                dict(sweep_directions=("photo_to_art",), directions=("art_to_photo",)),
                dict(sweep_lambdas=(-1.0,)), dict(cls_lr=0.0), dict(diffaugment="zoom"),
                dict(residual_clip=1.0), dict(d_norm="layer"), dict(g_norm="group")):
        with pytest.raises(ConfigError):
            CycleEmotionGANConfig.for_profile("smoke", **bad)


def test_evaluate_per_class_and_confusion():
    logits = torch.eye(3)[[0, 1, 1, 2, 0]]
    y = torch.tensor([0, 1, 2, 2, 1])
    res, cm = chapter.evaluate(logits, y, 3)
    assert res["average"] == pytest.approx(60.0)
    assert res["per_class"] == pytest.approx([100.0, 50.0, 50.0])
    assert cm.tolist() == [[1, 0, 0], [1, 1, 0], [0, 1, 1]]


def test_claim_ordering():
    t = {m: {"average": a} for m, a in zip(METHODS, (20, 25, 30, 27, 60))}
    assert chapter.claim_holds(t)
    t["cyclegan"]["average"] = 31
    assert not chapter.claim_holds(t)


def test_domains_are_unpaired_and_balanced():
    cfg = CycleEmotionGANConfig.for_profile("smoke")
    dom = chapter.affectscenes_domains(cfg, 0)
    art, photo = dom["art"], dom["photo"]
    assert art["x_train"].shape == (cfg.n_train, 3, 32, 32) and art["x_train"].min() >= -1
    assert not torch.equal(art["y_train"], photo["y_train"])  # other scenes, not the same ones re-rendered
    for d in (art, photo):
        assert np.bincount(d["y_test"].numpy(), minlength=8).tolist() == [cfg.n_test_per_class] * 8


@pytest.fixture(scope="module")
def smoke_run():
    seed_everything(0)
    return chapter.run("smoke", seed=0)


def test_smoke_run_metrics_layout(smoke_run):
    m = smoke_run.metrics
    assert set(m["directions"]) == {"art_to_photo", "photo_to_art"}
    for table in m["directions"].values():
        assert set(table) == set(METHODS)
        for res in table.values():
            assert len(res["per_class"]) == 8 and 0 <= res["average"] <= 100
            # balanced test set: the overall accuracy is the mean per-class accuracy
            assert res["average"] == pytest.approx(np.mean(res["per_class"]))
    sweep = m["lambda_sweep"]
    assert sweep["lambdas"] == [0.0, 10.0] and len(sweep["average"]) == 2
    # lambda = 10 is the main SKL run, reused
    assert sweep["average"][1] == m["directions"]["art_to_photo"]["cycleemotiongan_skl"]["average"]
    assert set(m["claim"]) == {"art_to_photo", "photo_to_art"}
    # the adapted images are G_ST's: same shape as the source, in the tanh range, not the source itself
    d = smoke_run.data["art_to_photo"]
    for key in ("adapted_cyclegan", "adapted_skl", "adapted_mikels"):
        assert d[key].shape == d["x_source"].shape and d[key].abs().max() <= 1
        assert not torch.allclose(d[key], d["x_source"])


def test_smoke_run_is_deterministic(smoke_run):
    seed_everything(0)
    again = chapter.run("smoke", seed=0).metrics
    assert again["directions"] == smoke_run.metrics["directions"]
    assert again["lambda_sweep"] == smoke_run.metrics["lambda_sweep"]


def test_missing_real_data_names_the_layout(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="ROOT/artphoto"):
        chapter.run("smoke", data_root=tmp_path)


@pytest.mark.skipif(not (SHARED / "fer2013").is_dir() or not (SHARED / "ckplus48").is_dir(),
                    reason="needs ../shared/data (FER2013 and CK+48)")
def test_faces_fer2013_to_ckplus48_on_real_data():
    res = chapter.run("smoke", seed=0, data_root=SHARED, n_train=300, gan_steps=10, cls_steps=20)
    m = res.metrics
    assert list(m["directions"]) == ["fer2013_to_ckplus48"]
    table = m["directions"]["fer2013_to_ckplus48"]
    assert table["cycleemotiongan_mikels"] is None and len(table["source_only"]["per_class"]) == 6
    assert m["class_names"] == ["angry", "disgust", "fear", "happy", "sad", "surprise"]
    assert m["lambda_sweep"] is None
    d = res.data["fer2013_to_ckplus48"]
    assert d["x_source"].shape[1] == 1 and len(d["x_target"]) > 100

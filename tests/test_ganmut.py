"""GANmut: the conditional spaces, the losses, the metrics, the chapter and the emotion pad."""

import math

import numpy as np
import pytest
import torch

from emolab.core.errors import ConfigError
from emolab.data.taxonomy import EKMAN7
from emolab.experiments import ganmut as chapter
from emolab.methods.ganmut import GANmut, symmetric_kl
from emolab.methods.ganmut_metrics import (
    ere_targets,
    frechet_distance,
    polar_grid,
    procrustes_angle_errors,
    smoothness_score,
    spearman,
    square_grid,
    stargan_interpolation,
)
from emolab.methods.stargan import StarGAN
from emolab.models.ganmut import GaussianSpace, LinearSpace
from emolab.models.stargan import StarGANDiscriminator, StarGANGenerator

pytestmark = pytest.mark.usefixtures("one_thread")
NEUTRAL = EKMAN7.index("neutral")


# ----------------------------------------------------------------------------- spaces
def test_linear_space_codes_follow_the_directions():
    torch.manual_seed(0)
    space = LinearSpace(7, NEUTRAL)
    labels = torch.tensor([0, 1, 2, 3, 4, 5, 6, 0, 3])
    z, rho, tgt = space.sample_split(labels, n_c=7)
    assert z.shape == (9, 2) and rho.shape == (9,) and tgt.shape == (7,)
    # S_c: radius rho along θ_c; neutral inside the τ disc with target neutral
    assert torch.allclose(z.norm(dim=1), rho, atol=1e-6)
    for k in range(6):
        theta = space.direction(labels[k:k + 1])
        assert torch.allclose(z[k], rho[k] * torch.stack([torch.cos(theta), torch.sin(theta)])[:, 0], atol=1e-6)
        assert tgt[k] == (NEUTRAL if rho[k] < 0.2 else labels[k])
    assert rho[6] < space.tau and tgt[6] == NEUTRAL
    # S_r: anywhere in the unit disc
    assert (z[7:].norm(dim=1) <= 1 + 1e-6).all()
    with pytest.raises(ConfigError):
        space.direction(torch.tensor([NEUTRAL]))
    with pytest.raises(ConfigError):
        LinearSpace(7, NEUTRAL, tau=1.5)


def test_linear_space_extremes_and_unit_directions():
    space = LinearSpace(7, NEUTRAL)
    z = space.extreme(torch.arange(7))
    assert torch.allclose(z[:6].norm(dim=1), torch.ones(6)) and z[NEUTRAL].abs().sum() == 0
    assert torch.allclose(space.unit_directions().norm(dim=1), torch.ones(6))


def test_gaussian_space_matches_the_mahalanobis_formula():
    torch.manual_seed(1)
    space = GaussianSpace(7)
    with torch.no_grad():
        space.log_sigma.copy_(torch.randn(7, 2) * 0.3 - 1)
    z = torch.rand(5, 2) * 2 - 1
    cov = space.covariances()
    explicit = torch.stack([torch.stack([(z[i] - space.means[k]) @ torch.linalg.inv(cov[k]) @ (z[i] - space.means[k])
                                         for k in range(7)]) for i in range(5)])
    assert torch.allclose(space.mahalanobis2(z), explicit, rtol=1e-4, atol=1e-5)
    p = space.distribution(z)
    assert torch.allclose(p.sum(1), torch.ones(5), atol=1e-6)
    assert torch.allclose(torch.linalg.eigvalsh(cov), torch.exp(2 * space.log_sigma).sort(dim=1).values, atol=1e-5)
    # at a mode, far from the others, that mode dominates
    with torch.no_grad():
        space.w.copy_(torch.atanh(torch.tensor([[math.cos(a), math.sin(a)] for a in np.linspace(0, 6, 7)]) * 0.9))
        space.log_sigma.fill_(math.log(0.15))
    assert (space.distribution(space.means).argmax(1) == torch.arange(7)).all()
    assert (space.means.abs() < 1).all()


def test_gaussian_split_uses_the_modes():
    space = GaussianSpace(7)
    labels = torch.tensor([3, 1, 0, 2])
    z, tgt = space.sample_split(labels, 2)
    assert torch.equal(z[:2], space.means[labels[:2]]) and torch.equal(tgt, labels[:2])
    assert (z[2:].abs() <= 1).all()


# ----------------------------------------------------------------------------- method
def _ganmut(space, **kw):
    torch.manual_seed(0)
    G = StarGANGenerator(3, 2, ngf=8, n_blocks=1)
    D = StarGANDiscriminator(32, 3, 7, ndf=8, code_dim=2)
    return GANmut(G, D, space, 7, n_critic=1, lr=1e-3, **kw)


@pytest.mark.parametrize("space", ["linear", "gaussian"])
def test_ganmut_step_trains_the_space(space):
    torch.manual_seed(0)
    sp = LinearSpace(7, NEUTRAL) if space == "linear" else GaussianSpace(7)
    model = _ganmut(sp, lambda_div=2.0 if space == "gaussian" else 0.0)
    before = [p.detach().clone() for p in sp.parameters()]
    x, y = torch.rand(8, 3, 32, 32) * 2 - 1, torch.randint(0, 7, (8,))
    losses = model.training_step((x, y))
    assert all(math.isfinite(v) for v in losses.values())
    for key in ("D_info", "G_info", "G_cls", "rec", "D_gp"):
        assert key in losses
    assert (losses["G_div"] > 0) == (space == "gaussian")
    assert any(not torch.equal(a, b) for a, b in zip(before, sp.parameters(), strict=True)), \
        "the generator's losses must reach the space's parameters"


def test_ganmut_refuses_mismatched_networks():
    G = StarGANGenerator(3, 7, ngf=8, n_blocks=1)
    D = StarGANDiscriminator(32, 3, 7, ndf=8, code_dim=2)
    with pytest.raises(ConfigError, match="c_dim=2"):
        GANmut(G, D, LinearSpace(7, NEUTRAL), 7)
    G = StarGANGenerator(3, 2, ngf=8, n_blocks=1)
    with pytest.raises(ConfigError, match="classes"):
        GANmut(G, D, LinearSpace(6, 5), 7)


def test_rho_loss_reads_intensity_only_above_tau():
    model = _ganmut(LinearSpace(7, NEUTRAL), lambda_rho=4.0)
    x, y = torch.rand(8, 3, 32, 32) * 2 - 1, torch.randint(0, 6, (8,))
    model.space.sample_split = lambda t, n_c: (torch.zeros(8, 2), torch.full((8,), 0.1), t[:n_c])
    assert model.generator_losses(x, y, y)["G_rho"] == 0
    model.space.sample_split = lambda t, n_c: (torch.zeros(8, 2), torch.full((8,), 0.9), t[:n_c])
    assert model.generator_losses(x, y, y)["G_rho"] > 0


def test_symmetric_kl():
    p = torch.tensor([[0.7, 0.2, 0.1]]).log()
    q = torch.tensor([[0.1, 0.2, 0.7]]).log()
    assert symmetric_kl(p, p).abs().max() < 1e-7
    assert torch.allclose(symmetric_kl(p, q), symmetric_kl(q, p)) and symmetric_kl(p, q) > 0


# ----------------------------------------------------------------------------- metrics
def test_smoothness_score():
    ramp = np.linspace(0, 1, 11)[None]
    jump = np.r_[np.zeros(5), np.ones(6)][None]
    assert smoothness_score(ramp)[0] == pytest.approx(0.1)
    assert smoothness_score(jump)[0] == pytest.approx(1.0)
    assert smoothness_score(np.zeros((1, 11)))[0] == 1.0      # the emotion never appears
    with pytest.raises(ConfigError):
        smoothness_score(np.zeros(5))


def test_stargan_interpolation_blends_one_hots():
    c = stargan_interpolation(3, NEUTRAL, 7)
    assert c.shape == (11, 7) and torch.allclose(c.sum(1), torch.ones(11))
    assert c[0, NEUTRAL] == 1 and c[-1, 3] == 1 and c[5, 3] == pytest.approx(0.5)


def test_frechet_distance():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2000, 4))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    b = a + np.array([2.0, 0, 0, 0])
    assert frechet_distance(a, b) == pytest.approx(4.0, rel=1e-6)
    assert frechet_distance(a, 2 * a) == pytest.approx(np.trace(np.cov(a, rowvar=False)), rel=1e-3)


def test_procrustes_removes_rotation_and_reflection():
    rng = np.random.default_rng(1)
    angles = rng.uniform(0, 2 * np.pi, 6)
    true = np.stack([np.cos(angles), np.sin(angles)], 1)
    rot = np.array([[np.cos(1.0), -np.sin(1.0)], [np.sin(1.0), np.cos(1.0)]]) @ np.diag([1, -1])
    err, R = procrustes_angle_errors(true @ rot.T, true)
    assert err.max() < 1e-6 and np.linalg.det(R) < 0
    shuffled = true[[1, 0, 2, 3, 4, 5]]
    assert procrustes_angle_errors(shuffled, true)[0].mean() > 1.0


def test_ere_targets_pick_the_most_ambiguous():
    probs = torch.full((32, 7), 0.01)
    probs[:, 0] = 0.94
    probs[5] = torch.tensor([0.3, 0.3, 0.3, 0.04, 0.03, 0.02, 0.01])
    probs[20] = torch.tensor([0.5, 0.45, 0.01, 0.01, 0.01, 0.01, 0.01])
    assert ere_targets(probs, 3).tolist()[0] == 5
    assert ere_targets(probs, 2).tolist() == [5, 20]
    assert len(polar_grid()) == 20 * 21 + 1 and len(square_grid()) == 21 * 21
    with pytest.raises(ConfigError):
        ere_targets(probs[:10], 2)


def test_spearman():
    assert spearman(np.arange(5), np.arange(5) ** 2) == pytest.approx(1.0)
    assert spearman(np.arange(5), -np.arange(5)) == pytest.approx(-1.0)


# ----------------------------------------------------------------------------- the chapter
def test_config_validation():
    with pytest.raises(ConfigError):
        chapter.GANmutConfig.for_profile("smoke", image_size=48)
    with pytest.raises(ConfigError):
        chapter.GANmutConfig.for_profile("smoke", ere_batches=100)
    with pytest.raises(ConfigError):
        chapter.GANmutConfig.for_profile("smoke", lambda_rhos=(1.0,))
    with pytest.raises(ConfigError):
        chapter.GANmutConfig.for_profile("smoke", nonsense=1)


@pytest.fixture(scope="module")
def smoke(one_thread):
    return chapter.run("smoke", seed=0)


def test_smoke_metrics_keys(smoke):
    m = smoke.metrics
    emotions = {"angry", "disgust", "fear", "happy", "sad", "surprise"}
    assert set(m["smoothness"]) == {"stargan", "ganmut_rho1", "ganmut_rho4"}
    assert all(set(v) == emotions for v in m["smoothness"].values())
    assert set(m["ere"]) == {"stargan", "ganmut", "gganmut"}
    assert all(set(v) == {"setting1", "setting2"} for v in m["ere"].values())
    assert {"stargan", "ganmut", "gganmut", "real"} <= set(m["fed"])
    assert all(set(v) == set(EKMAN7) for v in m["gen_accuracy"].values())
    assert set(m["direction_angle_error_deg"]) == emotions
    assert all(0 <= v <= 180 for v in m["direction_angle_error_deg"].values())
    assert all(0.0 <= v <= 1.0 for s in m["smoothness"].values() for v in s.values())
    assert m["fed"]["real"] >= 0 and isinstance(m["claims"]["directions_within_30deg"], bool)


def test_smoke_is_deterministic(smoke):
    again = chapter.run("smoke", seed=0)
    for key in ("smoothness", "ere", "fed", "gen_accuracy", "direction_angle_error_deg"):
        assert again.metrics[key] == smoke.metrics[key]


def test_figures(smoke):
    import matplotlib.pyplot as plt

    from emolab.plots import FIGURES
    from emolab.plots import ganmut as plots

    figs = FIGURES["ganmut"](smoke)
    assert set(figs) == {"space", "directions", "interpolations", "smoothness_curves", "tsne", "gamut",
                         "training_curves"}
    for f in figs.values():
        plt.close(f)
    assert list(plots.smoothness_table(smoke).index) == ["angry", "disgust", "fear", "happy", "sad", "surprise"]
    assert plots.ere_fed_table(smoke).shape[0] == 4
    assert plots.accuracy_table(smoke).shape == (4, 7)


def test_gamut_path_and_map(smoke):
    for name in ("ganmut_rho4", "gganmut"):
        model = smoke.gans[name]
        path = chapter.gamut_path(model, 3)
        assert path.ndim == 2 and path.shape[1] == 2 and len(path) > 10
        if not model.gaussian:
            assert (path.norm(dim=1) <= 1 + 1e-5).all()
        probs = chapter.space_map(model, smoke.judge, smoke.data["x_test"][0], "cpu", n=9)
        inside = ~np.isnan(probs[..., 0])
        assert np.allclose(probs[inside].sum(-1), 1, atol=1e-5)
        assert inside.all() == model.gaussian


# ----------------------------------------------------------------------------- the pad
def test_pad_static_and_live(smoke):
    from emolab.widgets import EmotionPad, emotion_pad

    x = smoke.data["x_test"][0]
    html = emotion_pad(smoke.gans["ganmut_rho4"], x, smoke.judge, live=False, map_size=7)
    text = html.data if hasattr(html, "data") else html
    assert "<input" in text and "anim" in text.lower()      # the jshtml player's scrubber
    live = emotion_pad(smoke.gans["gganmut"], x, smoke.judge, live=True, map_size=5)
    assert type(live).__name__ == "VBox"
    with pytest.raises(ConfigError):
        EmotionPad(smoke.gans["stargan"], x)


def test_pad_answers_within_100ms_at_64px():
    from emolab.widgets import EmotionPad

    cfg = chapter.GANmutConfig.for_profile("cpu")
    model = chapter.build_gan("ganmut_rho4", cfg, 3, 0, "cpu")
    pad = EmotionPad(model, torch.rand(3, 64, 64) * 2 - 1)
    lat = pad.latency(10)
    assert lat["side_px"] == 64 and lat["median_ms"] <= 100, lat

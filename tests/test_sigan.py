"""SIGAN: DTN networks, attention / TV / label-consistency losses, Algorithm 1, DANN, the chapter."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from emolab.core.errors import ConfigError
from emolab.experiments import sigan as chapter
from emolab.experiments.sigan import METHODS, PAIRS, SIGANConfig
from emolab.losses.attention import attention_loss, attention_map
from emolab.losses.consistency import f_constancy, label_consistency, total_variation
from emolab.methods.sigan import DANN, PAPER, SIGAN, grad_reverse
from emolab.models.dtn import DTNCritic, DTNEncoder, DTNGenerator, define_dtn

pytestmark = pytest.mark.usefixtures("one_thread")
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def make_sigan(seed=0, **kw):
    torch.manual_seed(seed)
    nets = define_dtn(1, 4, 16, 32)
    return SIGAN(nets["E"], nets["G"], nets["D"], nets["F"], **{"lr": 1e-3, "lr_critic": 1e-3, "lr_classifier": 1e-3, **kw})


def batch(seed=0, n=6):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 1, 32, 32, generator=g) * 2 - 1, torch.randint(10, (n,), generator=g),
            torch.rand(n, 1, 32, 32, generator=g) * 2 - 1)


def flat(net):
    return torch.cat([p.detach().flatten().clone() for p in net.parameters()])


# ---------------------------------------------------------------- networks
def test_dtn_networks_mirror_each_other():
    E, G, D = DTNEncoder(1, 8, 16, 32), DTNGenerator(1, 8, 16, 32), DTNCritic(1, 8, 32)
    x = torch.rand(3, 1, 32, 32) * 2 - 1
    h, e_maps = E(x, maps=True)
    img, g_maps = G(h, maps=True)
    assert h.shape == (3, 16) and img.shape == x.shape and img.abs().max() <= 1
    assert [m.shape[-1] for m in e_maps] == [4, 8] == [m.shape[-1] for m in g_maps]
    assert D(x).shape == (3,)
    with pytest.raises(ValueError, match="expects images"):
        E(torch.rand(3, 3, 32, 32))
    with pytest.raises(ConfigError, match="power-of-two"):
        DTNEncoder(1, 8, 16, 28)


# ---------------------------------------------------------------- losses
def test_attention_map_is_eq8_normalised():
    t = torch.tensor([[[[1.0, -2.0]], [[3.0, 0.0]]]])          # [1, 2 channels, 1, 2]
    assert torch.allclose(attention_map(t, normalize=False), torch.tensor([[[4.0, 2.0]]]))
    p = attention_map(t)
    assert torch.allclose(p.flatten().norm(), torch.tensor(1.0))
    # sign and scale do not change the normalised map; only its shape does
    assert torch.allclose(attention_map(-5 * t), p)
    a = torch.randn(2, 3, 4, 4)
    assert attention_loss([a, a.repeat(1, 1, 2, 2)], [2 * a, -a.repeat(1, 1, 2, 2)]) < 1e-6
    assert attention_loss([a], [torch.randn(2, 7, 4, 4)]) > 0.01
    with pytest.raises(ConfigError, match="share N, H, W"):
        attention_loss([a], [torch.randn(2, 3, 8, 8)])


def test_total_variation_is_eq6_with_b1():
    z = torch.zeros(1, 1, 3, 3)
    z[..., :, 2] = 1.0                                         # a vertical edge: two of the 2x2 cells cross it
    assert torch.allclose(total_variation(z, eps=0.0), torch.tensor(2.0))
    assert torch.allclose(total_variation(torch.ones(2, 1, 5, 5), eps=0.0), torch.tensor(0.0))
    assert torch.allclose(total_variation(z, beta=2.0, eps=0.0), torch.tensor(2.0))


def test_label_consistency_and_f_constancy():
    logits = torch.tensor([[10.0, 0.0], [0.0, 10.0]])
    assert label_consistency(logits, torch.tensor([0, 1])) < 1e-3 < label_consistency(logits, torch.tensor([1, 0]))
    a = torch.randn(4, 5, requires_grad=True)
    b = torch.randn(4, 5, requires_grad=True)
    f_constancy(a, b).backward()
    assert a.grad is None and b.grad.abs().sum() > 0          # the source features are the target
    with pytest.raises(ConfigError):
        label_consistency(logits, torch.tensor([0]))


def test_gradient_reversal_flips_the_gradient():
    x = torch.ones(3, requires_grad=True)
    grad_reverse(x, 0.5).sum().backward()
    assert torch.allclose(x.grad, torch.full((3,), -0.5))


# ---------------------------------------------------------------- Algorithm 1
def test_paper_constants_are_the_defaults():
    m = make_sigan()
    assert (m.alpha, m.beta, m.gamma, m.interval) == (0.01, 1.0, 1e-4, 20) == tuple(PAPER.values())
    assert isinstance(m.optimizers["EG"], torch.optim.RMSprop) and set(m.optimizers) == {"EG", "D", "EF"}
    with pytest.raises(ConfigError, match="semantic"):
        make_sigan(semantic="cycle")
    with pytest.raises(ConfigError, match="interval"):
        make_sigan(interval=0)


def test_labelconst_runs_every_t_iterations_and_moves_f_only_then():
    m = make_sigan(interval=3)
    seen = []
    for i in range(6):
        f_before = flat(m.F)
        out = m.training_step(batch(i))
        seen.append("labelconst" in out)
        assert ("labelconst" in out) == (not torch.equal(f_before, flat(m.F)))
    assert seen == [True, False, False, True, False, False]
    assert {"D", "wasserstein", "gan", "attention", "mse", "tv", "adv"} <= set(out)


def test_ablations_drop_their_terms():
    out = make_sigan(gan=False, attention=False, tv=False, semantic="none").training_step(batch())
    assert set(out) == {"mse", "adv"}
    m = make_sigan(gan=False)
    d_before = flat(m.D)
    assert "gan" not in m.training_step(batch()) and torch.equal(d_before, flat(m.D))
    assert "EF" not in make_sigan(semantic="none").optimizers


def test_dtn_variant_uses_a_frozen_pretrained_f():
    m = make_sigan(semantic="fconst", interval=1)
    f0 = flat(m.f)
    out = m.training_step(batch())
    assert "fconst" in out and "labelconst" not in out
    assert torch.equal(f0, flat(m.f)) and not torch.equal(f0, flat(m.E))


def test_labelconst_teaches_f_the_adapted_images():
    """With only LabelConst (t = 1), F(E(G(E(x)))) learns the labels of a fixed batch."""
    m = make_sigan(gan=False, attention=False, tv=False, beta=0.0, interval=1)
    x, y, xt = batch(n=8)
    first = m.training_step((x, y, xt))["labelconst"]
    for _ in range(60):
        last = m.training_step((x, y, xt))["labelconst"]
    assert last < 0.5 * first


def test_critic_learns_to_separate_real_from_adapted():
    m = make_sigan(attention=False, tv=False, semantic="none", beta=0.0, lr=1e-12)   # G frozen in effect
    xs, ys, _ = batch(n=8)
    xt = torch.full_like(xs, 0.9)
    for _ in range(25):
        out = m.training_step((xs, ys, xt))
    assert out["wasserstein"] > 0.5


def test_dann_trains_and_schedules_lambda():
    torch.manual_seed(0)
    nets = define_dtn(1, 4, 16, 32)
    m = DANN(nets["E"], nets["F"], 16, total_steps=10, lr=1e-3)
    assert m.reversal_weight() == 0.0
    out = m.training_step(batch())
    assert set(out) == {"ce", "domain"} and 0 < m.reversal_weight() < 1


def test_bad_batches_fail_with_a_clear_message():
    x, y, xt = batch()
    with pytest.raises(ConfigError, match="labels must lie"):
        make_sigan().training_step((x, y + 10, xt))
    with pytest.raises(ConfigError, match="one shape"):
        make_sigan().training_step((x, y, xt[:, :, :16]))


# ---------------------------------------------------------------- the chapter
def test_config_validation():
    assert SIGANConfig.for_profile("cpu").pairs == PAIRS
    with pytest.raises(ConfigError, match="pairs"):
        SIGANConfig(pairs=("svhn_to_usps",))
    with pytest.raises(ConfigError, match="methods"):
        SIGANConfig(methods=("sigan",))
    with pytest.raises(ConfigError, match="unknown"):
        SIGANConfig.for_profile("smoke", steps_x=3)


@pytest.fixture(scope="module")
def smoke_result():
    return chapter.run("smoke", seed=0)


def test_smoke_run_is_complete_and_deterministic(smoke_result):
    pairs = smoke_result.metrics["pairs"]
    assert set(pairs) == set(PAIRS)
    for table in pairs.values():
        assert list(table) == list(METHODS)
        assert all(0.0 <= v <= 100.0 for v in table.values())
    again = chapter.run("smoke", seed=0, pairs=("mnist_to_ucidigits",))
    assert again.metrics["pairs"]["mnist_to_ucidigits"] == pairs["mnist_to_ucidigits"]


def test_smoke_figures_and_table(smoke_result):
    import matplotlib.pyplot as plt

    from emolab.plots import FIGURES
    from emolab.plots.sigan import table1

    figs = FIGURES["sigan"](smoke_result)
    assert {"accuracies", "attention_synth_to_mnist", "generated_mnist_to_ucidigits", "tsne_synth_to_mnist"} <= set(figs)
    for f in figs.values():
        plt.close(f)
    t = table1([smoke_result.metrics["pairs"]] * 2)
    assert list(t.columns) == [*PAIRS, "paper (SVHN→MNIST)"] and "± 0.0" in t.loc["SIGAN", PAIRS[0]]


@pytest.mark.skipif(not (SHARED / "usps" / "usps.bz2").is_file(), reason="no ../shared/data")
def test_real_mnist_to_usps_runs():
    r = chapter.run("smoke", seed=0, data_root=SHARED, methods=("source_only", "sigan"))
    assert set(r.metrics["pairs"]) == {"mnist_to_usps"}
    assert r.metrics["domains"]["mnist_to_usps"]["target"] == "usps"
    assert "published_mnist_to_usps" in r.metrics


def test_real_data_root_without_digits_is_refused(tmp_path):
    from emolab.core.errors import DatasetNotFoundError

    with pytest.raises(DatasetNotFoundError, match="no real digit pair"):
        chapter.run("smoke", data_root=tmp_path)


def test_labelconst_options_fixed_f_generator_and_source():
    m = make_sigan(interval=1, fixed_f=True)
    f0, g_params = flat(m.F), {id(p) for p in m.G.parameters()}
    m.training_step(batch())
    assert torch.equal(f0, flat(m.F))                          # §6.1.1: F fixed after pretraining
    assert not g_params & {id(p) for g in m.optimizers["EF"].param_groups for p in g["params"]}
    m = make_sigan(labelconst_to_generator=True)
    assert {id(p) for p in m.G.parameters()} <= {id(p) for g in m.optimizers["EF"].param_groups for p in g["params"]}
    # the source images join the LabelConst batch: another loss on the same batch
    m = make_sigan(labelconst_source=True)
    x, y, _ = batch()
    with torch.no_grad():
        both = m.label_const(x, y)
        m.labelconst_source = False
        adapted_only = m.label_const(x, y)
    assert both.item() != adapted_only.item()

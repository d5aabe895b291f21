"""ExprADA's networks (Tables 1-2) and losses (eqs. 1-6)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from emolab.core.errors import ConfigError
from emolab.methods.exprada import ExprADA
from emolab.models.exprada import ExprADAGenerator, define_exprada

pytestmark = pytest.mark.usefixtures("one_thread")


def test_generator_follows_table_1_at_paper_size():
    G, D = define_exprada(128)
    assert G.n_down == 4  # 128 -> 8 px bottleneck (h/16)
    convs = [m for m in G.modules() if isinstance(m, nn.Conv2d)]
    assert convs[0].kernel_size == (7, 7) and convs[0].in_channels == 3
    assert [c.out_channels for c in convs[1:5]] == [128, 256, 512, 1024]
    assert sum(isinstance(m, nn.PixelShuffle) for m in G.modules()) == 4
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in G.modules())
    assert G.decoder[0][0].in_channels == 1024 + 7  # the one-hot joins at the bottleneck
    assert isinstance(G.image[-1], nn.Tanh) and G.side is None
    x, y = torch.zeros(2, 3, 128, 128), torch.eye(7)[:2]
    assert G(x, y).shape == (2, 3, 128, 128)
    src, cls, _ = D(x)
    assert src.shape == (2, 1, 2, 2) and cls.shape == (2, 7)  # h/64 patch map, FC over 7 classes


def test_side_output_gives_the_second_view_and_uit_has_no_class_stream():
    G, D = define_exprada(32, 3, 0, ngf=8, ndf=8, views=2)
    x = torch.rand(2, 6, 32, 32) * 2 - 1  # a stereo pair, as Table 1's 6 input channels
    out = G(x)
    assert out.shape == (2, 6, 32, 32) and G.side is not None
    assert D(out)[1] is None  # UIT: no class head
    with pytest.raises(ConfigError, match="no class stream"):
        G(x, torch.eye(7)[:2])
    with pytest.raises(ConfigError, match="views"):
        ExprADAGenerator(views=3)


def test_category_guided_generator_uses_the_label():
    torch.manual_seed(0)
    G = ExprADAGenerator(1, 7, ngf=8, n_down=2, n_blocks=1)
    x = torch.rand(2, 1, 16, 16)
    assert not torch.allclose(G(x, torch.eye(7)[[0, 0]]), G(x, torch.eye(7)[[3, 3]]))
    with pytest.raises(ConfigError, match="one-hot y"):
        G(x)
    with pytest.raises(ConfigError, match="multiples"):
        G(torch.rand(2, 1, 18, 18), torch.eye(7)[:2])


class Shift(nn.Module):
    """``x * scale + delta`` with a learnable scale (1 at first): known translations."""

    def __init__(self, delta: float):
        super().__init__()
        self.delta = delta
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x, y=None):
        return x * self.scale + self.delta


def test_bidirectional_and_reconstruction_losses_are_eqs_4_and_5():
    _, D_s = define_exprada(16, 1, 0, ngf=4, ndf=4)
    _, D_t = define_exprada(16, 1, 0, ngf=4, ndf=4)
    model = ExprADA(Shift(0.5), Shift(-0.25), D_s, D_t, 0, flip=False)
    x_s, x_t = torch.rand(3, 1, 16, 16), torch.rand(3, 1, 16, 16)
    g, fake_s, fake_t = model.generator_losses(x_s, torch.zeros(3, dtype=torch.long), x_t, None)
    torch.testing.assert_close(fake_s, x_t + 0.5)
    # (5): |x_t - G_ts(x_t)| + |x_s - G_st(x_s)| = 0.5 + 0.25
    torch.testing.assert_close(g["re"], torch.tensor(0.75))
    # (4): |G_ts(G_st(x_s)) - x_s| + |G_st(G_ts(x_t)) - x_t| = 0.25 + 0.25
    torch.testing.assert_close(g["bi"], torch.tensor(0.5))
    torch.testing.assert_close(g["G_total"], g["G_adv"] + 10 * 0.5 + 10 * 0.75)
    ablated = ExprADA(Shift(0.5), Shift(-0.25), D_s, D_t, 0, lambda_bi=0, lambda_re=0, flip=False)
    g2, _, _ = ablated.generator_losses(x_s, torch.zeros(3, dtype=torch.long), x_t, None)
    assert "bi" not in g2 and "re" not in g2
    torch.testing.assert_close(g2["G_total"], g2["G_adv"])


def small_cgit(seed: int = 0, **kw) -> ExprADA:
    torch.manual_seed(seed)
    G_ts, D_s = define_exprada(16, 1, 4, ngf=4, ndf=4, n_blocks=1)
    G_st, _ = define_exprada(16, 1, 4, ngf=4, ndf=4, n_blocks=1)
    _, D_t = define_exprada(16, 1, 0, ngf=4, ndf=4)
    return ExprADA(G_ts, G_st, D_s, D_t, 4, **kw)


def test_classification_losses_use_source_labels_for_d_and_asked_labels_for_g():
    model = small_cgit(flip=False)
    x_s, y_s, x_t = torch.rand(4, 1, 16, 16), torch.tensor([0, 1, 2, 3]), torch.rand(4, 1, 16, 16)
    y = torch.tensor([3, 3, 1, 0])
    g, fake_s, fake_t = model.generator_losses(x_s, y_s, x_t, y)
    expected_f = nn.functional.cross_entropy(model.D_s(model.to_source(x_t, y))[1], y)  # (3)
    torch.testing.assert_close(g["cls_f"], expected_f)
    d = model.discriminator_losses(x_s, y_s, x_t, fake_s, fake_t)
    torch.testing.assert_close(d["cls_r"], nn.functional.cross_entropy(model.D_s(x_s)[1], y_s))  # (2)
    torch.testing.assert_close(d["D_total"], d["D_s"] + d["D_t"] + d["cls_r"])


def test_training_step_updates_all_four_networks_and_validates_input():
    model = small_cgit()
    before = {k: [p.clone() for p in getattr(model, k).parameters()] for k in ("G_ts", "G_st", "D_s", "D_t")}
    x_s, y_s, x_t = torch.rand(4, 1, 16, 16) * 2 - 1, torch.tensor([0, 1, 2, 3]), torch.rand(4, 1, 16, 16)
    out = model.training_step((x_s, y_s, x_t))
    assert {"G_adv", "bi", "re", "cls_f", "G_total", "D_s", "D_t", "cls_r", "D_total"} <= set(out)
    for k, ps in before.items():
        assert any(not torch.equal(a, b) for a, b in zip(ps, getattr(model, k).parameters(), strict=True)), k
    with pytest.raises(ConfigError, match="labels"):
        model.training_step((x_s, torch.tensor([0, 1, 2, 4]), x_t))
    with pytest.raises(ConfigError, match="one shape"):
        model.training_step((x_s, y_s, torch.rand(4, 1, 8, 8)))
    with pytest.raises(ConfigError, match="n_classes"):
        ExprADA(model.G_ts, model.G_st, model.D_s, model.D_t, 1)


def test_training_step_is_reproducible():
    batch = (torch.rand(4, 1, 16, 16), torch.tensor([0, 1, 2, 3]), torch.rand(4, 1, 16, 16))
    runs = []
    for _ in range(2):
        model = small_cgit(seed=3)
        torch.manual_seed(5)
        runs.append([model.training_step(batch) for _ in range(3)])
    assert runs[0] == runs[1]


def test_residual_generator_starts_near_the_identity():
    """residual=True (ours): tanh(atanh(x) + h) with a freshly initialised h stays
    close to x; the paper's tanh(h) does not."""
    torch.manual_seed(0)
    x = torch.rand(2, 1, 16, 16) * 1.6 - 0.8
    res = ExprADAGenerator(1, 0, ngf=8, n_down=2, n_blocks=1, residual=True)
    plain = ExprADAGenerator(1, 0, ngf=8, n_down=2, n_blocks=1)
    assert (res(x) - x).abs().mean() < 0.5 * (plain(x) - x).abs().mean()
    with pytest.raises(ConfigError, match="residual_clip"):
        ExprADAGenerator(residual=True, residual_clip=1.0)


def test_gan_mode_is_configurable_and_validated():
    assert small_cgit().gan_loss.mode == "lsgan"  # the paper's §4
    assert small_cgit(gan_mode="vanilla").gan_loss.mode == "vanilla"
    with pytest.raises(ConfigError, match="GAN loss mode"):
        small_cgit(gan_mode="nope")

"""Losses against their formulas; the MLP factories."""

import pytest
import torch
import torch.nn.functional as F

from emolab.core import ConfigError
from emolab.losses import CycleConsistencyLoss, GANLoss
from emolab.models import MLP, init_weights, point_discriminator, point_generator

REAL = torch.tensor([[0.9], [0.2], [1.4]])
FAKE = torch.tensor([[0.1], [-0.3], [0.7]])


def test_lsgan_matches_eqs_2_and_3():
    loss = GANLoss("lsgan")
    d_loss = loss(REAL, True) + loss(FAKE, False)
    expected = ((REAL - 1) ** 2).mean() + (FAKE ** 2).mean()
    assert torch.allclose(d_loss, expected)
    assert torch.allclose(loss(FAKE, True), ((FAKE - 1) ** 2).mean())


def test_vanilla_is_cross_entropy_on_logits():
    loss = GANLoss("vanilla")
    expected = -(torch.log(torch.sigmoid(REAL)).mean() + torch.log(1 - torch.sigmoid(FAKE)).mean())
    assert torch.allclose(loss(REAL, True) + loss(FAKE, False), expected, atol=1e-6)


def test_unknown_gan_mode():
    with pytest.raises(ConfigError, match="lsgan"):
        GANLoss("wgan-typo")


def test_cycle_loss_is_l1_and_checks_shapes():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    b = torch.tensor([[1.5, 2.0], [2.0, 4.0]])
    assert CycleConsistencyLoss()(a, b).item() == pytest.approx(F.l1_loss(a, b).item())
    assert CycleConsistencyLoss()(a, b).item() == pytest.approx(1.5 / 4)
    with pytest.raises(ValueError, match="shapes differ"):
        CycleConsistencyLoss()(a, b[:1])


def test_point_networks_shapes_and_residual():
    g, d = point_generator(2, 16, 2), point_discriminator(2, 16, 2)
    x = torch.randn(5, 2)
    assert g(x).shape == (5, 2) and d(x).shape == (5, 1)
    for p in g.net[-1].parameters():
        torch.nn.init.zeros_(p)
    assert torch.equal(g(x), x)  # a residual generator with a zero last layer is the identity
    with pytest.raises(ValueError, match=r"\(batch, 2\)"):
        g(torch.randn(5, 3))
    with pytest.raises(ConfigError):
        MLP(2, 3, residual=True)


def test_init_weights():
    net = init_weights(MLP(2, 2, hidden=64), "normal", gain=0.02)
    w = net.net[0].weight
    assert 0.01 < w.std().item() < 0.03 and torch.all(net.net[0].bias == 0)
    with pytest.raises(ConfigError, match="init_type"):
        init_weights(net, "uniformish")

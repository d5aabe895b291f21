"""Adversarial losses in every mode, the identity loss and the WGAN-GP gradient penalty."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from emolab.core import ConfigError
from emolab.losses import GAN_MODES, GANLoss, IdentityLoss, gradient_penalty

REAL = torch.tensor([[0.9], [0.2], [1.4], [-1.3]])
FAKE = torch.tensor([[0.1], [-0.3], [0.7], [-2.0]])


def _d_loss(loss):
    return loss(REAL, True) + loss(FAKE, False)


def _g_loss(loss):
    return loss(FAKE, True, for_discriminator=False)


# ------------------------------------------------------------------ GANLoss
@pytest.mark.parametrize("mode, d_expected, g_expected", [
    ("lsgan", ((REAL - 1) ** 2).mean() + (FAKE ** 2).mean(), ((FAKE - 1) ** 2).mean()),
    ("vanilla", -(torch.log(torch.sigmoid(REAL)).mean() + torch.log(1 - torch.sigmoid(FAKE)).mean()),
     -torch.log(torch.sigmoid(FAKE)).mean()),
    ("wgangp", -REAL.mean() + FAKE.mean(), -FAKE.mean()),
    ("hinge", torch.clamp(1 - REAL, min=0).mean() + torch.clamp(1 + FAKE, min=0).mean(), -FAKE.mean()),
])
def test_each_mode_against_its_formula(mode, d_expected, g_expected):
    loss = GANLoss(mode)
    assert torch.allclose(_d_loss(loss), d_expected, atol=1e-6)
    assert torch.allclose(_g_loss(loss), g_expected, atol=1e-6)


def test_hand_computed_values():
    # REAL = [0.9, 0.2, 1.4, -1.3], FAKE = [0.1, -0.3, 0.7, -2.0]
    hinge = GANLoss("hinge")
    assert _d_loss(hinge).item() == pytest.approx((0.1 + 0.8 + 0 + 2.3) / 4 + (1.1 + 0.7 + 1.7 + 0) / 4)
    assert _g_loss(hinge).item() == pytest.approx(1.5 / 4)
    wgan = GANLoss("wgangp")
    assert _d_loss(wgan).item() == pytest.approx(-1.2 / 4 + -1.5 / 4)
    assert _g_loss(wgan).item() == pytest.approx(1.5 / 4)


def test_for_discriminator_matters_only_for_hinge():
    for mode in ("lsgan", "vanilla", "wgangp"):
        loss = GANLoss(mode)
        assert torch.equal(loss(FAKE, True), loss(FAKE, True, for_discriminator=False))
    hinge = GANLoss("hinge")
    assert not torch.allclose(hinge(FAKE, True), hinge(FAKE, True, for_discriminator=False))


def test_labels_and_patch_maps():
    smooth = GANLoss("lsgan", real_label=0.9)
    assert torch.allclose(smooth(REAL, True), ((REAL - 0.9) ** 2).mean())
    patch = torch.randn(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(GANLoss("hinge")(patch, True), F.relu(1 - patch).mean())
    assert torch.allclose(GANLoss("wgangp")(patch, False), patch.mean())


def test_unknown_mode_lists_every_mode():
    assert GAN_MODES == ("lsgan", "vanilla", "wgangp", "hinge")
    with pytest.raises(ConfigError) as err:
        GANLoss("wgan")
    assert all(mode in str(err.value) for mode in GAN_MODES)


# ------------------------------------------------------------- identity loss
def test_identity_loss_is_l1_and_checks_shapes():
    t = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    g_t = torch.tensor([[1.0, 2.5], [2.0, 4.0]])
    assert IdentityLoss()(g_t, t).item() == pytest.approx(1.5 / 4)
    assert IdentityLoss()(t, t).item() == 0
    with pytest.raises(ValueError, match="shapes differ"):
        IdentityLoss()(g_t, t[:1])


# --------------------------------------------------------- gradient penalty
def _linear_critic(w):
    critic = nn.Linear(len(w), 1)
    with torch.no_grad():
        critic.weight.copy_(torch.as_tensor(w).unsqueeze(0))
        critic.bias.fill_(0.3)
    return critic


def _batch(seed, shape=(6, 3)):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g), torch.randn(shape, generator=g)


def test_gradient_penalty_of_a_linear_critic_is_exact():
    # D(x) = w.x + b has gradient w everywhere: penalty = weight * (||w|| - 1)^2
    w = torch.tensor([2.0, -1.0, 2.0])  # ||w|| = 3
    real, fake = _batch(0)
    gp = gradient_penalty(_linear_critic(w), real, fake, weight=10.0)
    assert gp.dtype == torch.float32
    assert gp.item() == pytest.approx(10.0 * (3.0 - 1.0) ** 2, rel=1e-6)
    gp = gradient_penalty(_linear_critic(w), real, fake, weight=2.0, target_norm=3.0)
    assert gp.item() == pytest.approx(0.0, abs=1e-6)


def test_gradient_penalty_norm_is_per_sample_over_all_dims():
    # a "PatchGAN" critic on images: D(x) = sum of pixels * 0.5 -> grad norm 0.5 * sqrt(C*H*W)
    critic = lambda x: 0.5 * x  # noqa: E731  (one output per pixel; summed by the penalty)
    real, fake = _batch(1, (4, 3, 2, 2))
    expected = (0.5 * 12 ** 0.5 - 1) ** 2
    assert gradient_penalty(critic, real, fake, weight=1.0).item() == pytest.approx(expected, rel=1e-6)


def test_gradient_penalty_interpolates_with_the_generator():
    critic = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    real, fake = _batch(2)
    a = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(5))
    b = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(5))
    c = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_gradient_penalty_under_bfloat16_autocast_matches_float32():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(3, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
    real, fake = _batch(3)
    exact = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(1))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert critic(real).dtype == torch.bfloat16  # autocast really is on for the critic
        mixed = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(1))
    assert mixed.dtype == torch.float32
    assert mixed.item() == pytest.approx(exact.item(), rel=1e-2)


class FakeScaler:
    """What the penalty needs of a ``torch.amp.GradScaler``, with a fixed scale."""

    def scale(self, x):
        return x * 1024.0

    def get_scale(self):
        return 1024.0


def test_gradient_penalty_undoes_the_loss_scale():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1))
    real, fake = _batch(4)
    plain = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(2))
    scaled = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(2),
                              scaler=FakeScaler())
    assert torch.allclose(scaled, plain, rtol=1e-6, atol=0) and plain.item() > 0
    try:  # the real scaler, where this torch has it on the CPU (torch >= 2.3)
        real_scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 16)
    except (TypeError, ValueError, AttributeError, RuntimeError):
        return
    scaled = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(2),
                              scaler=real_scaler)
    assert torch.allclose(scaled, plain, rtol=1e-6, atol=0)


def test_gradient_penalty_is_differentiable_in_the_critic():
    w = torch.tensor([2.0, -1.0, 2.0])
    critic = _linear_critic(w)
    real, fake = _batch(5)
    gradient_penalty(critic, real, fake, weight=10.0).backward()
    # d/dw 10 (||w|| - 1)^2 = 20 (||w|| - 1) w / ||w||
    assert torch.allclose(critic.weight.grad[0], 20 * (3 - 1) * w / 3, rtol=1e-5)
    assert critic.bias.grad is None or torch.all(critic.bias.grad == 0)


def test_gradient_penalty_checks_its_arguments():
    critic = _linear_critic(torch.ones(3))
    real, fake = _batch(6)
    with pytest.raises(ConfigError, match="same shape"):
        gradient_penalty(critic, real, fake[:2])
    with pytest.raises(ConfigError, match=">= 0"):
        gradient_penalty(critic, real, fake, weight=-1.0)

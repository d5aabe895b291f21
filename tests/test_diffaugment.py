"""DiffAugment: each transform does what it says, gradients pass, the CycleGAN uses it."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from emolab.core import ConfigError, seed_everything
from emolab.methods.cyclegan_augmentation import CycleGAN
from emolab.training import DiffAugment, Trainer


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_translation_shifts_by_whole_pixels_with_zeros():
    x = torch.arange(2 * 1 * 8 * 8, dtype=torch.float32).view(2, 1, 8, 8) + 1  # no zeros inside
    out = DiffAugment("translation", translation_ratio=0.25, generator=_gen(3))(x)
    for i in range(2):
        # Find the shift: the output is the input moved by (dy, dx), zeros elsewhere.
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if torch.equal(out[i, 0], _shift(x[i, 0], dy, dx))]
        assert len(found) == 1


def _shift(img, dy, dx):
    h, w = img.shape
    out = torch.zeros_like(img)
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        img[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def test_translation_draws_every_shift():
    x = torch.ones(400, 1, 8, 8)
    out = DiffAugment("translation", translation_ratio=0.25, generator=_gen(0))(x)
    zeros = (out == 0).flatten(1).sum(1)
    assert zeros.min() == 0 and zeros.max() == 8 * 8 - 6 * 6  # no shift, and |dy| = |dx| = 2


def test_cutout_zeroes_one_square_of_the_given_side():
    x = torch.ones(200, 1, 16, 16)
    out = DiffAugment("cutout", cutout_ratio=0.5, generator=_gen(1))(x)
    holes = (out == 0)
    counts = holes.flatten(1).sum(1)
    assert counts.max() == 64 and counts.min() > 0  # 8x8 inside; overhanging ones are smaller
    for i in range(10):
        ys, xs = torch.nonzero(holes[i, 0], as_tuple=True)
        assert (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1) == counts[i]  # a rectangle


def test_color_on_grey_images_changes_brightness_and_contrast_only():
    x = torch.rand(6, 1, 8, 8, generator=_gen(2)) * 2 - 1
    out = DiffAugment("color", generator=_gen(5))(x)
    # Per image an affine map of the pixel values: a * x + b with a in [0.5, 1.5].
    for i in range(6):
        a = torch.linalg.lstsq(torch.stack([x[i].flatten(), torch.ones(64)], 1), out[i].flatten()[:, None]).solution
        assert 0.5 <= a[0].item() <= 1.5
        assert torch.allclose(a[0] * x[i] + a[1], out[i], atol=1e-5)


def test_gradients_pass_and_draws_are_reproducible():
    x = torch.rand(4, 3, 16, 16, requires_grad=True)
    aug = DiffAugment("color,translation,cutout", generator=_gen(7))
    aug(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    y1 = DiffAugment(generator=_gen(7))(x.detach())
    y2 = DiffAugment(generator=_gen(7))(x.detach())
    assert torch.equal(y1, y2) and not torch.equal(y1, x.detach())


@pytest.mark.parametrize("kwargs", [dict(policy="zoom"), dict(policy=""), dict(translation_ratio=0.6),
                                    dict(cutout_ratio=0.0)])
def test_bad_arguments(kwargs):
    with pytest.raises(ConfigError):
        DiffAugment(**kwargs)
    with pytest.raises(ValueError, match="batch, channels"):
        DiffAugment()(torch.zeros(3, 8, 8))


class _Conv(nn.Module):
    def __init__(self, out, act=None):
        super().__init__()
        self.conv, self.act = nn.Conv2d(1, out, 3, padding=1), act or nn.Identity()

    def forward(self, x):
        return self.act(self.conv(x))


def _run(augment, steps=3):
    seed_everything(0)
    model = CycleGAN(_Conv(1, nn.Tanh()), _Conv(1, nn.Tanh()), _Conv(1), _Conv(1), augment=augment)
    seen = []
    if augment is not None:
        def spy(x):
            seen.append(x.shape[0])
            return augment(x)
        model.augment = spy
    ref, tgt = torch.rand(8, 1, 8, 8) * 2 - 1, torch.rand(8, 1, 8, 8) - 0.5
    history = Trainer(model, lambda g: (ref[:4], tgt[:4]), config={}, seed=0).fit(steps)
    return history, seen


def test_cyclegan_augments_every_discriminator_input():
    plain, _ = _run(None)
    augmented, seen = _run(DiffAugment("translation,cutout"))
    # Per step: two adversarial terms for G, then real and fake for each of the two D's.
    assert len(seen) == 3 * 6
    assert plain["cycle"][0] == augmented["cycle"][0]      # same init, cycle term untouched
    assert plain["G_adv_T"][0] != augmented["G_adv_T"][0]  # D_T saw transformed images
    with pytest.raises(ConfigError, match="callable"):
        CycleGAN(_Conv(1), _Conv(1), _Conv(1), _Conv(1), augment="translation")

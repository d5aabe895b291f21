"""Adversarial losses.

``GANLoss(mode)`` scores discriminator outputs against a target ("real" or
"fake"), so one module serves both players:

* discriminator: ``loss(D(real), True) + loss(D(fake.detach()), False)``
* generator:     ``loss(D(fake), True)``

Modes:

``lsgan``    least squares (Mao et al., 2017), as in eqs. (2)–(3) of Zhu et
             al. (2018): ``E[(D(x) - 1)^2]`` for real, ``E[D(x)^2]`` for fake.
``vanilla``  the original GAN's cross-entropy, computed on logits (eq. 1).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from emolab.core.errors import ConfigError

GAN_MODES = ("lsgan", "vanilla")


class GANLoss(nn.Module):
    def __init__(self, mode: str = "lsgan", real_label: float = 1.0, fake_label: float = 0.0):
        super().__init__()
        if mode not in GAN_MODES:
            raise ConfigError(f"unknown GAN loss mode {mode!r}; choose one of {GAN_MODES}")
        self.mode = mode
        self.real_label = real_label
        self.fake_label = fake_label

    def forward(self, prediction: torch.Tensor, target_is_real: bool) -> torch.Tensor:
        target = torch.full_like(prediction, self.real_label if target_is_real else self.fake_label)
        if self.mode == "lsgan":
            return F.mse_loss(prediction, target)
        return F.binary_cross_entropy_with_logits(prediction, target)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"

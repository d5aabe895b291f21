"""Adversarial losses.

``GANLoss(mode)`` scores discriminator outputs against a target ("real" or
"fake"), so one module serves both players. The calling convention, the same
for every mode:

* discriminator: ``loss(D(real), True) + loss(D(fake.detach()), False)``
* generator:     ``loss(D(fake), True, for_discriminator=False)``

``for_discriminator`` only matters for ``hinge``, where the generator's term is
not the discriminator's "real" term; for the other modes the generator's loss
is the discriminator's "real" loss evaluated on fakes, and the flag changes
nothing. Passing it anyway keeps a method correct whatever mode it is given.

Modes (``D`` is the raw score: a logit, never a probability):

``lsgan``    least squares (Mao et al., 2017), as in eqs. (2)–(3) of Zhu et
             al. (2018): ``E[(D(x) - 1)^2]`` for real, ``E[D(x)^2]`` for fake;
             the generator minimises ``E[(D(G(z)) - 1)^2]``.
``vanilla``  the original GAN's cross-entropy (Goodfellow et al., 2014, eq. 1),
             computed on logits: ``-E[log σ(D(x))]`` for real,
             ``-E[log(1 - σ(D(x)))]`` for fake; the generator minimises the
             non-saturating ``-E[log σ(D(G(z)))]``.
``wgangp``   Wasserstein (Arjovsky et al., 2017; Gulrajani et al., 2017). The
             critic minimises ``-E[D(real)] + E[D(fake)]``, i.e. ``-mean`` for
             real and ``+mean`` for fake; the generator minimises
             ``-E[D(G(z))]``. Add :func:`~emolab.losses.gradient_penalty` to
             the critic's loss to keep ``D`` 1-Lipschitz.
``hinge``    (Lim & Ye, 2017; Miyato et al., 2018). The discriminator minimises
             ``E[relu(1 - D(real))] + E[relu(1 + D(fake))]``; the generator
             minimises ``-E[D(G(z))]``.

``real_label`` and ``fake_label`` are the regression/classification targets of
``lsgan`` and ``vanilla``; ``wgangp`` and ``hinge`` have no labels and ignore them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from emolab.core.errors import ConfigError

GAN_MODES = ("lsgan", "vanilla", "wgangp", "hinge")


class GANLoss(nn.Module):
    """One adversarial loss for both players; see the module docstring for the convention."""

    def __init__(self, mode: str = "lsgan", real_label: float = 1.0, fake_label: float = 0.0):
        super().__init__()
        if mode not in GAN_MODES:
            raise ConfigError(f"unknown GAN loss mode {mode!r}; choose one of {GAN_MODES}")
        self.mode = mode
        self.real_label = real_label
        self.fake_label = fake_label

    def forward(self, prediction: torch.Tensor, target_is_real: bool,
                for_discriminator: bool = True) -> torch.Tensor:
        """The loss of scores ``prediction`` against the label "real"/"fake".

        Args:
            prediction: the discriminator's raw scores, any shape (a PatchGAN's
                map is averaged over every element).
            target_is_real: the label the caller wants the scores pushed to.
            for_discriminator: ``False`` when the generator calls
                (``loss(D(fake), True, for_discriminator=False)``).
        """
        if self.mode == "wgangp":
            # critic: -E[D(real)] + E[D(fake)]; generator: -E[D(fake)]
            return -prediction.mean() if target_is_real else prediction.mean()
        if self.mode == "hinge":
            if for_discriminator:
                return (F.relu(1.0 - prediction).mean() if target_is_real
                        else F.relu(1.0 + prediction).mean())
            # the generator raises the score of its fakes (no margin)
            return -prediction.mean() if target_is_real else prediction.mean()
        target = torch.full_like(prediction, self.real_label if target_is_real else self.fake_label)
        if self.mode == "lsgan":
            return F.mse_loss(prediction, target)
        return F.binary_cross_entropy_with_logits(prediction, target)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"

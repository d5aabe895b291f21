"""Losses as small composable modules."""

from emolab.losses.adversarial import GAN_MODES, GANLoss
from emolab.losses.cycle import CycleConsistencyLoss, IdentityLoss
from emolab.losses.gradient_penalty import gradient_penalty

__all__ = ["GAN_MODES", "CycleConsistencyLoss", "GANLoss", "IdentityLoss", "gradient_penalty"]

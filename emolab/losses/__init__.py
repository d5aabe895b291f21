"""Losses as small composable modules."""

from emolab.losses.adversarial import GAN_MODES, GANLoss
from emolab.losses.cycle import CycleConsistencyLoss

__all__ = ["GAN_MODES", "CycleConsistencyLoss", "GANLoss"]

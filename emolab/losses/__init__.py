"""Losses as small composable modules."""

from emolab.losses.adversarial import GAN_MODES, GANLoss
from emolab.losses.cycle import CycleConsistencyLoss, IdentityLoss
from emolab.losses.gradient_penalty import gradient_penalty
from emolab.losses.semantic import (
    ESC_DISTANCES,
    EmotionalSemanticConsistencyLoss,
    mikels_distance,
    symmetric_kl,
)

__all__ = ["ESC_DISTANCES", "GAN_MODES", "CycleConsistencyLoss", "EmotionalSemanticConsistencyLoss", "GANLoss",
           "IdentityLoss", "gradient_penalty", "mikels_distance", "symmetric_kl"]

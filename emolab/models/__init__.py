"""Networks, built by small factories sized from a configuration."""

from emolab.models.init import init_weights
from emolab.models.mlp import MLP, point_discriminator, point_generator

__all__ = ["MLP", "init_weights", "point_discriminator", "point_generator"]

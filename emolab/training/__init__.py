"""The training loop every chapter shares."""

from emolab.training.trainer import Trainer

__all__ = ["Trainer"]

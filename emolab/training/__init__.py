"""The training loop every chapter shares, and the pieces GAN training adds to it."""

from emolab.training.accel import Accel, AccelMixin, accelerate
from emolab.training.diffaugment import DiffAugment
from emolab.training.image_pool import ImagePool
from emolab.training.schedules import linear_decay
from emolab.training.trainer import Trainer

__all__ = ["Accel", "AccelMixin", "DiffAugment", "ImagePool", "Trainer", "accelerate", "linear_decay"]

"""One readable module per paper; equations are numbered as in the paper."""

from emolab.methods.cycleemotiongan import CycleEmotionGAN
from emolab.methods.cyclegan_augmentation import CycleGAN
from emolab.methods.exprada import ExprADA
from emolab.methods.stargan import StarGAN

__all__ = ["CycleEmotionGAN", "CycleGAN", "ExprADA", "StarGAN"]

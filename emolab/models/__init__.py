"""Networks, built by small factories sized from a configuration."""

from emolab.models.classifiers import (
    ResNetClassifier,
    SmallCNN,
    define_classifier,
    resnet_classifier,
)
from emolab.models.exprada import ExprADAGenerator, define_exprada
from emolab.models.init import init_weights
from emolab.models.mlp import MLP, point_discriminator, point_generator
from emolab.models.patchgan import (
    NLayerDiscriminator,
    PixelDiscriminator,
    define_discriminator,
    receptive_field,
)
from emolab.models.resnet import ResnetBlock, ResnetGenerator, define_generator
from emolab.models.stargan import StarGANDiscriminator, StarGANGenerator, define_stargan

__all__ = [
    "ExprADAGenerator",
    "MLP",
    "NLayerDiscriminator",
    "PixelDiscriminator",
    "ResNetClassifier",
    "ResnetBlock",
    "ResnetGenerator",
    "SmallCNN",
    "StarGANDiscriminator",
    "StarGANGenerator",
    "define_classifier",
    "define_discriminator",
    "define_exprada",
    "define_generator",
    "define_stargan",
    "init_weights",
    "point_discriminator",
    "point_generator",
    "receptive_field",
    "resnet_classifier",
]

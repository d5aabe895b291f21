"""Expression classifiers: the paper's small CNN and torchvision ResNets.

Every classifier maps ``(batch, C, H, W)`` images to ``(batch, num_classes)``
logits and has ``features(x)``, the penultimate embedding (what a t-SNE plot
shows), of size ``embedding_dim``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torchvision import models

from emolab.core.errors import ConfigError

CLASSIFIERS = ("small_cnn", "resnet18", "resnet50")
RESNETS = ("resnet18", "resnet50")
SMALL_CNN_NORMS = ("lrn", "batch", "none")


def _small_cnn_norm(norm: str, channels: int) -> nn.Module:
    """The "Norm" after each pooling of Table 3.

    ``lrn`` (the default) is TensorFlow's ``tf.nn.lrn(depth_radius=4, bias=1,
    alpha=0.001/9, beta=0.75)``: the paper's notation (``[1, 3, 3, 1] s=2``
    pooling followed by "Norm", two FC layers) is the TensorFlow CIFAR-10
    tutorial network, whose norm is this local response normalisation.
    PyTorch divides ``alpha`` by ``size``, hence ``alpha=0.001`` over 9
    channels. ``batch`` (BatchNorm2d) is the modern substitute; it trains
    faster but is not what the paper ran.
    """
    if norm == "lrn":
        return nn.LocalResponseNorm(size=9, alpha=0.001, beta=0.75, k=1.0)
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "none":
        return nn.Identity()
    raise ConfigError(f"unknown SmallCNN norm {norm!r}; choose one of {SMALL_CNN_NORMS}")


class SmallCNN(nn.Module):
    """The expression CNN of the paper's Table 3 (Zhu et al., 2018, appendix A).

    ``conv3x3-w, ReLU, maxpool3x3/2, norm, conv3x3-2w, ReLU, maxpool3x3/2,
    norm, FC-256, ReLU, FC-256, ReLU, FC-num_classes`` with ``w = width``
    (64 in the paper). Convolutions and poolings pad like TensorFlow's
    ``SAME``, so each pooling takes ``S`` to ``ceil(S / 2)``: a 48 px face ends
    as a 12x12 map, flattened into the first FC layer (whose size therefore
    depends on ``image_size``; inputs of any other size are refused).
    """

    embedding_dim = 256

    def __init__(self, in_channels: int = 1, num_classes: int = 7, width: int = 64,
                 image_size: int = 48, norm: str = "lrn"):
        super().__init__()
        if min(in_channels, num_classes, width) < 1:
            raise ConfigError("SmallCNN in_channels, num_classes and width must be positive")
        if image_size < 4:
            raise ConfigError(f"SmallCNN image_size must be >= 4, got {image_size}")
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1), _small_cnn_norm(norm, width),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1), _small_cnn_norm(norm, 2 * width))
        side = -(-(-(-image_size // 2)) // 2)  # ceil(ceil(S / 2) / 2)
        self.fc = nn.Sequential(
            nn.Flatten(), nn.Linear(2 * width * side * side, 256), nn.ReLU(inplace=True),
            nn.Linear(256, 256), nn.ReLU(inplace=True))
        self.head = nn.Linear(256, num_classes)
        self.in_channels = in_channels
        self.image_size = image_size

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 256-d output of the second FC layer (after its ReLU)."""
        if x.ndim != 4 or x.shape[1] != self.in_channels or \
                x.shape[2] != self.image_size or x.shape[3] != self.image_size:
            raise ValueError(f"SmallCNN(image_size={self.image_size}) expects input of shape "
                             f"(batch, {self.in_channels}, {self.image_size}, "
                             f"{self.image_size}), got {tuple(x.shape)}")
        return self.fc(self.conv(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _load_state_dict(path: str | Path) -> dict:
    """A local state_dict file (never a download; never arbitrary pickles)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"weights file {str(path)!r} not found; emolab never downloads "
                          "weights: pass the path of a local torchvision state_dict, or None")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    return state


class ResNetClassifier(nn.Module):
    """A torchvision ResNet with its own stem and head; see ``resnet_classifier``."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net
        self.embedding_dim = net.fc.in_features

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The globally average-pooled embedding (512-d for resnet18, 2048-d for resnet50)."""
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
        x = n.layer4(n.layer3(n.layer2(n.layer1(x))))
        return torch.flatten(n.avgpool(x), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.fc(self.features(x))


def resnet_classifier(arch: str = "resnet18", num_classes: int = 7, in_channels: int = 1,
                      weights: str | Path | None = None,
                      small_input: bool = False) -> ResNetClassifier:
    """A torchvision ResNet for expressions, optionally from local ImageNet weights.

    ``weights=None`` gives torchvision's random initialisation. A path loads
    that state_dict (``torch.load(weights_only=True)``) into the 1000-class
    ImageNet model first; then the stem is adapted and ``fc`` replaced by a
    fresh ``Linear(embedding_dim, num_classes)``. With ``in_channels=1`` the
    pretrained RGB filters of ``conv1`` are averaged into one channel (a grey
    image then gives a third of the response its RGB copy would give).

    ``small_input=True`` is for images of 64 px and less (CIFAR-style): the
    7x7 stride-2 ``conv1`` and the max-pooling would shrink a 48 px face to
    12x12 before the first block, so they become one 3x3 stride-1 convolution
    (freshly initialised, even when ``weights`` is given) and no pooling.
    """
    if arch not in RESNETS:
        raise ConfigError(f"unknown ResNet {arch!r}; choose one of {RESNETS}")
    if min(num_classes, in_channels) < 1:
        raise ConfigError("resnet_classifier num_classes and in_channels must be positive")
    net = getattr(models, arch)(weights=None)
    if weights is not None:
        if in_channels not in (1, 3):
            raise ConfigError(f"ImageNet weights need in_channels 1 or 3, got {in_channels}")
        net.load_state_dict(_load_state_dict(weights))
    if small_input:
        net.conv1 = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
        nn.init.kaiming_normal_(net.conv1.weight, mode="fan_out", nonlinearity="relu")
        net.maxpool = nn.Identity()
    elif in_channels != 3:
        old = net.conv1.weight.data
        net.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        if weights is not None:  # in_channels == 1: the grey filter is the RGB mean
            net.conv1.weight.data.copy_(old.mean(dim=1, keepdim=True))
        else:
            nn.init.kaiming_normal_(net.conv1.weight, mode="fan_out", nonlinearity="relu")
    net.fc = nn.Linear(net.fc.in_features, num_classes)
    return ResNetClassifier(net)


def define_classifier(kind: str = "small_cnn", num_classes: int = 7, in_channels: int = 1,
                      image_size: int = 48, width: int = 64, norm: str = "lrn",
                      weights: str | Path | None = None,
                      small_input: bool = False) -> nn.Module:
    """An expression classifier: ``small_cnn`` (Table 3), ``resnet18`` or ``resnet50``.

    ``image_size``, ``width`` and ``norm`` size the small CNN; ``weights`` and
    ``small_input`` configure the ResNets (see ``resnet_classifier``).
    """
    if kind == "small_cnn":
        if weights is not None:
            raise ConfigError("small_cnn has no pretrained weights; pass weights=None")
        return SmallCNN(in_channels, num_classes, width=width, image_size=image_size, norm=norm)
    if kind in RESNETS:
        return resnet_classifier(kind, num_classes, in_channels, weights=weights,
                                 small_input=small_input)
    raise ConfigError(f"unknown classifier {kind!r}; choose one of {CLASSIFIERS}")

"""Weight initialisation (the ``normal``/``xavier``/``kaiming`` choices of CycleGAN)."""

from __future__ import annotations

from torch import nn

from emolab.core.errors import ConfigError

INIT_TYPES = ("normal", "xavier", "kaiming", "orthogonal", "default")


def init_weights(net: nn.Module, init_type: str = "normal", gain: float = 0.02) -> nn.Module:
    """Initialise every conv/linear weight of ``net`` in place; biases to zero.

    ``default`` keeps PyTorch's own initialisation.
    """
    if init_type not in INIT_TYPES:
        raise ConfigError(f"unknown init_type {init_type!r}; choose one of {INIT_TYPES}")
    if init_type == "default":
        return net

    def init(m: nn.Module) -> None:
        weight = getattr(m, "weight", None)
        if weight is None or not isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)):
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)) and m.weight is not None:
                nn.init.normal_(m.weight, 1.0, gain)
                nn.init.zeros_(m.bias)
            return
        if init_type == "normal":
            nn.init.normal_(weight, 0.0, gain)
        elif init_type == "xavier":
            nn.init.xavier_normal_(weight, gain=gain)
        elif init_type == "kaiming":
            nn.init.kaiming_normal_(weight, a=0.0, mode="fan_in")
        else:
            nn.init.orthogonal_(weight, gain=gain)
        if getattr(m, "bias", None) is not None:
            nn.init.zeros_(m.bias)

    net.apply(init)
    return net

"""Learning-rate schedules.

``linear_decay`` is CycleGAN's schedule (Zhu et al., 2017, §7.1: "a learning
rate of 0.0002 for the first 100 epochs, then linearly decay to zero over the
next 100"). With ``n = n_epochs_constant`` and ``m = n_epochs_decay``, the
learning rate after ``e`` calls of ``scheduler.step()`` is

    lr(e) = lr_0 * (1 - max(0, e - n) / m)          for e <= n + m,   0 after,

a piecewise-linear function: ``lr_0`` on ``[0, n]``, falling linearly to 0 on
``[n, n + m]``. The unit ``e`` counts is whatever the caller steps the
scheduler once per: an epoch, or (as ``CycleGAN`` does) a training step.
"""

from __future__ import annotations

import torch
from torch.optim.lr_scheduler import LambdaLR

from emolab.core.errors import ConfigError


def linear_decay(optimizer: torch.optim.Optimizer, n_epochs_constant: int,
                 n_epochs_decay: int) -> LambdaLR:
    """A ``LambdaLR``: constant for ``n_epochs_constant`` steps, then linearly to 0
    over ``n_epochs_decay`` more (every parameter group scales its own initial lr)."""
    for name, value, low in (("n_epochs_constant", n_epochs_constant, 0),
                             ("n_epochs_decay", n_epochs_decay, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")

    def factor(epoch: int) -> float:
        return max(0.0, 1.0 - max(0, epoch - n_epochs_constant) / n_epochs_decay)

    return LambdaLR(optimizer, factor)

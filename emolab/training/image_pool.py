"""A history of generated images for the discriminator (Shrivastava et al., 2017, §2.3).

A discriminator that only ever sees the generator's latest output can chase
it round in circles, and the generator can reintroduce artefacts the
discriminator has forgotten. CycleGAN (Zhu et al., 2017, §4) therefore updates
its discriminators with a buffer of the last 50 generated images rather than
the latest batch alone:

* while the pool holds fewer than ``pool_size`` images, each new image is
  stored and returned;
* once it is full, each new image is, with probability 1/2, swapped for a
  uniformly chosen stored one (the stored one is returned, the new one takes
  its place), and otherwise returned as it is.

``pool_size = 0`` turns the pool off: ``query`` returns its input unchanged
and draws no random numbers.

Checkpoints. The pool is an ``nn.Module`` whose images, their count and (if
it owns one) its generator's state travel in its ``state_dict`` as *extra
state* (``get_extra_state``/``set_extra_state``), so a method that registers a
pool as a sub-module has it saved and restored with its own ``state_dict``,
and a resumed run draws from the same pool as the uninterrupted one.
"""

from __future__ import annotations

import torch
from torch import nn

from emolab.core.errors import ConfigError


class ImagePool(nn.Module):
    """The history buffer; ``pool(images)`` is ``pool.query(images)``.

    Args:
        pool_size: how many images to keep (``0``: no pool).
        generator: the pool's own ``torch.Generator`` (it then belongs to the
            pool: its state is saved with the pool); ``None`` draws from
            torch's global CPU generator, which the caller must checkpoint
            (the Trainer does).
    """

    def __init__(self, pool_size: int = 50, generator: torch.Generator | None = None):
        super().__init__()
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 0:
            raise ConfigError(f"pool_size must be an integer >= 0, got {pool_size!r}")
        self.pool_size = pool_size
        self.generator = generator
        self.images: list[torch.Tensor] = []  # one detached sample each, without the batch dim

    @property
    def count(self) -> int:
        """How many images the pool holds now."""
        return len(self.images)

    def query(self, images: torch.Tensor) -> torch.Tensor:
        """Return a batch of the same shape: per image, the new one or a stored one."""
        if self.pool_size == 0:
            return images
        images = images.detach()
        n = len(images)
        if n == 0:
            return images
        if self.images and self.images[0].device != images.device:  # e.g. loaded on the CPU
            self.images = [im.to(images.device) for im in self.images]
        # Draw the batch's random numbers up front: one coin and one slot per image.
        device = self.generator.device if self.generator is not None else torch.device("cpu")
        coins = torch.rand(n, generator=self.generator, device=device).tolist()
        slots = torch.randint(self.pool_size, (n,), generator=self.generator, device=device).tolist()
        out = []
        for image, coin, slot in zip(images, coins, slots):
            if self.count < self.pool_size:        # filling up: store and return the new one
                self.images.append(image.clone())
                out.append(image)
            elif coin < 0.5:                       # swap: return an old one, keep the new one
                out.append(self.images[slot].to(images.dtype))
                self.images[slot] = image.clone()
            else:                                  # return the new one
                out.append(image)
        return torch.stack(out)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.query(images)

    # ------------------------------------------------------------ checkpoints
    def get_extra_state(self) -> dict:
        return {
            "pool_size": self.pool_size,
            "count": self.count,
            "images": torch.stack(self.images) if self.images else torch.empty(0),
            "generator": self.generator.get_state() if self.generator is not None else None,
        }

    def set_extra_state(self, state: dict) -> None:
        if state["pool_size"] != self.pool_size:
            raise ConfigError(f"the saved image pool holds {state['pool_size']} images, "
                              f"this one {self.pool_size}")
        if (state["generator"] is None) != (self.generator is None):
            raise ConfigError("the saved image pool and this one differ in whether they own a "
                              "generator; build the pool as the saved run did")
        count = int(state["count"])
        self.images = list(state["images"].unbind(0)) if count else []
        if len(self.images) != count:
            raise ConfigError(f"the saved image pool is corrupt: count {count}, "
                              f"{len(self.images)} images")
        if self.generator is not None:
            self.generator.set_state(state["generator"])

    def extra_repr(self) -> str:
        return f"pool_size={self.pool_size}, count={self.count}"

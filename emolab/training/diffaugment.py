"""Differentiable augmentation for discriminators trained on few images.

A discriminator that sees the same 50 real faces thousands of times memorises
them; its verdict on a translation then rests on details that carry no
meaning (a pixel here, a texture there), and the generator's gradient becomes
noise, which it dutifully paints onto its outputs. Zhao et al. (2020),
*Differentiable Augmentation for Data-Efficient GAN Training*, showed the
remedy: transform **every** image a discriminator sees, real and generated
alike, in the generator's step as well as in the discriminator's, with
transforms that are differentiable so the generator still gets a gradient
through them. Augmenting only the real images would teach the generator to
produce augmented-looking images; augmenting both keeps the target
distribution where it was.

:class:`DiffAugment` implements the three transforms of the paper for images
in ``[-1, 1]``:

``color``        random brightness (add ``U(-0.5, 0.5)``), saturation (scale
                 the deviation from the grey value by ``U(0, 2)``; a no-op on
                 one channel) and contrast (scale the deviation from the
                 image mean by ``U(0.5, 1.5)``), one draw per image;
``translation``  an integer shift of up to ``translation_ratio`` of the
                 image side in each direction, zeros shifted in;
``cutout``       a square of ``cutout_ratio`` of the side set to zero, at a
                 random position (it may overhang the border).

Random numbers come from ``generator`` if given, else from torch's global RNG
(which :class:`~emolab.training.Trainer` checkpoints, so resumed runs draw the
same transforms).
"""

from __future__ import annotations

import torch
from emolab.core.errors import ConfigError

POLICIES = ("color", "translation", "cutout")


class DiffAugment:
    """``DiffAugment("color,translation,cutout")(x)``: one random transform per image."""

    def __init__(self, policy: str = "color,translation,cutout", translation_ratio: float = 0.125,
                 cutout_ratio: float = 0.5, generator: torch.Generator | None = None):
        names = [p.strip() for p in policy.split(",") if p.strip()]
        unknown = [p for p in names if p not in POLICIES]
        if unknown or not names:
            raise ConfigError(f"DiffAugment policy {policy!r}: use a comma-separated subset of {POLICIES}")
        if not 0.0 <= translation_ratio < 0.5 or not 0.0 < cutout_ratio <= 1.0:
            raise ConfigError("translation_ratio must be in [0, 0.5) and cutout_ratio in (0, 1]")
        self.policy = names
        self.translation_ratio = translation_ratio
        self.cutout_ratio = cutout_ratio
        self.generator = generator

    def __repr__(self) -> str:
        return f"DiffAugment({','.join(self.policy)!r})"

    def _rand(self, *shape, device) -> torch.Tensor:
        return torch.rand(*shape, generator=self.generator).to(device)

    def _randint(self, low: int, high: int, shape, device) -> torch.Tensor:
        return torch.randint(low, high, shape, generator=self.generator).to(device)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            raise ValueError(f"DiffAugment expects (batch, channels, H, W), got {tuple(x.shape)}")
        for name in self.policy:
            x = getattr(self, name)(x)
        return x.contiguous()

    # ------------------------------------------------------------- transforms
    def color(self, x: torch.Tensor) -> torch.Tensor:
        n, dev = x.shape[0], x.device
        x = x + (self._rand(n, 1, 1, 1, device=dev) - 0.5)
        if x.shape[1] > 1:
            grey = x.mean(dim=1, keepdim=True)
            x = (x - grey) * (self._rand(n, 1, 1, 1, device=dev) * 2) + grey
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        return (x - mean) * (self._rand(n, 1, 1, 1, device=dev) + 0.5) + mean

    def translation(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        sh, sw = int(h * self.translation_ratio + 0.5), int(w * self.translation_ratio + 0.5)
        if sh == 0 and sw == 0:
            return x
        dy = self._randint(-sh, sh + 1, (n,), x.device)
        dx = self._randint(-sw, sw + 1, (n,), x.device)
        # out[i, :, y, x] = in[i, :, y - dy, x - dx], zero where that falls outside.
        ys = torch.arange(h, device=x.device).view(1, h, 1) - dy.view(n, 1, 1)
        xs = torch.arange(w, device=x.device).view(1, 1, w) - dx.view(n, 1, 1)
        inside = ((ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)).unsqueeze(1)
        idx = (ys.clamp(0, h - 1) * w + xs.clamp(0, w - 1)).view(n, 1, h * w).expand(-1, x.shape[1], -1)
        out = x.flatten(2).gather(2, idx).view_as(x)
        return out * inside.to(x.dtype)

    def cutout(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        ch, cw = int(h * self.cutout_ratio + 0.5), int(w * self.cutout_ratio + 0.5)
        # The square's centre is anywhere in the image, so it may overhang the border.
        cy = self._randint(0, h, (n,), x.device).view(n, 1, 1)
        cx = self._randint(0, w, (n,), x.device).view(n, 1, 1)
        ys = torch.arange(h, device=x.device).view(1, h, 1)
        xs = torch.arange(w, device=x.device).view(1, 1, w)
        hole = (ys >= cy - ch // 2) & (ys < cy - ch // 2 + ch) & (xs >= cx - cw // 2) & (xs < cx - cw // 2 + cw)
        return x * (~hole).unsqueeze(1).to(x.dtype)


__all__ = ["POLICIES", "DiffAugment"]

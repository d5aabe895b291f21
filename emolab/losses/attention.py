"""Activation-based attention maps and the attention loss of SIGAN (Mao et al., 2018, eqs. 7-10).

A feature map ``T`` of ``C`` channels on an ``H x W`` grid is reduced to one
spatial map by summing absolute activations over the channels (Zagoruyko &
Komodakis, 2017):

(7)  P: R^{C x H x W} -> R^{H x W}
(8)  P(T) = sum_i |T_i|

Each map is flattened and divided by its L2 norm (as Zagoruyko & Komodakis
do), so maps of layers with different widths and scales can be compared.
The loss aligns a generator layer with the mirrored encoder layer,

(9)  L_Attention = d_2(P(G^l), P(E^{L-l}))

with ``d_2`` the squared error (the metric of eq. 5), summed over the grid and
averaged over the batch; SIGAN uses two scales, 4x4 and 8x8:

(10) L_Attention = L_Attention1 + L_Attention2
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from emolab.core.errors import ConfigError


def attention_map(t: torch.Tensor, normalize: bool = True, eps: float = 1e-8) -> torch.Tensor:
    """Eq. (8): ``[N, C, H, W]`` -> ``[N, H, W]``, L2-normalised per sample when ``normalize``."""
    if t.ndim != 4:
        raise ConfigError(f"attention_map expects feature maps [N, C, H, W], got {tuple(t.shape)}")
    p = t.float().abs().sum(1)
    if normalize:
        p = p / (p.flatten(1).norm(dim=1)[:, None, None] + eps)
    return p


def attention_loss(generator_maps: Sequence[torch.Tensor], encoder_maps: Sequence[torch.Tensor]) -> torch.Tensor:
    """Eqs. (9)-(10): the sum over scales of ``sum_hw (P(G^l) - P(E^{L-l}))^2``, batch mean.

    The two sequences pair up scale by scale; each pair must share ``N, H, W``
    (the channel counts may differ).
    """
    if len(generator_maps) != len(encoder_maps) or not generator_maps:
        raise ConfigError(f"attention_loss needs as many generator maps as encoder maps (>= 1), got "
                          f"{len(generator_maps)} and {len(encoder_maps)}")
    total = 0.0
    for g, e in zip(generator_maps, encoder_maps, strict=True):
        if g.shape[0] != e.shape[0] or g.shape[2:] != e.shape[2:]:
            raise ConfigError(f"attention maps of mirrored layers must share N, H, W: generator "
                              f"{tuple(g.shape)}, encoder {tuple(e.shape)}")
        total = total + (attention_map(g) - attention_map(e)).pow(2).flatten(1).sum(1).mean()
    return total


__all__ = ["attention_loss", "attention_map"]

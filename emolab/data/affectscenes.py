"""AffectScenes: procedural abstract images for image-emotion classification.

A stand-in for the CycleEmotionGAN setting (Zhao et al., 2019: unsupervised
domain adaptation from ArtPhoto to FI) that needs no download. Every image is
an abstract scene drawn from one of Mikels' eight emotions
(:data:`~emolab.data.taxonomy.MIKELS8`), in one of two domains.

Recipe
------
The cues follow the psychology- and art-theory features of Machajdik &
Hanbury (2010, "Affective image classification using features inspired by
psychology and art theory"):

* **colour** -- ``hue`` (of the background; degrees), ``accent`` (hue offset
  of the foreground: analogous vs. complementary), ``hue_spread`` (how
  multi-coloured the shapes are), ``saturation``, ``brightness`` (low-key vs.
  high-key) and ``contrast`` (foreground against background);
* **shape language** -- ``roundness`` (1: round, softly shaded blobs; 0:
  angular, jagged star polygons) and ``diagonal`` (0: horizontal lines and a
  level horizon; 1: steep diagonals and a tilted horizon);
* **texture** -- ``grain`` (0: smooth gradients; 1: murky blotches and
  grain) and ``lines`` (repetitive parallel strokes);
* **composition** -- ``centred`` (1: subject in the centre; 0: on a
  rule-of-thirds point), ``clutter`` (1 to 10 shapes), ``scale`` (subject
  size: 0 is a small subject in an empty frame), ``horizon`` (height of the
  horizon line, from the top; high values leave a wide sky) and ``glow``
  (a light source, e.g. a sun or moon over a vista).

Each emotion is a Gaussian around a mean cue vector (:data:`EMOTION_MEANS`,
standard deviations :data:`PARAM_SD`), e.g. warm, saturated and bright with
round, colourful blobs for amusement; orange with diagonal streaks and
clutter for excitement; soft, light pastel, round and calm for contentment;
deep blue/purple wide vistas with a golden glow for awe; dark red, jagged and
high-contrast for anger; near-black low-key with pale sharp shapes placed off
centre for fear; sickly yellow-green/brown, murky, grainy and cluttered for
disgust; desaturated grey-blue, dark, empty and horizontal for sadness. The
means are chosen so that neighbours on Mikels' wheel
(:data:`~emolab.data.taxonomy.MIKELS_WHEEL`) are close and opposite emotions
far apart (:func:`emotion_mean_distances`); with the noise, neighbours are
genuinely confusable and opposites are not.

Per sample, the cue vector is drawn first, then a layout (shape positions,
sizes, rotations, vertex counts, line offsets, horizon tilt, glow position);
both are stored in ``AffectScenes.params`` and are the same in both
domains.

Domains
-------
The domains differ in global style only -- colour statistics, texture, noise
and sharpness -- so an image-to-image translator could in principle undo the
shift while shape language, composition and hue relations survive:

* ``art`` (ArtPhoto-like): deliberate and painterly; saturation and contrast
  boosted, a painter's split toning (violet shadows, warm highlights), crisp
  edges, brush-stroke texture (sheared streak noise), a canvas weave and a
  vignette.
* ``photo`` (FI-like): natural-image statistics; a 1/f ("pink") noise
  texture over everything, lower saturation, flatter contrast, a random
  exposure, gamma and white balance, soft edges, Gaussian blur,
  JPEG-like blockiness (chroma subsampling in blocks) and sensor noise. The
  cues are the same but weaker.

What a classifier sees (``tests/test_affectscenes.py`` pins these with
slack): a logistic regression on colour histograms and 8x8 downsampled
pixels, 2,000 training and 1,000 test images per domain at 32x32, reaches
about 88% in the art domain and 61% in the photo domain (chance: 12.5%);
trained on art it gets about 27% on photo, trained on photo about 41% on art.
Within a domain, wheel neighbours are confused several times more often than
opposite emotions.

Images are rendered lazily in chunks (whole chunks at once, vectorised in
numpy) and cached; one ``seed`` fixes the labels, the scenes and every noise
field, whatever order the images are asked for in.
"""

from __future__ import annotations

import copy
import math
import operator

import numpy as np
import torch
from PIL import Image
from torchvision.transforms import v2

from emolab.core.errors import ConfigError
from emolab.data.taxonomy import MIKELS8, wheel_distance

DOMAINS = ("art", "photo")
MIN_SIZE, MAX_SIZE, NATIVE_SIZE = 32, 256, 64
MAX_SHAPES = 10
MAX_LINES = 5

#: The scene's cue parameters, one value per sample each (hue and accent in
#: degrees, the rest in [0, 1]).
CUE_PARAMS = ("hue", "accent", "hue_spread", "saturation", "brightness", "contrast", "roundness",
              "diagonal", "lines", "clutter", "centred", "scale", "horizon", "grain", "glow")

#: Mean cue parameters of each emotion (see the module docstring), listed in
#: Mikels' wheel order so that each column can be read around the wheel.
EMOTION_MEANS: dict[str, dict[str, float]] = {
    name: dict(zip(CUE_PARAMS, values)) for name, values in {
        #              hue accent spread sat brightness contrast roundness diagonal lines clutter centred
        #              scale horizon grain glow
        "contentment": (140, 40, .25, .30, .85, .18, .90, .05, .40, .20, .70, .55, .60, .05, .45),
        "awe":         (245, 170, .20, .60, .50, .50, .80, .10, .20, .15, .70, .35, .75, .08, .75),
        "amusement":   (40, 175, .80, .85, .85, .45, .80, .35, .30, .55, .55, .45, .65, .05, .50),
        "excitement":  (22, 190, .55, .95, .70, .60, .40, .75, .70, .75, .45, .45, .55, .15, .35),
        "anger":       (0, 20, .20, .85, .25, .85, .08, .75, .55, .55, .45, .55, .50, .30, .10),
        "fear":        (340, 150, .10, .40, .10, .80, .15, .55, .35, .40, .15, .40, .70, .55, .20),
        "disgust":     (75, -35, .30, .50, .42, .40, .50, .35, .20, .75, .30, .30, .55, .80, .05),
        "sadness":     (215, 10, .10, .18, .40, .20, .60, .00, .55, .05, .25, .30, .65, .35, .05),
    }.items()
}
#: Standard deviation of each cue parameter around its emotion's mean.
PARAM_SD: dict[str, float] = {name: 0.2 for name in CUE_PARAMS} | {"hue": 30.0, "accent": 20.0}

#: Chunk of images rendered at once, in pixels (the chunk size depends on the
#: image size only, so the images do not depend on the access order).
_CHUNK_PIXELS = 128 * 64 * 64
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_SHADOW_TINT = np.array([0.02, -0.04, 0.14], dtype=np.float32)
_LIGHT_TINT = np.array([0.10, 0.05, -0.10], dtype=np.float32)


# --------------------------------------------------------------------------- helpers

def emotion_mean_distances(classes=MIKELS8) -> np.ndarray:
    """Distances between the emotions' mean cue vectors, ``[len(classes)]**2``.

    Each parameter is divided by its standard deviation. Colour is compared as
    chroma, ``saturation * (cos hue, sin hue)``, for the background and the
    foreground (``hue + accent``), so that hue counts little between greyish
    colours. Wheel neighbours come out closer than opposite emotions.
    """
    def vec(name):
        m = EMOTION_MEANS[name]
        sd = PARAM_SD["saturation"]
        out = [m[p] / PARAM_SD[p] for p in CUE_PARAMS if p not in ("hue", "accent", "saturation")]
        for h in (m["hue"], m["hue"] + m["accent"]):
            chroma = m["saturation"] / sd
            out += [chroma * math.cos(math.radians(h)), chroma * math.sin(math.radians(h))]
        return np.array(out)
    vecs = np.stack([vec(c) for c in classes])
    return np.sqrt(((vecs[:, None] - vecs[None]) ** 2).sum(-1))


def confusion_by_wheel_distance(confusion, classes=MIKELS8) -> dict[int, float]:
    """Mean row-normalised confusion for each Mikels wheel distance 2..5.

    ``confusion[i, j]`` counts items of true class ``i`` predicted as ``j``;
    rows are normalised to rates, and the off-diagonal rates are averaged over
    the class pairs at each wheel distance (2: neighbours, 5: opposites).
    """
    cm = np.asarray(confusion, dtype=np.float64)
    rates = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1e-12)
    out: dict[int, list[float]] = {}
    for i, a in enumerate(classes):
        for j, b in enumerate(classes):
            if i != j:
                out.setdefault(wheel_distance(a, b), []).append(rates[i, j])
    return {d: float(np.mean(v)) for d, v in sorted(out.items())}


def _hsv_to_rgb(h, s, v):
    """Vectorised HSV -> RGB; ``h`` in degrees, all arrays broadcast; adds a last axis of 3."""
    h = (np.asarray(h, dtype=np.float32) % 360.0) / 60.0
    s = np.clip(np.asarray(s, dtype=np.float32), 0, 1)
    v = np.clip(np.asarray(v, dtype=np.float32), 0, 1)
    out = []
    for n in (5.0, 3.0, 1.0):
        k = (n + h) % 6.0
        out.append(v - v * s * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0))
    return np.stack(out, axis=-1)


def _resize(x: np.ndarray, h: int, w: int) -> np.ndarray:
    """Bilinear resize of a batch ``[B, h0, w0]`` to ``[B, h, w]``."""
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[:, None]
    t = torch.nn.functional.interpolate(t, size=(h, w), mode="bilinear", align_corners=False)
    return t[:, 0].numpy()


def _noise(rng: np.random.Generator, shape) -> np.ndarray:
    """Fast zero-mean, unit-variance (uniform) pixel noise, float32."""
    raw = np.frombuffer(rng.bytes(int(np.prod(shape))), dtype=np.uint8).reshape(shape)
    return (raw.astype(np.float32) - np.float32(127.5)) * np.float32(1 / 73.9)


def _normalise(field: np.ndarray) -> np.ndarray:
    field = field - field.mean(axis=(1, 2), keepdims=True)
    return field / (field.std(axis=(1, 2), keepdims=True) + 1e-6)


def _pink_noise(rng, b: int, s: int, beta: np.ndarray) -> np.ndarray:
    """Unit-variance noise with amplitude spectrum ``1/f**beta`` (natural-image statistics)."""
    fy = np.fft.fftfreq(s)[:, None]
    fx = np.fft.rfftfreq(s)[None, :]
    f = np.sqrt(fy ** 2 + fx ** 2).astype(np.float32)
    f[0, 0] = 1.0
    shape = (b, s, s // 2 + 1)
    spec = rng.standard_normal(shape, dtype=np.float32) + 1j * rng.standard_normal(shape, dtype=np.float32)
    spec = spec * f[None] ** (-beta[:, None, None].astype(np.float32))
    spec[:, 0, 0] = 0
    return _normalise(np.fft.irfft2(spec, s=(s, s)).astype(np.float32))


def _gaussian_blur(img: np.ndarray, sigma_px: np.ndarray) -> np.ndarray:
    """Per-image separable Gaussian blur of ``[B, S, S, 3]`` (edges replicated)."""
    s = img.shape[1]
    r = int(np.ceil(3 * sigma_px.max()))
    x = np.arange(-r, r + 1, dtype=np.float32)
    k = np.exp(-x[None] ** 2 / (2 * np.maximum(sigma_px[:, None], 1e-3) ** 2)).astype(np.float32)
    k /= k.sum(axis=1, keepdims=True)
    for axis in (1, 2):
        pad = [(0, 0)] * 4
        pad[axis] = (r, r)
        padded = np.pad(img, pad, mode="edge")
        img = np.zeros_like(img)
        for j in range(2 * r + 1):
            img += k[:, j, None, None, None] * (padded[:, j:j + s] if axis == 1 else padded[:, :, j:j + s])
    return img


def _block_mean(x: np.ndarray, block: int) -> np.ndarray:
    """Mean over ``block x block`` tiles of ``[B, S, S, C]``, spread back over each tile."""
    b, s, _, c = x.shape
    m = -(-s // block) * block
    if m != s:
        x = np.pad(x, ((0, 0), (0, m - s), (0, m - s), (0, 0)), mode="edge")
    tiles = x.reshape(b, m // block, block, m // block, block, c).mean(axis=(2, 4))
    return np.repeat(np.repeat(tiles, block, axis=1), block, axis=2)[:, :s, :s]


# --------------------------------------------------------------------------- sampling

def _sample_params(labels: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Cue parameters (per emotion, with noise) and a layout for every label."""
    n = len(labels)
    names = [MIKELS8[k] for k in labels]
    p: dict[str, np.ndarray] = {}
    for name in CUE_PARAMS:
        mean = np.array([EMOTION_MEANS[e][name] for e in names], dtype=np.float64)
        value = mean + PARAM_SD[name] * rng.standard_normal(n)
        if name == "hue":
            value = value % 360.0
        elif name != "accent":
            value = np.clip(value, 0.0, 1.0)
        p[name] = value.astype(np.float32)

    # layout: the subject on an anchor between the centre and a thirds point
    thirds = rng.choice([1 / 3, 2 / 3], size=(n, 2))
    c = p["centred"][:, None]
    anchor = c * 0.5 + (1 - c) * thirds + rng.normal(0, 0.03, (n, 2))
    n_shapes = np.clip(np.rint(1 + p["clutter"] * (MAX_SHAPES - 1) + rng.normal(0, 0.7, n)), 1, MAX_SHAPES)
    spread = (0.06 + 0.3 * p["clutter"])[:, None, None]
    pos = anchor[:, None, :] + spread * rng.standard_normal((n, MAX_SHAPES, 2))
    scatter = rng.uniform(0.05, 0.95, (n, MAX_SHAPES, 2))
    mix = (p["clutter"] ** 2)[:, None, None]
    pos = (1 - mix) * pos + mix * scatter
    pos[:, 0] = anchor
    pos = np.clip(pos, 0.06, 0.94)
    r0 = (0.07 + 0.2 * p["scale"]) * np.exp(rng.normal(0, 0.12, n))
    radius = r0[:, None] * rng.uniform(0.3, 0.7, (n, MAX_SHAPES)) / np.sqrt(1 + 0.15 * n_shapes[:, None])
    radius[:, 0] = r0
    p.update(
        n_shapes=n_shapes.astype(np.int64),
        shape_x=pos[..., 0].astype(np.float32),
        shape_y=pos[..., 1].astype(np.float32),
        shape_radius=radius.astype(np.float32),
        shape_rotation=rng.uniform(0, 2 * np.pi, (n, MAX_SHAPES)).astype(np.float32),
        shape_vertices=rng.integers(3, 8, (n, MAX_SHAPES)).astype(np.int64),
        shape_phase=rng.uniform(0, 2 * np.pi, (n, MAX_SHAPES)).astype(np.float32),
        shape_dhue=(rng.standard_normal((n, MAX_SHAPES)) * 70.0 * p["hue_spread"][:, None]).astype(np.float32),
        shape_dvalue=rng.normal(0, 0.07, (n, MAX_SHAPES)).astype(np.float32),
        n_lines=np.clip(np.rint(p["lines"] * MAX_LINES + rng.normal(0, 0.5, n)), 0, MAX_LINES).astype(np.int64),
        line_angle=(rng.choice([-1.0, 1.0], n) * np.clip(p["diagonal"] * 50.0 + rng.normal(0, 4.0, n), -70, 70)
                    ).astype(np.float32),
        line_offset=rng.uniform(0.08, 0.92, (n, MAX_LINES)).astype(np.float32),
        line_width=rng.uniform(0.008, 0.02, n).astype(np.float32),
        tilt=(rng.choice([-1.0, 1.0], n) * p["diagonal"] * 22.0).astype(np.float32),
        glow_x=rng.uniform(0.25, 0.75, n).astype(np.float32),
        glow_y=np.clip(p["horizon"] - rng.uniform(0.05, 0.3, n), 0.1, 0.9).astype(np.float32),
        glow_radius=rng.uniform(0.12, 0.25, n).astype(np.float32),
    )
    return p


# --------------------------------------------------------------------------- rendering

def _render_scene(p: dict[str, np.ndarray], s: int, rng: np.random.Generator, edge_px: float) -> np.ndarray:
    """The domain-free scene ``[B, S, S, 3]`` (float, roughly in [0, 1])."""
    b = len(p["hue"])
    coords = (np.arange(s, dtype=np.float32) + 0.5) / s
    X, Y = coords[None, None, :], coords[None, :, None]
    col = lambda a: a[:, None, None]  # noqa: E731  per-image scalar -> broadcastable
    hue, sat, bri, con = p["hue"], p["saturation"], p["brightness"], p["contrast"]
    soft = s / edge_px

    # sky gradient above a (possibly tilted) horizon, darker ground below
    sky_top = _hsv_to_rgb(hue, sat * 0.9, bri * 0.8)
    sky_low = _hsv_to_rgb(hue + 15, sat * 0.6, np.minimum(1, bri * 1.15 + 0.05))
    ground = _hsv_to_rgb(hue - 25, sat * 0.85, bri * 0.7)
    ground_low = _hsv_to_rgb(hue - 25, sat * 0.9, bri * 0.5)
    hz = col(p["horizon"]) + np.tan(np.radians(col(p["tilt"]))) * (X - 0.5)
    t_sky = np.clip(Y / np.maximum(hz, 0.05), 0, 1)[..., None]
    t_gnd = np.clip((Y - hz) / np.maximum(1 - hz, 0.05), 0, 1)[..., None]
    sky = sky_top[:, None, None] + (sky_low - sky_top)[:, None, None] * t_sky
    gnd = ground[:, None, None] + (ground_low - ground)[:, None, None] * t_gnd
    below = np.clip((Y - hz) * soft + 0.5, 0, 1)[..., None]
    gnd -= sky
    gnd *= below
    img = sky + gnd

    # a glow (sun, moon, light) in the accent hue
    g_col = _hsv_to_rgb(hue + p["accent"], sat * 0.55, np.ones_like(hue))
    d2 = (X - col(p["glow_x"])) ** 2 + (Y - col(p["glow_y"])) ** 2
    g = (col(p["glow"]) * np.exp(-d2 / (2 * col(p["glow_radius"]) ** 2)))[..., None]
    img = img + g * (g_col[:, None, None] - img)

    # foreground value: lighter than a dark background, darker than a light one
    fg_v = np.where(bri < 0.5, bri + con * (1 - bri), bri - 0.6 * con * bri)
    fg_s = np.minimum(1.0, sat * 1.15 + 0.08)

    # parallel lines (horizontal -> diagonal): repetitive strokes
    theta = np.radians(p["line_angle"])[:, None, None]
    along = (0.5 - X) * np.sin(theta) + Y * np.cos(theta)  # signed distance from a line through (0.5, 0)
    gap = np.full(along.shape, 10.0, dtype=np.float32)
    for k in range(MAX_LINES):  # distance to the nearest of the image's parallel lines
        offset = np.where(p["n_lines"] > k, p["line_offset"][:, k], 10.0).astype(np.float32)[:, None, None]
        np.minimum(gap, np.abs(along - offset * np.cos(theta)), out=gap)
    m = (np.clip((col(p["line_width"]) - gap) * soft + 0.5, 0, 1) * 0.8)[..., None]
    line_col = _hsv_to_rgb(hue + p["accent"], fg_s, fg_v)[:, None, None]
    img += (line_col - img) * m

    # shapes: round blobs (shaded) <-> jagged star polygons; the subject (k = 0) last, on top
    # (each shape is drawn in a square window around it, the same size across the batch)
    wobble = 0.05 + 0.2 * p["grain"]
    for k in reversed(range(MAX_SHAPES)):
        idx = np.nonzero(p["n_shapes"] > k)[0]
        if idx.size == 0:
            continue
        q = lambda name: p[name][idx, k][:, None, None]  # noqa: E731
        half = np.ceil(p["shape_radius"][idx, k] * (1 + wobble[idx]) * s + edge_px + 1).max()
        w = int(min(s, 2 * half + 1))
        corner = lambda c: np.clip(np.rint(c * s - 0.5).astype(np.int64) - w // 2, 0, s - w)  # noqa: E731
        rows = corner(p["shape_y"][idx, k])[:, None] + np.arange(w)
        cols = corner(p["shape_x"][idx, k])[:, None] + np.arange(w)
        dx = coords[cols][:, None, :] - q("shape_x")
        dy = coords[rows][:, :, None] - q("shape_y")
        dist = np.sqrt(dx * dx + dy * dy)
        phi = np.arctan2(dy, dx) - q("shape_rotation")
        rnd = p["roundness"][idx][:, None, None]
        r_round = 1 + wobble[idx][:, None, None] * np.sin(3 * phi + q("shape_phase"))
        t = phi * (q("shape_vertices").astype(np.float32) / np.float32(2 * np.pi))
        r_star = 1 - 0.55 * np.abs(2 * (t - np.floor(t + 0.5)))
        r = q("shape_radius") * (rnd * r_round + (1 - rnd) * r_star)
        m = np.clip((r - dist) * soft + 0.5, 0, 1)[..., None]
        shade = 1 - 0.35 * rnd * np.clip(dist / np.maximum(r, 1e-3), 0, 1) ** 2
        c = _hsv_to_rgb(hue[idx] + p["accent"][idx] + p["shape_dhue"][idx, k], fg_s[idx],
                        fg_v[idx] + p["shape_dvalue"][idx, k])[:, None, None]
        where = (idx[:, None, None], rows[:, :, None], cols[:, None, :])
        img[where] = img[where] * (1 - m) + (c * shade[..., None]) * m

    # murky texture: brownish blotches and grain
    blot = _normalise(_resize(rng.standard_normal((b, 6, 6), dtype=np.float32), s, s))
    grain = _noise(rng, (b, s, s))
    amt = col(p["grain"])
    murk = np.array([0.45, 0.40, 0.20], dtype=np.float32)
    mud = np.minimum(0.25 * amt * np.maximum(blot, 0), 0.6)
    img *= (1 + 0.22 * amt * blot - mud)[..., None]
    img += (0.2 * amt * grain + 0.6 * mud)[..., None] * murk
    return img


def _luma(img: np.ndarray) -> np.ndarray:
    """Rec. 601 luma ``[..., 1]`` (an explicit sum: no BLAS threads)."""
    return (img[..., 0:1] * _LUMA[0] + img[..., 1:2] * _LUMA[1] + img[..., 2:3] * _LUMA[2])


def _style_art(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Painterly: boosted saturation and contrast, brush strokes, canvas weave, vignette."""
    b, s = img.shape[:2]
    u = lambda lo, hi: rng.uniform(lo, hi, b).astype(np.float32)[:, None, None, None]  # noqa: E731
    lum = _luma(img)
    img = lum + (img - lum) * u(1.3, 1.6)
    img = 0.5 + (img - 0.5) * u(1.1, 1.25)
    # a painter's split toning: violet-blue shadows, warm yellow highlights
    lum = _luma(img)
    shadows, lights = np.clip(1 - 2 * lum, 0, 1), np.clip(2 * lum - 1, 0, 1)
    tone = u(0.7, 1.1)
    img = img + tone * (shadows * _SHADOW_TINT + lights * _LIGHT_TINT)
    # brush strokes: streak noise (stretched along x), sheared per image to a random angle
    lo = rng.standard_normal((b, max(4, s // 2), max(4, (2 * s) // 8)), dtype=np.float32)
    field = _normalise(_resize(lo, s, 2 * s))
    shear = rng.uniform(-1, 1, b)
    yy = np.arange(s)[None, :, None]
    shift = np.floor(np.abs(shear)[:, None, None] * np.where(shear[:, None, None] >= 0, yy, s - 1 - yy))
    cols = (np.arange(s)[None, None, :] + shift).astype(np.int64)
    strokes = np.take_along_axis(field, cols, axis=2)[..., None]
    tint = rng.normal(0, 1, (b, 1, 1, 3)).astype(np.float32)
    img = img * (1 + u(0.05, 0.09) * strokes) + 0.02 * strokes * tint
    # canvas weave and vignette
    grid = np.arange(s, dtype=np.float32) * (2 * np.pi / 3)
    weave = (np.sin(grid)[:, None] * np.sin(grid)[None, :])[None, :, :, None]
    img = img + 0.025 * weave
    coords = (np.arange(s, dtype=np.float32) + 0.5) / s - 0.5
    r2 = (coords[:, None] ** 2 + coords[None, :] ** 2)[None, :, :, None] / 0.5
    img = img * (1 - u(0.35, 0.6) * r2 ** 1.2)
    return img


def _style_photo(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Natural-image statistics: 1/f texture, flat colour, random exposure, blur, blocks, noise."""
    b, s = img.shape[:2]
    u = lambda lo, hi: rng.uniform(lo, hi, b).astype(np.float32)[:, None, None, None]  # noqa: E731
    pink = _pink_noise(rng, b, s, rng.uniform(1.0, 1.5, b))[..., None]
    tint = rng.normal(0, 1, (b, 1, 1, 3)).astype(np.float32)
    img = img * (1 + u(0.15, 0.3) * pink) + 0.04 * pink * tint + u(0.0, 0.08) * pink
    lum = _luma(img)
    img = lum + (img - lum) * u(0.3, 0.6)
    mean = img.mean(axis=(1, 2, 3), keepdims=True)
    img = mean + (img - mean) * u(0.55, 0.85)
    img = img * (2.0 ** rng.normal(0, 0.4, (b, 1, 1, 1))).astype(np.float32)
    img = img * (1 + rng.normal(0, 0.07, (b, 1, 1, 3))).astype(np.float32)
    img = np.clip(img, 0, 1) ** u(0.8, 1.25)
    img = _gaussian_blur(img, rng.uniform(0.3, 1.3, b) * s / 64)
    # JPEG-like: chroma averaged over blocks, some luma blockiness
    block = max(2, s // 16)
    blocky = _block_mean(img, block)
    lum, lum_b = _luma(img), _luma(blocky)
    img = lum + u(0.0, 0.4) * (lum_b - lum) + (blocky - lum_b)
    img = img + u(0.015, 0.045) * (_noise(rng, (b, s, s, 1)) + 0.5 * _noise(rng, (b, s, s, 3)))
    return img


def _render(params: dict[str, np.ndarray], s: int, domain: str, scene_rng, style_rng) -> np.ndarray:
    """Render a batch of scenes in a domain to ``uint8 [B, S, S, 3]``."""
    img = _render_scene(params, s, scene_rng, edge_px=0.8 if domain == "art" else 1.8)
    img = _style_art(img, style_rng) if domain == "art" else _style_photo(img, style_rng)
    return np.rint(np.clip(img, 0, 1) * 255).astype(np.uint8)


# --------------------------------------------------------------------------- dataset

def _check_int(name: str, value, lo: int, hi: int | None, valid: str) -> int:
    if (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo
            or (hi is not None and value > hi)):
        raise ConfigError(f"{name} must be {valid}, got {value!r}")
    return int(value)


class AffectScenes(torch.utils.data.Dataset):
    """Procedural abstract scenes labelled with Mikels' eight emotions, in an ``art`` or ``photo`` domain.

    Parameters
    ----------
    n : number of images.
    size : square side in pixels, 32..256 (None: the native 64).
    domain : ``"art"`` (ArtPhoto-like) or ``"photo"`` (FI-like).
    class_priors : None (uniform) or 8 probabilities in :data:`MIKELS8` order.
    seed : fixes labels, scenes and noise.
    channels : 3 (RGB) or 1 (grey; None: the native 3).
    transform : replaces the default transform; called on the PIL image.
    target_transform : called on the integer label.

    ``ds[i]`` is ``(float tensor [C, H, W] in [0, 1], label)``; ``ds.images()``
    the raw ``uint8 [N, H, W, 3]`` array; ``ds.render_as("photo")`` the same
    scenes in the other domain.

    ``ds.params`` holds the per-sample scene parameters, a dict of arrays: the
    cues of :data:`CUE_PARAMS` (shape ``[N]``) and the layout -- ``n_shapes``,
    ``shape_x``, ``shape_y`` (centres in [0, 1]), ``shape_radius``,
    ``shape_rotation``, ``shape_vertices``, ``shape_phase``, ``shape_dhue``,
    ``shape_dvalue`` (``[N, MAX_SHAPES]``; shape ``k`` is drawn where
    ``k < n_shapes``, shape 0 being the subject), ``n_lines``, ``line_angle``
    (degrees), ``line_offset`` (``[N, MAX_LINES]``), ``line_width``, ``tilt``
    (of the horizon, degrees), ``glow_x``, ``glow_y`` and ``glow_radius``.
    """

    name = "affectscenes"

    def __init__(self, n: int = 1000, size: int | None = NATIVE_SIZE, domain: str = "art", class_priors=None,
                 seed: int = 0, channels: int | None = 3, transform=None, target_transform=None):
        self.n = _check_int("n", n, 1, None, "a positive integer (the number of images)")
        size = NATIVE_SIZE if size is None else size
        self.size = _check_int("size", size, MIN_SIZE, MAX_SIZE,
                               f"an integer from {MIN_SIZE} to {MAX_SIZE} (or None for the native {NATIVE_SIZE})")
        self.domain = self._check_domain(domain)
        channels = 3 if channels is None else channels
        if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) or channels not in (1, 3):
            raise ConfigError(f"channels must be 1 (grey), 3 (RGB) or None (native RGB), got {channels!r}")
        self.channels = int(channels)
        self.seed = _check_int("seed", seed, 0, None, "a non-negative integer")
        self.class_priors = self._check_priors(class_priors)
        self.transform = transform
        self.target_transform = target_transform
        self.classes = list(MIKELS8)

        rng = np.random.default_rng([self.seed, 0])
        self.targets = rng.choice(len(MIKELS8), size=self.n, p=self.class_priors).astype(np.int64)
        self.params = _sample_params(self.targets, rng)
        self._chunk = max(8, _CHUNK_PIXELS // (self.size * self.size))
        self._cache: dict[int, np.ndarray] = {}
        self._default = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]
                                   + ([v2.Grayscale(1)] if self.channels == 1 else []) + [v2.ToPureTensor()])

    # -- validation
    @staticmethod
    def _check_domain(domain) -> str:
        if domain not in DOMAINS:
            raise ConfigError(f"unknown domain {domain!r}; choose one of: {', '.join(DOMAINS)}")
        return domain

    @staticmethod
    def _check_priors(priors) -> np.ndarray:
        k = len(MIKELS8)
        if priors is None:
            return np.full(k, 1.0 / k)
        valid = (f"None (uniform) or {k} non-negative probabilities summing to 1, one per class in the order "
                 f"{', '.join(MIKELS8)}")
        try:
            p = np.asarray(priors, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError(f"class_priors must be {valid}; got {priors!r}") from None
        if p.shape != (k,) or not np.all(np.isfinite(p)) or np.any(p < 0) or abs(p.sum() - 1) > 1e-3:
            raise ConfigError(f"class_priors must be {valid}; got {priors!r}")
        return p / p.sum()

    # -- data
    def __len__(self) -> int:
        return self.n

    def _render_chunk(self, c: int) -> np.ndarray:
        if c not in self._cache:
            lo, hi = c * self._chunk, min(self.n, (c + 1) * self._chunk)
            sub = {k: v[lo:hi] for k, v in self.params.items()}
            scene_rng = np.random.default_rng([self.seed, 1, c])
            style_rng = np.random.default_rng([self.seed, 2, DOMAINS.index(self.domain), c])
            self._cache[c] = _render(sub, self.size, self.domain, scene_rng, style_rng)
        return self._cache[c]

    def images(self, indices=None) -> np.ndarray:
        """The images as ``uint8 [N, H, W, 3]`` (all, or those at ``indices``)."""
        idx = np.arange(self.n) if indices is None else np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < -self.n or idx.max() >= self.n):
            raise IndexError(f"indices must lie in [-{self.n}, {self.n})")
        idx = idx % self.n
        out = np.empty((idx.size, self.size, self.size, 3), dtype=np.uint8)
        chunks = idx // self._chunk
        for c in np.unique(chunks):
            sel = chunks == c
            out[sel] = self._render_chunk(int(c))[idx[sel] - c * self._chunk]
        return out

    def __getitem__(self, i):
        i = operator.index(i)
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(f"index {i} out of range for {self.n} images")
        img = self._render_chunk(i // self._chunk)[i % self._chunk]
        if self.transform is not None:
            pil = Image.fromarray(img)
            x = self.transform(pil.convert("L") if self.channels == 1 else pil)
        else:
            x = self._default(img)
        y = int(self.targets[i])
        return x, (self.target_transform(y) if self.target_transform is not None else y)

    def render_as(self, domain: str) -> "AffectScenes":
        """The same scenes (labels, parameters, layout) rendered in ``domain``."""
        other = copy.copy(self)
        other.domain = self._check_domain(domain)
        other._cache = {}
        return other

    def __repr__(self) -> str:
        return (f"AffectScenes(n={self.n}, size={self.size}, domain={self.domain!r}, "
                f"channels={self.channels}, seed={self.seed})")


__all__ = ["AffectScenes", "CUE_PARAMS", "DOMAINS", "EMOTION_MEANS", "PARAM_SD",
           "confusion_by_wheel_distance", "emotion_mean_distances"]

"""EmoFaces: procedural facial-expression images that know their own ground truth.

Purpose
-------
Real facial-expression data sets (FER2013, CK+, AffectNet, ...) come with one
noisy label per image and nothing else. EmoFaces draws cartoon faces whose
every factor is known: the emotion (one of Ekman's seven, or a two-emotion
mixture), how intensely it is shown, the facial actions that show it, its
valence and arousal, the person (identity) and the head pose. It is built for
the book's experiments on GAN-based domain adaptation: the *same* face can be
rendered in several imaging domains (a clean synthetic rendering, a "photo",
a near-infrared capture, a pencil sketch), so a model trained on one domain
can be evaluated on another with paired, pixel-aligned ground truth. Nothing
is downloaded; a seed fixes every pixel.

Recipe of a face
----------------
1. **Expression = facial actions.** An expression is a vector of continuous
   activations in [0, 1] of FACS action units (Ekman & Friesen, 1978), see
   :data:`ACTION_UNITS`. Each of Ekman's seven categories has a prototype after
   EMFACS (:data:`PROTOTYPES`; e.g. happy = AU6 + AU12 (+AU25), surprise =
   AU1 + AU2 + AU5 + AU26). A sample shows ``intensity * prototype``;
   compound expressions (Du, Tao & Martinez, 2014, "Compound facial
   expressions of emotion") mix two prototypes with weights, e.g. "happily
   surprised" = 0.6 happy + 0.4 surprise (:func:`expression_actions`).
   Valence and arousal are the same mixture of the circumplex anchors in
   :data:`emolab.data.taxonomy.VALENCE_AROUSAL`, scaled by the intensity
   (neutral sits at (0, 0)).
2. **Geometry follows the actions.** Every facial part is an implicit shape
   (a signed distance in face coordinates) whose parameters are linear in
   the action units:

   * brows (thick tapered curves): AU1 lifts the inner ends, AU2 the outer
     ends and the arch, AU4 lowers and pulls the inner ends together (a
     "V"); AU1 + AU4 gives the oblique brow of sadness;
   * eyes (two lid arcs, lashes, iris, pupil, glint): AU5 opens the upper
     lid (white shows above the iris), AU7 flattens and lifts the lower lid,
     AU6 pushes the lower lid up into a smiling crescent, AU4 / AU1 tilt the
     upper lid (glare / droop);
   * wrinkles: forehead lines (AU1, AU2), vertical lines between the brows
     (AU4), lines across the nose bridge (AU9), nasolabial folds (AU6, AU9,
     AU10, AU12), a chin crease (AU17); cheek apples rise and flush (AU6);
   * nose: shorter and wider with AU9 / AU10;
   * mouth (lips, dark interior, upper and lower teeth): AU12 lifts and
     widens the corners, AU15 pulls them down, AU20 stretches the mouth
     sideways, AU23 narrows it and thins the lips, AU17 pushes the lower lip
     up, AU10 raises the upper lip, AU25 parts the lips, AU26 drops the jaw
     (a round open mouth and a longer face).

   Identity (:data:`IDENTITY_PARAMS`: face width and length, jaw, skin tone,
   eye spacing, size and height, iris colour, brow thickness, mouth width,
   lip thickness, nose length and width, hair style and colour, glasses,
   clothes, backdrop) and pose (:data:`POSE_PARAMS`: small rotation, shift
   and scale) are independent of the expression. The shapes are evaluated
   on the pixel grid of a whole batch at once (numpy, no loop over faces or
   pixels) and anti-aliased by a one-pixel box ramp of the signed distance.
3. **Domains differ in appearance, never in geometry.** :func:`render_faces`
   paints the same shapes with a domain's palette and post-processing:

   * ``render``: flat colours on a plain studio backdrop, no noise (like a
     3-D morphable-model rendering);
   * ``photo``: directional light with a rim falloff, skin texture, a
     cluttered out-of-focus background (gradient plus random blobs and
     boxes), white-balance and exposure jitter, lens blur, sensor noise;
   * ``nir``: one channel; bright, even skin whatever its visible tone,
     light irises, dark pupils with a bright glint of the illuminator, a dim
     low-contrast background, illuminator falloff, strong noise;
   * ``sketch``: white paper and dark lines where the parts meet (the
     gradient of per-part identity maps), filled brows, pupils and mouth,
     pencil-like wrinkles, paper grain.

   The same ``(actions, identities, poses)`` thus give pixel-aligned faces in
   every domain, the pairs domain-adaptation experiments evaluate with.

Limits
------
These are cartoons: a handful of geometric parts, symmetric expressions,
frontal faces, no real skin, hair or lighting physics, and prototypes that
are one reading of EMFACS. Classifiers learn them much more easily than real
faces, and what transfers from them to photographs has to be shown, not
assumed. Use EmoFaces to check pipelines, to study domain shift with known
ground truth and to illustrate; never as a substitute for real data or as
evidence about how people express emotions.
"""

from __future__ import annotations

import copy
import math
import os
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from torch.utils.data import Dataset

from emolab.core.errors import ConfigError
from emolab.data.taxonomy import EKMAN7, VALENCE_AROUSAL, fer2013_priors

__all__ = [
    "ACTION_UNITS",
    "AU_DESCRIPTIONS",
    "COMPOUND_PAIRS",
    "DOMAINS",
    "EmoFaces",
    "HAIR_STYLES",
    "IDENTITY_PARAMS",
    "MIN_SIZE",
    "POSE_JITTER",
    "POSE_PARAMS",
    "PROTOTYPES",
    "expression_actions",
    "expression_valence_arousal",
    "render_faces",
    "sample_identities",
    "sample_poses",
]

# ---------------------------------------------------------------------------
# Expressions
# ---------------------------------------------------------------------------

#: The facial actions an expression is made of (FACS action units).
ACTION_UNITS = ("AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU9", "AU10", "AU12", "AU15", "AU17",
                "AU20", "AU23", "AU25", "AU26")

#: FACS names of the action units.
AU_DESCRIPTIONS = {
    "AU1": "inner brow raiser",
    "AU2": "outer brow raiser",
    "AU4": "brow lowerer",
    "AU5": "upper lid raiser",
    "AU6": "cheek raiser",
    "AU7": "lid tightener",
    "AU9": "nose wrinkler",
    "AU10": "upper lip raiser",
    "AU12": "lip corner puller",
    "AU15": "lip corner depressor",
    "AU17": "chin raiser",
    "AU20": "lip stretcher",
    "AU23": "lip tightener",
    "AU25": "lips part",
    "AU26": "jaw drop",
}


def _prototype(**aus: float) -> np.ndarray:
    vec = np.zeros(len(ACTION_UNITS), dtype=np.float32)
    for name, value in aus.items():
        vec[ACTION_UNITS.index(name)] = value
    vec.setflags(write=False)
    return vec


#: Full-intensity action vector of each category, after EMFACS (Friesen &
#: Ekman, 1983); weights below 1 mark optional or weaker components.
PROTOTYPES: dict[str, np.ndarray] = {
    "angry": _prototype(AU4=1.0, AU5=0.7, AU7=0.9, AU23=1.0),
    "disgust": _prototype(AU9=1.0, AU10=0.8, AU15=0.6, AU17=0.7),
    "fear": _prototype(AU1=0.9, AU2=0.7, AU4=0.8, AU5=1.0, AU7=0.5, AU20=1.0, AU25=1.0, AU26=0.5),
    "happy": _prototype(AU6=0.9, AU12=1.0, AU25=0.8),
    "sad": _prototype(AU1=1.0, AU4=0.6, AU15=1.0, AU17=0.6),
    "surprise": _prototype(AU1=1.0, AU2=1.0, AU5=0.9, AU25=1.0, AU26=1.0),
    "neutral": _prototype(),
}
_PROTO_MATRIX = np.stack([PROTOTYPES[e] for e in EKMAN7])            # [7, A]
_VA_MATRIX = np.array([VALENCE_AROUSAL[e] for e in EKMAN7], np.float32)  # [7, 2]

#: Pairs of categories that mix into the compound expressions of Du, Tao &
#: Martinez (2014) ("happily surprised", "sadly angry", ...).
COMPOUND_PAIRS = (
    ("happy", "surprise"), ("happy", "disgust"), ("sad", "fear"), ("sad", "angry"),
    ("sad", "surprise"), ("sad", "disgust"), ("fear", "angry"), ("fear", "surprise"),
    ("fear", "disgust"), ("angry", "surprise"), ("angry", "disgust"), ("disgust", "surprise"),
)
_PARTNERS = {e: [EKMAN7.index(b if a == e else a) for a, b in COMPOUND_PAIRS if e in (a, b)]
             for e in EKMAN7}


def _mixture(emotion) -> np.ndarray:
    """Weights over EKMAN7 (summing to 1) of a name or a ``{name: weight}`` mapping."""
    if isinstance(emotion, str):
        emotion = {emotion: 1.0}
    if not isinstance(emotion, Mapping) or not emotion:
        raise ConfigError(f"an emotion is a name or a {{name: weight}} mapping over {', '.join(EKMAN7)}; "
                          f"got {emotion!r}")
    weights = np.zeros(len(EKMAN7), dtype=np.float64)
    for name, w in emotion.items():
        if name not in EKMAN7:
            raise ConfigError(f"unknown emotion {name!r}; choose from: {', '.join(EKMAN7)}")
        w = float(w)
        if not math.isfinite(w) or w < 0:
            raise ConfigError(f"mixture weights must be non-negative numbers, got {name}={w}")
        weights[EKMAN7.index(name)] += w
    if weights.sum() <= 0:
        raise ConfigError("mixture weights must not all be zero")
    return weights / weights.sum()


def _check_intensity_value(intensity) -> float:
    try:
        value = float(intensity)
    except (TypeError, ValueError):
        raise ConfigError(f"intensity must be a number in [0, 1], got {intensity!r}") from None
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"intensity must lie in [0, 1], got {value}")
    return value


def expression_actions(emotion, intensity: float = 1.0) -> np.ndarray:
    """Action vector (float32, one value per :data:`ACTION_UNITS`) of an expression.

    ``emotion`` is a category name (``"happy"``) or a mixture such as
    ``{"happy": 0.6, "surprise": 0.4}`` (weights are normalised to sum to 1);
    the result is ``intensity * sum_k w_k * PROTOTYPES[k]``. Intensity 0 gives
    the neutral face whatever the emotion.
    """
    weights = _mixture(emotion)
    value = _check_intensity_value(intensity)
    return (value * (weights @ _PROTO_MATRIX.astype(np.float64))).astype(np.float32)


def expression_valence_arousal(emotion, intensity: float = 1.0) -> np.ndarray:
    """(valence, arousal) of an expression: ``intensity * sum_k w_k * anchor_k``."""
    weights = _mixture(emotion)
    value = _check_intensity_value(intensity)
    return (value * (weights @ _VA_MATRIX.astype(np.float64))).astype(np.float32)


# ---------------------------------------------------------------------------
# Identities and poses
# ---------------------------------------------------------------------------

#: Columns of an identity table (one row per person, float32). Lengths are in
#: face units (the face is about 1.3 wide), colours are RGB in [0, 1].
IDENTITY_PARAMS = (
    "face_width", "face_length", "jaw", "skin_tone", "skin_r", "skin_g", "skin_b",
    "eye_spacing", "eye_size", "eye_height", "iris_r", "iris_g", "iris_b",
    "brow_thickness", "brow_gap", "mouth_width", "lip_thickness", "mouth_height",
    "nose_length", "nose_width", "hair_style", "hair_r", "hair_g", "hair_b", "hairline",
    "hair_part", "glasses", "frame_tone", "shirt_r", "shirt_g", "shirt_b",
    "backdrop_r", "backdrop_g", "backdrop_b",
)
_IP = {name: k for k, name in enumerate(IDENTITY_PARAMS)}
#: Values of the ``hair_style`` column (0..4).
HAIR_STYLES = ("short", "long", "bangs", "buzz", "curly")

#: Columns of a pose table: rotation (degrees, clockwise in the image), shift
#: (fractions of half the image side, x right and y down) and scale (1 = nominal).
POSE_PARAMS = ("rotation", "shift_x", "shift_y", "scale")
#: Ranges :func:`sample_poses` draws from (uniformly).
POSE_JITTER = {"rotation": (-6.0, 6.0), "shift_x": (-0.04, 0.04), "shift_y": (-0.04, 0.04),
               "scale": (0.94, 1.06)}

_SKIN_ANCHORS = np.array([[0.98, 0.86, 0.77], [0.95, 0.78, 0.66], [0.86, 0.65, 0.50],
                          [0.70, 0.50, 0.36], [0.52, 0.35, 0.24], [0.36, 0.24, 0.16]])
_HAIR_COLOURS = np.array([[0.07, 0.06, 0.06], [0.20, 0.13, 0.09], [0.38, 0.25, 0.15],
                          [0.78, 0.63, 0.38], [0.58, 0.26, 0.12], [0.62, 0.62, 0.63]])
_HAIR_PROBS = np.array([0.30, 0.25, 0.17, 0.12, 0.06, 0.10])
_IRIS_COLOURS = np.array([[0.25, 0.15, 0.08], [0.40, 0.25, 0.12], [0.45, 0.38, 0.20],
                          [0.30, 0.45, 0.30], [0.30, 0.45, 0.65], [0.45, 0.50, 0.55]])
_IRIS_PROBS = np.array([0.35, 0.20, 0.12, 0.10, 0.15, 0.08])
_STYLE_PROBS = np.array([0.30, 0.30, 0.15, 0.10, 0.15])


def _rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng(0)
    return np.random.default_rng(rng)


def sample_identities(n: int, rng=None) -> np.ndarray:
    """Draw ``n`` people: a float32 table ``[n, len(IDENTITY_PARAMS)]``.

    ``rng`` is a ``numpy.random.Generator`` or a seed.
    """
    rng = _rng(rng)
    n = int(n)
    u = lambda lo, hi: rng.uniform(lo, hi, n)  # noqa: E731
    out = np.zeros((n, len(IDENTITY_PARAMS)), dtype=np.float64)

    def put(name, value):
        out[:, _IP[name]] = value

    put("face_width", u(0.56, 0.68))
    put("face_length", u(0.80, 0.92))
    put("jaw", u(0.0, 1.0))
    tone = u(0.0, 1.0)
    pos = tone * (len(_SKIN_ANCHORS) - 1)
    lo = np.minimum(pos.astype(int), len(_SKIN_ANCHORS) - 2)
    frac = (pos - lo)[:, None]
    skin = _SKIN_ANCHORS[lo] * (1 - frac) + _SKIN_ANCHORS[lo + 1] * frac
    skin = np.clip(skin + rng.normal(0, 0.015, (n, 3)), 0, 1)
    put("skin_tone", tone)
    put("skin_r", skin[:, 0]), put("skin_g", skin[:, 1]), put("skin_b", skin[:, 2])
    put("eye_spacing", u(0.235, 0.28))
    put("eye_size", u(0.12, 0.145))
    put("eye_height", u(-0.07, -0.02))
    iris = _IRIS_COLOURS[rng.choice(len(_IRIS_COLOURS), n, p=_IRIS_PROBS)]
    iris = np.clip(iris + rng.normal(0, 0.03, (n, 3)), 0, 1)
    put("iris_r", iris[:, 0]), put("iris_g", iris[:, 1]), put("iris_b", iris[:, 2])
    put("brow_thickness", u(0.034, 0.055))
    put("brow_gap", u(0.15, 0.175))
    put("mouth_width", u(0.17, 0.215))
    put("lip_thickness", u(0.026, 0.042))
    put("mouth_height", u(0.43, 0.48))
    put("nose_length", u(0.21, 0.28))
    put("nose_width", u(0.07, 0.095))
    put("hair_style", rng.choice(len(HAIR_STYLES), n, p=_STYLE_PROBS))
    hair = _HAIR_COLOURS[rng.choice(len(_HAIR_COLOURS), n, p=_HAIR_PROBS)]
    hair = np.clip(hair + rng.normal(0, 0.03, (n, 3)), 0, 1)
    put("hair_r", hair[:, 0]), put("hair_g", hair[:, 1]), put("hair_b", hair[:, 2])
    put("hairline", u(-0.56, -0.47))
    put("hair_part", u(-0.12, 0.12))
    put("glasses", rng.random(n) < 0.25)
    put("frame_tone", u(0.05, 0.45))
    shirt = rng.uniform(0.08, 0.9, (n, 3))
    put("shirt_r", shirt[:, 0]), put("shirt_g", shirt[:, 1]), put("shirt_b", shirt[:, 2])
    grey = u(0.72, 0.9)[:, None]
    backdrop = np.clip(grey + rng.normal(0, 0.03, (n, 3)), 0, 1)
    put("backdrop_r", backdrop[:, 0]), put("backdrop_g", backdrop[:, 1]), put("backdrop_b", backdrop[:, 2])
    return out.astype(np.float32)


def sample_poses(n: int, rng=None, jitter: float = 1.0) -> np.ndarray:
    """Draw ``n`` head poses: float32 ``[n, 4]`` (see :data:`POSE_PARAMS`).

    ``jitter`` scales the ranges of :data:`POSE_JITTER` (0 gives the frontal,
    centred, nominal-size pose).
    """
    rng = _rng(rng)
    out = np.empty((int(n), len(POSE_PARAMS)), dtype=np.float64)
    for k, name in enumerate(POSE_PARAMS):
        lo, hi = POSE_JITTER[name]
        centre = 1.0 if name == "scale" else 0.0
        out[:, k] = centre + jitter * (rng.uniform(lo, hi, int(n)) - centre)
    return out.astype(np.float32)


# ---------------------------------------------------------------------------
# Renderer
# ---------------------------------------------------------------------------

#: The imaging domains :func:`render_faces` knows.
DOMAINS = ("render", "photo", "nir", "sketch")
#: Smallest image side the faces stay legible at.
MIN_SIZE = 32
_NATIVE_CHANNELS = {"render": 3, "photo": 3, "nir": 1, "sketch": 3}

_S0 = 1.05            # face units -> image half-side at scale 1
_C0 = (0.0, 0.07)     # the face point placed at the image centre
_F = np.float32
# Per hair style: back-hair ellipse extra width / height, centre y, bottom of
# the straight part, hairline offset, how far the hairline drops at the sides, opacity.
_STYLE_TABLE = np.array([
    # ex    ey    cy     vbot  hl_off side_drop alpha
    [0.04, 0.07, 0.00, 0.00, 0.00, 0.55, 1.0],   # short
    [0.10, 0.10, 0.00, 1.60, 0.00, 0.90, 1.0],   # long
    [0.07, 0.09, 0.00, 0.30, 0.00, 0.75, 1.0],   # bangs (bob with a fringe)
    [0.015, 0.03, 0.00, 0.00, 0.03, 0.50, 0.55],  # buzz
    [0.22, 0.20, -0.08, 0.20, 0.00, 0.55, 1.0],   # curly
], dtype=np.float64)


def _c(x) -> np.ndarray:
    """Per-face values as a float32 ``[N, 1, 1]`` array (broadcasts over a window)."""
    return np.ascontiguousarray(x, dtype=_F).reshape(-1, 1, 1)


class _Window:
    __slots__ = ("rs", "cs", "u", "v", "ipx")

    def __init__(self, rs, cs, u, v, ipx):
        self.rs, self.cs, self.u, self.v, self.ipx = rs, cs, u, v, ipx


class _Canvas:
    """A batch of images being painted, in face coordinates per face."""

    def __init__(self, size: int, poses: np.ndarray, palette: dict, channels: int):
        n = len(poses)
        self.n, self.size, self.channels, self.pal = n, size, channels, palette
        rot = np.deg2rad(poses[:, 0].astype(np.float64))
        tx, ty = poses[:, 1].astype(np.float64), poses[:, 2].astype(np.float64)
        s = _S0 * poses[:, 3].astype(np.float64)
        cos, sin = np.cos(rot), np.sin(rot)
        step = 2.0 / size
        p0 = 0.5 * step - 1.0
        # face q = C0 + R(-rot) (p - t) / s for image point p = (j, i) * step + p0
        self._u = (_c(_C0[0] + (cos * (p0 - tx) + sin * (p0 - ty)) / s), _c(cos / s * step),
                   _c(sin / s * step))
        self._v = (_c(_C0[1] + (-sin * (p0 - tx) + cos * (p0 - ty)) / s), _c(-sin / s * step),
                   _c(cos / s * step))
        self._pose = (cos, sin, s, tx, ty, step)
        self.ipx = _c(s / step)                      # pixels per face unit
        self.px = _c(step / s)                       # face units per pixel
        self.img = np.zeros((channels, n, size, size), _F)
        self.T = np.ones((n, size, size), _F)        # transmittance of the head layers
        self._cache = {}

    def window(self, x0, x1, y0, y1) -> _Window:
        """Pixels of every face's box ``[x0, x1] x [y0, y1]`` (face units), with their face coordinates."""
        key = (x0, x1, y0, y1)
        if key in self._cache:
            return self._cache[key]
        cos, sin, s, tx, ty, step = self._pose
        size = self.size
        if x0 is None:
            r0, r1, c0, c1 = 0, size, 0, size
        else:
            xs = np.array([x0, x1, x0, x1]) - _C0[0]
            ys = np.array([y0, y0, y1, y1]) - _C0[1]
            px = tx[:, None] + s[:, None] * (cos[:, None] * xs - sin[:, None] * ys)
            py = ty[:, None] + s[:, None] * (sin[:, None] * xs + cos[:, None] * ys)
            j, i = (px + 1) / step - 0.5, (py + 1) / step - 0.5
            c0, c1 = max(0, int(math.floor(j.min())) - 1), min(size, int(math.ceil(j.max())) + 2)
            r0, r1 = max(0, int(math.floor(i.min())) - 1), min(size, int(math.ceil(i.max())) + 2)
            if c0 >= c1 or r0 >= r1:               # off the image: an empty window
                r0 = r1 = c0 = c1 = 0
        jj = np.arange(c0, c1, dtype=_F)[None, None, :]
        ii = np.arange(r0, r1, dtype=_F)[None, :, None]
        u = self._u[1] * jj + self._u[0]
        u = u + self._u[2] * ii
        v = self._v[1] * jj + self._v[0]
        v = v + self._v[2] * ii
        win = _Window(slice(r0, r1), slice(c0, c1), u, v, self.ipx)
        self._cache[key] = win
        return win

    @staticmethod
    def cover(d: np.ndarray, win: _Window) -> np.ndarray:
        """Coverage in [0, 1] of the region ``d < 0`` (a one-pixel ramp; ``d`` is consumed)."""
        d *= -win.ipx
        d += 0.5
        return np.clip(d, 0.0, 1.0, out=d)

    def paint(self, win: _Window, alpha: np.ndarray, key: str, head: bool = False) -> None:
        col = self.pal[key]
        rs, cs = win.rs, win.cs
        for c in range(self.channels):
            dst = self.img[c, :, rs, cs]
            tmp = col[c] - dst
            tmp *= alpha
            dst += tmp
        if head:
            t = self.T[:, rs, cs]
            t -= t * alpha


def _ellipse(x, y, rx, ry):
    """Approximate signed distance to an axis-aligned ellipse (exact on circles)."""
    d = np.square(x * (1.0 / rx))
    d += np.square(y * (1.0 / ry))
    np.sqrt(d, out=d)
    d -= 1.0
    d *= np.minimum(rx, ry)
    return d


def _geometry(actions: np.ndarray, ident: np.ndarray) -> dict:
    """Per-face shape parameters (float32 ``[N, 1, 1]``) from actions and identities."""
    a = np.clip(actions.astype(np.float64), 0.0, 1.0)
    au = {name: a[:, k] for k, name in enumerate(ACTION_UNITS)}
    idp = {name: ident[:, k].astype(np.float64) for k, name in enumerate(IDENTITY_PARAMS)}
    au1, au2, au4, au5, au6, au7 = au["AU1"], au["AU2"], au["AU4"], au["AU5"], au["AU6"], au["AU7"]
    au9, au10, au12, au15, au17 = au["AU9"], au["AU10"], au["AU12"], au["AU15"], au["AU17"]
    au20, au23, au25, au26 = au["AU20"], au["AU23"], au["AU25"], au["AU26"]
    g = {}
    # head
    fw = idp["face_width"]
    g["a"] = fw
    g["bb"] = idp["face_length"] + 0.07 * au26
    g["jaw"] = 0.05 + 0.22 * idp["jaw"]
    style = np.clip(np.rint(idp["hair_style"]).astype(int), 0, len(HAIR_STYLES) - 1)
    st = _STYLE_TABLE[style]
    g["hb_rx"], g["hb_ry"], g["hb_cy"], g["hb_vbot"] = fw + st[:, 0], 0.80 + st[:, 1], st[:, 2], st[:, 3]
    g["hair_alpha"] = st[:, 6]
    e, w, ey = idp["eye_spacing"], idp["eye_size"], idp["eye_height"]
    brow_base = ey - idp["brow_gap"]
    hl = idp["hairline"] + st[:, 4]
    fringe = brow_base - 0.235
    g["hairline"] = np.where(style == 2, fringe, hl)
    g["side_drop"] = np.where(style == 2, 0.55, st[:, 5])
    g["hair_part"] = np.where(style == 2, 0.0, idp["hair_part"])
    g["ear_x"], g["ear_y"] = 0.97 * fw, ey + 0.07
    # eyes
    g["e"], g["w"], g["ey"] = e, w, ey
    hu = w * (0.50 + 0.45 * au5 - 0.06 * au7 - 0.10 * au6 - 0.10 * au4 * (1 - au5)
              - 0.10 * au1 * au4 - 0.10 * au9)
    hl_ = w * (0.30 - 0.22 * au7 - 0.45 * au6 - 0.20 * au9 - 0.05 * au10)
    hu = np.maximum(hu, 0.15 * w)
    hl_ = np.maximum(hl_, 0.15 * w - hu)
    g["hu"], g["hl"] = hu, hl_
    g["tilt"] = 1.3 * au4 * (1 - au1) - 0.7 * au1 * (0.4 + 0.6 * au4) + 0.3 * au9
    g["r_iris"] = 0.47 * w
    # brows
    x_i = e - 0.78 * w - 0.035 * au4 - 0.01 * au9
    x_o = e + 1.2 * w
    y_in = brow_base - 0.10 * au1 - 0.02 * au2 + 0.08 * au4 * (1 - 0.65 * au1) + 0.035 * au9 * (1 - au1)
    y_out = brow_base - 0.025 * au1 - 0.09 * au2 + 0.03 * au4 + 0.015 * au9
    g["bx_i"], g["bx_o"], g["by_i"], g["by_o"] = x_i, x_o, y_in, y_out
    g["b_inv_len"] = 1.0 / (x_o - x_i)
    g["arch"] = np.maximum(0.025 + 0.04 * au2 + 0.005 * au1 - 0.025 * au4 - 0.01 * au9, 0.0)
    g["b_th"] = idp["brow_thickness"] * (1 + 0.15 * au4) * 0.5
    g["b_norm"] = 1.0 / np.sqrt(1.0 + ((y_out - y_in) / (x_o - x_i)) ** 2)
    # wrinkles: forehead (AU1/AU2), glabella (AU4), nose (AU9), nasolabial, chin (AU17)
    g["fh_y"] = np.minimum(y_in, y_out) - g["arch"] - 0.085
    g["fh_len"] = 0.12 + 0.18 * au2 + 0.06 * au1
    g["fh_alpha"] = np.clip(1.1 * np.maximum(au1, au2) - 0.1, 0, 1) * 0.9
    g["gl_y"] = y_in + 0.02
    g["gl_alpha"] = np.clip(1.1 * au4 - 0.1, 0, 1) * 0.9
    # nose
    y_n = ey + idp["nose_length"] - 0.035 * au9 - 0.02 * au10
    nw = idp["nose_width"] * (1 + 0.22 * au9 + 0.1 * au10)
    g["nose_y"], g["nose_w"] = y_n, nw
    g["nw_y"] = ey + 0.05 - 0.01 * au9
    g["nw_alpha"] = np.clip(1.1 * au9 - 0.1, 0, 1)
    # mouth
    mw = idp["mouth_width"] * (1 + 0.22 * au12 + 0.32 * au20 - 0.25 * au23 - 0.15 * au26 * (1 - au20)
                               - 0.06 * au17 + 0.04 * au10)
    mc = idp["mouth_height"] + 0.045 * au26 + 0.01 * au20
    cd = -0.10 * au12 + 0.085 * au15 + 0.02 * au20 + 0.015 * au10
    opening = 0.09 * au25 + 0.17 * au26
    g["m_w"], g["m_c"], g["m_cd"] = mw, mc, cd
    g["m_chin"] = 0.03 * au17
    g["m_up"] = 0.28 * opening + 0.05 * au10
    g["m_lo"] = 0.72 * opening
    g["m_round"] = np.clip(au26, 0, 1)
    lip = idp["lip_thickness"]
    g["m_lu"] = lip * 0.75 * (1 - 0.7 * au23) * (1 - 0.3 * au10)
    g["m_ll"] = lip * (1 - 0.6 * au23) * (1 + 0.25 * au17)
    g["teeth_alpha"] = np.clip((g["m_up"] + g["m_lo"]) / 0.03 - 0.3, 0, 1)
    g["teeth_h"] = np.full(len(a), 0.045)
    g["lteeth_alpha"] = np.clip(1.5 * au20 + 0.5 * au10 - 0.2, 0, 1) * g["teeth_alpha"]
    # nasolabial fold from the nose wing to beside the mouth corner
    g["nl_x0"], g["nl_y0"] = nw + 0.03, y_n - 0.03
    g["nl_x1"], g["nl_y1"] = mw + 0.035, mc + cd + 0.03 + 0.02 * au26
    g["nl_alpha"] = np.clip(np.maximum.reduce([1.0 * au12, 0.9 * au10, 0.8 * au9, 0.5 * au6, 0.35 * au20]),
                            0, 1) * 0.85
    g["chin_y"] = mc + g["m_lo"] + g["m_ll"] + 0.07 - 0.01 * au17
    g["chin_alpha"] = np.clip(1.1 * au17 - 0.1, 0, 1) * 0.8
    g["cheek_y"] = ey + 0.2 - 0.04 * au6
    g["cheek_alpha"] = 0.55 * au6
    g["glasses"] = (idp["glasses"] > 0.5).astype(np.float64)
    return {k: _c(v) for k, v in g.items()}


def _palette(ident: np.ndarray, domain: str) -> dict:
    """Colour of each material per face: ``{material: tuple of C arrays [N, 1, 1]}``."""
    n = len(ident)
    col = lambda *names: np.stack([ident[:, _IP[k]] for k in names], 1).astype(np.float64)  # noqa: E731
    skin = col("skin_r", "skin_g", "skin_b")
    hair = col("hair_r", "hair_g", "hair_b")
    iris = col("iris_r", "iris_g", "iris_b")
    shirt = col("shirt_r", "shirt_g", "shirt_b")
    back = col("backdrop_r", "backdrop_g", "backdrop_b")
    frame = np.repeat(ident[:, _IP["frame_tone"], None].astype(np.float64), 3, 1)
    const = lambda *rgb: np.tile(np.array(rgb, np.float64), (n, 1))  # noqa: E731
    brow = 0.6 * np.minimum(hair, 0.6 * skin)
    lum = lambda x: x @ np.array([0.299, 0.587, 0.114])  # noqa: E731
    if domain in ("render", "photo"):
        p = {
            "backdrop": back, "hair": hair, "skin": skin, "ear": skin * 0.92, "neck": skin * 0.84,
            "shirt": shirt, "nose": skin * 0.88, "nostril": skin * 0.42, "wrinkle": skin * 0.6,
            "blush": np.clip(skin * [1.02, 0.8, 0.8], 0, 1), "lash": const(0.1, 0.08, 0.08),
            "sclera": const(0.97, 0.96, 0.94), "iris": iris, "pupil": const(0.03, 0.03, 0.04),
            "glint": const(1.0, 1.0, 1.0), "brow": brow, "lips": np.clip(skin * [0.9, 0.58, 0.58], 0, 1),
            "mouth": const(0.26, 0.05, 0.07), "teeth": const(0.97, 0.96, 0.9), "frame": frame,
        }
    elif domain == "nir":
        s = 0.74 + 0.1 * lum(skin)
        g1 = lambda x: np.asarray(x, np.float64).reshape(-1, 1) * np.ones((n, 1))  # noqa: E731
        p = {
            "backdrop": g1(0.2), "hair": g1(0.16 + 0.45 * lum(hair)), "skin": g1(s), "ear": g1(s * 0.93),
            "neck": g1(s * 0.86), "shirt": g1(0.25 + 0.5 * lum(shirt)), "nose": g1(s * 0.9),
            "nostril": g1(0.3), "wrinkle": g1(s * 0.66), "blush": g1(s), "lash": g1(0.18),
            "sclera": g1(0.82), "iris": g1(0.52 + 0.15 * lum(iris)), "pupil": g1(0.02), "glint": g1(1.0),
            "brow": g1(0.2 + 0.3 * lum(hair)), "lips": g1(s * 0.86), "mouth": g1(0.1), "teeth": g1(0.86),
            "frame": g1(0.15),
        }
    else:  # sketch: (tone, id, id2); lines appear where the ids change
        p = {
            "backdrop": const(1.0, 0.0, 0.0), "hair": const(0.86, 0.8, 0.2), "skin": const(1.0, 0.3, 0.5),
            "ear": const(1.0, 0.45, 0.5), "neck": const(1.0, 0.3, 0.8), "shirt": const(0.9, 0.6, 0.1),
            "nose": const(1.0, 0.3, 0.62), "nostril": const(0.4, 0.3, 0.5), "wrinkle": const(0.4, 0.3, 0.5),
            "blush": const(1.0, 0.3, 0.5), "lash": const(0.45, 0.95, 0.95), "sclera": const(1.0, 0.95, 0.95),
            "iris": const(0.65, 0.95, 0.95), "pupil": const(0.1, 0.95, 0.95), "glint": const(1.0, 0.95, 0.95),
            "brow": const(0.25, 0.05, 0.1), "lips": const(0.95, 0.55, 0.25), "mouth": const(0.45, 0.1, 0.0),
            "teeth": const(1.0, 0.9, 0.95), "frame": const(0.3, 0.3, 0.5),
        }
    return {k: tuple(_c(v[:, c]) for c in range(v.shape[1])) for k, v in p.items()}


def _draw(cv: _Canvas, g: dict) -> None:
    """Paint the parts of every face, back to front."""
    cover = cv.cover
    u_abs = np.abs

    # --- hair behind the head (whole image: long hair reaches the bottom)
    win = cv.window(None, None, None, None)
    u, v = win.u, win.v
    dy = v - g["hb_cy"]
    d_top = _ellipse(u, dy, g["hb_rx"], g["hb_ry"])
    d_side = np.maximum(u_abs(u) - g["hb_rx"], v - g["hb_vbot"])
    d = np.where(dy < 0, d_top, d_side)
    cv.paint(win, cover(d, win) * g["hair_alpha"], "hair", head=True)

    # --- shoulders (a collar below the chin) and neck
    win = cv.window(-3.0, 3.0, 0.95, 3.0)
    d = (g["bb"] + 0.2) + 0.3 * np.square(win.u) - win.v
    cv.paint(win, cover(d, win), "shirt", head=True)
    win = cv.window(-0.3, 0.3, 0.3, 3.0)
    d = np.maximum(u_abs(win.u) - 0.26, 0.3 - win.v)
    cv.paint(win, cover(d, win), "neck", head=True)

    # --- ears
    win = cv.window(-0.77, 0.77, -0.16, 0.2)
    d = _ellipse(u_abs(win.u) - g["ear_x"], win.v - g["ear_y"], 0.075, 0.13)
    cv.paint(win, cover(d, win), "ear", head=True)

    # --- face: an ellipse, longer below the eyes, narrowing to the jaw
    win = cv.window(-0.7, 0.7, -0.82, 1.0)
    u, v = win.u, win.v
    below = np.maximum(v, 0.0)
    below *= 1.0 / g["bb"]
    taper = np.square(below)
    taper *= -g["jaw"]
    taper += 1.0
    taper *= g["a"]
    ry = np.where(v < 0, _F(0.8), g["bb"])
    d = _ellipse(u / taper, v, _F(1.0), ry)
    d *= 0.6
    cv.paint(win, cover(d, win), "skin", head=True)

    # --- cheeks (AU6 lifts and flushes them)
    win = cv.window(-0.5, 0.5, 0.0, 0.35)
    d = _ellipse(u_abs(win.u) - (g["e"] + 0.03), win.v - g["cheek_y"], 0.1, 0.07)
    d -= 0.02
    cv.paint(win, cover(d, win) * g["cheek_alpha"], "blush")

    # --- forehead lines (AU1, AU2): three arcs above the brows
    win = cv.window(-0.42, 0.42, -0.7, -0.1)
    u, v = win.u, win.v
    k = (g["fh_y"] + 0.35 * np.square(u)) - v
    k *= 1.0 / 0.05
    frac = k - np.clip(np.rint(k), 0.0, 2.0)
    d = u_abs(frac)
    d *= 0.05
    d -= 0.008
    d = np.maximum(d, u_abs(u) - g["fh_len"])
    cv.paint(win, cover(d, win) * g["fh_alpha"], "wrinkle")

    # --- glabella lines (AU4) and nose-bridge wrinkles (AU9)
    win = cv.window(-0.12, 0.12, -0.45, 0.16)
    u, v = win.u, win.v
    au = u_abs(u)
    d = np.maximum(u_abs(au - 0.035) - 0.008, u_abs(v - g["gl_y"]) - 0.045)
    cv.paint(win, cover(d, win) * g["gl_alpha"], "wrinkle")
    k = (v - g["nw_y"] + 0.5 * np.square(u)) * (1.0 / 0.035)
    frac = k - np.clip(np.rint(k), 0.0, 2.0)
    d = np.maximum(u_abs(frac) * 0.035 - 0.007, au - 0.065)
    cv.paint(win, cover(d, win) * g["nw_alpha"], "wrinkle")

    # --- nasolabial folds (AU12 smile, AU9/AU10 sneer)
    win = cv.window(-0.5, 0.5, 0.02, 0.75)
    u, v = win.u, win.v
    s = np.clip((v - g["nl_y0"]) * (1.0 / (g["nl_y1"] - g["nl_y0"])), 0.0, 1.0)
    xc = g["nl_x0"] + (g["nl_x1"] - g["nl_x0"]) * s + 0.1 * s * (1 - s)
    d = np.maximum(u_abs(u_abs(u) - xc) - 0.009, np.maximum(g["nl_y0"] - v, v - g["nl_y1"]))
    cv.paint(win, cover(d, win) * g["nl_alpha"], "wrinkle")

    # --- nose: a soft shadow under the tip and two nostrils
    win = cv.window(-0.2, 0.2, -0.05, 0.32)
    u, v = win.u, win.v
    d = _ellipse(u, v - (g["nose_y"] - 0.035), g["nose_w"], _F(0.055))
    cv.paint(win, cover(d, win) * 0.7, "nose")
    d = _ellipse(u_abs(u) - 0.5 * g["nose_w"], v - (g["nose_y"] - 0.01), _F(0.03), _F(0.017))
    cv.paint(win, cover(d, win), "nostril")

    # --- hair in front: the cap above the hairline (and fringe / side locks)
    win = cv.window(-0.78, 0.78, -0.92, 0.75)
    u, v = win.u, win.v
    au = u_abs(u)
    cap_rx = g["a"] + 0.03
    d_cap = np.where(v < 0, _ellipse(u, v, cap_rx, _F(0.84)), au - cap_rx)
    r = au * (1.0 / g["a"])
    line = np.square(r) * r
    line *= g["side_drop"]
    line += g["hairline"] + g["hair_part"] * u
    d = np.maximum(d_cap, v - line)
    cv.paint(win, cover(d, win) * g["hair_alpha"], "hair")

    # --- eyes (both at once: mirrored in |u|)
    win = cv.window(-0.47, 0.47, -0.32, 0.1)
    u, v = win.u, win.v
    ex = u_abs(u) - g["e"]
    ey = v - g["ey"]
    w = g["w"]
    t = np.square(ex * (1.0 / w))
    np.subtract(1.0, t, out=t)
    f_u = g["tilt"] * ex
    f_u += g["hu"]
    f_u *= t
    f_u += ey
    np.negative(f_u, out=f_u)                      # > 0 above the upper lid
    f_l = ey - g["hl"] * t                         # > 0 below the lower lid
    f_x = u_abs(ex) - w
    f_open = np.maximum(np.maximum(f_u, f_l), f_x)
    lash = np.maximum(np.maximum(f_u - 0.028, f_l - 0.01), f_x - 0.018)
    cv.paint(win, cover(lash, win), "lash")
    cv.paint(win, cover(f_open.copy(), win), "sclera")
    r2 = np.square(ex) + np.square(ey)
    ri = g["r_iris"]
    d = np.maximum(np.sqrt(r2) - ri, f_open)
    cv.paint(win, cover(d, win), "iris")
    d = np.maximum(np.sqrt(r2) - 0.45 * ri, f_open)
    cv.paint(win, cover(d, win), "pupil")
    gx = np.where(u < 0, -ex, ex) + 0.35 * ri
    gy = ey + 0.35 * ri
    d = np.maximum(np.sqrt(np.square(gx) + np.square(gy)) - 0.3 * ri, f_open)
    cv.paint(win, cover(d, win), "glint")

    # --- brows: tapered arcs from the inner to the outer end
    win = cv.window(-0.48, 0.48, -0.5, 0.0)
    u, v = win.u, win.v
    x = u_abs(u)
    s = np.clip((x - g["bx_i"]) * g["b_inv_len"], 0.0, 1.0)
    yc = g["by_i"] + (g["by_o"] - g["by_i"]) * s
    yc -= 4.0 * g["arch"] * s * (1.0 - s)
    half = g["b_th"] * (1.0 - 0.45 * s)
    d = u_abs(v - yc) - half
    d *= g["b_norm"]
    d = np.maximum(d, np.maximum(g["bx_i"] - x, x - g["bx_o"]))
    cv.paint(win, cover(d, win), "brow")

    # --- mouth: lips, dark interior, teeth
    win = cv.window(-0.42, 0.42, 0.22, 0.86)
    u, v = win.u, win.v
    mw = g["m_w"]
    s2 = np.square(u * (1.0 / mw))
    t = np.clip(1.0 - s2, 0.0, 1.0)
    st = np.sqrt(t)
    c = g["m_c"] + g["m_cd"] * s2 - g["m_chin"] * t
    prof_u = t + g["m_round"] * (st - t)
    yu = c - g["m_up"] * prof_u                    # upper inner lip edge
    yl = c + g["m_lo"] * st                        # lower inner lip edge
    f_x = u_abs(u) - mw
    lips = np.maximum(np.maximum(yu - g["m_lu"] * st - v, v - yl - g["m_ll"] * st), f_x - 0.008)
    cv.paint(win, cover(lips, win), "lips")
    half = np.maximum(_F(0.011), 0.45 * cv.px)
    inner = np.maximum(np.maximum(yu - half - v, v - yl - half), f_x)
    cv.paint(win, cover(inner, win), "mouth")
    core = np.maximum(np.maximum(yu - v, v - yl), f_x + 0.1 * mw)
    d = np.maximum(core, v - yu - g["teeth_h"])
    cv.paint(win, cover(d, win) * g["teeth_alpha"], "teeth")
    d = np.maximum(core, yl - 0.03 - v)
    cv.paint(win, cover(d, win) * g["lteeth_alpha"], "teeth")

    # --- chin crease (AU17)
    win = cv.window(-0.14, 0.14, 0.45, 1.0)
    u, v = win.u, win.v
    d = np.maximum(u_abs(v - g["chin_y"] - 1.6 * np.square(u)) - 0.009, u_abs(u) - 0.08)
    cv.paint(win, cover(d, win) * g["chin_alpha"], "wrinkle")

    # --- glasses: two rims, a bridge and the arms
    win = cv.window(-0.74, 0.74, -0.22, 0.12)
    u, v = win.u, win.v
    au = u_abs(u)
    rx = g["w"] + 0.06
    ring = u_abs(_ellipse(au - g["e"], v - (g["ey"] + 0.01), rx, _F(0.1))) - 0.012
    bar = u_abs(v - (g["ey"] - 0.02)) - 0.011
    bridge = np.maximum(bar, au - (g["e"] - rx + 0.01))
    arm = np.maximum(bar, np.maximum(g["e"] + rx - 0.01 - au, au - g["a"]))
    d = np.minimum(ring, np.minimum(bridge, arm))
    cv.paint(win, cover(d, win) * g["glasses"], "frame")


def _box3(x: np.ndarray) -> np.ndarray:
    """3x3 [1, 2, 1] blur over the last two axes (edges replicated)."""
    h = x * 2.0
    h[..., :, 1:] += x[..., :, :-1]
    h[..., :, :-1] += x[..., :, 1:]
    h[..., :, 0] += x[..., :, 0]
    h[..., :, -1] += x[..., :, -1]
    v = h * 2.0
    v[..., 1:, :] += h[..., :-1, :]
    v[..., :-1, :] += h[..., 1:, :]
    v[..., 0, :] += h[..., 0, :]
    v[..., -1, :] += h[..., -1, :]
    v *= 1.0 / 16.0
    return v


def _noise(rng: np.random.Generator, shape) -> np.ndarray:
    """Zero-mean, unit-variance noise (a sum of two uniforms: much cheaper than Gaussian)."""
    u = rng.random(shape, dtype=_F)
    u += rng.random(shape, dtype=_F)
    u -= 1.0
    u *= math.sqrt(6.0)
    return u


def _upsample(x: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of the last two axes to ``size`` (half-pixel centres, edges clamped)."""
    res = x.shape[-1]
    pos = np.clip((np.arange(size) + 0.5) * (res / size) - 0.5, 0, res - 1)
    i0 = np.minimum(pos.astype(int), res - 2)
    f = (pos - i0).astype(x.dtype)
    cols = x[..., i0] * (1 - f) + x[..., i0 + 1] * f
    return cols[..., i0, :] * (1 - f)[:, None] + cols[..., i0 + 1, :] * f[:, None]


def _clutter(rng: np.random.Generator, n: int, size: int, blobs: int = 6) -> np.ndarray:
    """Out-of-focus background: a two-colour gradient plus soft blobs and boxes, ``[3, n, S, S]``."""
    res = 12
    grid = (np.arange(res, dtype=np.float64) + 0.5) / res * 2 - 1
    xx, yy = grid[None, None, :], grid[None, :, None]

    def colours(*shape):  # muted colours: a grey level plus a little chroma
        return np.clip(rng.uniform(0.1, 0.9, shape[:-3] + (1, 1, 1)) + rng.normal(0, 0.12, shape), 0, 1)

    c1, c2 = colours(2, n, 3, 1, 1)
    ang = rng.uniform(0, 2 * np.pi, (n, 1, 1, 1))
    proj = (np.cos(ang) * xx[:, None] + np.sin(ang) * yy[:, None] + 1.4) / 2.8
    bg = c1 + (c2 - c1) * proj                                      # [n, 3, r, r]
    for _ in range(blobs):
        cx, cy = rng.uniform(-1.2, 1.2, (2, n, 1, 1))
        rx, ry = rng.uniform(0.15, 0.7, (2, n, 1, 1))
        box = rng.random((n, 1, 1)) < 0.4
        dx, dy = np.abs(xx - cx) / rx, np.abs(yy - cy) / ry
        dist = np.where(box, np.maximum(dx, dy), np.sqrt(dx * dx + dy * dy))
        m = np.clip((1 - dist) * 4, 0, 1) * rng.uniform(0.5, 1.0, (n, 1, 1))
        colour = colours(n, 3, 1, 1)
        bg += m[:, None] * (colour - bg)
    return np.ascontiguousarray(_upsample(bg.astype(_F), size).transpose(1, 0, 2, 3))


def _post(cv: _Canvas, domain: str, ident: np.ndarray, rng: np.random.Generator | None):
    """Background, lighting, camera: float32 ``[C, N, S, S]`` in about [0, 1], and a gain or None."""
    img, T, n, size = cv.img, cv.T, cv.n, cv.size
    if domain == "render":
        for c in range(3):
            img[c] += T * cv.pal["backdrop"][c]
        return img, None
    full = cv.window(None, None, None, None)
    if domain == "photo":
        ang = rng.uniform(0, 2 * np.pi, n)
        k = rng.uniform(0.15, 0.4, n)
        un = full.u / _c(ident[:, _IP["face_width"]])
        vn = (full.v - 0.05) * (1 / 0.85)
        light = _c(k * np.cos(ang)) * un + _c(k * np.sin(ang)) * vn
        light += 1.05
        light -= 0.12 * (np.square(un) + np.square(vn))
        np.clip(light, 0.35, 1.5, out=light)
        half = (size + 1) // 2
        grain = _upsample(rng.standard_normal((n, half, half), dtype=_F), size)
        grain *= 0.05
        grain += 1.0
        light *= grain
        img *= light
        img += T * _clutter(rng, n, size)
        blur = _c(rng.uniform(0.0, 1.0, n))
        img += blur * (_box3(img) - img)
        img += _c(rng.uniform(0.01, 0.045, n)) * _noise(rng, img.shape)
        # exposure and white balance (applied when the image is quantised)
        return img, _c(rng.uniform(0.8, 1.12, n))[None] * rng.uniform(0.9, 1.1, (3, n, 1, 1)).astype(_F)
    if domain == "nir":
        step = 2.0 / size
        grid = (np.arange(size, dtype=_F) + 0.5) * step - 1
        cx, cy = _c(rng.uniform(-0.2, 0.2, n)), _c(rng.uniform(-0.3, 0.1, n))
        r2 = np.square(grid[None, None, :] - cx) + np.square(grid[None, :, None] - cy)
        bg = _c(rng.uniform(0.12, 0.3, n)) + _c(rng.uniform(-0.06, 0.06, n)) * grid[None, :, None]
        out = img[0]
        out += T * bg
        out *= 1.12 - _c(rng.uniform(0.2, 0.4, n)) * r2
        out += _c(rng.uniform(0.0, 0.7, n)) * (_box3(out) - out)
        out += _c(rng.uniform(0.02, 0.05, n)) * _noise(rng, out.shape)
        return img, None
    # sketch
    tone, ids, ids2 = img[0], img[1], img[2]
    tone += T
    edge = np.zeros_like(ids)
    for m in (ids, ids2):
        gx = np.abs(m[:, :, 1:] - m[:, :, :-1])
        gy = np.abs(m[:, 1:, :] - m[:, :-1, :])
        np.maximum(edge[:, :, :-1], gx, out=edge[:, :, :-1])
        np.maximum(edge[:, :-1, :], gy, out=edge[:, :-1, :])
    line = np.clip((edge - 0.04) * 7.0, 0.0, 1.0)
    line *= _c(rng.uniform(0.75, 0.95, n))
    g = tone * (1.0 - line)
    g += _noise(rng, g.shape) * 0.02
    paper = rng.uniform(0.0, 0.04, (n, 3))
    out = np.empty_like(img)
    for c in range(3):
        out[c] = g * _c(1.0 - paper[:, c] * [0.2, 0.6, 1.4][c])
    return out, None


def _render_chunk(actions, ident, poses, domain, size, seed, out):
    channels = _NATIVE_CHANNELS[domain]
    cv = _Canvas(size, poses, _palette(ident, domain), channels)
    _draw(cv, _geometry(actions, ident))
    rng = np.random.default_rng(seed) if seed is not None else None
    img, gain = _post(cv, domain, ident, rng)
    img *= 255.0 if gain is None else 255.0 * gain
    img += 0.5
    np.clip(img, 0, 255, out=img)
    out[...] = img.astype(np.uint8).transpose(1, 2, 3, 0)


def _chunk_faces(size: int) -> int:
    return max(1, 65536 // (size * size))


def _check_domain(domain) -> str:
    if domain not in DOMAINS:
        raise ConfigError(f"unknown domain {domain!r}; choose one of: {', '.join(DOMAINS)}")
    return domain


def _check_size(size) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < MIN_SIZE:
        raise ConfigError(f"size must be an integer >= {MIN_SIZE} (e.g. 32, 48, 64, 128), got {size!r}")
    return int(size)


def render_faces(actions, identities, poses, domain: str = "render", size: int = 48, rng=None,
                 threads: int | None = None) -> np.ndarray:
    """Render faces: uint8 ``[N, size, size, C]`` (C = 3, or 1 for ``nir``).

    ``actions`` is ``[N, len(ACTION_UNITS)]`` (values clipped to [0, 1]),
    ``identities`` ``[N, len(IDENTITY_PARAMS)]`` (rows of
    :func:`sample_identities`), ``poses`` ``[N, 4]`` (:func:`sample_poses`).
    The geometry depends only on these three (a face's pixels never depend on
    the other faces of the batch), so the same rows in two domains give
    aligned faces. ``rng`` (a Generator or a seed; None = seed 0) draws the
    domain's randomness (background clutter, lighting, noise), block by block
    of faces in batch order; ``render`` uses none. ``threads`` renders blocks
    in parallel (default: up to 2); the result does not depend on it.
    """
    domain = _check_domain(domain)
    size = _check_size(size)
    actions = np.asarray(actions, dtype=np.float32)
    identities = np.asarray(identities, dtype=np.float32)
    poses = np.asarray(poses, dtype=np.float32)
    if actions.ndim == 1:
        actions = actions[None]
    n = len(actions)
    shapes = {"actions": (actions, len(ACTION_UNITS)), "identities": (identities, len(IDENTITY_PARAMS)),
              "poses": (poses, len(POSE_PARAMS))}
    for name, (arr, width) in shapes.items():
        if arr.ndim != 2 or arr.shape != (n, width):
            raise ConfigError(f"{name} must have shape ({n}, {width}), got {arr.shape}")
    channels = _NATIVE_CHANNELS[domain]
    out = np.empty((n, size, size, channels), dtype=np.uint8)
    if n == 0:
        return out
    step = _chunk_faces(size)
    starts = list(range(0, n, step))
    if domain == "render":
        seeds = [None] * len(starts)
    else:
        seeds = _rng(rng).integers(0, 2**63 - 1, size=len(starts)).tolist()
    jobs = [(actions[a:a + step], identities[a:a + step], poses[a:a + step], domain, size, sd,
             out[a:a + step]) for a, sd in zip(starts, seeds)]
    if threads is None:
        threads = min(2, os.cpu_count() or 1)
    if threads <= 1 or len(jobs) == 1:
        for job in jobs:
            _render_chunk(*job)
    else:
        with ThreadPoolExecutor(max_workers=int(threads)) as pool:
            list(pool.map(lambda job: _render_chunk(*job), jobs))
    return out


# ---------------------------------------------------------------------------
# Dataset
# ---------------------------------------------------------------------------

_BLOCK = 512
_CACHE_BYTES = 512 * 2**20


def _check_priors(class_priors) -> np.ndarray:
    if class_priors is None:
        return np.full(len(EKMAN7), 1.0 / len(EKMAN7))
    if isinstance(class_priors, str):
        if class_priors != "fer2013":
            raise ConfigError(f"unknown class_priors {class_priors!r}; use None (uniform), 'fer2013' or "
                              f"{len(EKMAN7)} probabilities in the order {', '.join(EKMAN7)}")
        return np.asarray(fer2013_priors(), dtype=np.float64)
    try:
        p = np.asarray(class_priors, dtype=np.float64)
    except (TypeError, ValueError):
        p = None
    if p is None or p.shape != (len(EKMAN7),) or not np.all(np.isfinite(p)) or np.any(p < 0) \
            or abs(p.sum() - 1.0) > 1e-6:
        raise ConfigError(f"class_priors must be None (uniform), 'fer2013' or {len(EKMAN7)} non-negative "
                          f"probabilities summing to 1 in the order {', '.join(EKMAN7)}; got {class_priors!r}")
    return p / p.sum()


def _check_intensity_range(intensity) -> tuple[float, float]:
    if isinstance(intensity, (int, float, np.floating, np.integer)) and not isinstance(intensity, bool):
        lo = hi = float(intensity)
    else:
        try:
            lo, hi = (float(x) for x in intensity)
        except (TypeError, ValueError):
            raise ConfigError(f"intensity must be a number or a (low, high) pair in [0, 1], "
                              f"got {intensity!r}") from None
    if not (0.0 <= lo <= hi <= 1.0):
        raise ConfigError(f"intensity must lie in [0, 1] with low <= high, got {intensity!r}")
    return lo, hi


class EmoFaces(Dataset):
    """Procedural faces showing Ekman's seven emotions, with their ground truth.

    Each item is ``(image, label)``: by default a float tensor ``[C, H, W]``
    in [0, 1] and an index into ``classes`` (= ``EKMAN7``). Everything but
    the pixels is drawn up front from ``seed``; the pixels are rendered on
    demand in blocks of 512 samples (and cached), so any access order gives
    the same, bit-identical images.

    Args:
        n: number of samples.
        size: image side in pixels (>= 32).
        domain: one of :data:`DOMAINS` (``render``, ``photo``, ``nir``, ``sketch``).
        class_priors: None (uniform), ``"fer2013"`` (FER2013's imbalance) or seven
            probabilities in ``EKMAN7`` order.
        intensity: expression intensity, a number or a ``(low, high)`` range drawn
            uniformly, in [0, 1]. Neutral samples have intensity 0.
        n_identities: number of distinct people who recur with different
            expressions (None: a new person for every sample).
        compound: fraction of the non-neutral samples showing a two-emotion
            compound (Du et al., 2014): the label's prototype mixed with a partner
            from :data:`COMPOUND_PAIRS`, the label keeping weight 0.55-0.8.
        channels: 1 (grayscale) or 3; None = the domain's native (1 for ``nir``,
            3 otherwise).
        seed: fixes labels, intensities, people, poses and pixels.
        transform: replaces the default conversion; it receives a PIL image
            (mode ``"L"`` or ``"RGB"`` after the ``channels`` conversion).
        target_transform: applied to the integer label.
    """

    name = "emofaces"

    def __init__(self, n: int = 1000, size: int = 48, domain: str = "render", class_priors=None,
                 intensity=(0.6, 1.0), n_identities: int | None = None, compound: float = 0.0,
                 channels: int | None = None, seed: int = 0, transform=None, target_transform=None):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"n must be a positive integer, got {n!r}")
        self.domain = _check_domain(domain)
        self.size = _check_size(size)
        priors = _check_priors(class_priors)
        lo, hi = _check_intensity_range(intensity)
        if n_identities is not None and (isinstance(n_identities, bool)
                                         or not isinstance(n_identities, (int, np.integer)) or n_identities < 1):
            raise ConfigError(f"n_identities must be None or a positive integer, got {n_identities!r}")
        try:
            compound = float(compound)
        except (TypeError, ValueError):
            compound = float("nan")
        if not 0.0 <= compound <= 1.0:
            raise ConfigError(f"compound must be a fraction in [0, 1], got {compound!r}")
        if channels not in (None, 1, 3):
            raise ConfigError(f"channels must be None (native), 1 or 3, got {channels!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
        n = int(n)
        self.seed = int(seed)
        self._channels_arg = channels
        self.transform, self.target_transform = transform, target_transform
        self.classes = list(EKMAN7)
        self.class_priors = priors

        rng = np.random.default_rng(self.seed)
        k = n if n_identities is None else int(n_identities)
        self.identity_params = sample_identities(k, rng)
        self.targets = rng.choice(len(EKMAN7), size=n, p=priors).astype(np.int64)
        neutral = self.targets == EKMAN7.index("neutral")
        intens = rng.uniform(lo, hi, n)
        intens[neutral] = 0.0
        self.intensities = intens.astype(np.float32)
        mix = np.zeros((n, len(EKMAN7)), dtype=np.float64)
        mix[np.arange(n), self.targets] = 1.0
        is_compound = (rng.random(n) < compound) & ~neutral
        dominant = rng.uniform(0.55, 0.8, n)
        pick = rng.random(n)
        for i in np.flatnonzero(is_compound):
            partners = _PARTNERS[EKMAN7[self.targets[i]]]
            j = partners[min(int(pick[i] * len(partners)), len(partners) - 1)]
            mix[i, self.targets[i]] = dominant[i]
            mix[i, j] = 1.0 - dominant[i]
        self.mixtures = mix.astype(np.float32)
        self.is_compound = is_compound
        scale = self.intensities[:, None].astype(np.float64)
        self.actions = (scale * (mix @ _PROTO_MATRIX.astype(np.float64))).astype(np.float32)
        self.valence_arousal = (scale * (mix @ _VA_MATRIX.astype(np.float64))).astype(np.float32)
        self.identities = (np.arange(n) if n_identities is None else rng.integers(0, k, n)).astype(np.int64)
        self.poses = sample_poses(n, rng)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()

    # -- sizes and channels
    @property
    def native_channels(self) -> int:
        return _NATIVE_CHANNELS[self.domain]

    @property
    def channels(self) -> int:
        return self.native_channels if self._channels_arg is None else self._channels_arg

    def __len__(self) -> int:
        return len(self.targets)

    def __repr__(self) -> str:
        return (f"EmoFaces(n={len(self)}, size={self.size}, domain={self.domain!r}, channels={self.channels}, "
                f"identities={len(self.identity_params)}, seed={self.seed})")

    # -- rendering
    def _block(self, b: int) -> np.ndarray:
        if b in self._cache:
            self._cache.move_to_end(b)
            return self._cache[b]
        sl = slice(b * _BLOCK, min(len(self), (b + 1) * _BLOCK))
        rng = np.random.default_rng([self.seed, b, DOMAINS.index(self.domain), self.size])
        imgs = render_faces(self.actions[sl], self.identity_params[self.identities[sl]], self.poses[sl],
                            self.domain, self.size, rng)
        self._cache[b] = imgs
        while len(self._cache) > 1 and sum(x.nbytes for x in self._cache.values()) > _CACHE_BYTES:
            self._cache.popitem(last=False)
        return imgs

    def _convert(self, imgs: np.ndarray) -> np.ndarray:
        want, have = self.channels, imgs.shape[-1]
        if want == have:
            return imgs
        if want == 3:
            return np.repeat(imgs, 3, axis=-1)
        luma = imgs.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        return np.clip(luma + 0.5, 0, 255).astype(np.uint8)[..., None]

    def images(self, indices=None) -> np.ndarray:
        """Images as uint8 ``[len(indices), H, W, channels]`` (all of them when None)."""
        if indices is None:
            idx = np.arange(len(self))
        else:
            idx = np.asarray(indices, dtype=np.int64).reshape(-1)
            if idx.size and (idx.min() < -len(self) or idx.max() >= len(self)):
                raise IndexError(f"indices out of range for {len(self)} samples")
            idx = idx % len(self)
        out = np.empty((len(idx), self.size, self.size, self.native_channels), np.uint8)
        blocks = idx // _BLOCK
        for b in np.unique(blocks):
            sel = blocks == b
            out[sel] = self._block(int(b))[idx[sel] - b * _BLOCK]
        return self._convert(out)

    def _index(self, i) -> int:
        i = int(i)
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} samples")
        return i % len(self)

    def __getitem__(self, i):
        i = self._index(i)
        img = self.images([i])[0]
        if self.transform is not None:
            from PIL import Image

            image = self.transform(Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img))
        else:
            image = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).float().div_(255.0)
        label = int(self.targets[i])
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def sample(self, i) -> dict:
        """Everything known about sample ``i``; ``image`` is uint8 ``[H, W, channels]``."""
        i = self._index(i)
        label = int(self.targets[i])
        return {
            "image": self.images([i])[0],
            "label": label,
            "emotion": EKMAN7[label],
            "intensity": float(self.intensities[i]),
            "actions": self.actions[i].copy(),
            "valence_arousal": self.valence_arousal[i].copy(),
            "identity": int(self.identities[i]),
            "mixture": self.mixtures[i].copy(),
            "pose": self.poses[i].copy(),
        }

    def render_as(self, domain: str, size: int | None = None) -> EmoFaces:
        """The same samples (labels, actions, people, poses) rendered in another domain (and size)."""
        other = copy.copy(self)
        other.domain = _check_domain(domain)
        other.size = self.size if size is None else _check_size(size)
        other._cache = OrderedDict()
        return other

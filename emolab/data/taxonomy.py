"""Emotion taxonomies, as data.

Sources
-------
* Ekman's basic emotions (Ekman, 1992, "An argument for basic emotions"), in
  the order FER2013 labels them 0..6 (Goodfellow et al., 2013).
* Mikels' eight image emotions (Mikels et al., 2005, "Emotional category data
  on images from the International Affective Picture System"); the
  CycleEmotionGAN paper classifies ArtPhoto and FI into these.
* Valence–arousal anchors on Russell's circumplex (Russell, 1980; values after
  Russell & Mehrabian, 1977, rescaled to [-1, 1]); approximate, as every such
  table is — they place each category, they do not measure anybody.
* Mikels' emotion wheel (Zhao et al., 2016; Fig. 3 of the CycleEmotionGAN
  paper): the eight emotions on a circle, with the pairwise distance
  ``1 + steps around the wheel`` (1 for the same emotion, 5 for opposites).
  Our ordering is the angular order of the eight categories on the
  circumplex (below), so that neighbours on the wheel are neighbours in
  valence–arousal; ``tests/test_taxonomy.py`` checks the two agree.
* Label maps of the common facial-expression datasets, from their
  documentation: FER2013, CK+ (Lucey et al., 2010), JAFFE (Lyons et al.,
  1998), AffectNet (Mollahosseini et al., 2017), KDEF (Lundqvist et al.,
  1998) and RaFD (Langner et al., 2010).
"""

from __future__ import annotations

import math

#: Ekman's seven, in FER2013's label order.
EKMAN7 = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
#: Every facial-expression category any supported dataset uses.
FACE_CATEGORIES = EKMAN7 + ("contempt",)

#: Mikels' eight, positive first (the CycleEmotionGAN paper's order).
MIKELS8 = ("amusement", "awe", "contentment", "excitement", "anger", "disgust", "fear", "sadness")

#: (valence, arousal) anchors in [-1, 1] on Russell's circumplex.
VALENCE_AROUSAL = {
    "angry": (-0.51, 0.59),
    "disgust": (-0.60, 0.35),
    "fear": (-0.64, 0.60),
    "happy": (0.76, 0.48),
    "sad": (-0.63, -0.27),
    "surprise": (0.40, 0.67),
    "neutral": (0.0, 0.0),
    "contempt": (-0.55, 0.10),
    # Mikels' eight
    "amusement": (0.65, 0.45),
    "awe": (0.45, 0.30),
    "contentment": (0.70, -0.30),
    "excitement": (0.60, 0.75),
    "anger": (-0.51, 0.59),
    "sadness": (-0.63, -0.27),
}

#: Mikels' wheel: the eight emotions in order around the circle.
MIKELS_WHEEL = ("contentment", "awe", "amusement", "excitement", "anger", "fear", "disgust", "sadness")


def wheel_steps(a: str, b: str, wheel: tuple[str, ...] = MIKELS_WHEEL) -> int:
    """Steps from ``a`` to ``b`` around the wheel, the shorter way (0..len/2)."""
    for name in (a, b):
        if name not in wheel:
            raise KeyError(f"{name!r} is not on the wheel {wheel}")
    d = abs(wheel.index(a) - wheel.index(b))
    return min(d, len(wheel) - d)


def wheel_distance(a: str, b: str, wheel: tuple[str, ...] = MIKELS_WHEEL) -> int:
    """Mikels' emotion distance: ``1 + steps around the wheel`` (CycleEmotionGAN, Fig. 3)."""
    return 1 + wheel_steps(a, b, wheel)


def wheel_distance_matrix(classes: tuple[str, ...] = MIKELS8) -> list[list[int]]:
    """``D[i][j] = wheel_distance(classes[i], classes[j])``, in the given class order."""
    return [[wheel_distance(a, b) for b in classes] for a in classes]


def circumplex_angle(name: str) -> float:
    """Angle of a category on the valence–arousal plane, degrees in [0, 360)."""
    v, a = VALENCE_AROUSAL[name]
    return math.degrees(math.atan2(a, v)) % 360


#: FER2013's training-set class counts (28,709 images), in EKMAN7 order.
FER2013_TRAIN_COUNTS = (3995, 436, 4097, 7215, 4830, 3171, 4965)


def fer2013_priors() -> tuple[float, ...]:
    """FER2013's class imbalance as probabilities (disgust is rare: 1.5%)."""
    total = sum(FER2013_TRAIN_COUNTS)
    return tuple(c / total for c in FER2013_TRAIN_COUNTS)


#: Each dataset's own labels -> our category names (``None``: no counterpart).
LABEL_MAPS: dict[str, dict] = {
    # FER2013: integer labels 0..6; its class-folder releases use these names
    # (some spell them "angry", "disgusted", "fearful", "happy", "neutral", "sad", "surprised").
    "fer2013": {
        **dict(enumerate(EKMAN7)),
        **{n: n for n in EKMAN7},
        "disgusted": "disgust", "fearful": "fear", "surprised": "surprise", "anger": "angry",
        "sadness": "sad", "happiness": "happy",
    },
    # CK+: the emotion files use 0=neutral 1=anger 2=contempt 3=disgust 4=fear
    # 5=happy 6=sadness 7=surprise; CK+48 ships class folders with the names.
    "ckplus": {
        0: "neutral", 1: "angry", 2: "contempt", 3: "disgust", 4: "fear", 5: "happy", 6: "sad", 7: "surprise",
        "neutral": "neutral", "anger": "angry", "contempt": "contempt", "disgust": "disgust",
        "fear": "fear", "happy": "happy", "sadness": "sad", "surprise": "surprise",
    },
    # JAFFE: the expression code in file names like KA.AN1.39.tiff.
    "jaffe": {"NE": "neutral", "HA": "happy", "SA": "sad", "SU": "surprise", "AN": "angry",
              "DI": "disgust", "FE": "fear"},
    # AffectNet (eight-class release): 0 neutral, 1 happy, 2 sad, 3 surprise,
    # 4 fear, 5 disgust, 6 anger, 7 contempt.
    "affectnet": {
        0: "neutral", 1: "happy", 2: "sad", 3: "surprise", 4: "fear", 5: "disgust", 6: "angry", 7: "contempt",
        "neutral": "neutral", "happy": "happy", "sad": "sad", "surprise": "surprise", "fear": "fear",
        "disgust": "disgust", "anger": "angry", "contempt": "contempt",
    },
    # KDEF: two-letter codes in file names like AF01ANS.JPG (AF afraid, AN angry,
    # DI disgusted, HA happy, NE neutral, SA sad, SU surprised).
    "kdef": {"AF": "fear", "AN": "angry", "DI": "disgust", "HA": "happy", "NE": "neutral",
             "SA": "sad", "SU": "surprise"},
    # RaFD: the expression word in file names like Rafd090_01_Caucasian_female_angry_frontal.jpg.
    "rafd": {"angry": "angry", "contemptuous": "contempt", "disgusted": "disgust", "fearful": "fear",
             "happy": "happy", "neutral": "neutral", "sad": "sad", "surprised": "surprise"},
}


def to_category(dataset: str, label) -> str | None:
    """Our category name for ``label`` in ``dataset``'s own vocabulary."""
    if dataset not in LABEL_MAPS:
        raise KeyError(f"no label map for {dataset!r}; known: {', '.join(LABEL_MAPS)}")
    table = LABEL_MAPS[dataset]
    key = label.lower() if isinstance(label, str) and label.lower() in table else label
    if key not in table:
        known = sorted({str(k) for k in table})
        raise KeyError(f"{label!r} is not a {dataset} label; known: {', '.join(known)}")
    return table[key]


def map_labels(labels, source: str, target_classes: tuple[str, ...] = EKMAN7) -> list[int]:
    """Indices into ``target_classes`` (-1 where the category has no counterpart)."""
    out = []
    for label in labels:
        name = to_category(source, label)
        out.append(target_classes.index(name) if name in target_classes else -1)
    return out

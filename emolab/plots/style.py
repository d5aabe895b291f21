"""One look for every figure in the book."""

from __future__ import annotations

import seaborn as sns

#: One colour per class, colour-blind safe.
CLASS_COLORS = sns.color_palette("colorblind", 10)
GENERATED_COLOR = "#d62728"

_CB = sns.color_palette("colorblind", 10).as_hex()
#: One fixed colour per basic emotion (the colour-blind palette), so a class keeps
#: its colour from figure to figure; neutral grey, disgust green and sad blue stand apart.
EMOTION_COLORS = {
    "angry": _CB[3],     # vermilion
    "disgust": _CB[2],   # green
    "fear": _CB[4],      # purple
    "happy": _CB[1],     # orange
    "sad": _CB[0],       # blue
    "surprise": _CB[5],  # brown
    "neutral": _CB[7],   # grey
    "contempt": _CB[8],  # yellow
}


def apply_style() -> None:
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.9)

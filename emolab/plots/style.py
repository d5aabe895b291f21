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
#: One fixed colour per Mikels emotion. The negative four keep their basic-emotion
#: colours (anger as angry, sadness as sad); the positive four get the rest, with
#: amusement (happy's orange) and excitement (pink) apart, as they are often confused.
MIKELS_COLORS = {
    "amusement": _CB[1],    # orange
    "awe": _CB[9],          # sky blue
    "contentment": _CB[8],  # yellow
    "excitement": _CB[6],   # pink
    "anger": _CB[3],        # vermilion
    "disgust": _CB[2],      # green
    "fear": _CB[4],         # purple
    "sadness": _CB[0],      # blue
}


def apply_style() -> None:
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.9)


def legend_of_lines(fig, axes, fontsize: float = 8) -> None:
    """One figure legend, outside on the right, with one entry per line label over ``axes``
    (a label drawn in several panels appears once)."""
    handles = {}
    for ax in axes:
        for line in ax.get_lines():
            handles.setdefault(line.get_label(), line)
    fig.legend(list(handles.values()), list(handles), loc="outside right center", fontsize=fontsize)

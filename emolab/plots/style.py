"""One look for every figure in the book."""

from __future__ import annotations

import seaborn as sns

#: One colour per class, colour-blind safe.
CLASS_COLORS = sns.color_palette("colorblind", 10)
GENERATED_COLOR = "#d62728"


def apply_style() -> None:
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.9)

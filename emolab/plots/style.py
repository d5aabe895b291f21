"""One look for every figure in the book."""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.axes import Axes

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


def legend_of_lines(where, axes, fontsize: float = 8) -> None:
    """One legend with one entry per line label over ``axes`` (a label drawn in several
    panels appears once). ``where``: an empty Axes (the legend fills it) or a Figure: the
    legend fills its first spare cell (axis off, see :func:`panel_grid`), else goes
    outside, on the right."""
    handles = {}
    for ax in axes:
        for line in ax.get_lines():
            handles.setdefault(line.get_label(), line)
    if not isinstance(where, Axes):
        where = next((ax for ax in where.axes if not ax.axison), where)
    if isinstance(where, Axes):
        where.legend(list(handles.values()), list(handles), loc="center", fontsize=fontsize, frameon=False)
    else:
        where.legend(list(handles.values()), list(handles), loc="outside right center", fontsize=fontsize)


#: Panels a row in a book figure: a column is about 690 px wide, so a fourth panel
#: would shrink every panel's text below reading size.
MAX_PANELS_PER_ROW = 3


def panel_grid(n: int, panel_size: tuple[float, float], cols: int = MAX_PANELS_PER_ROW, legend_width: float = 0.0,
               ylabel: str | None = None, **subplots_kw):
    """A figure with ``n`` panels, at most ``cols`` a row: ``(fig, panels, spare)``.

    ``panels`` are the ``n`` Axes in reading order; ``spare`` the unused cells of the
    last row, axis off (a legend fits there: :func:`legend_of_lines`). ``panel_size``
    is one panel's ``(width, height)`` in inches; ``legend_width`` inches are added on the
    right where no cell is spare, for a legend outside; ``ylabel`` labels the first
    panel of each row.
    """
    if n < 1:
        raise ValueError(f"a figure needs at least one panel, got {n}")
    cols = min(cols, n)
    rows = -(-n // cols)
    extra = legend_width if rows * cols == n else 0.0
    subplots_kw.setdefault("constrained_layout", True)
    fig, axes = plt.subplots(rows, cols, figsize=(panel_size[0] * cols + extra, panel_size[1] * rows),
                             squeeze=False, **subplots_kw)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.axis("off")
    if ylabel is not None:
        for ax in flat[:n:cols]:
            ax.set_ylabel(ylabel)
    return fig, flat[:n], flat[n:]

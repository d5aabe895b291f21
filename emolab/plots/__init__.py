"""Figures. Each function draws on a Matplotlib ``Axes`` or returns a ``Figure``;
``FIGURES[chapter](result)`` gives every figure a chapter saves."""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.figure import Figure

from emolab.plots import augment, cycleemotiongan, exprada, ganmut, sigan, toy

FIGURES: dict[str, Callable[[object], dict[str, Figure]]] = {
    "toy": toy.chapter_figures,
    "augment": augment.chapter_figures,
    "cycleemotiongan": cycleemotiongan.chapter_figures,
    "exprada": exprada.chapter_figures,
    "ganmut": ganmut.chapter_figures,
    "sigan": sigan.chapter_figures,
}

__all__ = ["FIGURES", "augment", "cycleemotiongan", "exprada", "ganmut", "sigan", "toy"]

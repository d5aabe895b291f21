"""What each chapter runs. ``CHAPTERS`` is the table the CLI and the book share."""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Chapter:
    name: str          # what `emolab run NAME` takes
    title: str
    notebook: str      # under notebooks/
    paper: str         # under shared/papers/ (the paper behind it)
    module: str        # the experiment module; its ``run(...)`` runs the chapter

    def load(self):
        """Import the experiment module (lazily: ``emolab list`` stays fast)."""
        return importlib.import_module(self.module)


CHAPTERS: dict[str, Chapter] = {
    c.name: c
    for c in [
        Chapter("toy", "A toy manifold: CycleGAN completes a rare class",
                "00_toy_manifold.ipynb", "cyclegan_augmentation.md", "emolab.experiments.toy"),
        Chapter("augment", "Emotion classification with CycleGAN data augmentation",
                "01_cyclegan_augmentation.ipynb", "cyclegan_augmentation.md", "emolab.experiments.augment"),
        Chapter("cycleemotiongan", "CycleEmotionGAN: adapting image emotions without target labels",
                "02_cycleemotiongan.ipynb", "cycleemotiongan.md", "emolab.experiments.cycleemotiongan"),
        Chapter("exprada", "ExprADA: category-guided and unsupervised face translation from simulated to real",
                "03_exprada.ipynb", "exprada.md", "emolab.experiments.exprada"),
        Chapter("ganmut", "GANmut: a learned, interpretable conditional space for a gamut of emotions",
                "04_ganmut.ipynb", "ganmut.md", "emolab.experiments.ganmut"),
        Chapter("sigan", "Semantic-invariant GAN: label and attention consistency for digit adaptation",
                "05_sigan.ipynb", "sigan.md", "emolab.experiments.sigan"),
    ]
}


def get_chapter(name: str) -> Chapter:
    """The chapter called ``name``; an unknown name names the valid ones."""
    from emolab.core.errors import ConfigError

    if name not in CHAPTERS:
        raise ConfigError(f"unknown chapter {name!r}; choose one of: {', '.join(CHAPTERS)}")
    return CHAPTERS[name]


__all__ = ["CHAPTERS", "Chapter", "get_chapter"]

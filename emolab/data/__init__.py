"""Datasets: generated, shipped inside pip packages, or read from a user's path.

Open any of them by name with :func:`emolab.data.registry.open_dataset`; the
classes live in their modules (``emofaces``, ``affectscenes``, ``digits``,
``real``, ``folders``), imported on first use so that ``import emolab.data`` stays light.
"""

from emolab.data.registry import DATASETS, dataset_stats, open_dataset
from emolab.data.toy import GaussianManifold, make_gaussian_manifold

__all__ = ["DATASETS", "GaussianManifold", "dataset_stats", "make_gaussian_manifold", "open_dataset"]

"""Datasets: generated, shipped inside pip packages, or read from a user's path."""

from emolab.data.toy import GaussianManifold, make_gaussian_manifold

__all__ = ["GaussianManifold", "make_gaussian_manifold"]

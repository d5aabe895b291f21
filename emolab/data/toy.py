"""The toy data of Zhu et al. (2018), §4.1: three 2-D Gaussians, one of them rare.

Class means [0, 6], [6.5, 7] and [2, 2], shared covariance [[2, 1], [1, 2]];
1000 / 1000 / 100 training points (class 2 is the minority) and 100 test
points per class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emolab.core.errors import ConfigError

PAPER_MEANS = ((0.0, 6.0), (6.5, 7.0), (2.0, 2.0))
PAPER_COV = ((2.0, 1.0), (1.0, 2.0))
PAPER_TRAIN_SIZES = (1000, 1000, 100)
PAPER_TEST_SIZE = 100


@dataclass
class GaussianManifold:
    """Points and labels of the toy problem (``float32`` points, ``int64`` labels)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    means: np.ndarray
    cov: np.ndarray

    @property
    def n_classes(self) -> int:
        return len(self.means)

    def class_points(self, k: int, split: str = "train") -> np.ndarray:
        x, y = (self.x_train, self.y_train) if split == "train" else (self.x_test, self.y_test)
        return x[y == k]

    def sample(self, k: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """Fresh points of class ``k`` from the true distribution (the oracle)."""
        return rng.multivariate_normal(self.means[k], self.cov, size=n).astype(np.float32)


def make_gaussian_manifold(seed: int = 0, *, means=PAPER_MEANS, cov=PAPER_COV,
                           train_sizes=PAPER_TRAIN_SIZES,
                           test_size: int = PAPER_TEST_SIZE) -> GaussianManifold:
    """Draw the toy data set; one ``seed`` fixes every point."""
    means = np.asarray(means, dtype=np.float64)
    cov = np.asarray(cov, dtype=np.float64)
    if means.ndim != 2 or means.shape[1] != 2:
        raise ConfigError(f"means must have shape (n_classes, 2), got {means.shape}")
    if cov.shape != (2, 2) or not np.allclose(cov, cov.T) or np.any(np.linalg.eigvalsh(cov) <= 0):
        raise ConfigError("cov must be a symmetric positive-definite 2x2 matrix")
    if len(train_sizes) != len(means) or min(train_sizes) < 1 or test_size < 1:
        raise ConfigError("train_sizes needs one positive count per class and test_size > 0")
    rng = np.random.default_rng(seed)

    def draw(sizes):
        xs = [rng.multivariate_normal(m, cov, size=n) for m, n in zip(means, sizes)]
        ys = [np.full(n, k, dtype=np.int64) for k, n in enumerate(sizes)]
        return np.concatenate(xs).astype(np.float32), np.concatenate(ys)

    x_train, y_train = draw(train_sizes)
    x_test, y_test = draw([test_size] * len(means))
    return GaussianManifold(x_train, y_train, x_test, y_test, means, cov)

"""Digit domains that ship with packages (MNIST5k, UCIDigits) or are drawn here (SynthSVHN)."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from emolab.core.errors import ConfigError
from emolab.data.digits import DIGIT_CLASSES, MNIST5k, SynthSVHN, UCIDigits, to_common


@pytest.fixture(scope="module")
def mnist5k():
    return MNIST5k()


def _unit_rows(x: torch.Tensor) -> torch.Tensor:
    x = x.flatten(1)
    x = x - x.mean(1, keepdim=True)
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-8)


def test_mnist5k(mnist5k):
    ds = mnist5k
    assert len(ds) == 5000 and ds.name == "mnist5k" and ds.classes == list(DIGIT_CLASSES)
    assert np.bincount(ds.targets).tolist() == [500] * 10 and ds.targets.dtype == np.int64
    x, y = ds[1234]
    assert x.shape == (1, 32, 32) and x.dtype == torch.float32 and y == int(ds.targets[1234])
    assert 0 <= float(x.min()) and float(x.max()) <= 1 and float(x.max()) > 0.9
    assert MNIST5k(size=None, channels=None)[0][0].shape == (1, 28, 28)
    three = MNIST5k(size=28, channels=3)
    x3, _ = three[7]
    assert x3.shape == (3, 28, 28) and torch.equal(x3[0], x3[2])


def test_uci_digits():
    ds = UCIDigits()
    assert len(ds) == 1797 and ds.name == "uci_digits" and ds.classes == list(DIGIT_CLASSES)
    assert np.bincount(ds.targets).sum() == 1797 and np.bincount(ds.targets).min() >= 170
    x, _ = ds[0]
    assert x.shape == (1, 32, 32) and float(x.max()) <= 1 and float(x.max()) > 0.5
    assert UCIDigits(size=None)[0][0].shape == (1, 8, 8)
    assert UCIDigits(size=16, channels=3, transform=lambda t: t * 0)[0][0].abs().sum() == 0


def test_common_size_and_channels(mnist5k):
    domains = [MNIST5k(size=32, channels=3), UCIDigits(size=32, channels=3), SynthSVHN(n=50, size=32)]
    for ds in domains:
        x, y = ds[0]
        assert x.shape == (3, 32, 32) and x.dtype == torch.float32 and isinstance(y, int)
        xs, ys = ds.to_tensors()
        assert xs.shape == (len(ds), 3, 32, 32) and ys.dtype == torch.int64
        assert ds.size == 32 and ds.channels == 3
    gray = [mnist5k, UCIDigits(), SynthSVHN(n=20, channels=1)]
    assert {ds[0][0].shape for ds in gray} == {(1, 32, 32)}
    assert to_common(np.ones((2, 3, 8, 8), np.float32), 16, 1).shape == (2, 1, 16, 16)


def test_bad_arguments():
    with pytest.raises(ConfigError, match="channels must be 1 or 3"):
        MNIST5k(channels=2)
    with pytest.raises(ConfigError, match="size"):
        UCIDigits(size=0)
    with pytest.raises(ConfigError, match="n must be"):
        SynthSVHN(n=0)
    with pytest.raises(ConfigError, match="seed"):
        SynthSVHN(n=10, seed=-1)
    with pytest.raises(ConfigError, match="size"):
        SynthSVHN(n=10, size=None)
    with pytest.raises(ConfigError, match="font"):
        SynthSVHN(n=10, fonts=("NoSuchFont.ttf",))
    with pytest.raises(ConfigError, match="channels"):
        SynthSVHN(n=10, channels=None)


def test_synth_svhn_determinism_and_balance():
    a, b, c = SynthSVHN(n=1200, seed=3), SynthSVHN(n=1200, seed=3), SynthSVHN(n=1200, seed=4)
    assert torch.equal(a.data, b.data) and np.array_equal(a.targets, b.targets)
    assert not torch.equal(a.data, c.data)
    assert np.bincount(a.targets).tolist() == [120] * 10
    assert np.bincount(SynthSVHN(n=25).targets).tolist() == [3] * 5 + [2] * 5
    assert a.name == "synth_svhn" and a.classes == list(DIGIT_CLASSES) and a.data.dtype == torch.uint8
    x, _ = a[0]
    assert x.shape == (3, 32, 32) and 0 <= float(x.min()) and float(x.max()) <= 1
    # coloured and varied: images differ in colour, and each has a visible digit (contrast)
    xs, _ = a.to_tensors()
    mean_colour = xs.mean((2, 3))
    assert float(mean_colour.std(0).min()) > 0.1
    assert float((xs.std((1, 2, 3)) > 0.05).float().mean()) > 0.95
    assert SynthSVHN(n=10, size=48)[0][0].shape == (3, 48, 48)


def test_synth_svhn_labels_are_the_centre_digit():
    # 1-nearest neighbour (polarity-free cosine on gray images) is far above chance
    ds = SynthSVHN(n=2500, channels=1, seed=5)
    x, y = ds.to_tensors()
    u = _unit_rows(x)
    sim = (u[2000:] @ u[:2000].T).abs()
    acc = float((y[:2000][sim.argmax(1)] == y[2000:]).float().mean())
    assert acc > 0.4


def test_synth_svhn_speed():
    t0 = time.perf_counter()
    ds = SynthSVHN(n=10000, seed=1)
    elapsed = time.perf_counter() - t0
    assert len(ds) == 10000
    assert elapsed < 15, f"10,000 SynthSVHN images took {elapsed:.1f} s"


def test_mnist5k_transfers_to_uci_above_chance(mnist5k):
    # a nearest-class-mean classifier trained on MNIST5k beats chance (10%) on the UCI digits
    xm, ym = MNIST5k(size=16).to_tensors()
    xu, yu = UCIDigits(size=16).to_tensors()
    um = _unit_rows(xm)
    centroids = torch.stack([um[ym == k].mean(0) for k in range(10)])
    acc = float(((_unit_rows(xu) @ centroids.T).argmax(1) == yu).float().mean())
    assert acc > 0.25

"""Seeding, devices, profiles, RNG capture, progress and the metrics writer."""

import json
import random

import numpy as np
import pytest
import torch

from emolab.core import (
    ConfigError,
    capture_rng_state,
    progress_enabled,
    resolve_device,
    resolve_profile,
    restore_rng_state,
    seed_everything,
    write_metrics,
)
from emolab.core.metrics import STANDARD_KEYS


def test_profile_argument_wins_over_environment(monkeypatch):
    monkeypatch.setenv("EMOLAB_PROFILE", "full")
    assert resolve_profile("smoke") == "smoke"


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("EMOLAB_PROFILE", "smoke")
    assert resolve_profile(None) == "smoke"


def test_default_profile_follows_cuda(monkeypatch):
    monkeypatch.delenv("EMOLAB_PROFILE", raising=False)
    assert resolve_profile() == ("full" if torch.cuda.is_available() else "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_profile() == "full"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_profile() == "cpu"
    monkeypatch.setenv("EMOLAB_PROFILE", "")  # empty counts as unset
    assert resolve_profile() == "cpu"


@pytest.mark.parametrize("bad", ["fast", "CPU", "gpu"])
def test_unknown_profile_names_the_choices(bad, monkeypatch):
    with pytest.raises(ConfigError, match="smoke, cpu, full"):
        resolve_profile(bad)
    monkeypatch.setenv("EMOLAB_PROFILE", bad)
    with pytest.raises(ConfigError, match=r"\$EMOLAB_PROFILE"):
        resolve_profile()


def test_devices(monkeypatch):
    assert resolve_device("cpu").type == "cpu"
    with pytest.raises(ConfigError, match="cpu, cuda"):
        resolve_device("tpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device(None).type == "cpu"
    with pytest.raises(ConfigError, match="no CUDA"):
        resolve_device("cuda")


def _draws():
    return (random.random(), np.random.rand(), torch.rand(3).tolist(), torch.randn(2).tolist())


def test_seed_everything_fixes_every_generator():
    seed_everything(123)
    a = _draws()
    seed_everything(123)
    b = _draws()
    seed_everything(124)
    c = _draws()
    assert a == b
    assert a != c
    with pytest.raises(ConfigError):
        seed_everything(-1)


def test_rng_state_round_trip_survives_weights_only(tmp_path):
    seed_everything(7)
    _draws()
    state = capture_rng_state()
    expected = _draws()
    torch.save(state, tmp_path / "rng.pt")
    _draws()  # move every generator on
    restore_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True))
    assert _draws() == expected


def test_progress_quiet_under_ci(monkeypatch):
    monkeypatch.delenv("EMOLAB_NO_PROGRESS", raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert progress_enabled()
    monkeypatch.setenv("CI", "true")
    assert not progress_enabled()
    monkeypatch.setenv("CI", "false")
    assert progress_enabled()
    monkeypatch.setenv("EMOLAB_NO_PROGRESS", "1")
    assert not progress_enabled()


def test_write_metrics(tmp_path):
    metrics = {k: 0 for k in STANDARD_KEYS}
    metrics.update(acc=np.float32(0.5), per_class=np.array([1.0, 2.0]), bad=float("nan"))
    path = write_metrics(tmp_path / "sub" / "metrics.json", metrics)
    loaded = json.loads(path.read_text())
    assert loaded["acc"] == 0.5 and loaded["per_class"] == [1.0, 2.0] and loaded["bad"] is None
    assert [p.name for p in path.parent.iterdir()] == ["metrics.json"]  # no temporary left
    with pytest.raises(ValueError, match="wall_seconds"):
        write_metrics(tmp_path / "m.json", {k: 0 for k in STANDARD_KEYS if k != "wall_seconds"})

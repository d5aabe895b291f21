"""Seeding, deterministic mode, device choice and RNG state capture.

One seed fixes everything: the data (numpy ``Generator`` seeded from it), the
initial weights (torch's global generator) and the sampling during training
(a ``torch.Generator`` owned by the trainer). Two runs with the same seed on
the same machine give bit-identical results on the CPU.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from emolab.core.errors import ConfigError

DEVICES = ("cpu", "cuda")


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed Python, numpy and torch (CPU and CUDA) and, by default, ask torch
    for deterministic kernels."""
    if not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        # Needed by cuBLAS for deterministic matrix products on the GPU.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


def resolve_device(device: str | None = None) -> torch.device:
    """``cuda`` when asked for and present, ``cpu`` when asked for, else the best one.

    Asking for ``cuda`` on a machine without it is an error, not a silent
    fallback: a timing or a result would otherwise be mislabelled.
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in DEVICES:
        raise ConfigError(f"unknown device {device!r}; choose one of: {', '.join(DEVICES)}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "device 'cuda' was asked for but torch sees no CUDA GPU; "
            "use --device cpu (or install a CUDA build of torch)"
        )
    return torch.device(device)


def capture_rng_state() -> dict:
    """Every global RNG state, in types that ``torch.load(weights_only=True)`` accepts."""
    np_state = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": {
            "kind": np_state[0],
            "keys": torch.from_numpy(np_state[1].astype(np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    """Inverse of :func:`capture_rng_state`."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np_state = state["numpy"]
    np.random.set_state(
        (
            np_state["kind"],
            np_state["keys"].numpy().astype(np.uint32),
            np_state["pos"],
            np_state["has_gauss"],
            np_state["cached_gaussian"],
        )
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])

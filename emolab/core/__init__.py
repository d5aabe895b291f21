"""Shared run-time pieces: seeding, devices, profiles, checkpoints, progress."""

from emolab.core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from emolab.core.errors import ConfigError, DivergenceError, EmolabError
from emolab.core.metrics import write_metrics
from emolab.core.profiles import PROFILES, resolve_profile
from emolab.core.progress import progress, progress_enabled
from emolab.core.runtime import (
    capture_rng_state,
    resolve_device,
    restore_rng_state,
    seed_everything,
)

__all__ = [
    "PROFILES",
    "CheckpointError",
    "ConfigError",
    "DivergenceError",
    "EmolabError",
    "capture_rng_state",
    "load_checkpoint",
    "progress",
    "progress_enabled",
    "resolve_device",
    "resolve_profile",
    "restore_rng_state",
    "save_checkpoint",
    "seed_everything",
    "write_metrics",
]

"""Run profiles: one code path, sized by configuration.

``smoke``
    CI and notebook tests: every chapter in at most a minute on 2 cores.
``cpu``
    a laptop: every chapter in at most ten minutes on 2 cores, and the
    paper's claims must show.
``full``
    a GPU: the papers' own sizes and schedules.
"""

from __future__ import annotations

import os

import torch

from emolab.core.errors import ConfigError

PROFILES = ("smoke", "cpu", "full")
ENV_VAR = "EMOLAB_PROFILE"


def default_profile() -> str:
    """``full`` when CUDA is available, ``cpu`` otherwise."""
    return "full" if torch.cuda.is_available() else "cpu"


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ConfigError(
            f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}"
        )
    return profile


def resolve_profile(profile: str | None = None) -> str:
    """The profile to run: the argument, else ``$EMOLAB_PROFILE``, else the default.

    An empty string counts as unset, so ``EMOLAB_PROFILE= jupyter ...`` works.
    """
    if profile:
        return check_profile(profile)
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        try:
            return check_profile(from_env)
        except ConfigError as err:
            raise ConfigError(f"${ENV_VAR}: {err}") from None
    return default_profile()

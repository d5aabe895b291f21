"""What every chapter's configuration shares: presets per run profile."""

from __future__ import annotations

import dataclasses

from emolab.core.errors import ConfigError
from emolab.core.profiles import check_profile


class ProfileConfig:
    """Mixin for a frozen config dataclass with a class-level ``PRESETS`` table.

    ``Config.for_profile("cpu", steps=100)`` is the ``cpu`` preset with
    ``steps`` overridden; an unknown key is an error naming it.
    """

    PRESETS: dict = {}  # noqa: RUF012  (profile -> field overrides)
    KIND = "config"     # how errors name it

    @classmethod
    def for_profile(cls, profile: str, **overrides):
        check_profile(profile)
        unknown = set(overrides) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ConfigError(f"unknown {cls.KIND} keys {sorted(unknown)}")
        return cls(**{**cls.PRESETS[profile], **overrides})

    def require_positive_ints(self, *names: str) -> None:
        """Fail with one message naming every field of ``names`` that is not an integer >= 1
        (``True`` is not a count)."""
        bad = [k for k in names if isinstance(getattr(self, k), bool)
               or not isinstance(getattr(self, k), int) or getattr(self, k) < 1]
        if bad:
            raise ConfigError(f"{', '.join(bad)} must be positive integers")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

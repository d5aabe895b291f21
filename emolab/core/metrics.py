"""The ``metrics.json`` every chapter writes."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

#: Keys every metrics.json carries, whatever the chapter.
STANDARD_KEYS = ("chapter", "profile", "seed", "device", "emolab_version",
                 "torch_version", "wall_seconds")


def to_jsonable(value):
    """numpy scalars and arrays, tuples and paths become plain JSON values."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def write_metrics(path: str | os.PathLike, metrics: dict) -> Path:
    """Write ``metrics`` as indented JSON, atomically; the standard keys must be present."""
    missing = [k for k in STANDARD_KEYS if k not in metrics]
    if missing:
        raise ValueError(f"metrics are missing the standard keys {missing}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(to_jsonable(metrics), indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".metrics-", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path

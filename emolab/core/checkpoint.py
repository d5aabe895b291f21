"""Self-describing checkpoints.

A checkpoint is one ``torch.save`` file holding a plain dictionary:

``format``        ``"emolab-checkpoint/1"``
``versions``      emolab, torch and Python versions that wrote it
``config``        the run's configuration (plain JSON-like values)
``step``          the training step reached
``models``        ``{name: state_dict}``
``optimizers``    ``{name: state_dict}``
``schedulers``    ``{name: state_dict}``
``rng``           global RNG states plus the trainer's sampling generator
``history``       the logged losses so far
``extra``         anything else the caller wants back

It is written atomically (a temporary file in the same folder, then
``os.replace``), so a crash never leaves half a checkpoint, and loaded with
``torch.load(..., weights_only=True)``, so loading never runs pickled code.
"""

from __future__ import annotations

import os
import platform
import tempfile
from pathlib import Path

import torch

from emolab.core.errors import EmolabError

FORMAT = "emolab-checkpoint/1"


class CheckpointError(EmolabError):
    """A checkpoint is missing, truncated, or not an emolab checkpoint."""


def versions() -> dict:
    from emolab import __version__

    return {"emolab": __version__, "torch": str(torch.__version__),
            "python": platform.python_version()}


def save_checkpoint(path: str | os.PathLike, *, config: dict, step: int,
                    models: dict, optimizers: dict | None = None,
                    schedulers: dict | None = None, rng: dict | None = None,
                    history: dict | None = None, extra: dict | None = None) -> Path:
    """Write a checkpoint atomically and return its path.

    ``models`` and ``optimizers`` map names to modules/optimizers (or to their
    state dicts); everything is stored as state dicts.
    """
    def states(objs):
        return {k: (v.state_dict() if hasattr(v, "state_dict") else v)
                for k, v in (objs or {}).items()}

    payload = {
        "format": FORMAT,
        "versions": versions(),
        "config": config,
        "step": int(step),
        "models": states(models),
        "optimizers": states(optimizers),
        "schedulers": states(schedulers),
        "rng": rng or {},
        "history": history or {},
        "extra": extra or {},
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, map_location="cpu") -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` (``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # truncated file, foreign pickle, ...
        raise CheckpointError(f"{path} could not be read as a checkpoint: {err}") from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an emolab checkpoint (expected format {FORMAT})")
    return payload

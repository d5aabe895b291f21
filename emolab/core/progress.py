"""tqdm progress bars that stay quiet where nobody watches them.

Silent when ``$CI`` is set, when ``$EMOLAB_NO_PROGRESS`` is set (the test suite
sets it, so notebooks run by nbval print no bars), or when asked.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from tqdm.auto import tqdm

_FALSE = {"", "0", "false", "no", "off"}


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in _FALSE


def progress_enabled() -> bool:
    """Progress bars are off under CI and with ``EMOLAB_NO_PROGRESS`` set."""
    return not (_flag("CI") or _flag("EMOLAB_NO_PROGRESS"))


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str = "",
             enabled: bool | None = None, **kwargs) -> tqdm:
    """A tqdm bar, disabled where :func:`progress_enabled` says so."""
    show = progress_enabled() if enabled is None else enabled
    return tqdm(iterable, total=total, desc=desc, disable=not show, leave=False,
                dynamic_ncols=True, **kwargs)

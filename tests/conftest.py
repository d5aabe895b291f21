"""Fixtures shared by several test modules."""

import pytest
import torch
from threadpoolctl import threadpool_limits


@pytest.fixture(scope="module")
def one_thread():
    """Small tensors and t-SNEs of a few hundred points: one thread is faster, and
    much faster on a busy CPU. Module-scoped: restores torch's thread count after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """The HTML book, built once per session from the notebooks' committed outputs.

    Returns ``(process, html_dir)``: the finished ``jupyter-book build -W -n
    --keep-going`` and its ``_build/html``. Execution is off, as in ``make html``.
    Used by the build test and the browser test. ``$EMOLAB_BOOK_HTML`` names an
    existing build to test instead (e.g. ``_build/html`` after ``make html``).
    """
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    if os.environ.get("EMOLAB_BOOK_HTML"):
        html = Path(os.environ["EMOLAB_BOOK_HTML"]).resolve()
        if not (html / "index.html").exists():
            pytest.fail(f"EMOLAB_BOOK_HTML={html} holds no built book")
        return subprocess.CompletedProcess(["(existing build)"], 0, "", ""), html
    jb = Path(sys.executable).parent / "jupyter-book"
    if shutil.which(jb.name, path=str(jb.parent)) is None:
        pytest.skip("jupyter-book is not installed (pip install -e '.[book]')")
    root = Path(__file__).resolve().parents[1]
    tmp = tmp_path_factory.mktemp("book")
    config = yaml.safe_load((root / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    # local extension folders are resolved against the config file's folder: make them absolute
    local = config.get("sphinx", {}).get("local_extensions") or {}
    config["sphinx"]["local_extensions"] = {name: str(root / path) for name, path in local.items()}
    (tmp / "_config.yml").write_text(yaml.safe_dump(config))
    proc = subprocess.run(
        [str(jb), "build", str(root), "--config", str(tmp / "_config.yml"),
         "--path-output", str(tmp / "out"), "-W", "-n", "--keep-going"],
        capture_output=True, text=True, timeout=900)
    return proc, tmp / "out" / "_build" / "html"

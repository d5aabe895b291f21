"""The Jupyter Book builds offline and free of warnings (from the committed outputs)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) is None,
                    reason="jupyter-book is not installed (pip install -e '.[book]')")
def test_book_builds_without_warnings(tmp_path):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    # `make book` executes every chapter; here the committed cpu-profile outputs are used.
    config["execute"]["execute_notebooks"] = "off"
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    jb = Path(sys.executable).parent / "jupyter-book"
    proc = subprocess.run(
        [str(jb), "build", str(ROOT), "--config", str(tmp_path / "_config.yml"),
         "--path-output", str(tmp_path / "out"), "-W", "-n", "--keep-going"],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    html = tmp_path / "out" / "_build" / "html"
    assert (html / "index.html").exists()
    chapter = (html / "notebooks" / "00_toy_manifold.html").read_text()
    assert "data:image/png" in chapter or "_images/" in chapter, "the chapter shows its figures"
    references = (html / "book" / "references.html").read_text()
    assert "emotion classification with data augmentation" in references.lower()

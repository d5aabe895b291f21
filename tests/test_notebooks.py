"""The committed notebooks: executed in the cpu profile, wired into the book and the CLI."""

import json
from pathlib import Path

import nbformat
import pytest
import yaml

from emolab.experiments import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def tagged(nb, tag):
    return [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]


def test_every_chapter_has_a_notebook_in_the_toc():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = {ch["file"] for part in toc["parts"] for ch in part["chapters"]}
    for chapter in CHAPTERS.values():
        assert (ROOT / "notebooks" / chapter.notebook).exists(), chapter.notebook
        assert f"notebooks/{Path(chapter.notebook).stem}" in files


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_outputs_come_from_the_cpu_profile(path):
    nb = nbformat.read(path, as_version=4)
    params = tagged(nb, "parameters")
    assert len(params) == 1 and "profile = None" in params[0].source
    info = tagged(nb, "run-info")
    assert len(info) == 1, "a chapter prints its profile in one cell tagged run-info"
    text = "".join(o.get("text", "") for o in info[0].outputs if o.output_type == "stream")
    assert json.loads(text.strip().splitlines()[-1])["profile"] == "cpu"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "every code cell is executed"
    counts = [c.execution_count for c in code]
    assert counts == sorted(counts), "cells were executed top to bottom in one go"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert tagged(nb, "nbval-check-output"), "profile-independent cells are checked by nbval"

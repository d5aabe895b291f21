"""Every chapter ends with exercises whose solutions are folded away and run.

A solution is a ``python`` code block inside ``<details class="solution">``
in a markdown cell: it folds away in the book and in Jupyter alike. The test
runs each notebook in the smoke profile with its solutions appended as code
cells, so each solution runs in the state the chapter leaves (``profile``,
``seed``, ``result``, ...).
"""

import os
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTION = re.compile(r'<details class="solution">(.*?)</details>', re.DOTALL)
CODE = re.compile(r"```python\n(.*?)```", re.DOTALL)


def solutions(nb) -> list[str]:
    found = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for block in SOLUTION.findall(cell.source):
                found += CODE.findall(block)
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_has_a_folded_solution(path):
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert re.search(r"^#+ .*Exercises", text, re.MULTILINE), "the chapter ends with an Exercises section"
    exercises = re.findall(r"^\*\*\d+\.", text, re.MULTILINE)
    assert exercises, "exercises are paragraphs that start with **N. Title.**"
    assert len(SOLUTION.findall(text)) == len(exercises), "one folded solution per exercise"
    assert all(CODE.search(block) for block in SOLUTION.findall(text)), "each solution has Python code"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_solutions_run_in_smoke(path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    codes = solutions(nb)
    if not codes:
        pytest.skip("no solutions")
    for code in codes:
        nb.cells.append(nbformat.v4.new_code_cell(code))
    monkeypatch.setenv("EMOLAB_PROFILE", "smoke")
    monkeypatch.setenv("EMOLAB_NO_PROGRESS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    # run where the chapter lives (relative paths such as ../runs), write nothing there
    NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    ran = nb.cells[-len(codes):]
    assert all(c.execution_count is not None for c in ran)

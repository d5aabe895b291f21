"""`make book`'s executor plans the headless seed runs the chapters read before it runs them."""

import importlib.util
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("execute_notebooks", ROOT / "scripts" / "execute_notebooks.py")
execute_notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(execute_notebooks)


def test_parameters_cell_is_read_literally():
    params = execute_notebooks.parameters(ROOT / "notebooks" / "03_exprada.ipynb")
    assert params["profile"] is None and params["seed"] == 0 and params["seeds"] == [0, 1, 2]
    assert params["runs_dir"] == "../runs/exprada"


def test_missing_seed_runs_are_planned_outside_smoke(tmp_path):
    nb = tmp_path / "notebooks" / "03_exprada.ipynb"
    nb.parent.mkdir()
    shutil.copy(ROOT / "notebooks" / "03_exprada.ipynb", nb)
    done = tmp_path / "runs" / "exprada" / "seed-2"
    done.mkdir(parents=True)
    (done / "metrics.json").write_text("{}")
    jobs = execute_notebooks.seed_runs([nb], "cpu")
    assert jobs == [("exprada", 1, (tmp_path / "runs" / "exprada" / "seed-1").resolve())]
    assert execute_notebooks.seed_runs([nb], "smoke") == []
    # a notebook that is no chapter (the datasets appendix) needs none
    assert execute_notebooks.seed_runs([ROOT / "notebooks" / "A1_datasets.ipynb"], "cpu") == []

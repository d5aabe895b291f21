"""The `emolab` command: list, run, determinism, and errors without tracebacks."""

import json
import subprocess
import sys

import pytest

from emolab.cli import main
from emolab.core.metrics import STANDARD_KEYS

TOY_KEYS = ("svm_acc_imbalanced", "svm_acc_augmented", "svm_acc_class_weighted",
            "svm_acc_oversampled", "svm_acc_balanced_oracle", "per_class_acc_imbalanced",
            "per_class_acc_augmented", "cycle_loss_final")


def emolab(*args, env=None):
    return subprocess.run([sys.executable, "-m", "emolab", *args], capture_output=True,
                          text=True, env=env, timeout=300)


def test_list(capsys):
    assert main(["list"]) == 0
    assert "toy" in capsys.readouterr().out


@pytest.mark.parametrize("args, choices", [
    (["run", "nochapter"], "toy"),
    (["run", "toy", "--profile", "fast"], "smoke, cpu, full"),
    (["run", "toy", "--device", "tpu"], "cpu, cuda"),
])
def test_bad_choices_exit_2_with_one_line(args, choices, tmp_path):
    proc = emolab(*args, "--out", str(tmp_path))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and choices in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "metrics.json").exists()


def test_smoke_runs_are_deterministic_and_complete(tmp_path):
    runs = []
    for name in ("a", "b"):
        proc = emolab("run", "toy", "--profile", "smoke", "--seed", "3", "--out", str(tmp_path / name))
        assert proc.returncode == 0, proc.stderr
        runs.append(json.loads((tmp_path / name / "metrics.json").read_text()))
    a, b = runs
    for key in (*STANDARD_KEYS, *TOY_KEYS):
        assert key in a, key
    assert a["chapter"] == "toy" and a["profile"] == "smoke" and a["seed"] == 3 and a["device"] == "cpu"
    assert a["wall_seconds"] > 0
    a.pop("wall_seconds"), b.pop("wall_seconds")
    assert a == b
    for fig in a["figures"]:
        png = (tmp_path / "a" / fig).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert {"boundaries.png", "generated_vs_real.png", "training_curves.png"} <= set(a["figures"])
    # another seed gives other data, hence other numbers
    proc = emolab("run", "toy", "--profile", "smoke", "--seed", "4", "--out", str(tmp_path / "c"))
    c = json.loads((tmp_path / "c" / "metrics.json").read_text())
    assert c["cycle_loss_final"] != a["cycle_loss_final"]


def test_resume_flag_continues_a_finished_run(tmp_path):
    out = tmp_path / "run"
    assert emolab("run", "toy", "--profile", "smoke", "--out", str(out)).returncode == 0
    first = json.loads((out / "metrics.json").read_text())
    proc = emolab("run", "toy", "--profile", "smoke", "--out", str(out), "--resume")
    assert proc.returncode == 0, proc.stderr
    again = json.loads((out / "metrics.json").read_text())
    first.pop("wall_seconds"), again.pop("wall_seconds")
    assert first == again


def test_missing_data_root_is_an_error(tmp_path):
    proc = emolab("run", "toy", "--profile", "smoke", "--out", str(tmp_path), "--data-root", str(tmp_path / "nope"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr and "Traceback" not in proc.stderr

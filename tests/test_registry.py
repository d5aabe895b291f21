"""Datasets by name, and `emolab data stats|show`."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emolab.core import ConfigError
from emolab.core.errors import DatasetNotFoundError
from emolab.data.registry import DATASETS, dataset_stats, open_dataset

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
ISSUE_NAMES = ("emofaces", "affectscenes", "digits", "mnist5k", "fer2013", "ckplus", "jaffe", "kdef",
               "affectnet", "artphoto", "fi", "usps", "mnist", "svhn")


def emolab(*args):
    return subprocess.run([sys.executable, "-m", "emolab", *args], capture_output=True, text=True, timeout=300)


def test_every_dataset_name_resolves_to_a_class():
    assert set(ISSUE_NAMES) <= set(DATASETS)
    for spec in DATASETS.values():
        assert callable(spec.load_class()), spec.name


def test_bad_names_and_splits():
    with pytest.raises(ConfigError, match="emofaces"):
        open_dataset("imagenet")
    with pytest.raises(ConfigError, match="no split"):
        open_dataset("ckplus", root=".", split="test")
    with pytest.raises(ConfigError, match="--root"):
        open_dataset("fer2013")


def test_missing_root_names_the_layout(tmp_path):
    with pytest.raises(DatasetNotFoundError) as err:
        open_dataset("fer2013", root=tmp_path / "nowhere")
    assert "fer2013.csv" in str(err.value)


def test_embedded_digits_stats():
    stats = dataset_stats(open_dataset("digits"))
    assert stats["total"] == 1797 and sum(stats["classes"].values()) == 1797
    mnist = dataset_stats(open_dataset("mnist5k"))
    assert mnist == {"total": 5000, "classes": {str(d): 500 for d in range(10)}}


def test_generated_splits_are_disjoint_streams():
    train = open_dataset("synthsvhn", split="train", n=50)
    test = open_dataset("synthsvhn", split="test", n=50)
    again = open_dataset("synthsvhn", split="train", n=50)
    assert np.array_equal(train.targets, again.targets)
    assert not np.array_equal(train.to_tensors()[0].numpy(), test.to_tensors()[0].numpy())


def test_cli_stats_json():
    proc = emolab("data", "stats", "mnist5k")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"total": 5000, "classes": {str(d): 500 for d in range(10)}}


def test_cli_errors_are_one_line():
    proc = emolab("data", "stats", "nope")
    assert proc.returncode == 2 and "choose one of" in proc.stderr and "Traceback" not in proc.stderr
    proc = emolab("data", "stats", "ckplus", "--root", "/nonexistent/ckplus")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "anger" in proc.stderr  # the expected layout names the class folders


def test_cli_show_writes_a_png(tmp_path):
    out = tmp_path / "grid.png"
    proc = emolab("data", "show", "digits", "--out", str(out), "--per-class", "4")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes().startswith(b"\x89PNG")


@pytest.mark.skipif(not (SHARED / "fer2013").is_dir(), reason="../shared/data is absent")
def test_cli_stats_on_real_fer2013():
    proc = emolab("data", "stats", "fer2013", "--root", str(SHARED / "fer2013"))
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    assert stats["total"] == 28709 and stats["classes"]["disgust"] == 436
    proc = emolab("data", "stats", "fer2013", "--root", str(SHARED / "fer2013"), "--split", "test")
    assert json.loads(proc.stdout)["total"] == 3589

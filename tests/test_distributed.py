"""Data-parallel training (emolab.core.distributed): sharding, gradient averaging,
and a 2-process smoke run of a chapter on the gloo backend against 1 process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from emolab.core import distributed
from emolab.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_shard_is_identity_in_one_process_and_slices_per_rank(monkeypatch):
    x, y = torch.arange(8), torch.arange(8) * 10
    assert distributed.shard((x, y)) == (x, y)
    monkeypatch.setattr(distributed, "world_size", lambda: 2)
    monkeypatch.setattr(distributed, "rank", lambda: 1)
    a, b = distributed.shard((x, y))
    assert a.tolist() == [1, 3, 5, 7] and b.tolist() == [10, 30, 50, 70]
    assert distributed.shard(x).tolist() == [1, 3, 5, 7]
    with pytest.raises(ConfigError, match="not divisible"):
        distributed.shard((torch.arange(7),))
    with pytest.raises(ConfigError, match="different sizes"):
        distributed.shard((torch.arange(8), torch.arange(6)))


def _grad_worker(rank: int, world: int, port: int, out: str):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world))
    torch.distributed.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(8, 5, generator=g), torch.randint(3, (8,), generator=g)
    xs, ys = distributed.shard((x, y))
    torch.nn.functional.cross_entropy(net(xs), ys).backward()
    distributed.average_gradients(net.parameters())
    if rank == 0:
        torch.save({"grads": [p.grad for p in net.parameters()]}, out)
    flag = distributed.any_rank(rank == 1)
    torch.save({"flag": flag}, f"{out}.{rank}")
    torch.distributed.destroy_process_group()


def test_averaged_shard_gradients_equal_the_full_batch_gradient(tmp_path):
    """Two gloo processes, each with half the batch: after averaging, the gradient
    is the 1-process full-batch gradient; any_rank sees a flag raised on rank 1."""
    out = str(tmp_path / "grads.pt")
    port = 29500 + os.getpid() % 1000
    mp.spawn(_grad_worker, args=(2, port, out), nprocs=2, join=True)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(8, 5, generator=g), torch.randint(3, (8,), generator=g)
    torch.nn.functional.cross_entropy(net(x), y).backward()
    got = torch.load(out, weights_only=True)["grads"]
    for p, q in zip(net.parameters(), got, strict=True):
        torch.testing.assert_close(q, p.grad)
    assert all(torch.load(f"{out}.{r}", weights_only=True)["flag"] for r in (0, 1))


def _run(args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "EMOLAB_NO_PROGRESS": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    env.pop("WORLD_SIZE", None)
    return subprocess.run([sys.executable, "-m", "emolab", *args], cwd=tmp, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed is not built in")
def test_two_process_smoke_run_matches_one_process(tmp_path):
    """`emolab run toy --profile smoke --nproc 2`: both ranks train (gloo), one
    checkpoint and one metrics.json are written, by rank 0, and the metrics agree
    with the 1-process run: SVM accuracies within 2 points, the CycleGAN's final
    cycle loss within 30%, the generated class's mean within 0.5 (the data's
    standard deviation is about 1). Not bit for bit: the processes sum in another
    order, and 1,000 GAN steps amplify the difference."""
    two = _run(["run", "toy", "--profile", "smoke", "--seed", "0", "--nproc", "2", "--out", "two"], tmp_path)
    assert two.returncode == 0, two.stderr[-3000:]
    one = _run(["run", "toy", "--profile", "smoke", "--seed", "0", "--out", "one"], tmp_path)
    assert one.returncode == 0, one.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "two").rglob("*.pt")) == ["last.pt"]
    assert sorted(p.name for p in (tmp_path / "two").rglob("metrics.json")) == ["metrics.json"]
    assert two.stdout.count("wrote ") == 1  # rank 0 alone reports
    m2 = json.loads((tmp_path / "two" / "metrics.json").read_text())
    m1 = json.loads((tmp_path / "one" / "metrics.json").read_text())
    assert (m2["processes"], m1["processes"]) == (2, 1)
    for key in [k for k in m1 if k.startswith("svm_acc_")]:
        assert abs(m2[key] - m1[key]) <= 2.0, (key, m1[key], m2[key])
    assert abs(m2["cycle_loss_final"] - m1["cycle_loss_final"]) <= 0.3 * m1["cycle_loss_final"]
    assert abs(m2["generated_mean_error"] - m1["generated_mean_error"]) <= 0.5


def test_nproc_validation():
    from emolab.cli import main

    assert main(["run", "toy", "--nproc", "0", "--device", "cpu"]) == 2

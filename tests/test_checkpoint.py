"""Self-describing, atomic, weights_only checkpoints."""

import pickle

import pytest
import torch
from torch import nn

import emolab
from emolab.core import CheckpointError, load_checkpoint, save_checkpoint
from emolab.core.checkpoint import FORMAT


def _model_and_optimizer():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model(torch.randn(5, 3)).sum().backward()
    opt.step()
    return model, opt


def test_round_trip_is_self_describing(tmp_path):
    model, opt = _model_and_optimizer()
    config = {"lr": 1e-2, "layers": [3, 4, 1], "name": "toy"}
    path = save_checkpoint(tmp_path / "c.pt", config=config, step=11, models={"net": model},
                           optimizers={"adam": opt}, history={"loss": [1.0, 0.5]})
    ckpt = load_checkpoint(path)
    assert ckpt["format"] == FORMAT
    assert ckpt["config"] == config and ckpt["step"] == 11
    assert ckpt["versions"]["emolab"] == emolab.__version__
    assert ckpt["versions"]["torch"] == torch.__version__
    assert ckpt["history"] == {"loss": [1.0, 0.5]}
    fresh, fresh_opt = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1)), None
    fresh.load_state_dict(ckpt["models"]["net"])
    fresh_opt = torch.optim.Adam(fresh.parameters(), lr=1e-2)
    fresh_opt.load_state_dict(ckpt["optimizers"]["adam"])
    for a, b in zip(model.parameters(), fresh.parameters()):
        assert torch.equal(a, b)
    assert torch.equal(fresh_opt.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])


def test_load_refuses_pickled_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("this must never run",))

    path = tmp_path / "evil.pt"
    with open(path, "wb") as fh:
        pickle.dump({"format": FORMAT, "payload": Evil()}, fh, protocol=2)
    with pytest.raises(CheckpointError, match="could not be read"):
        load_checkpoint(path)


def test_missing_truncated_and_foreign_files(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "absent.pt")
    model, _ = _model_and_optimizer()
    good = save_checkpoint(tmp_path / "good.pt", config={}, step=1, models={"m": model})
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:100])
    with pytest.raises(CheckpointError):
        load_checkpoint(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": model.state_dict()}, foreign)
    with pytest.raises(CheckpointError, match="not an emolab checkpoint"):
        load_checkpoint(foreign)


def test_a_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    model, _ = _model_and_optimizer()
    path = save_checkpoint(tmp_path / "last.pt", config={"v": 1}, step=5, models={"m": model})

    def broken_save(obj, fh):
        fh.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, config={"v": 2}, step=6, models={"m": model})
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]

"""The training loop: exact resume, divergence handling, configuration checks."""

import math

import pytest
import torch

from emolab.core import ConfigError, DivergenceError, load_checkpoint, seed_everything
from emolab.experiments.toy import ToyConfig, build_cyclegan
from emolab.training import Trainer

CFG = ToyConfig.for_profile("smoke", hidden=8, depth=2, batch_size=16)


def _make_trainer(tmp_path=None, seed=0, every=0, config=None):
    """A tiny point CycleGAN between two fixed Gaussian blobs."""
    seed_everything(seed)
    model = build_cyclegan(CFG, torch.device("cpu"))
    g = torch.Generator().manual_seed(99)
    ref, tgt = torch.randn(64, 2, generator=g), torch.randn(32, 2, generator=g) + 2

    def sample(gen):
        i = torch.randint(len(ref), (CFG.batch_size,), generator=gen)
        j = torch.randint(len(tgt), (CFG.batch_size,), generator=gen)
        return ref[i], tgt[j]

    return Trainer(model, sample, config=config or CFG.to_dict(), seed=seed,
                   checkpoint_dir=tmp_path, checkpoint_every=every, log_every=1)


def _state(trainer):
    params = [p.detach().clone() for p in trainer.method.parameters()]
    adam = trainer.method.optimizers["G"].state_dict()["state"]
    return params, [adam[k]["exp_avg"].clone() for k in sorted(adam)], trainer.history


def test_resume_continues_exactly(tmp_path):
    straight = _make_trainer()
    straight.fit(30)

    first = _make_trainer(tmp_path / "run")
    first.fit(12)
    # A new process would start from different global RNG state: scramble it.
    seed_everything(12345)
    resumed = _make_trainer(tmp_path / "run", seed=0)
    assert resumed.resume() and resumed.step == 12
    resumed.fit(30)

    p1, m1, h1 = _state(straight)
    p2, m2, h2 = _state(resumed)
    assert all(torch.equal(a, b) for a, b in zip(p1, p2))
    assert all(torch.equal(a, b) for a, b in zip(m1, m2))
    assert h1 == h2 and h1["step"] == list(range(1, 31))


def test_resume_without_a_checkpoint_starts_fresh(tmp_path):
    trainer = _make_trainer(tmp_path)
    assert trainer.resume() is False and trainer.step == 0


def test_resume_refuses_another_configuration(tmp_path):
    _make_trainer(tmp_path).fit(3)
    other = _make_trainer(tmp_path, config={**CFG.to_dict(), "lr": 0.5})
    with pytest.raises(ConfigError, match=r"another configuration.*\['lr'\]"):
        other.resume()


def test_divergence_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    trainer = _make_trainer(tmp_path, every=5)
    real_step = trainer.method.training_step
    calls = {"n": 0}

    def step_that_explodes(batch):
        calls["n"] += 1
        losses = real_step(batch)
        if calls["n"] == 8:
            losses["cycle"] = math.nan
        return losses

    trainer.method.training_step = step_that_explodes
    with pytest.raises(DivergenceError, match=r"diverged at step 8.*cycle=nan.*last good checkpoint"):
        trainer.fit(20)
    ckpt = load_checkpoint(tmp_path / "last.pt")
    assert ckpt["step"] == 5
    assert all(math.isfinite(v) for v in ckpt["history"]["cycle"])


def test_trainer_checks_its_arguments():
    with pytest.raises(ConfigError, match="training_step"):
        Trainer(torch.nn.Linear(1, 1), lambda g: None, config={})
    trainer = _make_trainer()
    trainer.fit(2)
    with pytest.raises(ConfigError, match="already at 2"):
        trainer.fit(1)
    with pytest.raises(ConfigError, match="no checkpoint path"):
        trainer.save()

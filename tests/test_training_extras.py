"""What GAN training adds to the loop: image pool, LR schedule, sample grids,
TensorBoard, and the CycleGAN options (pool, identity, WGAN-GP, hinge) — with exact resume."""

import sys

import pytest
import torch
from torch import nn

from emolab.core import ConfigError, seed_everything
from emolab.methods.cyclegan_augmentation import CycleGAN
from emolab.models import init_weights, point_discriminator, point_generator
from emolab.training import ImagePool, Trainer, linear_decay


# ------------------------------------------------------------------ ImagePool
def _ids(start, n):
    """Images that carry their own number: shape [n, 1, 2, 2], all pixels = id."""
    return torch.arange(start, start + n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 2, 2).clone()


def _numbers(images):
    return sorted(images[:, 0, 0, 0].tolist())


def test_pool_size_zero_is_the_identity_and_draws_nothing():
    pool = ImagePool(0)
    x = torch.randn(4, 3)
    state = torch.get_rng_state()
    assert pool.query(x) is x and pool.count == 0
    assert torch.equal(torch.get_rng_state(), state)


def test_pool_fills_then_swaps_half_the_time():
    pool = ImagePool(10, generator=torch.Generator().manual_seed(0))
    first = pool.query(_ids(0, 6))
    assert _numbers(first) == list(range(6)) and pool.count == 6
    second = pool(_ids(6, 6))
    # 4 more fill the pool (returned as they are); the last 2 may swap
    assert second[:4, 0, 0, 0].tolist() == [6, 7, 8, 9] and pool.count == 10
    swapped, seen = 0, 12
    for _ in range(50):
        before = _numbers(torch.stack(pool.images))
        new = _ids(seen, 8)
        out = pool.query(new)
        after = _numbers(torch.stack(pool.images))
        # nothing is lost or invented: pool + returned = old pool + new, as multisets
        assert sorted(before + _numbers(new)) == sorted(after + _numbers(out))
        assert out.shape == new.shape and pool.count == 10
        swapped += sum(n < seen for n in out[:, 0, 0, 0].tolist())
        seen += 8
    assert 0.4 < swapped / 400 < 0.6


def test_pool_is_deterministic_with_a_generator_and_detaches():
    a, b = (ImagePool(3, generator=torch.Generator().manual_seed(1)) for _ in range(2))
    for k in range(5):
        x = _ids(4 * k, 4).requires_grad_(True)
        out_a, out_b = a(x), b(x.detach())
        assert torch.equal(out_a, out_b) and not out_a.requires_grad


def test_pool_state_dict_resumes_exactly():
    pool = ImagePool(5, generator=torch.Generator().manual_seed(2))
    for k in range(3):
        pool(_ids(4 * k, 4))
    state = pool.state_dict()
    copy = ImagePool(5, generator=torch.Generator().manual_seed(99))
    copy.load_state_dict(state)
    assert copy.count == pool.count == 5
    for k in range(3, 6):
        assert torch.equal(pool(_ids(4 * k, 4)), copy(_ids(4 * k, 4)))
    with pytest.raises(ConfigError, match="holds 5 images"):
        ImagePool(6, generator=torch.Generator()).load_state_dict(state)
    with pytest.raises(ConfigError, match="own a generator"):
        ImagePool(5).load_state_dict(state)


def test_pool_checks_its_size():
    for bad in (-1, 2.5, True):
        with pytest.raises(ConfigError, match="pool_size"):
            ImagePool(bad)


# --------------------------------------------------------------- linear_decay
def test_linear_decay_schedule():
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.2)
    sched = linear_decay(opt, n_epochs_constant=10, n_epochs_decay=20)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(35):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs[0] == pytest.approx(0.2)           # start
    assert lrs[10] == pytest.approx(0.2)          # end of the constant phase
    assert lrs[11] == pytest.approx(0.2 * 19 / 20)
    assert lrs[20] == pytest.approx(0.1)          # halfway through the decay
    assert lrs[30] == pytest.approx(0.0)          # end
    assert lrs[35] == pytest.approx(0.0)
    for kwargs in (dict(n_epochs_constant=-1, n_epochs_decay=5),
                   dict(n_epochs_constant=5, n_epochs_decay=0)):
        with pytest.raises(ConfigError, match="n_epochs"):
            linear_decay(opt, **kwargs)


# ------------------------------------------------------------------ CycleGANs
def _point_cyclegan(**options):
    nets = [point_generator(2, 8, 2), point_generator(2, 8, 2),
            point_discriminator(2, 8, 2), point_discriminator(2, 8, 2)]
    return CycleGAN(*(init_weights(n, "xavier") for n in nets), lr=1e-3, **options)


class _Conv(nn.Module):
    def __init__(self, out, act=None):
        super().__init__()
        self.conv = nn.Conv2d(3, out, 3, padding=1)
        self.act = act or nn.Identity()

    def forward(self, x):
        return self.act(self.conv(x))


def _image_cyclegan(**options):
    """8x8 RGB: tanh 'generators' and PatchGAN-like 'discriminators' of one conv each."""
    return CycleGAN(_Conv(3, nn.Tanh()), _Conv(3, nn.Tanh()), _Conv(1), _Conv(1), **options)


def _points(batch=16):
    g = torch.Generator().manual_seed(99)
    ref, tgt = torch.randn(64, 2, generator=g), torch.randn(32, 2, generator=g) + 2

    def sample(gen):
        i = torch.randint(len(ref), (batch,), generator=gen)
        j = torch.randint(len(tgt), (batch,), generator=gen)
        return ref[i], tgt[j]
    return sample


def _images(batch=4):
    g = torch.Generator().manual_seed(98)
    ref, tgt = torch.rand(16, 3, 8, 8, generator=g) * 2 - 1, torch.rand(16, 3, 8, 8, generator=g) - 0.5
    return lambda gen: (ref[torch.randint(16, (batch,), generator=gen)],
                        tgt[torch.randint(16, (batch,), generator=gen)])


def test_default_cyclegan_has_no_pool_and_no_schedulers():
    model = _point_cyclegan()
    assert len(model.pools) == 0 and model.schedulers == {}
    assert not any(k.startswith("pools") for k in model.state_dict())
    with pytest.raises(ConfigError):
        _point_cyclegan(lambda_identity=-1.0)
    with pytest.raises(ConfigError, match="pool_size"):
        _point_cyclegan(pool_size=-2)


def _make_trainer(options, tmp_path=None, schedule=False, **trainer_options):
    seed_everything(0)
    model = _point_cyclegan(**options)
    if schedule:
        model.schedulers = {k: linear_decay(opt, 10, 20) for k, opt in model.optimizers.items()}
    return Trainer(model, _points(), config={"options": repr(options)}, seed=0,
                   checkpoint_dir=tmp_path, log_every=1, **trainer_options)


@pytest.mark.parametrize("options, schedule", [
    (dict(pool_size=8), False),
    (dict(pool_size=8, pool_seed=7, lambda_identity=0.5, gan_mode="wgangp"), True),
])
def test_resume_continues_exactly_with_pools(tmp_path, options, schedule):
    straight = _make_trainer(options, schedule=schedule)
    straight.fit(24)

    _make_trainer(options, tmp_path / "run", schedule=schedule).fit(10)
    seed_everything(12345)  # a new process starts from other global RNG states
    resumed = _make_trainer(options, tmp_path / "run", schedule=schedule)
    assert len(resumed.method.pools["T"].images) == 0
    assert resumed.resume() and resumed.step == 10 and resumed.method.pools["T"].count == 8
    resumed.fit(24)

    a, b = straight.method, resumed.method
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    for side in ("T", "R"):
        assert torch.equal(torch.stack(a.pools[side].images), torch.stack(b.pools[side].images))
    assert straight.history == resumed.history
    if schedule:
        assert a.optimizers["G"].param_groups[0]["lr"] == pytest.approx(1e-3 * 0.3)  # 1 - (24 - 10) / 20
        assert b.optimizers["G"].param_groups[0]["lr"] == pytest.approx(1e-3 * 0.3)  # 1 - (24 - 10) / 20


def test_pool_changes_what_the_discriminators_see():
    plain, pooled = _make_trainer({}), _make_trainer(dict(pool_size=8))
    plain.fit(6)
    pooled.fit(6)
    assert plain.history["G_total"][:2] == pooled.history["G_total"][:2]  # D differs from step 2 on
    assert plain.history["D_T"] != pooled.history["D_T"]


@pytest.mark.parametrize("gan_mode", ["hinge", "wgangp", "vanilla"])
def test_image_cyclegan_in_every_mode(gan_mode):
    torch.manual_seed(0)
    model = _image_cyclegan(gan_mode=gan_mode, pool_size=4, lambda_identity=0.5, lr=1e-3)
    history = Trainer(model, _images(), config={}, seed=0).fit(2)
    keys = {"G_total", "G_adv_T", "G_adv_R", "cycle", "identity", "D_T", "D_R"}
    if gan_mode == "wgangp":
        keys |= {"D_T_gp", "D_R_gp"}
        assert min(history["D_T_gp"]) >= 0
    assert keys | {"step"} == set(history) and model.pools["T"].count == 4  # 2 steps of 4 images


def test_identity_loss_needs_equal_shapes():
    nets = [nn.Linear(3, 2), nn.Linear(2, 3), nn.Linear(3, 1), nn.Linear(2, 1)]
    r, t = torch.randn(4, 3), torch.randn(4, 2)
    assert "identity" not in CycleGAN(*nets).training_step((r, t))
    with pytest.raises(ConfigError, match="same shape"):
        CycleGAN(*nets, lambda_identity=0.5).training_step((r, t))


def test_identity_term_enters_the_generator_loss():
    torch.manual_seed(0)
    model = _point_cyclegan(lambda_identity=0.5, lambda_cyc=4.0)
    r, t = _points()(torch.Generator().manual_seed(0))
    losses, _, _ = model.generator_losses(r, t)
    expected = (losses["G_adv_T"] + losses["G_adv_R"] + 4.0 * losses["cycle"]
                + 0.5 * 4.0 * losses["identity"])
    assert torch.allclose(losses["G_total"], expected)
    idt = (model.G(t) - t).abs().mean() + (model.F(r) - r).abs().mean()
    assert torch.allclose(losses["identity"], idt)


# ------------------------------------------------------- samples, TensorBoard
def _sample_fn(model):
    fixed = torch.rand(10, 3, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    return lambda step: model.translate(fixed)


def test_sample_grids_are_written_at_the_right_steps(tmp_path):
    from PIL import Image

    torch.manual_seed(0)
    model = _image_cyclegan()
    calls = []

    def sample_fn(step):
        calls.append(step)
        return None if step == 4 else _sample_fn(model)(step)

    trainer = Trainer(model, _images(), config={}, checkpoint_dir=tmp_path, sample_every=2,
                      sample_fn=sample_fn)
    trainer.fit(5)
    assert calls == [2, 4]
    written = sorted(p.name for p in (tmp_path / "samples").iterdir())
    assert written == ["step_000002.png"]  # sample_fn returned None at step 4
    with Image.open(tmp_path / "samples" / "step_000002.png") as im:
        assert im.size == (8 * 10 + 2, 2 * 10 + 2)  # 10 images of 8x8, 8 per row, padding 2
    assert model.training  # sampling in eval mode did not leave the networks there

    other = Trainer(model, _images(), config={}, sample_every=1, sample_fn=_sample_fn(model),
                    sample_dir=tmp_path / "grids", sample_range=(0, 1))
    other.fit(1)
    assert (tmp_path / "grids" / "step_000001.png").is_file()


def test_sample_arguments_are_checked(tmp_path):
    model = _image_cyclegan()
    with pytest.raises(ConfigError, match="sample_fn"):
        Trainer(model, _images(), config={}, checkpoint_dir=tmp_path, sample_every=2)
    with pytest.raises(ConfigError, match="sample_dir"):
        Trainer(model, _images(), config={}, sample_every=2, sample_fn=lambda s: None)
    with pytest.raises(ConfigError, match="sample_every"):
        Trainer(model, _images(), config={}, sample_every=-1)
    bad = Trainer(model, _images(), config={}, checkpoint_dir=tmp_path, sample_every=1,
                  sample_fn=lambda s: torch.zeros(2, 8, 8))
    with pytest.raises(ConfigError, match=r"\[N, C, H, W\]"):
        bad.fit(1)


def test_tensorboard_scalars(tmp_path):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    torch.manual_seed(0)
    model = _point_cyclegan()
    trainer = Trainer(model, _points(), config={}, checkpoint_dir=tmp_path, log_every=2,
                      tensorboard=True)
    history = trainer.fit(6)
    files = list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    assert files
    acc = event_accumulator.EventAccumulator(str(tmp_path / "tensorboard"))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {f"loss/{k}" for k in ("G_total", "G_adv_T", "G_adv_R", "cycle", "D_T", "D_R")} == tags
    events = acc.Scalars("loss/cycle")
    assert [e.step for e in events] == [2, 4, 6]
    assert [e.value for e in events] == pytest.approx(history["cycle"])
    assert trainer._writer is None  # closed by fit

    Trainer(model, _points(), config={}, tensorboard=tmp_path / "tb").fit(1)
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))


def test_tensorboard_arguments(tmp_path, monkeypatch):
    model = _point_cyclegan()
    with pytest.raises(ConfigError, match="checkpoint_dir"):
        Trainer(model, _points(), config={}, tensorboard=True)
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # as if not installed
    with pytest.raises(ConfigError, match="pip install tensorboard"):
        Trainer(model, _points(), config={}, checkpoint_dir=tmp_path, tensorboard=True)
    Trainer(model, _points(), config={}, checkpoint_dir=tmp_path).fit(1)  # off: never imported


def test_tensorboard_continues_a_resumed_run(tmp_path):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    _make_trainer({}, tmp_path, tensorboard=True).fit(3)
    resumed = _make_trainer({}, tmp_path, tensorboard=True)
    assert resumed.resume()
    resumed.fit(5)
    acc = event_accumulator.EventAccumulator(str(tmp_path / "tensorboard"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("loss/G_total")] == [1, 2, 3, 4, 5]

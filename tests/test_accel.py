"""The fast path (emolab.training.accel), the StarGAN backbone and `emolab bench`."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from emolab.cli import main
from emolab.core.errors import ConfigError
from emolab.losses import gradient_penalty
from emolab.methods import CycleGAN, StarGAN
from emolab.models import define_discriminator
from emolab.models.resnet import ResnetGenerator
from emolab.models.stargan import StarGANDiscriminator, StarGANGenerator, define_stargan
from emolab.training.accel import Accel, accelerate, eager

# tiny networks: one thread is much faster, and two oversubscribe a busy 2-core CI machine
pytestmark = pytest.mark.usefixtures("one_thread")
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def tiny_cyclegan(seed: int, gan_mode: str = "lsgan", width: int = 4) -> CycleGAN:
    torch.manual_seed(seed)
    nets = [ResnetGenerator(3, 3, ngf=width, n_blocks=1), ResnetGenerator(3, 3, ngf=width, n_blocks=1),
            define_discriminator("n_layers", 3, ndf=width, n_layers=2),
            define_discriminator("n_layers", 3, ndf=width, n_layers=2)]
    return CycleGAN(*nets, gan_mode=gan_mode, lr=5e-4)


def two_domains(n: int = 64, size: int = 16, seed: int = 0):
    """Two image domains a CycleGAN can tell apart: bright-left and bright-top gradients."""
    g = torch.Generator().manual_seed(seed)
    ramp = torch.linspace(-1, 1, size)
    r = ramp[None, None, None, :].expand(n, 3, size, size) + 0.3 * torch.randn(n, 3, size, size, generator=g)
    t = ramp[None, None, :, None].expand(n, 3, size, size) + 0.3 * torch.randn(n, 3, size, size, generator=g)
    return r.clamp(-1, 1), t.clamp(-1, 1)


def train_curve(accel: Accel, seed: int, steps: int, device: str = "cpu", gan_mode: str = "lsgan",
                width: int = 4, size: int = 16, g_lr: float | None = None) -> dict[str, np.ndarray]:
    model = accelerate(tiny_cyclegan(seed, gan_mode, width), accel, device)
    if g_lr is not None:
        for group in model.optimizers["G"].param_groups:
            group["lr"] = g_lr
    r, t = two_domains(size=size)
    fmt = torch.channels_last if accel.channels_last else torch.contiguous_format
    r, t = r.to(device, memory_format=fmt), t.to(device, memory_format=fmt)
    g = torch.Generator().manual_seed(seed)
    curves: dict[str, list[float]] = {}
    for _ in range(steps):
        i, j = torch.randint(len(r), (4,), generator=g), torch.randint(len(t), (4,), generator=g)
        losses = model.training_step((r[i.to(device)], t[j.to(device)]))
        for k, v in losses.items():
            curves.setdefault(k, []).append(v)
    return {k: np.asarray(v) for k, v in curves.items()}


def test_accel_defaults_and_validation():
    assert Accel.reference().is_reference
    assert Accel.for_device("cpu") == Accel.reference()  # the CPU keeps the exact path
    with pytest.raises(ConfigError, match="amp"):
        Accel(amp="fp8")


def test_reference_accel_is_bit_identical_to_plain_training():
    """accelerate() with the reference config changes nothing in the numbers."""
    a = train_curve(Accel.reference(), seed=3, steps=5)
    model = tiny_cyclegan(3)
    r, t = two_domains()
    g = torch.Generator().manual_seed(3)
    for step in range(5):
        i, j = torch.randint(len(r), (4,), generator=g), torch.randint(len(t), (4,), generator=g)
        losses = model.training_step((r[i], t[j]))
        assert losses["G_total"] == a["G_total"][step]


def assert_curves_agree(refs: list[dict], fast: dict, keys, tail: int = 300) -> None:
    """The fast run's mean loss over the last ``tail`` steps lies within the
    spread of the reference seeds (three times their range, at least 20% of the mean)."""
    for key in keys:
        ref_means = np.array([c[key][-tail:].mean() for c in refs])
        fast_mean = fast[key][-tail:].mean()
        assert np.isfinite(fast[key]).all(), key
        spread = ref_means.max() - ref_means.min()
        tol = max(3 * spread, 0.2 * abs(ref_means.mean()), 0.02)
        assert abs(fast_mean - ref_means.mean()) <= tol, (key, fast_mean, ref_means)
    # the cycle loss is learned: it falls by more than a quarter
    assert fast["cycle"][-tail:].mean() < 0.75 * fast["cycle"][:20].mean()


def test_fast_path_loss_curves_agree_with_reference_within_seed_noise():
    """1,000 steps of a small CycleGAN: bf16 autocast + channels_last + fused Adam
    (forced on the CPU) against float32 eager, three reference seeds."""
    refs = [train_curve(Accel.reference(), seed, 1000) for seed in (0, 1, 2)]
    fast = train_curve(Accel(amp="bf16", channels_last=True, fused_adam=True), 0, 1000)
    keys = ("G_adv_T", "G_adv_R", "cycle", "D_T", "D_R")
    assert_curves_agree(refs, fast, keys)
    # the check can fail: a run whose generators do not learn (lr 0) is caught
    frozen = train_curve(Accel.reference(), 0, 1000, g_lr=0.0)
    with pytest.raises(AssertionError):
        assert_curves_agree(refs, frozen, keys)


@cuda
@pytest.mark.parametrize("gan_mode,extra", [("lsgan", {}), ("wgangp", {"compile": True, "channels_last": True})])
def test_gpu_fast_path_agrees_with_reference(gan_mode, extra):
    """On a GPU, the default fast path and (with WGAN-GP, so that the penalty's
    double backward goes through the eager forward) the compiled one: 1,000
    steps at 32 px."""
    kw = dict(device="cuda", gan_mode=gan_mode, width=16, size=32)
    refs = [train_curve(Accel.reference(), seed, 1000, **kw) for seed in (0, 1, 2)]
    accel = dataclasses.replace(Accel.for_device("cuda"), **extra)
    fast = train_curve(accel, 0, 1000, **kw)
    keys = ("G_adv_T", "G_adv_R", "cycle") + (("D_T_gp", "D_R_gp") if gan_mode == "wgangp" else ("D_T", "D_R"))
    assert_curves_agree(refs, fast, keys)


def test_fused_adam_rebuild_keeps_hyperparameters():
    model = accelerate(tiny_cyclegan(0), Accel(fused_adam=True), "cpu")
    for opt in model.optimizers.values():
        assert opt.param_groups[0]["fused"] is True
        assert opt.param_groups[0]["lr"] == 5e-4 and opt.param_groups[0]["betas"] == (0.5, 0.999)
    model.training_step(two_domains(4))
    with pytest.raises(ConfigError, match="before the first step"):
        accelerate(model, Accel(fused_adam=True), "cpu")


def test_gradient_penalty_through_a_compiled_critic_uses_the_eager_forward():
    """A compiled critic cannot be differentiated twice; eager() gives the same
    function, and the penalty's gradient w.r.t. the critic's weights is exact."""
    torch.manual_seed(0)
    D = define_discriminator("n_layers", 3, ndf=4, n_layers=2)
    real, fake = torch.randn(2, 3, 16, 16), torch.randn(2, 3, 16, 16)
    gen = torch.Generator().manual_seed(1)
    plain = gradient_penalty(D, real, fake, generator=gen)
    (g_plain,) = torch.autograd.grad(plain, D.model[0].weight)
    D.compile()
    assert eager(D) != D and eager(torch.nn.Identity()) is not None
    gen = torch.Generator().manual_seed(1)
    compiled = gradient_penalty(eager(D), real, fake, generator=gen)
    (g_comp,) = torch.autograd.grad(compiled, D.model[0].weight)
    torch.testing.assert_close(compiled, plain)
    torch.testing.assert_close(g_comp, g_plain)


def test_stargan_shapes_and_paper_size():
    G, D = define_stargan(128)
    src, cls, code = D(torch.zeros(2, 3, 128, 128))
    assert src.shape == (2, 1, 2, 2) and cls.shape == (2, 7) and code is None
    assert G(torch.zeros(2, 3, 128, 128), torch.zeros(2, 7)).shape == (2, 3, 128, 128)
    # the official backbone: 8.43M generator and 44.8M critic parameters with 7 classes
    assert sum(p.numel() for p in G.parameters()) == pytest.approx(8.43e6, rel=0.01)
    assert sum(p.numel() for p in D.parameters()) == pytest.approx(44.8e6, rel=0.01)
    D3 = StarGANDiscriminator(32, 1, 7, ndf=8, code_dim=2)
    assert D3(torch.zeros(3, 1, 32, 32))[2].shape == (3, 2)
    with pytest.raises(ConfigError, match="condition"):
        StarGANGenerator(1, 7, 8, 1)(torch.zeros(2, 1, 16, 16), torch.zeros(2, 5))


def test_stargan_training_step_updates_generator_every_n_critic():
    torch.manual_seed(0)
    G, D = StarGANGenerator(1, 3, 8, 1), StarGANDiscriminator(16, 1, 3, ndf=8)
    model = StarGAN(G, D, 3, n_critic=2)
    x, y = torch.rand(6, 1, 16, 16) * 2 - 1, torch.tensor([0, 1, 2, 0, 1, 2])
    g0 = [p.clone() for p in G.parameters()]
    out = model.training_step((x, y))
    assert set(out) >= {"D_total", "D_adv", "D_gp", "D_cls", "G_total", "rec"}
    assert all(torch.equal(a, b) for a, b in zip(g0, G.parameters(), strict=True))  # critic only
    model.training_step((x, y))
    assert not all(torch.equal(a, b) for a, b in zip(g0, G.parameters(), strict=True))
    assert int(model.steps) == 2
    state = {k: v.clone() for k, v in model.state_dict().items()}
    model.training_step((x, y))
    model.load_state_dict(state)
    assert int(model.steps) == 2 and model._count is None
    with pytest.raises(ConfigError, match="labels"):
        model.training_step((x, torch.tensor([0, 1, 2, 0, 1, 3])))


def test_bench_cli_writes_json_on_cpu(tmp_path, capsys):
    out = tmp_path / "bench.json"
    rc = main(["bench", "--model", "all", "--size", "32", "--batch", "2", "--steps", "2",
               "--warmup", "1", "--width", "8", "--device", "cpu", "--out", str(out)])
    assert rc == 0
    res = json.loads(out.read_text())
    assert set(res["models"]) == {"cyclegan", "stargan", "exprada"}
    for r in res["models"].values():
        assert r["reference"]["images_per_s"] > 0 and r["fast"]["images_per_s"] > 0
        assert r["reference"]["flops_per_step"] > 1e6 and r["fast"]["achieved_tflops"] > 0
        assert r["ratio"] == pytest.approx(r["fast"]["images_per_s"] / r["reference"]["images_per_s"], rel=1e-2)
    assert "fast / reference" in capsys.readouterr().out
    assert main(["bench", "--model", "nope", "--device", "cpu"]) == 2

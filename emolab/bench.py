"""``emolab bench``: training throughput, reference configuration against the fast path.

For each model, the same training step (generator and discriminator updates,
losses, optimizers) is timed twice in one process:

(a) **reference** — float32, eager, unfused Adam, cuDNN's default algorithm
    choice, the batch drawn on the CPU and copied to the device every step:
    how the original implementations run;
(b) **fast** — :meth:`emolab.training.Accel.for_device`: bf16 autocast,
    channels_last, fused Adam, ``torch.compile``, cuDNN autotuning, and the
    dataset resident on the device (batches are drawn there, no copy).

Each is warmed up first (compilation and autotuning happen there), then
``steps`` steps are timed between device synchronisations. Reported per
configuration: images/s (the training batch per step; a CycleGAN step also
translates a batch of the other domain), milliseconds per step, peak device
memory (CUDA) or the process's peak resident memory (CPU), and the model FLOP
utilisation: the FLOPs of one step counted by ``torch.utils.flop_counter``
(convolutions and matrix products, forward and backward, the gradient penalty's
double backward included) per second, over the device's dense bf16 peak.

Models (paper sizes by default):

``cyclegan``  ResNet generator (9 blocks at >= 256 px, else 6), 64 filters,
              70x70 PatchGAN, LSGAN, image pool 50, batch 1 as in the paper.
``stargan``   the StarGAN / GANmut backbone at 128 px: 6 residual blocks, a
              6-layer critic with class head, WGAN-GP; a bench step is one
              critic and one generator update (``n_critic = 1``), batch 16.
``exprada``   ExprADA-CGIT at 128 px (Tables 1-2: two 150M-parameter
              generators, two discriminators), LSGAN, batch 8 as the paper.

SIGAN's networks join the list when its chapter lands.
"""

from __future__ import annotations

import json
import platform
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from emolab.core.errors import ConfigError
from emolab.training.accel import Accel, accelerate

# Dense bfloat16 tensor-core peaks (FLOP/s), from the vendors' data sheets.
PEAK_BF16 = {"H100 SXM": 989.4e12, "H100 PCIe": 756.0e12, "H100 NVL": 835.0e12, "H200": 989.4e12,
             "A100": 312.0e12, "L40S": 362.0e12, "L4": 121.0e12, "A10": 125.0e12}


def peak_flops(device: torch.device) -> float | None:
    """The dense bf16 peak of a known GPU, else ``None`` (no MFU is reported)."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    if "H100" in name:
        return PEAK_BF16["H100 PCIe"] if "PCIe" in name else (
            PEAK_BF16["H100 NVL"] if "NVL" in name else PEAK_BF16["H100 SXM"])
    for key, value in PEAK_BF16.items():
        if key.split()[0] in name:
            return value
    return None


@dataclass
class BenchModel:
    """A built method and its data: ``step()`` runs one training step."""

    name: str
    method: torch.nn.Module
    batch_fn: Callable[[], object]
    batch: int
    size: int

    def step(self):
        return self.method.training_step(self.batch_fn())


def _images(n: int, channels: int, size: int, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(n, channels, size, size, generator=generator) * 2 - 1


def _sampler(data: list[torch.Tensor], batch: int, device: torch.device, resident: bool,
             channels_last: bool):
    """Batches of ``data`` tensors (same first dimension): drawn on the CPU and
    copied each step (reference), or drawn on the device from resident copies."""
    n = len(data[0])
    fmt = torch.channels_last if channels_last else torch.contiguous_format

    def to_dev(t):
        return t.to(device, memory_format=fmt) if t.ndim == 4 else t.to(device)

    if resident:
        data = [to_dev(t) for t in data]
        gen = torch.Generator(device=device).manual_seed(0)

        def draw():
            idx = torch.randint(n, (batch,), generator=gen, device=device)
            return tuple(t[idx] for t in data)
    else:
        gen = torch.Generator().manual_seed(0)

        def draw():
            idx = torch.randint(n, (batch,), generator=gen)
            return tuple(to_dev(t[idx]) for t in data)
    return draw


def build(name: str, size: int | None, batch: int | None, device: torch.device, accel: Accel,
          *, width: int = 64, n_data: int = 64, seed: int = 0) -> BenchModel:
    """The model ``name`` at ``size`` px, built under ``accel`` on ``device``."""
    from emolab.methods import CycleGAN, ExprADA, StarGAN
    from emolab.models import define_discriminator, define_exprada, define_generator
    from emolab.models.stargan import define_stargan

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    resident = not accel.is_reference
    if name == "cyclegan":
        size, batch = size or 256, batch or 1
        kind = "resnet_9blocks" if size >= 256 else "resnet_6blocks"
        nets = [define_generator(kind, 3, 3, ngf=width), define_generator(kind, 3, 3, ngf=width),
                define_discriminator("basic", 3, ndf=width), define_discriminator("basic", 3, ndf=width)]
        method = CycleGAN(*nets, gan_mode="lsgan", pool_size=50, pool_seed=seed)
        accelerate(method, accel, device)
        r, t = _images(n_data, 3, size, gen), _images(n_data, 3, size, gen)
        draw = _sampler([r, t], batch, device, resident, accel.channels_last)
        return BenchModel(name, method, draw, batch, size)
    if name == "stargan":
        size, batch = size or 128, batch or 16
        n_classes = 7
        G, D = define_stargan(size, 3, c_dim=n_classes, n_classes=n_classes, ngf=width, ndf=width)
        method = StarGAN(G, D, n_classes, n_critic=1)
        accelerate(method, accel, device)
        x = _images(n_data, 3, size, gen)
        y = torch.randint(n_classes, (n_data,), generator=gen)
        draw = _sampler([x, y], batch, device, resident, accel.channels_last)
        return BenchModel(name, method, draw, batch, size)
    if name == "exprada":
        size, batch = size or 128, batch or 8
        n_classes = 7
        G_ts, D_s = define_exprada(size, 3, n_classes, ngf=width, ndf=width)
        G_st, _ = define_exprada(size, 3, n_classes, ngf=width, ndf=width)
        _, D_t = define_exprada(size, 3, 0, ngf=width, ndf=width)
        method = ExprADA(G_ts, G_st, D_s, D_t, n_classes)
        accelerate(method, accel, device)
        x_s, x_t = _images(n_data, 3, size, gen), _images(n_data, 3, size, gen)
        y = torch.randint(n_classes, (n_data,), generator=gen)
        draw = _sampler([x_s, y, x_t], batch, device, resident, accel.channels_last)
        return BenchModel(name, method, draw, batch, size)
    raise ConfigError(f"unknown bench model {name!r}; choose one of {BENCH_MODELS}")


BENCH_MODELS = ("cyclegan", "stargan", "exprada")
ALIASES = {"ganmut": "stargan"}  # GANmut trains the StarGAN backbone


def resolve_models(names: list[str]) -> list[str]:
    """``["all"]`` -> every model; aliases resolved; an unknown name fails before any timing."""
    if names == ["all"]:
        return list(BENCH_MODELS)
    out = [ALIASES.get(n, n) for n in names]
    for n, m in zip(names, out, strict=True):
        if m not in BENCH_MODELS:
            raise ConfigError(f"unknown bench model {n!r}; choose one of {(*BENCH_MODELS, *ALIASES, 'all')}")
    return out


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def count_flops(model: BenchModel) -> float | None:
    """FLOPs of one training step (eager; compiled steps do the same arithmetic).

    ``FlopCounterMode`` attributes FLOPs to modules with backward hooks, which
    ``autograd.grad`` (the gradient penalty) refuses; only the total is needed,
    so its dispatch mode runs without the module tracker. ``None`` if this
    torch lacks it.
    """
    from torch.utils import flop_counter

    counter = flop_counter.FlopCounterMode(display=False)
    inner = getattr(flop_counter, "_FlopCounterMode", None)
    if inner is None:
        return None
    counter.flop_counts.clear()
    with inner(counter):
        model.step()
    return float(counter.get_total_flops())


def time_config(name: str, size, batch, device: torch.device, accel: Accel, steps: int,
                warmup: int, flops: float | None = None, **kw) -> dict:
    """Build, warm up and time one configuration; return its figures."""
    model = build(name, size, batch, device, accel, **kw)

    def run_steps(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            model.step()
        _sync(device)
        return time.perf_counter() - t0

    warm_s = run_steps(warmup)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    seconds = run_steps(steps)
    if device.type == "cuda":
        peak_mb = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        scale = 1 if platform.system() == "Darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20
    if flops is None:
        flops = count_flops(build(name, size, batch, device, Accel.reference(), **kw))
    peak = peak_flops(device)
    out = {
        "accel": accel.as_dict(),
        "size": model.size, "batch": model.batch, "steps": steps, "warmup_s": round(warm_s, 2),
        "ms_per_step": round(1000 * seconds / steps, 3),
        "images_per_s": round(model.batch * steps / seconds, 2),
        "peak_memory_mb": round(peak_mb, 1),
        "peak_memory_kind": "cuda max allocated" if device.type == "cuda" else "process max RSS",
        "flops_per_step": flops,
        "achieved_tflops": round(flops * steps / seconds / 1e12, 3) if flops else None,
        "mfu": round(flops * steps / seconds / peak, 4) if peak and flops else None,
    }
    del model
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return out


def parse_accel(text: str) -> Accel:
    """``"amp=bf16,compile=1,channels_last=0"`` -> an :class:`Accel` (unnamed fields off)."""
    fields: dict = {}
    for item in filter(None, (t.strip() for t in text.split(","))):
        key, _, value = item.partition("=")
        if key not in Accel.__dataclass_fields__:
            raise ConfigError(f"unknown fast-path switch {key!r}; choose from {list(Accel.__dataclass_fields__)}")
        if key == "amp":
            fields[key] = None if value in ("", "none", "0") else value
        elif value not in ("0", "1", "true", "false"):
            raise ConfigError(f"{key} takes 0/1, got {value!r}")
        else:
            fields[key] = value in ("1", "true")
    return Accel(**fields)


def bench(models: list[str], *, size: int | None = None, batch: int | None = None, steps: int = 20,
          warmup: int = 5, device: str | None = None, width: int = 64, fast: Accel | None = None) -> dict:
    """Time every model in both configurations; ``ratio`` = fast / reference images/s.

    ``fast``: the configuration to compare (default ``Accel.for_device``), to
    measure what each switch is worth."""
    from emolab.core.runtime import resolve_device

    dev = resolve_device(device)
    models = resolve_models(models)
    if steps < 1 or warmup < 0:
        raise ConfigError("steps must be >= 1 and warmup >= 0")
    results = {"device": str(dev), "device_name": (torch.cuda.get_device_name(dev) if dev.type == "cuda"
                                                  else platform.processor() or platform.machine()),
               "torch": torch.__version__, "threads": torch.get_num_threads(),
               "peak_bf16_flops": peak_flops(dev), "models": {}}
    benchmark_state = torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic
    for name in models:
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = False, False
        ref = time_config(name, size, batch, dev, Accel.reference(), steps, warmup, width=width)
        fast_cfg = fast if fast is not None else Accel.for_device(dev)
        quick = time_config(name, size, batch, dev, fast_cfg, steps, warmup,
                            flops=ref["flops_per_step"], width=width)
        results["models"][name] = {"reference": ref, "fast": quick,
                                   "ratio": round(quick["images_per_s"] / ref["images_per_s"], 3)}
    torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = benchmark_state
    return results


def format_table(results: dict) -> str:
    lines = [f"device: {results['device']} ({results['device_name']}), torch {results['torch']}",
             f"{'model':<10} {'config':<10} {'px':>4} {'batch':>5} {'ms/step':>9} {'img/s':>9} "
             f"{'peak MB':>9} {'TFLOP/s':>8} {'MFU':>6}"]
    for name, r in results["models"].items():
        for cfg in ("reference", "fast"):
            c = r[cfg]
            mfu = f"{100 * c['mfu']:.1f}%" if c["mfu"] is not None else "-"
            tflops = f"{c['achieved_tflops']:.3f}" if c["achieved_tflops"] is not None else "-"
            lines.append(f"{name:<10} {cfg:<10} {c['size']:>4} {c['batch']:>5} {c['ms_per_step']:>9.1f} "
                         f"{c['images_per_s']:>9.2f} {c['peak_memory_mb']:>9.0f} "
                         f"{tflops:>8} {mfu:>6}")
        lines.append(f"{name:<10} fast / reference: {r['ratio']:.2f}x")
    return "\n".join(lines)


def write_json(results: dict, path) -> None:
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")

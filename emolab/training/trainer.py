"""One small training loop a student can read in one sitting.

The *method* (a CycleGAN, a classifier, ...) is an ``nn.Module`` that owns its
networks and its optimizers and knows how to take one training step:

.. code-block:: python

    class MyMethod(nn.Module):
        optimizers: dict[str, torch.optim.Optimizer]
        schedulers: dict[str, object]            # optional
        def training_step(self, batch) -> dict[str, float]: ...

The *trainer* owns everything around that step: drawing batches with its own
seeded ``torch.Generator``, counting steps, keeping the loss history, stopping
on a non-finite loss, and writing and reading checkpoints so that a resumed run
continues exactly — bit for bit on the CPU — where the first one stopped.

Two optional windows onto a run, both off by default:

* **sample grids** — with ``sample_every = k`` and a ``sample_fn``, every
  ``k`` steps the trainer calls ``sample_fn(step)`` (under ``torch.no_grad``)
  and saves the returned batch ``[N, C, H, W]`` as one PNG grid,
  ``samples/step_000123.png``. The batch's values are read in
  ``sample_range``: ``(-1, 1)`` (the default; a ``tanh`` generator's output)
  or ``(0, 1)``; values outside are clipped. ``sample_fn`` may return
  ``None`` to skip a grid. For an exact resume it must not draw from the
  global RNG, or draw the same amount every time (a grid at a checkpoint step
  is drawn before the checkpoint is written).
* **TensorBoard** — with ``tensorboard=True`` (or a folder), every logged
  loss is also written as the scalar ``loss/<name>`` at its step, into
  ``checkpoint_dir/tensorboard`` (or the folder). ``tensorboard`` is an
  optional dependency (``pip install tensorboard``); a resumed run drops the
  events a crashed run had written after its checkpoint (``purge_step``). The
  writer is opened by ``fit`` and closed when it returns.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from emolab.core.checkpoint import load_checkpoint, save_checkpoint
from emolab.core.distributed import any_rank, barrier, is_main, shard
from emolab.core.errors import ConfigError, DivergenceError
from emolab.core.progress import progress, progress_enabled
from emolab.core.runtime import capture_rng_state, restore_rng_state


class Trainer:
    """Run ``method.training_step`` on batches from ``sample_batch``.

    Args:
        method: the module with ``optimizers`` and ``training_step``.
        sample_batch: ``f(generator) -> batch``; all randomness in sampling
            must come from the generator it is given.
        config: the run's configuration, stored in every checkpoint; a resume
            from a checkpoint with another configuration is refused.
        seed: seeds the sampling generator.
        checkpoint_dir: where ``last.pt`` is written (``None``: no checkpoints).
        checkpoint_every: write ``last.pt`` every this many steps (and at the end).
        log_every: keep the step's losses in ``history`` every this many steps.
        sample_every: call ``sample_fn`` and save a grid every this many steps
            (``0``: never).
        sample_fn: ``f(step) -> images [N, C, H, W] or None``.
        sample_dir: where the grids go (default ``checkpoint_dir/samples``).
        sample_range: the value range of the images ``sample_fn`` returns.
        tensorboard: ``False``, ``True`` (``checkpoint_dir/tensorboard``) or a
            folder: also log the losses there as TensorBoard scalars.
    """

    CHECKPOINT_NAME = "last.pt"

    def __init__(self, method: nn.Module, sample_batch: Callable[[torch.Generator], object], *,
                 config: dict, seed: int = 0, checkpoint_dir: str | os.PathLike | None = None,
                 checkpoint_every: int = 0, log_every: int = 1, desc: str = "train",
                 sample_every: int = 0,
                 sample_fn: Callable[[int], torch.Tensor | None] | None = None,
                 sample_dir: str | os.PathLike | None = None,
                 sample_range: tuple[float, float] = (-1.0, 1.0),
                 tensorboard: bool | str | os.PathLike = False):
        if not hasattr(method, "training_step") or not isinstance(getattr(method, "optimizers", None), dict):
            raise ConfigError("the method needs a `training_step(batch)` and an `optimizers` dict")
        if checkpoint_every < 0 or log_every < 1:
            raise ConfigError("checkpoint_every must be >= 0 and log_every >= 1")
        self.method = method
        self.sample_batch = sample_batch
        self.config = config
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.checkpoint_every = checkpoint_every
        self.log_every = log_every
        self.desc = desc
        self.generator = torch.Generator().manual_seed(seed)
        self.step = 0
        self.history: dict[str, list[float]] = {"step": []}

        if sample_every < 0:
            raise ConfigError("sample_every must be >= 0")
        if sample_every and sample_fn is None:
            raise ConfigError("sample_every > 0 needs a sample_fn(step) that returns images")
        if sample_every and sample_dir is None and self.checkpoint_dir is None:
            raise ConfigError("sample_every > 0 needs a sample_dir or a checkpoint_dir")
        if not sample_range[0] < sample_range[1]:
            raise ConfigError(f"sample_range must be (low, high) with low < high, got {sample_range}")
        self.sample_every = sample_every
        self.sample_fn = sample_fn
        self.sample_range = (float(sample_range[0]), float(sample_range[1]))
        self.sample_dir = (Path(sample_dir) if sample_dir is not None
                           else self.checkpoint_dir / "samples" if self.checkpoint_dir else None)

        self.tensorboard_dir: Path | None = None
        if tensorboard is True:
            if self.checkpoint_dir is None:
                raise ConfigError("tensorboard=True writes to checkpoint_dir/tensorboard: "
                                  "set checkpoint_dir or pass a folder")
            self.tensorboard_dir = self.checkpoint_dir / "tensorboard"
        elif tensorboard:
            self.tensorboard_dir = Path(tensorboard)
        if self.tensorboard_dir is not None:
            _summary_writer_class()  # fail now, not at the first logged step
        self._writer = None

    # ------------------------------------------------------------------ loop
    def fit(self, total_steps: int) -> dict[str, list[float]]:
        """Train until ``self.step == total_steps``; return the loss history."""
        if total_steps < self.step:
            raise ConfigError(f"asked to train to step {total_steps}, already at {self.step}")
        self.method.train()
        if self.tensorboard_dir is not None:
            self._writer = _summary_writer_class()(
                log_dir=str(self.tensorboard_dir), purge_step=self.step + 1 if self.step else None)
        bar = progress(total=total_steps, initial=self.step, desc=self.desc,
                       enabled=progress_enabled() and is_main())
        try:
            while self.step < total_steps:
                # every rank draws the same global batch and keeps its slice (1 process: all of it)
                losses = self.method.training_step(shard(self.sample_batch(self.generator)))
                bad = {k: v for k, v in losses.items() if not math.isfinite(v)}
                if any_rank(bool(bad)):  # all ranks stop together
                    raise DivergenceError(self._divergence_message(bad or {"loss": "on another rank"}))
                self.step += 1
                if self.step % self.log_every == 0 or self.step == total_steps:
                    self._log(losses)
                    bar.set_postfix({k: f"{v:.3g}" for k, v in losses.items()}, refresh=False)
                bar.update(1)
                if self.sample_every and self.step % self.sample_every == 0:
                    self.save_samples()
                if self.checkpoint_every and self.step % self.checkpoint_every == 0:
                    self.save()
        finally:
            bar.close()
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        if self.checkpoint_dir is not None:
            self.save()
        return self.history

    def _log(self, losses: dict[str, float]) -> None:
        self.history["step"].append(self.step)
        for k, v in losses.items():
            self.history.setdefault(k, []).append(float(v))
            if self._writer is not None:
                self._writer.add_scalar(f"loss/{k}", float(v), self.step)

    def sample_path(self, step: int) -> Path | None:
        """Where the grid of ``step`` goes: ``sample_dir/step_000123.png``."""
        return self.sample_dir / f"step_{step:06d}.png" if self.sample_dir else None

    def save_samples(self) -> Path | None:
        """Call ``sample_fn(step)`` and save its batch as a grid; return the path (or ``None``)."""
        from torchvision.utils import make_grid, save_image  # only runs that draw grids need it

        if self.sample_fn is None or self.sample_dir is None:
            raise ConfigError("no sample_fn or no sample folder: pass them to the Trainer")
        with torch.no_grad():
            images = self.sample_fn(self.step)
        self.method.train()  # in case sample_fn left the networks in eval mode
        if images is None:
            return None
        if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] not in (1, 3):
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            raise ConfigError(f"sample_fn must return images [N, C, H, W] with C = 1 or 3, got {shape}")
        if not is_main():  # every rank draws the grid (same RNG use), rank 0 writes it
            return None
        low, high = self.sample_range
        grid = make_grid(images.detach().float().cpu().clamp(low, high), nrow=8, padding=2,
                         normalize=True, value_range=(low, high))
        path = self.sample_path(self.step)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image(grid, path)
        return path

    def _divergence_message(self, bad: dict) -> str:
        where = self.checkpoint_path
        kept = (f"the last good checkpoint is kept at {where}" if where and where.exists()
                else "no checkpoint was written before it")
        return (f"training diverged at step {self.step + 1}: non-finite "
                f"{', '.join(f'{k}={v}' for k, v in bad.items())}; {kept}. "
                "Try a lower learning rate or another seed.")

    # ----------------------------------------------------------- checkpoints
    @property
    def checkpoint_path(self) -> Path | None:
        return self.checkpoint_dir / self.CHECKPOINT_NAME if self.checkpoint_dir else None

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write the checkpoint (rank 0 only in a multi-process run; the others wait)."""
        path = Path(path) if path is not None else self.checkpoint_path
        if path is None:
            raise ConfigError("no checkpoint path: pass one or set checkpoint_dir")
        if not is_main():
            barrier()
            return path
        path = save_checkpoint(
            path, config=self.config, step=self.step, models={"method": self.method},
            optimizers=self.method.optimizers,
            schedulers=getattr(self.method, "schedulers", None),
            rng={"global": capture_rng_state(), "sampler": self.generator.get_state()},
            history=self.history,
        )
        barrier()
        return path

    def resume(self, path: str | os.PathLike | None = None, *, strict_config: bool = True) -> bool:
        """Load a checkpoint if there is one; return whether one was loaded."""
        path = Path(path) if path is not None else self.checkpoint_path
        if path is None or not path.exists():
            return False
        ckpt = load_checkpoint(path)
        if strict_config and ckpt["config"] != self.config:
            changed = sorted(k for k in set(ckpt["config"]) | set(self.config)
                             if ckpt["config"].get(k) != self.config.get(k))
            raise ConfigError(f"{path} was written with another configuration "
                              f"(differs in {changed}); use a new output folder")
        self.method.load_state_dict(ckpt["models"]["method"])
        for name, opt in self.method.optimizers.items():
            opt.load_state_dict(ckpt["optimizers"][name])
        for name, sched in (getattr(self.method, "schedulers", None) or {}).items():
            sched.load_state_dict(ckpt["schedulers"][name])
        restore_rng_state(ckpt["rng"]["global"])
        self.generator.set_state(ckpt["rng"]["sampler"])
        self.step = ckpt["step"]
        self.history = {k: list(v) for k, v in ckpt["history"].items()}
        return True


def _summary_writer_class():
    """``torch.utils.tensorboard.SummaryWriter``, imported only when asked for."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as err:
        raise ConfigError("tensorboard logging needs the tensorboard package: "
                          "pip install tensorboard (or pass tensorboard=False)") from err
    return SummaryWriter

"""Data-parallel training over ``torch.distributed``: several processes, one model.

``emolab run CHAPTER --nproc N`` (or ``torchrun --nproc-per-node N -m emolab
run CHAPTER``) starts N processes; each holds a full copy of every network.
What keeps the copies identical, and what makes N processes one run:

* **Identical seeds per rank.** Every rank seeds the same way, so the data,
  the initial weights and every random draw of the trainer's sampler agree.
* **Sharded batches.** The trainer draws the same global batch on every rank
  and each rank keeps its own slice, ``batch[rank::N]`` (:func:`shard`); the
  global batch is the 1-process run's, so N processes train the same model on
  the same data, each doing 1/N of the arithmetic.
* **Averaged gradients.** Before every optimizer step the gradients are
  summed over the ranks and divided by N (:func:`average_gradients`, one
  all-reduce of the flattened gradients per optimizer): with mean-reduced
  losses and equal slices, that is the gradient of the global batch. The same
  averaged gradient and the same optimizer make the same step everywhere.
* **Synchronised batch norm** on CUDA (:func:`convert_sync_batchnorm`): batch
  statistics over the global batch, not the slice. ``SyncBatchNorm`` has no
  CPU kernel, so on the CPU (gloo) each rank normalises by its slice.
* **Rank 0 writes.** Progress bars, checkpoints, ``metrics.json`` and figures
  come from rank 0 only.

Why not the ``DistributedDataParallel`` wrapper? It overlaps the all-reduce
with the backward pass, which pays off for large models, but it assumes one
forward and one backward per step for each wrapped module. A GAN step runs the
discriminator frozen inside the generator's loss, then trains it, and the
WGAN-GP penalty differentiates it twice; the wrapper's reducer then waits for
gradients that never come. Averaging at the optimizer step is what the wrapper
computes, for any training step, with one collective per optimizer.

Which is where the numbers differ from one process: everything a step does
per batch rather than per sample (batch norm on the CPU, an image pool, a
shuffled target label) sees the slice, and floating-point sums happen in
another order. The chapters' metrics match the 1-process run within the
tolerance their tests state, not bit for bit.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch import nn

from emolab.core.errors import ConfigError


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def is_main() -> bool:
    """True on rank 0 (and in a 1-process run): the rank that writes files."""
    return rank() == 0


def env_world_size() -> int:
    """``WORLD_SIZE`` as set by ``torchrun`` (1 when absent)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def init_from_env(device: torch.device) -> bool:
    """Join the process group ``torchrun`` describes in the environment.

    NCCL on CUDA (each rank on GPU ``LOCAL_RANK``), gloo on the CPU. Returns
    whether a group with more than one process is up.
    """
    if env_world_size() <= 1 or is_distributed():
        return is_distributed()
    if not dist.is_available():
        raise ConfigError("this torch build has no torch.distributed; run with --nproc 1")
    if device.type == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if local >= torch.cuda.device_count():
            raise ConfigError(f"LOCAL_RANK {local} but only {torch.cuda.device_count()} GPUs are visible")
        torch.cuda.set_device(local)
        dist.init_process_group("nccl")
    else:
        dist.init_process_group("gloo")
    return True


def shutdown() -> None:
    if is_distributed():
        dist.destroy_process_group()


def shard(batch):
    """This rank's slice ``[rank::world]`` of every tensor in ``batch`` (a
    tensor or a tuple/list of them, all of one batch size); unchanged in a
    1-process run."""
    n = world_size()
    if n == 1:
        return batch
    single = isinstance(batch, torch.Tensor)
    parts = [batch] if single else list(batch)
    sizes = {len(t) for t in parts}
    if len(sizes) != 1:
        raise ConfigError(f"cannot shard a batch whose tensors have different sizes {sorted(sizes)}")
    size = sizes.pop()
    if size % n:
        raise ConfigError(f"the batch size {size} is not divisible by the {n} processes; "
                          f"choose --nproc dividing it")
    sliced = [t[rank()::n] for t in parts]
    return sliced[0] if single else type(batch)(sliced)


def average_gradients(params) -> None:
    """Replace every gradient by its mean over the ranks (one all-reduce)."""
    n = world_size()
    if n == 1:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= n
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def any_rank(flag: bool, device: torch.device | str = "cpu") -> bool:
    """True if ``flag`` is true on any rank (so that every rank stops together)."""
    if world_size() == 1:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def barrier() -> None:
    if is_distributed():
        dist.barrier()


def convert_sync_batchnorm(module: nn.Module) -> nn.Module:
    """Batch norm over the global batch on CUDA; unchanged on the CPU or in one process."""
    param = next(module.parameters(), None)
    if world_size() == 1 or param is None or param.device.type != "cuda":
        return module
    return nn.SyncBatchNorm.convert_sync_batchnorm(module)

"""The fast path: how a method trains quickly on a GPU, and why it stays correct.

The implementations the book follows (CycleGAN, StarGAN, GANmut) train in
float32, eagerly, one kernel at a time. On a modern GPU most of that time is
spent waiting: for float32 arithmetic where the tensor cores run bfloat16 many
times faster, for hundreds of small kernel launches, for the optimizer's
per-parameter loops. :class:`Accel` names each remedy; one switch turns each on:

``amp``
    ``"bf16"``: the forward passes and losses run under
    ``torch.autocast(dtype=torch.bfloat16)``; weights, gradients and optimizer
    state stay float32. bfloat16 has float32's exponent range, so no loss
    scaling is needed. ``"fp16"`` (GPUs without bfloat16) adds a
    ``torch.amp.GradScaler``: the loss is multiplied before backward so that
    small gradients do not underflow, and a step whose gradients overflow is
    skipped. The gradient penalty takes the scaler into account
    (:func:`emolab.losses.gradient_penalty`).
``channels_last``
    weights and images in NHWC order, the layout cuDNN's tensor-core
    convolutions want (otherwise they transpose on every call).
``compile``
    ``torch.compile`` of every network's forward (``nn.Module.compile``, in
    place, so parameter names and checkpoints do not change). The compiled
    graph has no double backward, so the gradient penalty calls the eager
    forward (:func:`eager`): the critic's weights are shared, only the
    kernels differ, and the penalty's second derivative stays exact.
``fused_adam``
    Adam's update for all parameters in one kernel (``fused=True``).
``cudnn_benchmark``
    cuDNN times its algorithms for each new shape and keeps the fastest (not
    bit-deterministic, hence off in the reference).

:meth:`Accel.for_device` is the default, chosen by measurement (``emolab bench``
on one H200, torch 2.11, paper sizes; ms per training step, reference first):

==========================================  ====================  =====================
switches on top of the reference            CycleGAN 256 px, b 1  StarGAN 128 px, b 16
==========================================  ====================  =====================
none (reference)                            53-61                 47-48
bf16 + fused Adam + cuDNN autotuning        47.9 (1.12x)          30.2 (1.58x)
the same + channels_last                    49.3 (1.25x)          36.8 (1.29x)
the same + channels_last + compile          43.4 (1.23x)          36.5 (1.27x)
bf16 + fused + autotuning + compile         61.7 (0.90x)          -
==========================================  ====================  =====================

(each ratio is against the reference timed in the same process). Both
networks are instance-normalised, and PyTorch's instance norm copies a
channels_last tensor back to the contiguous layout, which costs more than
the tensor-core convolutions gain; compilation helped only together with
channels_last, and not beyond bf16 alone for StarGAN. So on a CUDA GPU the
default is bf16 (fp16 with a scaler where bf16 is missing), fused Adam and
cuDNN autotuning; ``channels_last`` and ``compile`` are switches to try on
other networks (``emolab bench --fast 'amp=bf16,compile=1'``). On the CPU the
default is the reference: bf16 autocast was slower there, and bit-exact CPU
runs are worth more to a reader than a few percent.

A method opts in by inheriting :class:`AccelMixin` and doing its updates with
:meth:`AccelMixin.autocast` and :meth:`AccelMixin.update`; :func:`accelerate`
moves a built method to its device and applies the rest.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass

import torch
from torch import nn

from emolab.core.distributed import average_gradients, convert_sync_batchnorm
from emolab.core.errors import ConfigError

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class Accel:
    """Which speed-ups a training run uses; all off is the reference configuration."""

    amp: str | None = None
    channels_last: bool = False
    compile: bool = False
    fused_adam: bool = False
    cudnn_benchmark: bool = False

    def __post_init__(self):
        if self.amp not in (None, *AMP_DTYPES):
            raise ConfigError(f"amp must be None, 'bf16' or 'fp16', got {self.amp!r}")

    @classmethod
    def reference(cls) -> Accel:
        """float32, eager, unfused: how the original implementations run."""
        return cls()

    @classmethod
    def for_device(cls, device: str | torch.device) -> Accel:
        """The measured fast path (module docstring): on a CUDA GPU bf16 (fp16
        with a scaler where bf16 is missing), fused Adam and cuDNN autotuning;
        the reference on the CPU."""
        device = torch.device(device)
        if device.type != "cuda":
            return cls()
        amp = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return cls(amp=amp, fused_adam=True, cudnn_benchmark=True)

    @property
    def is_reference(self) -> bool:
        return self == Accel()

    def as_dict(self) -> dict:
        return asdict(self)


class AccelMixin:
    """Mixed precision for a method's ``training_step``.

    ``self.accel`` (an :class:`Accel`, the reference by default) decides;
    :meth:`autocast` wraps the forward passes and losses, :meth:`update`
    does ``zero_grad``, ``backward`` and ``step`` of one optimizer, with loss
    scaling under fp16.
    """

    accel: Accel = Accel()
    _scaler: torch.amp.GradScaler | None = None

    def _device_type(self) -> str:
        param = next(self.parameters(), None)
        return param.device.type if param is not None else "cpu"

    def autocast(self):
        """The autocast context of the fast path (a no-op without ``amp``)."""
        if self.accel.amp is None:
            return contextlib.nullcontext()
        return torch.autocast(self._device_type(), dtype=AMP_DTYPES[self.accel.amp])

    @property
    def scaler(self) -> torch.amp.GradScaler | None:
        """The loss scaler under fp16, else ``None``."""
        if self.accel.amp != "fp16":
            return None
        if self._scaler is None:
            self._scaler = torch.amp.GradScaler(self._device_type())
        return self._scaler

    def update(self, loss: torch.Tensor, name: str) -> None:
        """One optimizer step on ``loss`` for ``self.optimizers[name]``; in a
        multi-process run the gradients are averaged over the ranks first
        (:mod:`emolab.core.distributed`)."""
        opt = self.optimizers[name]
        opt.zero_grad(set_to_none=True)
        scaler = self.scaler
        params = (p for group in opt.param_groups for p in group["params"])  # read only with >1 process
        if scaler is None:
            loss.backward()
            average_gradients(params)
            opt.step()
        else:
            scaler.scale(loss).backward()
            average_gradients(params)
            scaler.step(opt)
            scaler.update()

    @staticmethod
    def as_floats(losses: dict[str, torch.Tensor]) -> dict[str, float]:
        """The step's losses as Python floats, with one device synchronisation
        (not one per loss)."""
        names = list(losses)
        values = torch.stack([losses[k].detach().float().reshape(()) for k in names]).tolist()
        return dict(zip(names, values, strict=True))


def resident(device: str | torch.device, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The tensors on ``device``, copied once: a chapter's small dataset then
    lives on the GPU and a training batch is an index into it, not a copy
    from the CPU every step (on the CPU nothing moves)."""
    return tuple(t.to(device) for t in tensors)


def eager(module):
    """The module's eager forward when it was compiled in place, else the module.

    For passes the compiler cannot differentiate twice (the gradient penalty).
    """
    if isinstance(module, nn.Module) and getattr(module, "_compiled_call_impl", None) is not None:
        return module.forward
    return module


def networks(method: nn.Module) -> dict[str, nn.Module]:
    """The method's direct sub-modules that hold parameters (its networks)."""
    return {name: m for name, m in method.named_children() if any(True for _ in m.parameters())}


def _rebuild_adam(opt: torch.optim.Optimizer, fused: bool) -> torch.optim.Optimizer:
    if not isinstance(opt, torch.optim.Adam) or type(opt) is not torch.optim.Adam:
        return opt
    if any(opt.state.values()):
        raise ConfigError("fused Adam must be set before the first step (the optimizer has state)")
    groups = [{k: v for k, v in g.items() if k not in ("fused", "foreach")} for g in opt.param_groups]
    return torch.optim.Adam(groups, fused=fused, foreach=None if fused else opt.defaults.get("foreach"))


def accelerate(method: nn.Module, accel: Accel, device: str | torch.device) -> nn.Module:
    """Move ``method`` to ``device`` and apply ``accel`` (in place; returns it).

    Call it after building the method and before training and before any
    learning-rate scheduler is attached (fused Adam rebuilds the optimizers).
    In a multi-GPU run, batch norm layers become ``SyncBatchNorm``.
    """
    device = torch.device(device)
    if accel.amp == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ConfigError("this GPU has no bfloat16: use amp='fp16'")
    if accel.fused_adam and device.type not in ("cuda", "cpu"):
        raise ConfigError(f"fused Adam needs a CUDA or CPU device, got {device}")
    if getattr(method, "schedulers", None) and accel.fused_adam:
        raise ConfigError("call accelerate() before attaching schedulers")
    method.to(device)
    for name, net in networks(method).items():  # SyncBatchNorm in a multi-GPU run
        setattr(method, name, convert_sync_batchnorm(net))
    if accel.channels_last:
        method.to(memory_format=torch.channels_last)
    if accel.fused_adam:
        method.optimizers = {k: _rebuild_adam(o, True) for k, o in method.optimizers.items()}
    if accel.compile:
        for net in networks(method).values():
            net.compile()
    if accel.cudnn_benchmark and device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.deterministic = False
    method.accel = accel
    return method

"""The gradient penalty of WGAN-GP (Gulrajani et al., 2017, eq. 3).

A Wasserstein critic must be 1-Lipschitz. Instead of clipping its weights,
WGAN-GP penalises the norm of its input gradient on random points between the
real and the generated distributions:

    x_hat = eps * x + (1 - eps) * x_tilde,       eps ~ U[0, 1] per sample
    L_GP  = lambda * E_x_hat[(||grad_x_hat D(x_hat)||_2 - 1)^2]

with ``lambda = 10`` in the paper. The norm is taken per sample over every
non-batch dimension (all pixels and channels of an image). The penalty is part
of the critic's loss, so its gradient w.r.t. the critic's parameters is needed:
the input gradient is computed with ``create_graph=True``.

Mixed precision. Under ``torch.autocast`` the critic runs in low precision, as
the caller asked; the interpolation, the critic's output, the input gradient
and its norm are kept in float32. With a ``torch.amp.GradScaler`` the caller
scales the loss so that small fp16 gradients do not underflow; the gradient
asked for here must be scaled the same way and unscaled before the norm (the
recipe of the PyTorch AMP examples, "Gradient penalty"): pass ``scaler`` and
the penalty computes ``grad(scaler.scale(D(x_hat).sum()))`` and divides it by
``scaler.get_scale()``. If the scaled gradient overflows, the penalty is
non-finite; the scaler then finds non-finite gradients and skips the step, as
it does for any overflow.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from emolab.core.errors import ConfigError


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                     fake: torch.Tensor, weight: float = 10.0, target_norm: float = 1.0, *,
                     generator: torch.Generator | None = None, scaler=None) -> torch.Tensor:
    """``weight * mean_i (||grad D(x_hat_i)||_2 - target_norm)^2`` on random interpolates.

    Args:
        critic: ``D``, called once on the interpolates (under the caller's
            autocast, if any); its output may have any shape per sample (a
            PatchGAN map is summed, which is the gradient of each sample's
            total score).
        real, fake: two batches of the same shape; both are detached.
        weight: ``lambda`` of eq. (3).
        target_norm: the norm the gradient is pulled towards (1 for 1-Lipschitz).
        generator: draws the interpolation weights ``eps``; ``None`` uses
            torch's global generator (of ``real``'s device).
        scaler: a ``torch.amp.GradScaler`` (or anything with ``scale(t)`` and
            ``get_scale()``) when the caller trains with loss scaling.

    Returns:
        A float32 scalar, differentiable w.r.t. the critic's parameters.
    """
    if real.shape != fake.shape:
        raise ConfigError(f"gradient_penalty needs real and fake of the same shape, got "
                          f"{tuple(real.shape)} and {tuple(fake.shape)}")
    if real.ndim < 2 or len(real) == 0:
        raise ConfigError(f"gradient_penalty needs a non-empty batch [N, ...], got {tuple(real.shape)}")
    if weight < 0:
        raise ConfigError(f"gradient penalty weight must be >= 0, got {weight}")
    n = len(real)
    eps_shape = (n,) + (1,) * (real.ndim - 1)
    eps_device = generator.device if generator is not None else real.device
    eps = torch.rand(eps_shape, generator=generator, device=eps_device).to(real.device)
    # Interpolate in float32 and differentiate w.r.t. this float32 leaf.
    x_hat = (eps * real.detach().float() + (1 - eps) * fake.detach().float()).requires_grad_(True)
    out = critic(x_hat.to(real.dtype)).float()
    total = out.sum()
    if scaler is not None:
        total = scaler.scale(total)
    (grad,) = torch.autograd.grad(total, x_hat, create_graph=True)
    grad = grad.float()
    if scaler is not None:
        grad = grad / scaler.get_scale()
    norms = grad.flatten(1).norm(2, dim=1)
    return weight * ((norms - target_norm) ** 2).mean()

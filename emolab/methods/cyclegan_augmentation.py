"""Emotion classification with data augmentation using GANs (Zhu et al., 2018).

A CycleGAN learns two translators between a *reference* class R and a *target*
class T from unpaired samples,

    G: R -> T        F: T -> R,

judged by two discriminators D_T (is this a real t?) and D_R (is this a real r?).
Translating plentiful reference samples with G gives new target samples, which
complete the target class's manifold before a classifier is trained.

Losses, numbered as in the paper:

(2)  L_LSGAN(F, D_R, T, R) = E_r[(D_R(r) - 1)^2] + E_t[D_R(F(t))^2]
(3)  L_LSGAN(G, D_T, R, T) = E_t[(D_T(t) - 1)^2] + E_r[D_T(G(r))^2]
(5)  L_cyc(G, F)           = E_r ||F(G(r)) - r||_1 + E_t ||G(F(t)) - t||_1
(4)  L(G, F, D_R, D_T)     = L_R + L_T + lambda * L_cyc
(6)  G*, F* = argmin_{G,F} max_{D_R,D_T} L

The discriminators minimise (2) and (3) as written. The generators cannot
change the real terms, and with least squares they minimise
``E[(D(fake) - 1)^2]`` — they push fakes towards the "real" label — plus
``lambda * L_cyc``; this is the LSGAN form of the minimax in (6).
``lambda = 10`` as in the paper's appendix; Adam with ``beta1 = 0.5``.

Options from the CycleGAN paper (Zhu et al., 2017) and its successors, all
off by default (the defaults reproduce the equations above exactly, with the
same random numbers); the numbers (7)–(9) continue the paper's and are ours:

(7)  L_idt(G, F) = E_t ||G(t) - t||_1 + E_r ||F(r) - r||_1
     identity mapping (CycleGAN §5.2): with ``lambda_identity > 0`` the
     generators also minimise ``lambda_identity * lambda * L_idt`` (the
     reference implementation's scaling; 0.5 there), which keeps colours and
     anything already in the target domain. R and T must have the same shape.
(8)  D_T(pool(G(r))), D_R(pool(F(t)))
     an image pool (Shrivastava et al., 2017): with ``pool_size > 0`` the
     discriminators' fake terms in (2) and (3) see a history of translations,
     :class:`~emolab.training.ImagePool` (50 in CycleGAN).
(9)  ``gan_mode`` replaces the least squares of (2)–(3) by another adversarial
     loss (:class:`~emolab.losses.GANLoss`): ``vanilla``, ``hinge`` or
     ``wgangp``; for ``wgangp`` each critic's loss also gets the gradient
     penalty ``lambda_gp * E[(||grad D(x_hat)||_2 - 1)^2]`` of Gulrajani et al.
     (2017) on interpolates of its real and fake inputs
     (:func:`~emolab.losses.gradient_penalty`; ``r`` and ``t`` batches must
     then have the same size).

(10) D_T(A(t)), D_T(A(G(r))), D_R(A(r)), D_R(A(F(t)))
     differentiable augmentation (Zhao et al., 2020): with ``augment`` (a
     callable such as :class:`~emolab.training.DiffAugment`) every image a
     discriminator sees, real or translated, in the discriminators' step
     and in the generators' adversarial terms, is randomly transformed
     first. A rare class gives D_T only a few dozen real images; without
     it D_T memorises them and G learns to paint noise (the failure the
     augmentation chapter shows). The cycle and identity terms see the
     untransformed images.

Learning-rate schedules: ``model.schedulers`` is a dict (empty by default),
saved and restored by the Trainer; every scheduler in it is stepped once at
the end of each ``training_step``, so a schedule counts training steps, e.g.
``model.schedulers = {k: linear_decay(opt, 500, 500) for k, opt in
model.optimizers.items()}``.

The networks are passed in, so one class serves the 2-D toy (MLPs) and images
(ResNet generators, PatchGAN discriminators) alike.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from emolab.core.errors import ConfigError
from emolab.losses import CycleConsistencyLoss, GANLoss, IdentityLoss, gradient_penalty
from emolab.training import ImagePool
from emolab.training.accel import AccelMixin, eager


class CycleGAN(AccelMixin, nn.Module):
    """Generators ``G: R->T``, ``F: T->R`` and discriminators ``D_R``, ``D_T``.

    Args:
        lambda_cyc: ``lambda`` of (4).
        gan_mode: the adversarial loss, one of ``emolab.losses.GAN_MODES`` (9).
        lr, betas: Adam's, for both optimizers.
        pool_size: image-pool size for the discriminators' fakes (8); ``0``: none.
        pool_seed: ``None``: the pools draw from torch's global RNG (which the
            Trainer checkpoints); an integer: each pool owns a generator
            (seeded ``pool_seed`` for ``T``, ``pool_seed + 1`` for ``R``),
            saved with it.
        lambda_identity: weight of the identity loss (7), relative to ``lambda_cyc``.
        lambda_gp: gradient-penalty weight, used with ``gan_mode="wgangp"``.
        augment: ``None``, or a callable applied to every discriminator input (10).

    The pools are sub-modules ``pools["T"]`` and ``pools["R"]`` (their images
    travel in ``state_dict()``, hence in checkpoints); with ``pool_size=0``
    ``pools`` is empty and the ``state_dict`` is the one of a CycleGAN
    without pools, so older checkpoints still load.
    """

    def __init__(self, G: nn.Module, F: nn.Module, D_R: nn.Module, D_T: nn.Module, *,
                 lambda_cyc: float = 10.0, gan_mode: str = "lsgan", lr: float = 2e-4,
                 betas: tuple[float, float] = (0.5, 0.999), pool_size: int = 0,
                 pool_seed: int | None = None, lambda_identity: float = 0.0,
                 lambda_gp: float = 10.0, augment=None):
        super().__init__()
        if lambda_cyc < 0 or lr <= 0:
            raise ConfigError("lambda_cyc must be >= 0 and lr > 0")
        if lambda_identity < 0 or lambda_gp < 0:
            raise ConfigError("lambda_identity and lambda_gp must be >= 0")
        self.G, self.F, self.D_R, self.D_T = G, F, D_R, D_T
        self.lambda_cyc = lambda_cyc
        self.lambda_identity = lambda_identity
        self.lambda_gp = lambda_gp
        if augment is not None and not callable(augment):
            raise ConfigError(f"augment must be a callable (e.g. DiffAugment), got {augment!r}")
        self.augment = augment
        self.gan_loss = GANLoss(gan_mode)
        self.cycle_loss = CycleConsistencyLoss()
        self.identity_loss = IdentityLoss()
        self.pools = nn.ModuleDict()
        if pool_size:
            gens = ((None, None) if pool_seed is None else
                    (torch.Generator().manual_seed(pool_seed), torch.Generator().manual_seed(pool_seed + 1)))
            self.pools["T"] = ImagePool(pool_size, generator=gens[0])
            self.pools["R"] = ImagePool(pool_size, generator=gens[1])
        elif not isinstance(pool_size, int) or isinstance(pool_size, bool):
            raise ConfigError(f"pool_size must be an integer >= 0, got {pool_size!r}")
        self.optimizers = {
            "G": torch.optim.Adam(itertools.chain(G.parameters(), F.parameters()), lr=lr, betas=betas),
            "D": torch.optim.Adam(itertools.chain(D_R.parameters(), D_T.parameters()), lr=lr, betas=betas),
        }
        self.schedulers: dict[str, torch.optim.lr_scheduler.LRScheduler] = {}

    # -------------------------------------------------------------- the losses
    def generator_losses(self, r: torch.Tensor, t: torch.Tensor):
        """Generator side of (2)–(5) and (7); returns the terms and the translations."""
        fake_t, fake_r = self.G(r), self.F(t)
        adv_T = self.gan_loss(self.D_T(self._aug(fake_t)), True, for_discriminator=False)  # from (3)
        adv_R = self.gan_loss(self.D_R(self._aug(fake_r)), True, for_discriminator=False)  # from (2)
        cyc = self.cycle_loss(self.F(fake_t), r) + self.cycle_loss(self.G(fake_r), t)  # (5)
        total = adv_T + adv_R + self.lambda_cyc * cyc                    # (4)
        losses = {"G_total": total, "G_adv_T": adv_T, "G_adv_R": adv_R, "cycle": cyc}
        if self.lambda_identity > 0:                                     # (7)
            if r.shape[1:] != t.shape[1:]:
                raise ConfigError(f"the identity loss needs R and T of the same shape, got "
                                  f"{tuple(r.shape[1:])} and {tuple(t.shape[1:])}; "
                                  "set lambda_identity=0")
            idt = self.identity_loss(self.G(t), t) + self.identity_loss(self.F(r), r)
            losses["identity"] = idt
            losses["G_total"] = total + self.lambda_identity * self.lambda_cyc * idt
        return losses, fake_t, fake_r

    def discriminator_losses(self, r, t, fake_t, fake_r):
        """(3) for D_T and (2) for D_R, on detached translations; with ``wgangp``
        plus each critic's gradient penalty (9), also reported as ``D_T_gp``, ``D_R_gp``."""
        fake_t, fake_r = self._aug(fake_t.detach()), self._aug(fake_r.detach())
        r, t = self._aug(r), self._aug(t)
        d_T = self.gan_loss(self.D_T(t), True) + self.gan_loss(self.D_T(fake_t), False)
        d_R = self.gan_loss(self.D_R(r), True) + self.gan_loss(self.D_R(fake_r), False)
        if self.gan_loss.mode != "wgangp":
            return {"D_T": d_T, "D_R": d_R}
        # eager(): a compiled critic's forward has no double backward (see training.accel)
        gp_T = gradient_penalty(eager(self.D_T), t, fake_t, weight=self.lambda_gp, scaler=self.scaler)
        gp_R = gradient_penalty(eager(self.D_R), r, fake_r, weight=self.lambda_gp, scaler=self.scaler)
        return {"D_T": d_T + gp_T, "D_R": d_R + gp_R, "D_T_gp": gp_T, "D_R_gp": gp_R}

    def _aug(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.augment is None else self.augment(x)

    def pooled(self, fake_t: torch.Tensor, fake_r: torch.Tensor):
        """The translations the discriminators see (8): from the pools, if any."""
        if not self.pools:
            return fake_t, fake_r
        return self.pools["T"](fake_t.detach()), self.pools["R"](fake_r.detach())

    # ------------------------------------------------------------ one step
    def training_step(self, batch) -> dict[str, float]:
        """One alternating update: generators first, then discriminators
        (on pooled translations), then every scheduler steps."""
        r, t = batch
        discriminators = (self.D_R, self.D_T)
        for d in discriminators:
            d.requires_grad_(False)
        with self.autocast():  # a no-op unless self.accel asks for mixed precision
            g_losses, fake_t, fake_r = self.generator_losses(r, t)
        self.update(g_losses["G_total"], "G")
        for d in discriminators:
            d.requires_grad_(True)

        with self.autocast():
            d_losses = self.discriminator_losses(r, t, *self.pooled(fake_t, fake_r))
        self.update(d_losses["D_T"] + d_losses["D_R"], "D")
        for scheduler in self.schedulers.values():
            scheduler.step()
        return self.as_floats({**g_losses, **d_losses})

    # ------------------------------------------------------------ inference
    @torch.no_grad()
    def translate(self, x: torch.Tensor, direction: str = "R->T", batch_size: int = 1024) -> torch.Tensor:
        """Apply ``G`` (``"R->T"``) or ``F`` (``"T->R"``) in eval mode, in batches."""
        if direction not in ("R->T", "T->R"):
            raise ConfigError("direction must be 'R->T' or 'T->R'")
        net = self.G if direction == "R->T" else self.F
        was_training = net.training
        net.eval()
        out = torch.cat([net(chunk) for chunk in x.split(batch_size)]) if len(x) else x.clone()
        net.train(was_training)
        return out

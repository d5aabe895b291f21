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

The networks are passed in, so one class serves the 2-D toy (MLPs) and images
(ResNet generators, PatchGAN discriminators) alike.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from emolab.core.errors import ConfigError
from emolab.losses import CycleConsistencyLoss, GANLoss


class CycleGAN(nn.Module):
    """Generators ``G: R->T``, ``F: T->R`` and discriminators ``D_R``, ``D_T``."""

    def __init__(self, G: nn.Module, F: nn.Module, D_R: nn.Module, D_T: nn.Module, *,
                 lambda_cyc: float = 10.0, gan_mode: str = "lsgan", lr: float = 2e-4,
                 betas: tuple[float, float] = (0.5, 0.999)):
        super().__init__()
        if lambda_cyc < 0 or lr <= 0:
            raise ConfigError("lambda_cyc must be >= 0 and lr > 0")
        self.G, self.F, self.D_R, self.D_T = G, F, D_R, D_T
        self.lambda_cyc = lambda_cyc
        self.gan_loss = GANLoss(gan_mode)
        self.cycle_loss = CycleConsistencyLoss()
        self.optimizers = {
            "G": torch.optim.Adam(itertools.chain(G.parameters(), F.parameters()), lr=lr, betas=betas),
            "D": torch.optim.Adam(itertools.chain(D_R.parameters(), D_T.parameters()), lr=lr, betas=betas),
        }

    # -------------------------------------------------------------- the losses
    def generator_losses(self, r: torch.Tensor, t: torch.Tensor):
        """Generator side of (2)–(5); returns the terms and the translations."""
        fake_t, fake_r = self.G(r), self.F(t)
        adv_T = self.gan_loss(self.D_T(fake_t), True)                    # from (3)
        adv_R = self.gan_loss(self.D_R(fake_r), True)                    # from (2)
        cyc = self.cycle_loss(self.F(fake_t), r) + self.cycle_loss(self.G(fake_r), t)  # (5)
        total = adv_T + adv_R + self.lambda_cyc * cyc                    # (4)
        return {"G_total": total, "G_adv_T": adv_T, "G_adv_R": adv_R, "cycle": cyc}, fake_t, fake_r

    def discriminator_losses(self, r, t, fake_t, fake_r):
        """(3) for D_T and (2) for D_R, on detached translations."""
        d_T = self.gan_loss(self.D_T(t), True) + self.gan_loss(self.D_T(fake_t.detach()), False)
        d_R = self.gan_loss(self.D_R(r), True) + self.gan_loss(self.D_R(fake_r.detach()), False)
        return {"D_T": d_T, "D_R": d_R}

    # ------------------------------------------------------------ one step
    def training_step(self, batch) -> dict[str, float]:
        """One alternating update: generators first, then discriminators."""
        r, t = batch
        discriminators = (self.D_R, self.D_T)
        for d in discriminators:
            d.requires_grad_(False)
        g_losses, fake_t, fake_r = self.generator_losses(r, t)
        self.optimizers["G"].zero_grad(set_to_none=True)
        g_losses["G_total"].backward()
        self.optimizers["G"].step()
        for d in discriminators:
            d.requires_grad_(True)

        d_losses = self.discriminator_losses(r, t, fake_t, fake_r)
        self.optimizers["D"].zero_grad(set_to_none=True)
        (d_losses["D_T"] + d_losses["D_R"]).backward()
        self.optimizers["D"].step()
        return {k: float(v.detach()) for k, v in {**g_losses, **d_losses}.items()}

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

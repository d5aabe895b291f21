"""GANmut (d'Apolito et al., 2021): a learned, interpretable conditional space for a gamut of emotions.

The backbone is StarGAN (:mod:`emolab.methods.stargan`): ``G(x, z)`` takes an
image and a condition, ``D`` scores realism and classifies the emotion. GANmut
replaces StarGAN's one-hot labels with a point ``z`` of a learned 2-D space
(:mod:`emolab.models.ganmut`) and gives ``D`` a third head, ``D_coord``, that
regresses ``z``. Equations numbered as the paper:

(1)  L_D = -L_adv + λ_cls L_cls^r + λ_infoD L_info
(2)  L_G =  L_adv + λ_cls L_cls^f + λ_rec L_rec + λ_infoG L_info + λ_ρ L_ρ
(3)  L_adv    = E_x[D_src(x)] - E_{x,z}[D_src(G(x, z))] - λ_gp E[(||∇D_src(x̂)||_2 - 1)^2]
(4)  L_cls^f  = E_{x,c,ρ}[-log D_cls(c | G(x, z_{c,ρ}(θ_c)))]   on S_c; neutral where ρ < τ
(5)  L_cls^r  = E_{x,c'}[-log D_cls(c' | x)]
(6)  L_info   = E_{x,z}[||D_coord(G(x, z)) - z||_2^2]
(7)  L_ρ      = E_{x,z}[(ρ̂(G(x, z)) - ρ)^2 1[ρ > 0.2]],   ρ̂(x) = max_c D_cls(c | x)
(8)  L_rec    = E_{x,z}[||x - G(G(x, z), D_coord(x))||_1]

and for the Gaussian space (GGANmut), with ``p_z`` the space's label
distribution at ``z`` and ``q_{x_z} = D_cls(· | G(x, z))``:

(9)  L_div    = E_{x,z}[KL(p_z || q_{x_z}) + KL(q_{x_z} || p_z)]          on S_r
(10) L_cls^f  = E_{x,c}[-log D_cls(c | G(x, μ_c))]                      on S_c

added to (2) with weight λ_div (the linear model's L_ρ is not used there).
The space's parameters (directions, or means, eigenvalues and orientations)
are trained with ``G``'s optimizer: every generator loss reaches them through
``z``. Weights as §5: λ_cls = 1 (0.5 for GGANmut), λ_gp = 10, λ_info = 1,
λ_ρ = 4, λ_div = 2, ``n_c = 9`` (7) of a batch of 16; λ_rec = 10, Adam and
``n_critic = 5`` as StarGAN (the paper adopts StarGAN's shared settings).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from emolab.core.errors import ConfigError
from emolab.losses import gradient_penalty
from emolab.methods.stargan import StarGAN
from emolab.models.ganmut import GaussianSpace, LinearSpace
from emolab.training.accel import eager

#: §5's weights; ``n_c`` as the fraction of a batch of 16.
PAPER_WEIGHTS = {
    "linear": dict(lambda_cls=1.0, lambda_info=1.0, lambda_rho=4.0, lambda_div=0.0, sc_fraction=9 / 16),
    "gaussian": dict(lambda_cls=0.5, lambda_info=1.0, lambda_rho=0.0, lambda_div=2.0, sc_fraction=7 / 16),
}


def symmetric_kl(log_p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """``KL(p || q) + KL(q || p) = Σ (p - q)(log p - log q)`` per row, from log-probabilities."""
    return ((log_p.exp() - log_q.exp()) * (log_p - log_q)).sum(1)


class GANmut(StarGAN):
    """GANmut on a StarGAN backbone, with a :class:`LinearSpace` or a :class:`GaussianSpace`.

    Args:
        G: ``G(x, z)`` with a 2-D condition (``c_dim = 2``).
        D: ``D(x) -> (src, cls, code)`` with ``code_dim = 2``.
        space: the conditional space (its parameters join ``G``'s optimizer).
        space_lr: the space's learning rate in that optimizer (None: ``lr``).
        n_classes: the number of labels, neutral included.
        sc_fraction: the share of each batch in ``S_c``.
        lambda_*: the weights of (1), (2), (9); ``lambda_info`` serves as both
            λ_infoD and λ_infoG.

    ``training_step((x, labels))`` is StarGAN's (``n_critic`` critic updates per generator
    update, targets ``c`` drawn as the shuffled labels ``c'``), with :meth:`condition`
    drawing the codes of the critic step and :meth:`generator_losses` its own.
    """

    def __init__(self, G: nn.Module, D: nn.Module, space: LinearSpace | GaussianSpace, n_classes: int, *,
                 sc_fraction: float = 9 / 16, lambda_cls: float = 1.0, lambda_rec: float = 10.0,
                 lambda_gp: float = 10.0, lambda_info: float = 1.0, lambda_rho: float = 4.0,
                 lambda_div: float = 2.0, n_critic: int = 5, lr: float = 1e-4, space_lr: float | None = None,
                 betas: tuple[float, float] = (0.5, 0.999)):
        super().__init__(G, D, n_classes, lambda_cls=lambda_cls, lambda_rec=lambda_rec, lambda_gp=lambda_gp,
                         n_critic=n_critic, lr=lr, betas=betas)
        if not isinstance(space, (LinearSpace, GaussianSpace)):
            raise ConfigError(f"space must be a LinearSpace or a GaussianSpace, got {type(space).__name__}")
        if space.n_classes != n_classes:
            raise ConfigError(f"the space has {space.n_classes} classes, the method {n_classes}")
        if getattr(G, "c_dim", 2) != 2 or getattr(getattr(D, "code", None), "out_channels", 2) != 2:
            raise ConfigError("GANmut needs G with c_dim=2 and D with a 2-D code head (code_dim=2)")
        if not 0.0 < sc_fraction <= 1.0 or min(lambda_info, lambda_rho, lambda_div) < 0:
            raise ConfigError("sc_fraction must be in (0, 1] and the weights >= 0")
        if space_lr is not None and space_lr <= 0:
            raise ConfigError(f"space_lr must be > 0 (or None: lr), got {space_lr}")
        self.space = space
        self.sc_fraction = sc_fraction
        self.lambda_info, self.lambda_rho, self.lambda_div = lambda_info, lambda_rho, lambda_div
        self.optimizers["G"] = torch.optim.Adam(
            [{"params": list(G.parameters())},
             {"params": list(space.parameters()), "lr": lr if space_lr is None else space_lr}], lr=lr, betas=betas)
        self._last_g = {"G_adv": 0.0, "G_cls": 0.0, "G_info": 0.0, "rec": 0.0, "G_rho": 0.0, "G_div": 0.0,
                        "G_total": 0.0}

    @property
    def gaussian(self) -> bool:
        return isinstance(self.space, GaussianSpace)

    def n_c(self, n: int) -> int:
        return max(1, min(n, round(self.sc_fraction * n)))

    def sample(self, target: torch.Tensor):
        """``(z, rho or None, S_c targets)`` for one batch, ``S_c`` first."""
        if self.gaussian:
            z, tgt = self.space.sample_split(target, self.n_c(len(target)))
            return z, None, tgt
        return self.space.sample_split(target, self.n_c(len(target)))

    def discriminator_losses(self, x, labels, fake):
        z = self._critic_codes
        src_real, cls_real, _ = self.D(x)
        src_fake, _, code_fake = self.D(fake.detach())
        adv = -src_real.mean() + src_fake.mean()                        # -(3) without the penalty
        gp = gradient_penalty(lambda u: eager(self.D)(u)[0], x, fake, weight=self.lambda_gp,
                              scaler=self.scaler)
        cls = F.cross_entropy(cls_real.float(), labels)                 # (5)
        info = (code_fake.float() - z).pow(2).sum(1).mean()             # (6)
        total = adv + gp + self.lambda_cls * cls + self.lambda_info * info  # (1)
        return {"D_total": total, "D_adv": adv, "D_gp": gp, "D_cls": cls, "D_info": info}

    def generator_losses(self, x, labels, target):
        z, rho, tgt = self.sample(target)
        n_c = len(tgt)
        fake = self.G(x, z)
        src_fake, cls_fake, code_fake = self.D(fake)
        logits = cls_fake.float()
        adv = -src_fake.mean()                                          # (3), generator side
        cls = F.cross_entropy(logits[:n_c], tgt)                        # (4) / (10)
        # (6); z is the regression's target, a constant: were it differentiable, every
        # direction would be pulled towards whatever D_coord predicts early on, where G
        # still ignores z and D_coord answers one point for all: the directions collapse
        info = (code_fake.float() - z.detach()).pow(2).sum(1).mean()
        zero = logits.new_zeros(())
        rho_loss, div = zero, zero
        if rho is not None and self.lambda_rho:
            rho_hat = logits.softmax(1).max(1).values                   # ρ̂ = max_c D_cls(c | ·)
            rho_loss = ((rho_hat - rho).pow(2) * (rho > 0.2)).mean()    # (7)
        if self.gaussian and self.lambda_div and n_c < len(z):
            log_p = self.space.log_distribution(z[n_c:])
            div = symmetric_kl(log_p, logits[n_c:].log_softmax(1)).mean()  # (9)
        with torch.no_grad():
            code_real = self.D(x)[2].float()                            # D_coord(x)
        rec = (self.G(fake, code_real) - x).abs().mean()                # (8)
        total = (adv + self.lambda_cls * cls + self.lambda_rec * rec + self.lambda_info * info
                 + self.lambda_rho * rho_loss + self.lambda_div * div)  # (2)
        return {"G_total": total, "G_adv": adv, "G_cls": cls, "G_info": info, "rec": rec, "G_rho": rho_loss,
                "G_div": div}

    def condition(self, labels: torch.Tensor) -> torch.Tensor:
        """The critic step's codes for the targets ``labels`` (StarGAN's training step calls it
        under ``no_grad``); kept for :meth:`discriminator_losses`' eq. (6)."""
        self._critic_codes = self.sample(labels)[0]
        return self._critic_codes

    @torch.no_grad()
    def generate(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """``G(x, z)`` in eval mode."""
        was = self.G.training
        self.G.eval()
        out = self.G(x, z.to(x.dtype))
        self.G.train(was)
        return out

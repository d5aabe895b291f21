"""ExprADA (Bozorgtabar et al., 2019): face translation between a simulated
target domain and a real source domain, guided by expression categories.

Two generators and two discriminators:

* ``G_ts``: target (simulated) -> source (real), conditioned on a one-hot
  expression ``y`` in the category-guided variant (CGIT);
* ``G_st``: source -> target, conditioned on the source label ``y'`` (CGIT);
* ``D_s``: real/fake on the source domain, plus the expression classifier
  ``D_s^cls``; ``D_t``: real/fake on the target domain (no class head: target
  labels are not reliable, §3.1.3).

Losses, numbered as in the paper; the adversarial terms use least squares, the
paper's stated replacement of the log-likelihood of eq. (1) (§4):

(1)  L_adv^{t->s} = E[(D_s(x_s) - 1)^2] + E[D_s(G_ts(x_t, y))^2]     (and L_adv^{s->t} alike)
(2)  L_cls_r(D_s) = E[-log D_s^cls(y' | x_s)]                       real source, its label
(3)  L_cls_f(G_ts) = E[-log D_s^cls(y | G_ts(x_t, y))]              translated target, the asked y
(4)  L_bi = E||G_ts(G_st(x_s, y'), y') - x_s||_1 + E||G_st(G_ts(x_t, y), y) - x_t||_1
(5)  L_re = E||x_t - G_ts(x_t, y)||_1 + E||x_s - G_st(x_s, y')||_1
(6)  L(G) = L_adv^{t->s} + L_adv^{s->t} + λ_bi L_bi + λ_cls L_cls_f + λ_re L_re
     L(D) = -(adversarial terms) + λ_cls L_cls_r

with λ_bi = 10, λ_re = 10, λ_cls = 1 and Adam (lr 1e-4, β = (0.5, 0.999)).
The generators minimise ``E[(D(fake) - 1)^2]``, the least-squares form of
"fool the discriminator". The expressions ``y`` asked of ``G_ts`` are drawn
uniformly at random every step (§3.1: "we randomly use a set of expression
labels"); a target image then has no label, so in eq. (4) ``G_st`` is asked
for the image's new expression ``y``.

UIT (§3.2) is "the same without the class stream": ``n_classes=0`` builds
generators without ``y`` and drops (2) and (3). Ablations are the weights:
``lambda_bi=0`` (no L_bi), ``lambda_re=0`` (no L_re); both 0 is the
StarGAN-style translator of the chapter's comparison.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn

from emolab.core.errors import ConfigError
from emolab.losses import GANLoss
from emolab.training.accel import AccelMixin


class ExprADA(AccelMixin, nn.Module):
    """ExprADA-CGIT (``n_classes > 0``) or ExprADA-UIT (``n_classes = 0``).

    Args:
        G_ts, G_st: ``G(x, y)`` (CGIT) or ``G(x)`` (UIT), e.g.
            :class:`~emolab.models.exprada.ExprADAGenerator`.
        D_s, D_t: ``D(x) -> (src, cls, _)``, e.g.
            :class:`~emolab.models.stargan.StarGANDiscriminator`; ``D_s`` has
            a class head in CGIT.
        n_classes: expression classes; 0 for UIT.
        lambda_bi, lambda_re, lambda_cls: the weights of (6).
        flip: mirror each image left-right with probability 1/2 (§4), drawn
            from torch's global RNG (which the Trainer checkpoints).
        gan_mode: ``lsgan`` (the paper's §4) or another :class:`~emolab.losses.GANLoss`
            mode, e.g. ``vanilla``, the log-likelihood of eq. (1) as written.

    ``training_step((x_s, y_s, x_t))``: a labelled source batch and an
    unlabelled target batch (``y_s`` is ignored by UIT but still checked).
    """

    def __init__(self, G_ts: nn.Module, G_st: nn.Module, D_s: nn.Module, D_t: nn.Module, n_classes: int, *,
                 lambda_bi: float = 10.0, lambda_re: float = 10.0, lambda_cls: float = 1.0,
                 lr: float = 1e-4, betas: tuple[float, float] = (0.5, 0.999), flip: bool = True,
                 gan_mode: str = "lsgan"):
        super().__init__()
        if n_classes < 0 or n_classes == 1:
            raise ConfigError(f"n_classes must be 0 (UIT) or >= 2 (CGIT), got {n_classes}")
        if min(lambda_bi, lambda_re, lambda_cls) < 0 or lr <= 0:
            raise ConfigError("the loss weights must be >= 0 and lr > 0")
        self.G_ts, self.G_st, self.D_s, self.D_t = G_ts, G_st, D_s, D_t
        self.n_classes = n_classes
        self.lambda_bi, self.lambda_re, self.lambda_cls = lambda_bi, lambda_re, lambda_cls
        self.flip = flip
        self.gan_loss = GANLoss(gan_mode)
        self.optimizers = {
            "G": torch.optim.Adam(itertools.chain(G_ts.parameters(), G_st.parameters()), lr=lr, betas=betas),
            "D": torch.optim.Adam(itertools.chain(D_s.parameters(), D_t.parameters()), lr=lr, betas=betas),
        }
        self.schedulers: dict = {}

    @property
    def guided(self) -> bool:
        """True for CGIT (a class stream), False for UIT."""
        return self.n_classes > 0

    def _one_hot(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        return F.one_hot(labels, self.n_classes).float() if self.guided else None

    def to_source(self, x_t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """``G_ts(x_t, y)``: target images made real, with expression ``y`` (CGIT)."""
        return self.G_ts(x_t, self._one_hot(y)) if self.guided else self.G_ts(x_t)

    def to_target(self, x_s: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.G_st(x_s, self._one_hot(y)) if self.guided else self.G_st(x_s)

    def _check(self, x_s, y_s, x_t) -> None:
        if x_s.ndim != 4 or x_t.ndim != 4 or x_s.shape[1:] != x_t.shape[1:]:
            raise ConfigError(f"ExprADA expects source and target images of one shape [N, C, S, S], "
                              f"got {tuple(x_s.shape)} and {tuple(x_t.shape)}")
        if y_s.shape != (len(x_s),):
            raise ConfigError(f"source labels must be [N] for N = {len(x_s)}, got {tuple(y_s.shape)}")
        if self.guided and (y_s.min() < 0 or y_s.max() >= self.n_classes):
            raise ConfigError(f"source labels must lie in [0, {self.n_classes}), "
                              f"got {int(y_s.min())}..{int(y_s.max())}")

    @staticmethod
    def _flip(x: torch.Tensor) -> torch.Tensor:
        mask = torch.rand(len(x)) < 0.5
        return torch.where(mask.to(x.device)[:, None, None, None], x.flip(-1), x)

    # -------------------------------------------------------------- the losses
    def generator_losses(self, x_s, y_s, x_t, y):
        fake_s = self.to_source(x_t, y)                                  # x^{t->s}
        fake_t = self.to_target(x_s, y_s)                                # x^{s->t}
        src_s, cls_s, _ = self.D_s(fake_s)
        src_t, _, _ = self.D_t(fake_t)
        adv = (self.gan_loss(src_s, True, for_discriminator=False)      # from (1)
               + self.gan_loss(src_t, True, for_discriminator=False))
        total = adv
        losses = {"G_adv": adv}
        if self.lambda_bi > 0:                                           # (4)
            bi = ((self.to_source(fake_t, y_s) - x_s).abs().mean()
                  + (self.to_target(fake_s, y) - x_t).abs().mean())
            losses["bi"] = bi
            total = total + self.lambda_bi * bi
        if self.lambda_re > 0:                                           # (5)
            re = (x_t - fake_s).abs().mean() + (x_s - fake_t).abs().mean()
            losses["re"] = re
            total = total + self.lambda_re * re
        if self.guided:                                                  # (3)
            cls_f = F.cross_entropy(cls_s.float(), y)
            losses["cls_f"] = cls_f
            total = total + self.lambda_cls * cls_f
        losses["G_total"] = total                                        # (6), generators
        return losses, fake_s, fake_t

    def discriminator_losses(self, x_s, y_s, x_t, fake_s, fake_t):
        src_real_s, cls_real_s, _ = self.D_s(x_s)
        src_fake_s, _, _ = self.D_s(fake_s.detach())
        src_real_t, _, _ = self.D_t(x_t)
        src_fake_t, _, _ = self.D_t(fake_t.detach())
        d_s = self.gan_loss(src_real_s, True) + self.gan_loss(src_fake_s, False)   # (1)
        d_t = self.gan_loss(src_real_t, True) + self.gan_loss(src_fake_t, False)   # (1), s->t
        losses = {"D_s": d_s, "D_t": d_t}
        total = d_s + d_t
        if self.guided:                                                  # (2)
            cls_r = F.cross_entropy(cls_real_s.float(), y_s)
            losses["cls_r"] = cls_r
            total = total + self.lambda_cls * cls_r
        losses["D_total"] = total                                        # (6), discriminators
        return losses

    # ------------------------------------------------------------ one step
    def training_step(self, batch) -> dict[str, float]:
        x_s, y_s, x_t = batch
        self._check(x_s, y_s, x_t)
        if self.flip:
            x_s, x_t = self._flip(x_s), self._flip(x_t)
        y = (torch.randint(self.n_classes, (len(x_t),)).to(x_t.device) if self.guided else None)
        discriminators = (self.D_s, self.D_t)
        for d in discriminators:
            d.requires_grad_(False)
        with self.autocast():
            g, fake_s, fake_t = self.generator_losses(x_s, y_s, x_t, y)
        self.update(g["G_total"], "G")
        for d in discriminators:
            d.requires_grad_(True)
        with self.autocast():
            d = self.discriminator_losses(x_s, y_s, x_t, fake_s, fake_t)
        self.update(d["D_total"], "D")
        for scheduler in self.schedulers.values():
            scheduler.step()
        return self.as_floats({**g, **d})

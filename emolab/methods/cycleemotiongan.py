"""CycleEmotionGAN (Zhao et al., 2019): CycleGAN with emotional semantic consistency.

Unsupervised domain adaptation: labelled source images ``(x_S, y_S)``,
unlabelled target images ``x_T``. Two translators,

    G_ST: S -> T        G_TS: T -> S,

are judged by discriminators D_T (is this a real target image?) and D_S, and
a classifier F learns the emotions of *adapted* source images, which look
like target images but keep their source labels. At test time F classifies
target images directly.

Losses, numbered as in the paper (the adversarial terms are the paper's
log-loss, ``gan_mode="vanilla"``, with the generators' non-saturating form;
``gan_mode="lsgan"`` gives the least squares of CycleGAN's code):

(1)  L_GAN(G_ST, D_T)   adversarial loss on the target side
(2)  L_GAN(G_TS, D_S)   adversarial loss on the source side
(3)  L_cyc(G_ST, G_TS) = E ||G_TS(G_ST(x_S)) - x_S||_1 + E ||G_ST(G_TS(x_T)) - x_T||_1
(4)  L_CycleGAN        = (1) + (2) + alpha * (3)
(5)  L_ESC(G_ST)       = E_{x_S} d(F(x_S), F(G_ST(x_S)))
(6)  L_aCycleGAN       = (4) + lambda * (5)
(7)  d = SKL(p || q)   = KL(p || q) + KL(q || p)        (``distance="skl"``)
     or Mikels' wheel: the expected wheel distance ``p^T D q`` with
     ``D_ij = 1 + steps(i, j)``, our differentiable form of the paper's label
     distance (``distance="mikels"``; :mod:`emolab.losses.semantic`)
(8)  L_task(F)         = E_{(x_S, y_S)} CE(F(G_ST(x_S)), y_S)

Algorithm 1, one iteration per :meth:`CycleEmotionGAN.training_step` on a
batch ``(x_S, y_S, x_T)``::

    3.   update G_ST and G_TS on (6), with D_T, D_S and F fixed;
    4-7. update D_T on (1) and D_S on (2), on pooled translations (the 50-image
         history of Shrivastava et al., 2017, ``pool_size``);
    8-9. update F on (8), on ``G_ST(x_S)`` from the just-updated generator.

The paper's constants are the defaults: ``alpha = 10``; ``lambda = 10`` for
SKL and ``5`` for Mikels (``lambda_esc=None`` picks these); Adam with
``lr = 2e-4`` for the GAN and ``1e-4`` for F; a 50-image pool. With
``lambda_esc = 0`` the generators ignore F, so the model is a CycleGAN that
trains F alongside -- the ESC term is the only difference.

Everything else (DiffAugment on the discriminators' inputs, other GAN losses,
the identity loss, schedules) is inherited from
:class:`~emolab.methods.cyclegan_augmentation.CycleGAN`, with its numbering
(7)-(10) there. Naming: that class calls the translators ``G`` and ``F`` and
the source discriminator ``D_R``; here ``G_ST`` is ``G``, ``G_TS`` is ``F``,
``D_S`` is ``D_R``, and the paper's classifier F is :attr:`classifier`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as nnf
from torch import nn

from emolab.core.errors import ConfigError
from emolab.data.taxonomy import MIKELS8
from emolab.losses import EmotionalSemanticConsistencyLoss
from emolab.losses.semantic import ESC_DISTANCES
from emolab.methods.cyclegan_augmentation import CycleGAN

#: The paper's lambda of eq. (6) for each distance.
PAPER_LAMBDA = {"skl": 10.0, "mikels": 5.0}


class CycleEmotionGAN(CycleGAN):
    """Translators ``G_ST``, ``G_TS``, discriminators ``D_S``, ``D_T`` and the classifier ``F``.

    Args:
        G_ST, G_TS, D_S, D_T: the CycleGAN's networks.
        classifier: the paper's F, images -> logits over ``classes``.
        distance: ``d`` of eq. (5), ``"skl"`` or ``"mikels"``.
        lambda_esc: ``lambda`` of eq. (6); ``None``: the paper's (10 SKL, 5 Mikels).
        alpha: ``alpha`` of eq. (4).
        classes: the class order of the classifier's outputs (for ``"mikels"``,
            each must be one of Mikels' eight emotions).
        lr, lr_classifier: Adam's learning rates (GAN, F).
        betas_classifier: Adam's betas for F.
        pool_size, pool_seed, gan_mode, augment, lambda_identity, lambda_gp:
            as :class:`~emolab.methods.cyclegan_augmentation.CycleGAN`.
    """

    def __init__(self, G_ST: nn.Module, G_TS: nn.Module, D_S: nn.Module, D_T: nn.Module,
                 classifier: nn.Module, *, distance: str = "skl", lambda_esc: float | None = None,
                 alpha: float = 10.0, classes: tuple[str, ...] = MIKELS8, lr: float = 2e-4,
                 lr_classifier: float = 1e-4, betas_classifier: tuple[float, float] = (0.9, 0.999),
                 pool_size: int = 50, pool_seed: int | None = None, gan_mode: str = "vanilla",
                 augment=None, lambda_identity: float = 0.0, lambda_gp: float = 10.0):
        if distance not in ESC_DISTANCES:
            raise ConfigError(f"unknown ESC distance {distance!r}; choose one of {ESC_DISTANCES}")
        if distance == "mikels" and any(c not in MIKELS8 for c in classes):
            raise ConfigError(f"the Mikels distance needs classes from Mikels' wheel {MIKELS8}, got "
                              f"{tuple(classes)}; use distance='skl'")
        lam = PAPER_LAMBDA[distance] if lambda_esc is None else float(lambda_esc)
        if lam < 0 or lr_classifier <= 0:
            raise ConfigError("lambda_esc must be >= 0 and lr_classifier > 0")
        super().__init__(G_ST, G_TS, D_S, D_T, lambda_cyc=alpha, gan_mode=gan_mode, lr=lr,
                         pool_size=pool_size, pool_seed=pool_seed, lambda_identity=lambda_identity,
                         lambda_gp=lambda_gp, augment=augment)
        self.classifier = classifier
        self.classes = tuple(classes)
        self.distance = distance
        self.lambda_esc = lam
        self.esc_loss = EmotionalSemanticConsistencyLoss(distance, classes=self.classes)
        self.optimizers["C"] = torch.optim.Adam(classifier.parameters(), lr=lr_classifier,
                                                betas=betas_classifier)

    # the paper's names for the inherited networks
    @property
    def G_ST(self) -> nn.Module:
        return self.G

    @property
    def G_TS(self) -> nn.Module:
        return self.F

    @property
    def D_S(self) -> nn.Module:
        return self.D_R

    @property
    def alpha(self) -> float:
        return self.lambda_cyc

    # -------------------------------------------------------------- the losses
    def esc(self, x_s: torch.Tensor, adapted: torch.Tensor) -> torch.Tensor:
        """Eq. (5) on a batch: ``d(F(x_S), F(G_ST(x_S)))``, averaged."""
        return self.esc_loss(self.classifier(x_s), self.classifier(adapted))

    def task_loss(self, adapted: torch.Tensor, y_s: torch.Tensor) -> torch.Tensor:
        """Eq. (8): cross-entropy of F on adapted source images with the source labels."""
        return nnf.cross_entropy(self.classifier(adapted), y_s)

    def _check_batch(self, x_s, y_s, x_t) -> None:
        if x_s.ndim != 4 or x_t.ndim != 4 or x_s.shape[1:] != x_t.shape[1:]:
            raise ValueError(f"x_S and x_T must be image batches of one shape [B, C, H, W], got "
                             f"{tuple(x_s.shape)} and {tuple(x_t.shape)}")
        if y_s.shape != (len(x_s),):
            raise ValueError(f"y_S must hold one label per source image, got {tuple(y_s.shape)} "
                             f"for {len(x_s)} images")
        if len(y_s) and (int(y_s.min()) < 0 or int(y_s.max()) >= len(self.classes)):
            raise ValueError(f"labels must lie in [0, {len(self.classes)}), got {int(y_s.min())}..{int(y_s.max())}")

    # ------------------------------------------------------------ one step
    def training_step(self, batch) -> dict[str, float]:
        """One iteration of Algorithm 1 on ``(x_S, y_S, x_T)``: generators, discriminators, F."""
        x_s, y_s, x_t = batch
        self._check_batch(x_s, y_s, x_t)
        frozen = (self.D_R, self.D_T, self.classifier)
        # line 3: G_ST, G_TS on (6) with D_T, D_S and F fixed (F also in eval mode, so
        # that a batch-norm F neither updates its running statistics nor normalises
        # x_S and G_ST(x_S) by different batch statistics)
        for net in frozen:
            net.requires_grad_(False)
        classifier_mode = self.classifier.training
        self.classifier.eval()
        with self.autocast():  # a no-op unless self.accel asks for mixed precision
            g_losses, fake_t, fake_s = self.generator_losses(x_s, x_t)
            if self.lambda_esc > 0:
                esc = self.esc(x_s, fake_t)
                g_losses["esc"] = esc
                g_losses["G_total"] = g_losses["G_total"] + self.lambda_esc * esc
        self.update(g_losses["G_total"], "G")
        for net in frozen:
            net.requires_grad_(True)
        self.classifier.train(classifier_mode)

        # lines 4-7: D_T on (1), D_S on (2), on the pooled translations
        with self.autocast():
            d_losses = self.discriminator_losses(x_s, x_t, *self.pooled(fake_t, fake_s))
        self.update(d_losses["D_T"] + d_losses["D_R"], "D")

        # lines 8-9: F on (8), on G_ST(x_S) from the updated generator
        with self.autocast():
            with torch.no_grad():
                adapted = self.G(x_s)
            task = self.task_loss(adapted, y_s)
        self.update(task, "C")
        for scheduler in self.schedulers.values():
            scheduler.step()
        out = self.as_floats({**g_losses, **d_losses, "task": task})
        out["D_S"] = out.pop("D_R")
        return out

    # ------------------------------------------------------------ inference
    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
        """F's logits for target images ``x`` (Algorithm 1's output), in eval mode."""
        was_training = self.classifier.training
        self.classifier.eval()
        out = (torch.cat([self.classifier(c) for c in x.split(batch_size)]) if len(x)
               else torch.zeros(0, len(self.classes)))
        self.classifier.train(was_training)
        return out


__all__ = ["PAPER_LAMBDA", "CycleEmotionGAN"]

"""StarGAN (Choi et al., 2018): one conditional generator for many domains.

GANmut's baseline, and its backbone. ``G(x, c)`` translates an image ``x`` of
emotion ``c_org`` to the emotion ``c_trg``; ``D`` scores realism (``D_src``)
and classifies the emotion (``D_cls``). Losses, numbered as in StarGAN:

(1)  L_adv     = E_x[D_src(x)] - E_{x,c}[D_src(G(x, c))] - λ_gp E[(||∇D_src(x̂)||_2 - 1)^2]
                 (the WGAN-GP form, StarGAN eq. 8, which its experiments use)
(2)  L_cls^r   = E_{x,c'}[-log D_cls(c' | x)]            real images, their label c'
(3)  L_cls^f   = E_{x,c}[-log D_cls(c | G(x, c))]         translated images, the target c
(4)  L_rec     = E_{x,c,c'}[||x - G(G(x, c), c')||_1]     cycle back to the original label
(5)  L_D = -L_adv + λ_cls L_cls^r
(6)  L_G =  L_adv + λ_cls L_cls^f + λ_rec L_rec

λ_cls = 1, λ_rec = 10, λ_gp = 10; Adam (lr 1e-4, β = (0.5, 0.999)); the
generator is updated once every ``n_critic = 5`` critic updates. Target labels
are the batch's own labels, shuffled (as the official code).

Conditions are one-hot vectors here; GANmut replaces them with points of a
learned 2-D space, and D with a third head.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from emolab.core.errors import ConfigError
from emolab.losses import gradient_penalty
from emolab.training.accel import AccelMixin, eager


class StarGAN(AccelMixin, nn.Module):
    """StarGAN with a WGAN-GP critic and an auxiliary classifier.

    Args:
        G: ``G(x, c)``, e.g. :class:`~emolab.models.stargan.StarGANGenerator`.
        D: ``D(x) -> (src, cls, code)``, e.g. :class:`~emolab.models.stargan.StarGANDiscriminator`.
        n_classes: the number of emotions (the condition's length).
        lambda_cls, lambda_rec, lambda_gp: the weights of (5)-(6).
        n_critic: critic updates per generator update.

    ``training_step((x, labels))`` returns the step's losses; on a step without
    a generator update the generator's entries repeat its last values.
    """

    def __init__(self, G: nn.Module, D: nn.Module, n_classes: int, *, lambda_cls: float = 1.0,
                 lambda_rec: float = 10.0, lambda_gp: float = 10.0, n_critic: int = 5,
                 lr: float = 1e-4, betas: tuple[float, float] = (0.5, 0.999)):
        super().__init__()
        if n_classes < 2 or n_critic < 1 or lr <= 0 or min(lambda_cls, lambda_rec, lambda_gp) < 0:
            raise ConfigError("StarGAN needs n_classes >= 2, n_critic >= 1, lr > 0 and weights >= 0")
        self.G, self.D = G, D
        self.n_classes = n_classes
        self.lambda_cls, self.lambda_rec, self.lambda_gp = lambda_cls, lambda_rec, lambda_gp
        self.n_critic = n_critic
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))
        self._count: int | None = None  # ``steps`` as a Python int, read once (no GPU sync per step)
        self.optimizers = {"G": torch.optim.Adam(G.parameters(), lr=lr, betas=betas),
                           "D": torch.optim.Adam(D.parameters(), lr=lr, betas=betas)}
        self.schedulers: dict = {}
        self._last_g: dict[str, float] = {"G_adv": 0.0, "G_cls": 0.0, "rec": 0.0, "G_total": 0.0}

    def condition(self, labels: torch.Tensor) -> torch.Tensor:
        return F.one_hot(labels, self.n_classes).float()

    def _check(self, x: torch.Tensor, labels: torch.Tensor) -> None:
        if x.ndim != 4 or labels.shape != (x.shape[0],):
            raise ConfigError(f"StarGAN expects images [N, C, S, S] and labels [N], got "
                              f"{tuple(x.shape)} and {tuple(labels.shape)}")
        if labels.min() < 0 or labels.max() >= self.n_classes:
            raise ConfigError(f"labels must lie in [0, {self.n_classes}), got "
                              f"{int(labels.min())}..{int(labels.max())}")

    def discriminator_losses(self, x, labels, fake):
        src_real, cls_real, _ = self.D(x)
        src_fake, _, _ = self.D(fake.detach())
        adv = -src_real.mean() + src_fake.mean()                        # -(1) without the penalty
        gp = gradient_penalty(lambda z: eager(self.D)(z)[0], x, fake, weight=self.lambda_gp,
                              scaler=self.scaler)
        cls = F.cross_entropy(cls_real.float(), labels)                 # (2)
        total = adv + gp + self.lambda_cls * cls                        # (5)
        return {"D_total": total, "D_adv": adv, "D_gp": gp, "D_cls": cls}

    def generator_losses(self, x, labels, target):
        fake = self.G(x, self.condition(target))
        src_fake, cls_fake, _ = self.D(fake)
        adv = -src_fake.mean()                                          # (1), generator side
        cls = F.cross_entropy(cls_fake.float(), target)                 # (3)
        rec = (self.G(fake, self.condition(labels)) - x).abs().mean()   # (4)
        total = adv + self.lambda_cls * cls + self.lambda_rec * rec     # (6)
        return {"G_total": total, "G_adv": adv, "G_cls": cls, "rec": rec}

    def training_step(self, batch) -> dict[str, float]:
        x, labels = batch
        self._check(x, labels)
        target = labels[torch.randperm(len(labels), device=labels.device)]
        with self.autocast():
            with torch.no_grad():
                fake = self.G(x, self.condition(target))
            d = self.discriminator_losses(x, labels, fake)
        self.update(d["D_total"], "D")
        if self._count is None:
            self._count = int(self.steps)
        self._count += 1
        self.steps.fill_(self._count)
        g = None
        if self._count % self.n_critic == 0:
            self.D.requires_grad_(False)
            with self.autocast():
                g = self.generator_losses(x, labels, target)
            self.update(g["G_total"], "G")
            self.D.requires_grad_(True)
        for scheduler in self.schedulers.values():
            scheduler.step()
        out = self.as_floats({**d, **(g or {})})
        if g is not None:
            self._last_g = {k: out[k] for k in g}
        return {**self._last_g, **out}

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        self._count = None  # re-read ``steps`` from the loaded state
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    @torch.no_grad()
    def translate(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``G(x, one_hot(target))`` in eval mode."""
        was = self.G.training
        self.G.eval()
        out = self.G(x, self.condition(target))
        self.G.train(was)
        return out

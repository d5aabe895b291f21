"""Semantic-invariant GAN (SIGAN; Mao, Wang, Zheng & Huang, 2018) and its baselines DTN and DANN.

Unsupervised domain adaptation by cross-domain generation: an encoder ``E``
maps a source image to a code ``h``, a generator ``G`` decodes ``h`` into an
image that should look like the target domain and keep the source's
semantics, a WGAN critic ``D`` judges it against real target images, and a
classifier ``F`` on ``h`` (``E`` is shared) names the digit. At test time
``F(E(x^t))`` classifies target images.

Losses, numbered as in the paper:

(2)  g^s = G(E(x^s))                                   the adapted source images
(3)  y_hat = F(E(g^s))                                 their predicted labels
(4)  L_LabelConst = -y . log y_hat                     (:func:`~emolab.losses.consistency.label_consistency`)
(5)  L_MSE = d_1(G(E(x^t)), x^t)                       target reconstruction, squared error
(6)  L_TV(g^s), B = 1                                  (:func:`~emolab.losses.consistency.total_variation`)
(9)-(10) L_Attention = sum_{4x4, 8x8} ||P(G^l) - P(E^{L-l})||^2   (:mod:`emolab.losses.attention`)
(11) L_WGAN = E_{x^t}[D(x^t)] - E_{x^s}[D(G(E(x^s)))]  (critic without final activation; the
     Lipschitz constraint by the gradient penalty of WGAN-GP, one of the "improvements" §6.1.1 cites)

Algorithm 1, one iteration per :meth:`SIGAN.training_step` on ``(x^s, y^s, x^t)``::

    1.   (before) E and F pretrained on the labelled source (emolab.experiments.sigan);
    3.   the critic D maximises (11) (n_critic updates), then E and G minimise
         L_adv = L_GAN + alpha L_Attention + beta L_MSE + gamma L_TV;
    4-5. every `interval` (the paper's t) iterations, E and F minimise L_LabelConst (4)
         (labelconst_to_generator=True: G too).

The paper's constants are the defaults: alpha = 0.01, beta = 1, gamma = 1e-4, t = 20,
RMSprop. The ablations of Table 1 are switches: ``gan``, ``attention``, ``tv``,
``semantic="none"`` (without LabelConst). ``semantic="fconst"`` is DTN
(Taigman et al., 2017): its f-constancy ``||f(x^s) - f(g^s)||^2`` with ``f`` the
frozen pretrained encoder takes LabelConst's place (and updates E and G).

:class:`DANN` (Ganin & Lempitsky, 2015) is the discriminative baseline: F on
source labels, plus a domain classifier on ``h`` behind a gradient reversal.
"""

from __future__ import annotations

import copy
import itertools
import math

import torch
import torch.nn.functional as nnf
from torch import nn

from emolab.core.errors import ConfigError
from emolab.losses.attention import attention_loss
from emolab.losses.consistency import f_constancy, label_consistency, total_variation
from emolab.losses.gradient_penalty import gradient_penalty
from emolab.training.accel import AccelMixin

#: The paper's constants (§6.1.1).
PAPER = {"alpha": 0.01, "beta": 1.0, "gamma": 1e-4, "interval": 20}
SEMANTIC = ("labelconst", "fconst", "none")


def _check_batch(x_s, y_s, x_t, n_classes: int) -> None:
    if x_s.ndim != 4 or x_t.ndim != 4 or x_s.shape[1:] != x_t.shape[1:]:
        raise ConfigError(f"x_s and x_t must be image batches of one shape [N, C, H, W], got "
                          f"{tuple(x_s.shape)} and {tuple(x_t.shape)}")
    if y_s.shape != (len(x_s),):
        raise ConfigError(f"y_s must hold one label per source image, got {tuple(y_s.shape)} for {len(x_s)}")
    if len(y_s) and (int(y_s.min()) < 0 or int(y_s.max()) >= n_classes):
        raise ConfigError(f"labels must lie in [0, {n_classes}), got {int(y_s.min())}..{int(y_s.max())}")


class EncoderClassifier(nn.Module):
    """``F(E(x))`` as one module (what is evaluated on target images)."""

    def __init__(self, E: nn.Module, F: nn.Module):
        super().__init__()
        self.E, self.F = E, F

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.F(self.E(x))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.E(x)


class SourceClassifier(AccelMixin, nn.Module):
    """Algorithm 1, line 1: ``E`` and ``F`` trained on labelled images with cross-entropy (Adam)."""

    def __init__(self, E: nn.Module, F: nn.Module, lr: float = 1e-3, n_classes: int = 10):
        super().__init__()
        self.net = EncoderClassifier(E, F)
        self.n_classes = n_classes
        self.optimizers = {"C": torch.optim.Adam(self.net.parameters(), lr=lr)}
        self.schedulers: dict = {}

    def training_step(self, batch) -> dict[str, float]:
        x, y = batch
        _check_batch(x, y, x, self.n_classes)
        with self.autocast():
            loss = nnf.cross_entropy(self.net(x).float(), y)
        self.update(loss, "C")
        return self.as_floats({"ce": loss})


class SIGAN(AccelMixin, nn.Module):
    """SIGAN's Algorithm 1 with Table 1's ablations as switches.

    Args:
        E, G, D, F: encoder, generator, critic, classifier
            (:mod:`emolab.models.dtn`); ``E(x, maps=True)`` and ``G(h, maps=True)``
            must return their mirrored feature maps for the attention loss.
        alpha, beta, gamma: the weights of L_Attention, L_MSE, L_TV in L_adv.
        interval: the paper's ``t``: LabelConst (or f-constancy) every ``t`` iterations.
        gan, attention, tv: keep L_GAN, L_Attention, L_TV (Table 1's "without" rows switch one off).
        semantic: ``"labelconst"`` (SIGAN), ``"fconst"`` (DTN's f-constancy in its place) or ``"none"``.
        lr, lr_critic, lr_classifier: RMSprop learning rates of E+G, D, and E+F.
        lr_encoder: E's learning rate in the L_adv step (``None``: ``lr``); a smaller one lets the
            GAN move E's code less than G's weights.
        lambda_gp: the gradient penalty's weight; ``n_critic``: critic updates per iteration.
        n_classes: classes of F.
        labelconst_source: add the source images, with their labels, to the LabelConst batch. §4 says
            L_LabelConst "has the same form and purpose as the task-specific loss" of Bousmalis et al.
            (2017, eq. 3), which is the cross-entropy on adapted *and* source images.
        fixed_f: keep F as pretrained; LabelConst then moves E (and G) only. §6.1.1: "parameters of F
            remained fixed in other stages except for pretraining stage" (Algorithm 1, line 5, names theta_f).
        lambda_gan: the weight of L_GAN in L_adv (1 in the paper; a Wasserstein critic's scale is
            arbitrary, set by the gradient penalty, so this weight is a free choice in practice).
        labelconst_to_generator: let L_LabelConst's gradient update G as well as E and F. §4 makes
            LabelConst a constraint on the *generated* samples ("as we wish task-specific labels [of the
            output samples] closer to source labels", after Bousmalis et al., whose task loss trains the
            generator); Algorithm 1, line 5 lists only theta_e, theta_f, and ``False`` (the default)
            follows it. (On the chapter's digits ``True`` let G and E, F agree on patterns that carry the
            label but look like no digit: higher LabelConst fit, lower target accuracy.)
    """

    def __init__(self, E: nn.Module, G: nn.Module, D: nn.Module, F: nn.Module, *,
                 alpha: float = PAPER["alpha"], beta: float = PAPER["beta"], gamma: float = PAPER["gamma"],
                 interval: int = PAPER["interval"], gan: bool = True, attention: bool = True, tv: bool = True,
                 semantic: str = "labelconst", lr: float = 1e-4, lr_critic: float = 1e-4,
                 lr_classifier: float = 1e-4, lr_encoder: float | None = None, lambda_gp: float = 10.0,
                 n_critic: int = 1, n_classes: int = 10, labelconst_to_generator: bool = False,
                 lambda_gan: float = 1.0, labelconst_source: bool = False, fixed_f: bool = False):
        super().__init__()
        if semantic not in SEMANTIC:
            raise ConfigError(f"semantic must be one of {SEMANTIC}, got {semantic!r}")
        if min(alpha, beta, gamma, lambda_gp, lambda_gan) < 0 or min(lr, lr_critic, lr_classifier) <= 0:
            raise ConfigError("loss weights must be >= 0 and learning rates > 0")
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            raise ConfigError(f"interval (the paper's t) must be a positive integer, got {interval!r}")
        if n_critic < 1:
            raise ConfigError(f"n_critic must be >= 1, got {n_critic}")
        self.E, self.G, self.D, self.F = E, G, D, F
        self.alpha, self.beta, self.gamma, self.interval = alpha, beta, gamma, interval
        self.gan, self.attention, self.tv, self.semantic = gan, attention, tv, semantic
        self.lambda_gp, self.n_critic, self.n_classes = lambda_gp, n_critic, n_classes
        self.lambda_gan = lambda_gan
        self.labelconst_source = labelconst_source
        # DTN's f: the pretrained encoder, frozen (a copy: E itself keeps training)
        self.f = copy.deepcopy(E).requires_grad_(False).eval() if semantic == "fconst" else None
        self.optimizers = {
            "EG": torch.optim.RMSprop([{"params": list(G.parameters())},
                                       {"params": list(E.parameters()), "lr": lr if lr_encoder is None else lr_encoder}],
                                      lr=lr),
            "D": torch.optim.RMSprop(D.parameters(), lr=lr_critic),
        }
        if semantic == "labelconst":
            nets = (E,) + (() if fixed_f else (F,)) + ((G,) if labelconst_to_generator else ())
            self.optimizers["EF"] = torch.optim.RMSprop(itertools.chain(*(n.parameters() for n in nets)),
                                                        lr=lr_classifier)
        self.schedulers: dict = {}
        self.register_buffer("iteration", torch.zeros((), dtype=torch.long))

    # -------------------------------------------------------------- the losses
    def adapt(self, x_s: torch.Tensor, maps: bool = False):
        """Eq. (2): ``g^s = G(E(x^s))`` (with the mirrored maps of E and G when ``maps``)."""
        if not maps:
            return self.G(self.E(x_s))
        h, e_maps = self.E(x_s, maps=True)
        g, g_maps = self.G(h, maps=True)
        return g, g_maps, e_maps

    def critic_loss(self, x_t: torch.Tensor, g_s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The critic's side of eq. (11), to minimise: ``E[D(g^s)] - E[D(x^t)]`` (+ gradient penalty)."""
        wd = self.D(x_t).float().mean() - self.D(g_s.detach()).float().mean()
        gp = gradient_penalty(self.D, x_t, g_s, self.lambda_gp) if self.lambda_gp > 0 else wd.new_zeros(())
        return -wd + gp, wd

    def adversarial_losses(self, x_s: torch.Tensor, x_t: torch.Tensor) -> dict[str, torch.Tensor]:
        """Algorithm 1, line 3: ``L_adv = lambda_gan L_GAN + alpha L_Attention + beta L_MSE + gamma L_TV`` and its terms."""
        g_s, g_maps, e_maps = self.adapt(x_s, maps=True)
        out: dict[str, torch.Tensor] = {}
        total = g_s.new_zeros((), dtype=torch.float32)
        if self.gan:                                                     # (11), generator side
            out["gan"] = -self.D(g_s).float().mean()
            total = total + self.lambda_gan * out["gan"]
        if self.attention and self.alpha > 0:                            # (9)-(10)
            out["attention"] = attention_loss(g_maps, e_maps)
            total = total + self.alpha * out["attention"]
        if self.beta > 0:                                                # (5)
            out["mse"] = nnf.mse_loss(self.G(self.E(x_t)).float(), x_t.float())
            total = total + self.beta * out["mse"]
        if self.tv and self.gamma > 0:                                   # (6)
            out["tv"] = total_variation(g_s.float())
            total = total + self.gamma * out["tv"]
        out["adv"] = total
        return out

    def label_const(self, x_s: torch.Tensor, y_s: torch.Tensor) -> torch.Tensor:
        """Eqs. (2)-(4): ``-y . log F(E(G(E(x^s))))`` (and ``-y . log F(E(x^s))`` with ``labelconst_source``)."""
        g_s = self.adapt(x_s)
        if self.labelconst_source:
            return label_consistency(self.F(self.E(torch.cat([g_s, x_s]))), torch.cat([y_s, y_s]))
        return label_consistency(self.F(self.E(g_s)), y_s)

    def f_const(self, x_s: torch.Tensor) -> torch.Tensor:
        """DTN's f-constancy with the frozen pretrained encoder as ``f``."""
        return f_constancy(self.f(x_s), self.f(self.adapt(x_s)))

    # ------------------------------------------------------------ one step
    def training_step(self, batch) -> dict[str, float]:
        """One iteration of Algorithm 1 on ``(x^s, y^s, x^t)``."""
        x_s, y_s, x_t = batch
        _check_batch(x_s, y_s, x_t, self.n_classes)
        losses: dict[str, torch.Tensor] = {}
        if self.gan:   # line 3, the critic: maximise (11)
            for _ in range(self.n_critic):
                with torch.no_grad(), self.autocast():
                    g_s = self.adapt(x_s)
                with self.autocast():
                    d_loss, wd = self.critic_loss(x_t, g_s)
                self.update(d_loss, "D")
            losses["D"], losses["wasserstein"] = d_loss, wd
        # line 3, E and G on L_adv (the critic fixed)
        self.D.requires_grad_(False)
        with self.autocast():
            adv = self.adversarial_losses(x_s, x_t)
        if adv["adv"].requires_grad:
            self.update(adv["adv"], "EG")
        self.D.requires_grad_(True)
        losses.update(adv)
        # lines 4-5: every t iterations, the semantic step
        if int(self.iteration) % self.interval == 0 and self.semantic != "none":
            with self.autocast():
                if self.semantic == "labelconst":
                    losses["labelconst"] = self.label_const(x_s, y_s)
                    self.update(losses["labelconst"], "EF")
                else:
                    losses["fconst"] = self.f_const(x_s)
                    self.update(losses["fconst"], "EG")
        self.iteration += 1
        for scheduler in self.schedulers.values():
            scheduler.step()
        return self.as_floats(losses)

    # ------------------------------------------------------------ inference
    @property
    def classifier(self) -> EncoderClassifier:
        """``F(E(.))``, what classifies target images."""
        return EncoderClassifier(self.E, self.F)

    @torch.no_grad()
    def translate(self, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """``g^s`` for source images ``x`` (G in eval mode)."""
        was = self.G.training
        self.G.eval()
        out = torch.cat([self.adapt(c) for c in x.split(batch_size)])
        self.G.train(was)
        return out


class _GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lam):
        ctx.lam = lam
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.lam * grad, None


def grad_reverse(x: torch.Tensor, lam: float = 1.0) -> torch.Tensor:
    """The gradient reversal layer: identity forward, ``-lam`` times the gradient backward."""
    return _GradReverse.apply(x, float(lam))


class DANN(AccelMixin, nn.Module):
    """Domain-adversarial training (Ganin & Lempitsky, 2015) of ``F(E(.))``.

    Each step: cross-entropy of ``F(E(x^s))`` on the source labels plus the
    logistic loss of a domain classifier ``domain(grad_reverse(E(x)))`` on
    source (1) and target (0) codes. The reversal weight follows the paper's
    schedule ``2 / (1 + exp(-10 p)) - 1`` over ``total_steps`` (``p`` the
    fraction done), times ``lambda_domain``.
    """

    def __init__(self, E: nn.Module, F: nn.Module, code_dim: int, *, total_steps: int, lr: float = 1e-4,
                 lambda_domain: float = 1.0, hidden: int = 128, n_classes: int = 10):
        super().__init__()
        if total_steps < 1 or lr <= 0 or lambda_domain < 0:
            raise ConfigError("DANN needs total_steps >= 1, lr > 0 and lambda_domain >= 0")
        self.E, self.F = E, F
        self.domain = nn.Sequential(nn.Linear(code_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                    nn.Linear(hidden, 1))
        self.total_steps, self.lambda_domain, self.n_classes = total_steps, lambda_domain, n_classes
        self.optimizers = {"all": torch.optim.Adam(self.parameters(), lr=lr)}
        self.schedulers: dict = {}
        self.register_buffer("iteration", torch.zeros((), dtype=torch.long))

    def reversal_weight(self) -> float:
        p = min(1.0, int(self.iteration) / self.total_steps)
        return self.lambda_domain * (2.0 / (1.0 + math.exp(-10.0 * p)) - 1.0)

    def training_step(self, batch) -> dict[str, float]:
        x_s, y_s, x_t = batch
        _check_batch(x_s, y_s, x_t, self.n_classes)
        lam = self.reversal_weight()
        with self.autocast():
            h_s, h_t = self.E(x_s), self.E(x_t)
            ce = nnf.cross_entropy(self.F(h_s).float(), y_s)
            logits = self.domain(grad_reverse(torch.cat([h_s, h_t]), lam)).float().flatten()
            dom = nnf.binary_cross_entropy_with_logits(
                logits, torch.cat([torch.ones(len(h_s)), torch.zeros(len(h_t))]).to(logits.device))
        self.update(ce + dom, "all")
        self.iteration += 1
        return self.as_floats({"ce": ce, "domain": dom})

    @property
    def classifier(self) -> EncoderClassifier:
        return EncoderClassifier(self.E, self.F)


__all__ = ["DANN", "PAPER", "SEMANTIC", "SIGAN", "EncoderClassifier", "SourceClassifier", "grad_reverse"]

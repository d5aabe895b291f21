"""Chapter 4: GANmut, a learned conditional space for a gamut of emotions (d'Apolito et al., 2021).

What runs:

1. **Data.** EmoFaces ``photo`` faces labelled with Ekman's seven basic
   emotions only. The faces show a gamut the labels never name: intensities
   drawn from ``intensity`` and a ``compound`` share of two-emotion mixtures
   (Du et al., 2014) labelled with their dominant emotion. With ``data_root``:
   real FER2013 (``ROOT/fer2013``), grayscale.
2. **The judge** (the paper's VGGNet ``C``): a SmallCNN trained on the real
   training faces, separately from every GAN; its softmax is the "human"
   reading of a face, its 256-d penultimate layer the FED features. On
   EmoFaces it also regresses the known intensity (a second head), so that
   "intensity grows with ρ" can be checked against the truth.
3. **Four GANs on one backbone** (StarGAN's ``G``/``D``, same sizes, same
   steps): StarGAN with one-hot labels; GANmut (linear space) with
   ``λ_ρ = 1`` and ``λ_ρ = 4``; GGANmut (Gaussian space).
4. **Metrics** (:mod:`emolab.methods.ganmut_metrics`): Table 1 smoothness
   along neutral -> emotion in 10 steps; Table 2 ERE (settings 1 and 2, grid
   search) and FED; Table 3 accuracy of generated faces; and, because
   EmoFaces knows the truth, the angle between each learned direction and the
   emotion's true direction, and whether the true intensity (as the judge
   reads it) grows along ρ.

**The true direction.** EmoFaces places each emotion on Russell's circumplex:
its valence and arousal are the emotion's anchor
(:data:`emolab.data.taxonomy.VALENCE_AROUSAL`) times the intensity, so the
faces of emotion ``c`` lie on the ray of that anchor, and the anchor's
direction is ``c``'s true direction. A learned space is only defined up to a
rotation or reflection (nothing in the losses fixes which way is "up"), so the
learned directions are first aligned to the anchors by the best orthogonal
Procrustes map (one map for all emotions: it cannot fix a wrong order).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from emolab.core.errors import ConfigError, DatasetNotFoundError
from emolab.data.emofaces import EmoFaces
from emolab.data.taxonomy import EKMAN7, VALENCE_AROUSAL
from emolab.experiments.base import ProfileConfig
from emolab.methods.ganmut import PAPER_WEIGHTS, GANmut
from emolab.methods.ganmut_metrics import (
    emotion_reconstruction_error,
    ere_targets,
    frechet_distance,
    polar_grid,
    procrustes_angle_errors,
    smoothness_score,
    spearman,
    square_grid,
    stargan_interpolation,
)
from emolab.methods.stargan import StarGAN
from emolab.models import SmallCNN
from emolab.models.ganmut import GaussianSpace, LinearSpace, polar
from emolab.models.stargan import StarGANDiscriminator, StarGANGenerator
from emolab.training import Accel, Trainer, accelerate
from emolab.training.accel import AccelMixin, resident

NEUTRAL = EKMAN7.index("neutral")
EMOTIONS = tuple(e for e in EKMAN7 if e != "neutral")
#: The GANs the chapter trains, and how the tables name them.
GANS = ("stargan", "ganmut_rho1", "ganmut_rho4", "gganmut")
LABELS = {"stargan": "StarGAN", "ganmut_rho1": "GANmut (λρ = 1)", "ganmut_rho4": "GANmut (λρ = 4)",
          "gganmut": "GGANmut", "ganmut": "GANmut", "real": "Real"}
#: Table 2's methods: GANmut is the paper's setting, λρ = 4.
TABLE2 = {"stargan": "stargan", "ganmut": "ganmut_rho4", "gganmut": "gganmut"}

#: The paper's numbers (AffectNet, 128 px, 1M iterations).
PAPER_SMOOTHNESS = {"stargan": {"happy": 0.79, "sad": 0.44, "surprise": 0.43, "fear": 0.49, "disgust": 0.55,
                                "angry": 0.59},
                    "ganmut": {"happy": 0.38, "sad": 0.38, "surprise": 0.35, "fear": 0.37, "disgust": 0.36,
                               "angry": 0.33}}
PAPER_ERE_FED = {"real": {"fed": 0.21}, "stargan": {"setting1": 0.038, "setting2": 0.037, "fed": 4.89},
                 "gganmut": {"setting1": 0.020, "setting2": 0.018, "fed": 18.32},
                 "ganmut": {"setting1": 0.025, "setting2": 0.025, "fed": 0.71}}
PAPER_ACCURACY = {  # Table 3, percent
    "real": {"neutral": 76.4, "happy": 93.4, "sad": 57.8, "surprise": 46.0, "fear": 46.4, "disgust": 30.4,
             "angry": 57.2},
    "stargan": {"neutral": 92.6, "happy": 96.1, "sad": 96.9, "surprise": 95.4, "fear": 94.7, "disgust": 95.1,
                "angry": 95.8},
    "ganmut": {"neutral": 87.8, "happy": 99.2, "sad": 96.5, "surprise": 91.6, "fear": 87.5, "disgust": 77.4,
               "angry": 97.9},
    "gganmut": {"neutral": 95.8, "happy": 99.6, "sad": 99.9, "surprise": 99.1, "fear": 97.6, "disgust": 97.8,
                "angry": 99.5},
}


@dataclass(frozen=True)
class GANmutConfig(ProfileConfig):
    """Everything that sizes the chapter; ``GANmutConfig.for_profile(p)`` gives the presets.

    The defaults are the paper's where it gives them (128 px StarGAN sizes,
    batch 16, Adam 1e-4, n_critic 5, the §5 weights).
    """

    KIND = "ganmut config"

    # data
    image_size: int = 128
    n_train: int = 20000
    n_test: int = 2000
    domain: str = "photo"
    intensity: tuple = (0.3, 1.0)
    compound: float = 0.3
    # judge
    judge_width: int = 64
    judge_steps: int = 5000
    judge_batch: int = 32
    judge_lr: float = 1e-3
    # GANs
    ngf: int = 64
    ndf: int = 64
    n_blocks: int = 6
    gan_steps: int = 100000
    batch: int = 16
    lr: float = 1e-4
    space_lr: float | None = None   # the space's learning rate (None: lr)
    n_critic: int = 5
    lambda_rec: float = 10.0
    lambda_gp: float = 10.0
    lambda_info: float = 1.0
    lambda_rhos: tuple = (1.0, 4.0)
    sigma0: float = 0.3             # GGANmut's initial mode spread
    # evaluation
    n_smooth: int = 128             # source faces per interpolation
    ere_batches: int = 32           # batches of 16 test faces (one target each)
    n_fed: int = 1000
    checkpoint_every: int = 5000
    log_every: int = 50

    PRESETS = {  # noqa: RUF012  (class-level table of presets, not a field)
        "smoke": dict(image_size=32, n_train=400, n_test=160, judge_width=8, judge_steps=40, judge_batch=16,
                      ngf=8, ndf=8, n_blocks=1, gan_steps=30, batch=8, lr=5e-4, n_smooth=8, ere_batches=2,
                      n_fed=64, checkpoint_every=0, log_every=10),
        # 32 px, ~2 min per GAN on one thread: four GANs + the judge + evaluation in ~9 min.
        "cpu": dict(image_size=32, n_train=4000, n_test=800, judge_width=16, judge_steps=800, judge_batch=32,
                    ngf=16, ndf=16, n_blocks=2, gan_steps=3000, batch=16, lr=5e-4, space_lr=5e-3, n_smooth=48,
                    ere_batches=12,
                    n_fed=400, checkpoint_every=1000),
        "full": dict(image_size=128, n_train=20000, n_test=2000, gan_steps=100000, checkpoint_every=5000),
    }

    def __post_init__(self):
        self.require_positive_ints("image_size", "n_train", "n_test", "judge_width", "judge_steps", "judge_batch",
                                   "ngf", "ndf", "n_blocks", "gan_steps", "batch", "n_critic", "n_smooth",
                                   "ere_batches", "n_fed", "log_every")
        if self.image_size < 32 or self.image_size & (self.image_size - 1):
            raise ConfigError(f"image_size must be a power of two >= 32, got {self.image_size}")
        if self.batch < 2:
            raise ConfigError("batch must be >= 2 (S_c and S_r)")
        if self.n_test < 16 * self.ere_batches:
            raise ConfigError(f"n_test ({self.n_test}) must hold ere_batches ({self.ere_batches}) batches of 16")
        if max(self.n_smooth, self.n_fed) > self.n_test:
            raise ConfigError("n_smooth and n_fed must be <= n_test")
        lo, hi = self.intensity
        if not 0.0 <= lo <= hi <= 1.0 or not 0.0 <= self.compound <= 1.0:
            raise ConfigError("intensity must be (low, high) in [0, 1] and compound a fraction")
        if self.lr <= 0 or self.judge_lr <= 0 or self.sigma0 <= 0 or (self.space_lr is not None
                                                                       and self.space_lr <= 0):
            raise ConfigError("learning rates and sigma0 must be > 0")
        if min(self.lambda_rec, self.lambda_gp, self.lambda_info, *self.lambda_rhos) < 0:
            raise ConfigError("loss weights must be >= 0")
        if len(self.lambda_rhos) != 2:
            raise ConfigError("lambda_rhos holds the two λρ of Fig. 4 (the paper's 1 and 4)")
        if self.checkpoint_every < 0:
            raise ConfigError("checkpoint_every must be >= 0")


@dataclass
class GANmutResult:
    """What the chapter shows: ``metrics`` (metrics.json), the trained ``gans`` and
    ``judge``, the ``data`` and what the figures draw (``curves``, ``maps``)."""

    config: GANmutConfig
    metrics: dict
    data: dict = field(repr=False)
    gans: dict = field(repr=False)
    judge: nn.Module = field(repr=False)
    histories: dict = field(repr=False)
    curves: dict = field(repr=False)
    device: torch.device = field(repr=False, default=torch.device("cpu"))


# ----------------------------------------------------------------------------- data
def _to_tensor(images_uint8: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(images_uint8.transpose(0, 3, 1, 2))).float()
    return x.div_(127.5).sub_(1.0)


def emofaces_data(config: GANmutConfig, seed: int) -> dict:
    """Training and test faces (different people), labels, true intensities and valence-arousal."""
    out = {"source": "emofaces", "channels": 3}
    for split, n, s in (("train", config.n_train, 30_000), ("test", config.n_test, 30_001)):
        ds = EmoFaces(n, size=config.image_size, domain=config.domain, intensity=tuple(config.intensity),
                      compound=config.compound, channels=3, seed=s + 4 * seed)
        out[f"x_{split}"] = _to_tensor(ds.images())
        out[f"y_{split}"] = torch.as_tensor(ds.targets)
        out[f"intensity_{split}"] = torch.as_tensor(ds.intensities)
        out[f"va_{split}"] = torch.as_tensor(ds.valence_arousal)
        out[f"compound_{split}"] = torch.as_tensor(ds.is_compound)
    return out


def fer2013_data(config: GANmutConfig, data_root, seed: int) -> dict:
    """Real FER2013 (``data_root/fer2013`` or ``data_root``): grayscale, no intensity truth."""
    from emolab.data.real import FER2013

    root = Path(data_root)
    root = root / "fer2013" if (root / "fer2013").exists() else root
    rng = np.random.default_rng(seed)
    out = {"source": "fer2013", "channels": 1}
    for split, n in (("train", config.n_train), ("test", config.n_test)):
        try:
            ds = FER2013(root, split=split, size=config.image_size, channels=1)
        except (FileNotFoundError, DatasetNotFoundError) as exc:
            raise DatasetNotFoundError(f"GANmut with data_root needs FER2013 under {root}: {exc}") from exc
        idx = np.sort(rng.choice(len(ds), size=min(n, len(ds)), replace=False))
        out[f"x_{split}"] = torch.stack([ds[int(i)][0] for i in idx]).float().mul(2.0).sub(1.0)
        out[f"y_{split}"] = torch.as_tensor(np.asarray(ds.targets)[idx])
    return out


# ----------------------------------------------------------------------------- the judge
class Judge(nn.Module):
    """The emotion judge: a SmallCNN with 7 emotion logits and one intensity output.

    ``forward`` gives the logits, ``features`` the 256-d penultimate layer (FED),
    ``intensity`` the regressed expression intensity.
    """

    def __init__(self, in_channels: int, image_size: int, width: int, n_classes: int = len(EKMAN7)):
        super().__init__()
        self.net = SmallCNN(in_channels, n_classes + 1, width=width, image_size=image_size, norm="none")
        self.n_classes = n_classes

    def features(self, x):
        return self.net.features(x)

    def outputs(self, x):
        out = self.net(x)
        return out[:, :self.n_classes], out[:, self.n_classes]

    def forward(self, x):
        return self.outputs(x)[0]

    def intensity(self, x):
        return self.outputs(x)[1]


class JudgeMethod(AccelMixin, nn.Module):
    """Cross-entropy on the labels, plus MSE on the true intensity where it is known."""

    def __init__(self, judge: Judge, lr: float):
        super().__init__()
        self.judge = judge
        self.optimizers = {"C": torch.optim.Adam(judge.parameters(), lr=lr)}

    def training_step(self, batch) -> dict[str, float]:
        x, y, intensity = batch
        with self.autocast():
            logits, inten = self.judge.outputs(x)
            ce = F.cross_entropy(logits.float(), y)
            mse = (inten.float() - intensity).pow(2).mean() if intensity is not None else ce.new_zeros(())
            loss = ce + mse
        self.update(loss, "C")
        return self.as_floats({"ce": ce, "intensity_mse": mse})


def _fit(model, sample, steps, config, seed, workdir, resume, name):
    ckpt = workdir / "checkpoints" / name if workdir is not None else None
    trainer = Trainer(model, sample, config={**config.to_dict(), "seed": seed, "run": name}, seed=seed,
                      checkpoint_dir=ckpt, checkpoint_every=config.checkpoint_every if ckpt else 0,
                      log_every=config.log_every, desc=name)
    if resume:
        trainer.resume()
    return trainer.fit(steps)


def train_judge(data: dict, config: GANmutConfig, seed: int, device, *, workdir=None, resume=False) -> Judge:
    torch.manual_seed(seed)
    judge = Judge(data["channels"], config.image_size, config.judge_width)
    method = accelerate(JudgeMethod(judge, config.judge_lr), Accel.for_device(device), device)
    x, y = resident(device, data["x_train"], data["y_train"])
    inten = resident(device, data["intensity_train"])[0] if "intensity_train" in data else None

    def sample(gen):
        i = torch.randint(len(x), (config.judge_batch,), generator=gen).to(device)
        return x[i], y[i], (inten[i] if inten is not None else None)

    _fit(method, sample, config.judge_steps, config, seed, workdir, resume, "judge")
    return judge.eval()


# ----------------------------------------------------------------------------- the GANs
def build_gan(kind: str, config: GANmutConfig, channels: int, seed: int, device):
    """``stargan``, ``ganmut_rho1``, ``ganmut_rho4`` or ``gganmut``; every GAN of one
    seed starts from the same backbone initialisation (as far as shapes allow)."""
    torch.manual_seed(seed)
    s = config.image_size
    common = dict(lambda_rec=config.lambda_rec, lambda_gp=config.lambda_gp, n_critic=config.n_critic, lr=config.lr)
    n = len(EKMAN7)
    if kind == "stargan":
        G = StarGANGenerator(channels, n, config.ngf, config.n_blocks)
        D = StarGANDiscriminator(s, channels, n, config.ndf)
        model = StarGAN(G, D, n, **common)
    else:
        G = StarGANGenerator(channels, 2, config.ngf, config.n_blocks)
        D = StarGANDiscriminator(s, channels, n, config.ndf, code_dim=2)
        torch.manual_seed(seed + 1)
        if kind == "gganmut":
            space, w = GaussianSpace(n, sigma=config.sigma0), dict(PAPER_WEIGHTS["gaussian"])
        elif kind in ("ganmut_rho1", "ganmut_rho4"):
            space, w = LinearSpace(n, NEUTRAL), dict(PAPER_WEIGHTS["linear"])
            w["lambda_rho"] = config.lambda_rhos[0 if kind == "ganmut_rho1" else 1]
        else:
            raise ConfigError(f"unknown GAN {kind!r}; choose one of {GANS}")
        w["lambda_info"] = config.lambda_info
        model = GANmut(G, D, space, n, space_lr=config.space_lr, **w, **common)
    return accelerate(model, Accel.for_device(device), device)


def train_gan(kind: str, data: dict, config: GANmutConfig, seed: int, device, *, workdir=None, resume=False):
    model = build_gan(kind, config, data["channels"], seed, device)
    x, y = resident(device, data["x_train"], data["y_train"])
    torch.manual_seed(seed + 2)  # the methods' own draws (targets, codes)

    def sample(gen):
        i = torch.randint(len(x), (config.batch,), generator=gen).to(device)
        return x[i], y[i]

    history = _fit(model, sample, config.gan_steps, config, seed, workdir, resume, kind)
    return model, history


# ----------------------------------------------------------------------------- evaluation helpers
@torch.no_grad()
def generate(model, x: torch.Tensor, codes: torch.Tensor, device, batch: int = 256) -> torch.Tensor:
    """``G(x_i, codes_i)`` in eval mode (``x`` and ``codes`` of equal length)."""
    G = model.G
    was = G.training
    G.eval()
    out = torch.cat([G(xb.to(device), cb.to(device).float()).cpu()
                     for xb, cb in zip(x.split(batch), codes.split(batch), strict=True)])
    G.train(was)
    return out


@torch.no_grad()
def judge_outputs(judge: Judge, x: torch.Tensor, device, batch: int = 512):
    """``(softmax [N, 7], intensity [N], features [N, 256])``."""
    probs, inten, feats = [], [], []
    for xb in x.split(batch):
        xb = xb.to(device)
        f = judge.features(xb)
        out = judge.net.head(f)
        probs.append(out[:, :judge.n_classes].softmax(1).cpu())
        inten.append(out[:, judge.n_classes].cpu())
        feats.append(f.cpu())
    return torch.cat(probs), torch.cat(inten), torch.cat(feats)


def interpolation_codes(model, label: int, steps: int = 10) -> torch.Tensor:
    """Neutral -> ``label`` in ``steps`` steps: StarGAN's one-hot blend, GANmut's
    ``(θ_c, 0.1 j)``, GGANmut's segment from the neutral mode to ``μ_c``."""
    if isinstance(model, GANmut):
        if model.gaussian:
            mu = model.space.means.detach().cpu()
            t = torch.linspace(0, 1, steps + 1)[:, None]
            return (1 - t) * mu[NEUTRAL] + t * mu[label]
        theta = model.space.direction(torch.tensor([label], device=model.space.angles.device)).detach().cpu()
        return polar(theta.expand(steps + 1), torch.linspace(0, 1, steps + 1))
    return stargan_interpolation(label, NEUTRAL, len(EKMAN7), steps)


def interpolation_scores(model, judge, x: torch.Tensor, label: int, device, steps: int = 10):
    """The judge's ``C(label | x_j)`` and intensity along the interpolation, ``[N, steps + 1]`` each,
    and the generated faces ``[N, steps + 1, C, S, S]``."""
    codes = interpolation_codes(model, label, steps)
    n = len(x)
    xs = x[:, None].expand(-1, steps + 1, -1, -1, -1).reshape(n * (steps + 1), *x.shape[1:])
    cs = codes[None].expand(n, -1, -1).reshape(n * (steps + 1), -1)
    faces = generate(model, xs, cs, device)
    probs, inten, _ = judge_outputs(judge, faces, device)
    return (probs[:, label].reshape(n, steps + 1), inten.reshape(n, steps + 1),
            faces.reshape(n, steps + 1, *x.shape[1:]))


def grid_codes(model) -> torch.Tensor:
    """ERE's search grid: 7 one-hot labels (StarGAN), the polar grid (GANmut), the square grid (GGANmut)."""
    if isinstance(model, GANmut):
        return square_grid(0.1) if model.gaussian else polar_grid(0.05, 21)
    return torch.eye(len(EKMAN7))


def true_directions() -> np.ndarray:
    """Unit valence-arousal anchors of the six emotions (EMOTIONS order)."""
    v = np.array([VALENCE_AROUSAL[e] for e in EMOTIONS], np.float64)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def learned_directions(model: GANmut) -> np.ndarray:
    """Unit vectors of the learned directions (GANmut) or mode means (GGANmut), EMOTIONS order."""
    idx = [EKMAN7.index(e) for e in EMOTIONS]
    if model.gaussian:
        mu = model.space.means.detach().cpu().numpy().astype(np.float64)
        v = mu[idx] - mu[NEUTRAL]
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    u = model.space.unit_directions().cpu().numpy().astype(np.float64)
    slots = [model.space.emotions.index(i) for i in idx]
    return u[slots]


# ----------------------------------------------------------------------------- the chapter
def evaluate(gans: dict, judge: Judge, data: dict, config: GANmutConfig, seed: int, device) -> tuple[dict, dict]:
    """Every metric of the chapter, and what the figures draw."""
    rng = torch.Generator().manual_seed(seed + 77)
    x_test, y_test = data["x_test"], data["y_test"]
    n_test = len(x_test)
    metrics: dict = {}
    curves: dict = {"smoothness": {}, "intensity": {}, "strips": {}}

    # Table 1 and Fig. 4: neutral -> emotion in 10 steps
    src = x_test[torch.randperm(n_test, generator=rng)[:config.n_smooth]]
    smooth, mono = {}, {}
    for name in ("stargan", "ganmut_rho1", "ganmut_rho4", "gganmut"):
        model = gans[name]
        smooth[name], mono[name] = {}, {}
        curves["smoothness"][name], curves["intensity"][name], curves["strips"][name] = {}, {}, {}
        for emotion in EMOTIONS:
            label = EKMAN7.index(emotion)
            scores, inten, faces = interpolation_scores(model, judge, src, label, device)
            smooth[name][emotion] = float(smoothness_score(scores).mean())
            mono[name][emotion] = float(np.mean([spearman(np.arange(inten.shape[1]), r) for r in inten.numpy()]))
            curves["smoothness"][name][emotion] = scores.mean(0).numpy()
            curves["intensity"][name][emotion] = inten.mean(0).numpy()
            curves["strips"][name][emotion] = faces[:2]
    curves["strip_sources"] = src[:2]
    metrics["smoothness"] = {k: smooth[k] for k in ("stargan", "ganmut_rho1", "ganmut_rho4")}
    metrics["smoothness_gganmut"] = smooth["gganmut"]
    metrics["intensity_monotonic"] = mono

    # the judge on the real test faces
    probs_real, _, feats_real = judge_outputs(judge, x_test, device)
    pred = probs_real.argmax(1)
    metrics["judge_accuracy"] = float((pred == y_test).float().mean()) * 100

    # Table 2: ERE (settings 1 and 2) by grid search
    x_ere = x_test[:16 * config.ere_batches]
    ere: dict = {}
    for table_name, name in TABLE2.items():
        model, codes = gans[name], grid_codes(gans[name])
        ere[table_name] = {}
        for setting, top in (("setting1", 3), ("setting2", 2)):
            errors = []
            for i in ere_targets(probs_real[:len(x_ere)], top).tolist():
                source = x_ere[(i // 16) * 16 + (i % 16 + 1) % 16]  # another face of the same batch

                def judge_probs(c, source=source, model=model):
                    faces = generate(model, source[None].expand(len(c), -1, -1, -1), c, device)
                    return judge_outputs(judge, faces, device)[0]

                errors.append(emotion_reconstruction_error(judge_probs, codes, probs_real[i])[0])
            ere[table_name][setting] = float(np.mean(errors))
    metrics["ere"] = ere

    # Table 2: FED on the judge's features; Fig. 5 keeps them for the t-SNE
    n = config.n_fed
    perm = torch.randperm(n_test, generator=rng)
    src_idx = perm[:n]
    half = n_test // 2
    fed = {"real": frechet_distance(feats_real[perm[:half]].numpy(), feats_real[perm[half:2 * half]].numpy())}
    curves["features"] = {"real": feats_real[src_idx].numpy()}
    codes_by = {}
    labels = y_test[perm[n:2 * n] if 2 * n <= n_test else torch.randint(n_test, (n,), generator=rng)]
    g_state = torch.random.get_rng_state()
    torch.manual_seed(seed + 78)
    for table_name, name in TABLE2.items():
        model = gans[name]
        if name == "stargan":
            codes = F.one_hot(labels, len(EKMAN7)).float()          # labels from the test distribution
        elif model.gaussian:
            codes = (model.space.means.detach().cpu()[labels] + 0.1 * torch.randn(n, 2)).clamp(-1, 1)
        else:
            codes = model.space.sample_uniform(n).detach().cpu()  # uniform over the learned space
        codes_by[table_name] = codes
        _, _, feats = judge_outputs(judge, generate(model, x_test[src_idx], codes, device), device)
        fed[table_name] = frechet_distance(feats.numpy(), feats_real.numpy())
        curves["features"][table_name] = feats.numpy()
    torch.random.set_rng_state(g_state)
    metrics["fed"] = fed

    # Table 3: accuracy of generated faces at (θ_c, 1) / μ_c / one-hot c
    acc: dict = {"real": {e: float((pred[y_test == k] == k).float().mean()) * 100 if (y_test == k).any()
                          else float("nan") for k, e in enumerate(EKMAN7)}}
    x_acc = x_test[src_idx]
    for table_name, name in TABLE2.items():
        model = gans[name]
        acc[table_name] = {}
        for k, emotion in enumerate(EKMAN7):
            lab = torch.full((len(x_acc),), k, dtype=torch.long)
            if name == "stargan":
                codes = F.one_hot(lab, len(EKMAN7)).float()
            else:
                codes = model.space.extreme(lab.to(device)).detach().cpu()
            p = judge_outputs(judge, generate(model, x_acc, codes, device), device)[0]
            acc[table_name][emotion] = float((p.argmax(1) == k).float().mean()) * 100
    metrics["gen_accuracy"] = acc

    # the truth: learned directions against the valence-arousal anchors
    truth = true_directions()
    angles = {}
    for name in ("ganmut_rho4", "ganmut_rho1", "gganmut"):
        err, R = procrustes_angle_errors(learned_directions(gans[name]), truth)
        angles[name] = {"per_emotion": dict(zip(EMOTIONS, err.tolist(), strict=True)), "mean": float(err.mean()),
                        "reflected": bool(np.linalg.det(R) < 0), "R": R.tolist()}
    metrics["direction_angle_error_deg"] = angles["ganmut_rho4"]["per_emotion"]
    metrics["direction_angles"] = angles
    metrics["learned_angles_deg"] = {
        name: dict(zip(EMOTIONS, np.degrees(np.arctan2(*learned_directions(gans[name]).T[::-1])).tolist(),
                       strict=True)) for name in ("ganmut_rho1", "ganmut_rho4", "gganmut")}
    return metrics, curves


def claims(metrics: dict) -> dict:
    """The chapter's three claims, each with what it compares."""
    s = metrics["smoothness"]
    lower = {m: [e for e in EMOTIONS if s[m][e] < s["stargan"][e]] for m in ("ganmut_rho1", "ganmut_rho4")}
    angle = float(np.mean(list(metrics["direction_angle_error_deg"].values())))
    return {
        "smoother_than_stargan": {m: len(v) > len(EMOTIONS) / 2 for m, v in lower.items()},
        "smoother_emotions": lower,
        "fed_lower_than_stargan": metrics["fed"]["ganmut"] < metrics["fed"]["stargan"],
        "mean_direction_error_deg": angle,
        "directions_within_30deg": angle < 30.0,
    }


def run_ganmut(config: GANmutConfig, *, seed: int = 0, device: torch.device | str = "cpu",
               workdir: str | Path | None = None, data_root: str | Path | None = None,
               resume: bool = False) -> GANmutResult:
    """Run the chapter: data, judge, the four GANs, every metric.

    Each network is seeded from ``seed`` and its role, so two runs with one
    seed give identical metrics on the CPU.
    """
    device = torch.device(device)
    workdir = Path(workdir) if workdir is not None else None
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    data = emofaces_data(config, seed) if data_root is None else fer2013_data(config, data_root, seed)
    timings["data"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    judge = train_judge(data, config, seed * 1000 + 5, device, workdir=workdir, resume=resume)
    timings["judge"] = time.perf_counter() - t0
    gans, histories = {}, {}
    for name in GANS:
        t0 = time.perf_counter()
        gans[name], histories[name] = train_gan(name, data, config, seed * 1000 + 11, device, workdir=workdir,
                                                resume=resume)
        gans[name].eval()
        timings[name] = time.perf_counter() - t0
    t0 = time.perf_counter()
    metrics, curves = evaluate(gans, judge, data, config, seed, device)
    timings["evaluation"] = time.perf_counter() - t0
    metrics["data_source"] = data["source"]
    metrics["class_names"] = list(EKMAN7)
    metrics["claims"] = claims(metrics)
    metrics["paper"] = {"smoothness": PAPER_SMOOTHNESS, "ere_fed": PAPER_ERE_FED, "gen_accuracy": PAPER_ACCURACY}
    timings["total"] = sum(timings.values())
    metrics["timings"] = {k: round(v, 2) for k, v in timings.items()}
    return GANmutResult(config, metrics, data, gans, judge, histories, curves, device)


def run(profile: str, *, seed: int = 0, device: torch.device | str = "cpu",
        workdir: str | Path | None = None, data_root: str | Path | None = None,
        resume: bool = False, **overrides) -> GANmutResult:
    """The chapter's entry point for the CLI: the profile's preset, then :func:`run_ganmut`."""
    return run_ganmut(GANmutConfig.for_profile(profile, **overrides), seed=seed, device=device,
                      workdir=workdir, data_root=data_root, resume=resume)


# ----------------------------------------------------------------------------- the space as a map (Figs. 1, 3; the pad)
def map_codes(model, n: int = 33) -> tuple[torch.Tensor, torch.Tensor]:
    """An ``n x n`` grid over ``[-1, 1]^2`` (row 0 at the top, ``v = 1``) as codes ``[n*n, 2]``, and a
    mask of the points inside the space (the unit disc for GANmut, everything for GGANmut)."""
    ticks = torch.linspace(-1, 1, n)
    v, u = torch.meshgrid(ticks.flip(0), ticks, indexing="ij")
    codes = torch.stack([u, v], -1).reshape(-1, 2)
    inside = torch.ones(len(codes), dtype=torch.bool)
    if not (isinstance(model, GANmut) and model.gaussian):
        inside = codes.norm(dim=1) <= 1.0 + 1e-6
    return codes, inside


@torch.no_grad()
def space_map(model, judge: Judge, source: torch.Tensor, device, n: int = 33) -> np.ndarray:
    """The judge's softmax of ``G(source, z)`` over the map grid, ``[n, n, 7]`` (NaN outside the space)."""
    codes, inside = map_codes(model, n)
    probs = torch.full((len(codes), len(EKMAN7)), float("nan"))
    faces = generate(model, source[None].expand(int(inside.sum()), -1, -1, -1), codes[inside], device)
    probs[inside] = judge_outputs(judge, faces, device)[0]
    return probs.reshape(n, n, -1).numpy()


def gamut_path(model, per_leg: int = 4) -> torch.Tensor:
    """A tour of the gamut for the player: for GANmut, out from neutral along each learned
    direction (in angular order) and round the rim to the next; for GGANmut, from the
    neutral mode to each mode and on to the next. ``[frames, 2]``."""
    frames = []
    if isinstance(model, GANmut) and model.gaussian:
        mu = model.space.means.detach().cpu()
        order = [NEUTRAL, *sorted((EKMAN7.index(e) for e in EMOTIONS),
                                  key=lambda k: math.atan2(float(mu[k, 1]), float(mu[k, 0])))]
        stops = [mu[k] for k in order] + [mu[NEUTRAL]]
        for a, b in zip(stops[:-1], stops[1:], strict=True):
            for t in torch.linspace(0, 1, per_leg + 1)[:-1]:
                frames.append((1 - t) * a + t * b)
        frames.append(stops[-1])
        return torch.stack(frames)
    theta = {e: float(model.space.direction(torch.tensor([EKMAN7.index(e)],
                                                          device=model.space.angles.device)).detach()) % (2 * math.pi)
             for e in EMOTIONS}
    order = sorted(EMOTIONS, key=theta.get)
    for i, e in enumerate(order):
        a = theta[e]
        for r in torch.linspace(0, 1, per_leg + 1):
            frames.append(polar(torch.tensor(a), r))
        b = theta[order[(i + 1) % len(order)]]
        b = b + 2 * math.pi if b <= a else b
        for t in torch.linspace(0, 1, per_leg + 1)[1:-1]:
            frames.append(polar(torch.tensor(a + float(t) * (b - a)), torch.tensor(1.0)))
    frames.append(torch.zeros(2))
    return torch.stack(frames)

"""Chapter 0: CycleGAN completes the manifold of a rare class (Zhu et al., 2018, §3.2, §4.1).

Three 2-D Gaussians; class 2 has 100 training points against 1000 for the
others. A linear SVM trained on this imbalanced set pushes its boundaries into
the rare class. A CycleGAN on points translates the reference class 0 into
class 2; 900 translated points join the training set and the same SVM is
trained again. For comparison we also run what a practitioner would try first
(class weights, random oversampling) and the oracle (1000 real minority points).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from sklearn.svm import SVC

from emolab.core.errors import ConfigError
from emolab.data.toy import GaussianManifold, make_gaussian_manifold
from emolab.experiments.base import ProfileConfig
from emolab.methods.cyclegan_augmentation import CycleGAN
from emolab.models import init_weights, point_discriminator, point_generator
from emolab.training import Accel, Trainer, accelerate

#: What the paper reports for the toy (§4.1): linear SVM accuracy, percent.
PAPER_RESULTS = {"svm_acc_imbalanced": 93.3, "svm_acc_augmented": 98.0}


@dataclass(frozen=True)
class ToyConfig(ProfileConfig):
    """Everything that sizes the toy run. ``ToyConfig.for_profile(p)`` gives the presets."""

    KIND = "toy config"

    reference_class: int = 0
    minority_class: int = 2
    n_generated: int = 900
    steps: int = 8000
    batch_size: int = 128
    hidden: int = 64
    depth: int = 3
    # The paper trains its image CycleGANs at 2e-4; points on a 2-D plane
    # tolerate, and within a laptop budget need, a larger step.
    lr: float = 1e-3
    lambda_cyc: float = 10.0
    gan_mode: str = "lsgan"
    svm_C: float = 1.0
    log_every: int = 10
    checkpoint_every: int = 1000

    PRESETS = {  # noqa: RUF012  (class-level table of presets, not a field)
        "smoke": dict(steps=1000, batch_size=64, hidden=32, log_every=5, checkpoint_every=500),
        "cpu": dict(steps=8000, batch_size=128, hidden=64, checkpoint_every=2000),
        "full": dict(steps=20000, batch_size=256, hidden=128, log_every=20, checkpoint_every=5000),
    }


    def __post_init__(self):
        if self.reference_class == self.minority_class:
            raise ConfigError("reference_class and minority_class must differ")
        if min(self.steps, self.batch_size, self.hidden, self.depth, self.n_generated) < 1:
            raise ConfigError("steps, batch_size, hidden, depth and n_generated must be positive")



@dataclass
class ToyResult:
    """What the chapter shows: metrics, the data, the generated points, the SVMs, the curves."""

    config: ToyConfig
    metrics: dict
    data: GaussianManifold
    generated: np.ndarray
    reference_used: np.ndarray
    classifiers: dict
    history: dict
    model: CycleGAN = field(repr=False)


def fit_svm(x: np.ndarray, y: np.ndarray, C: float = 1.0, class_weight=None) -> SVC:
    """The paper's classifier: an SVM with a linear kernel."""
    return SVC(kernel="linear", C=C, class_weight=class_weight).fit(x, y)


def accuracy(clf, x, y) -> float:
    return 100.0 * float(np.mean(clf.predict(x) == y))


def per_class_accuracy(clf, x, y, n_classes: int) -> list[float]:
    pred = clf.predict(x)
    return [100.0 * float(np.mean(pred[y == k] == k)) for k in range(n_classes)]


def build_cyclegan(cfg: ToyConfig, device: torch.device) -> CycleGAN:
    nets = [point_generator(2, cfg.hidden, cfg.depth), point_generator(2, cfg.hidden, cfg.depth),
            point_discriminator(2, cfg.hidden, cfg.depth), point_discriminator(2, cfg.hidden, cfg.depth)]
    G, F, D_R, D_T = (init_weights(n, "xavier", gain=1.0).to(device) for n in nets)
    model = CycleGAN(G, F, D_R, D_T, lambda_cyc=cfg.lambda_cyc, gan_mode=cfg.gan_mode, lr=cfg.lr)
    return accelerate(model, Accel.for_device(device), device)  # the fast path on a GPU


def run_toy(config: ToyConfig, *, seed: int = 0, device: torch.device | str = "cpu",
            workdir: str | Path | None = None, resume: bool = False) -> ToyResult:
    """Run the whole chapter: data, CycleGAN, augmentation, five SVMs.

    The caller seeds the global RNGs (:func:`emolab.core.seed_everything`); the
    data and the sampling are seeded from ``seed`` here. With ``workdir`` the
    CycleGAN is checkpointed to ``workdir/checkpoints/last.pt``; with
    ``resume=True`` a run continues from that checkpoint.
    """
    device = torch.device(device)
    data = make_gaussian_manifold(seed)
    R, T = config.reference_class, config.minority_class
    if not (0 <= R < data.n_classes and 0 <= T < data.n_classes):
        raise ConfigError(f"classes must be in 0..{data.n_classes - 1}")

    # Standardise with the training set's statistics: GANs like unit-scale inputs.
    mu = data.x_train.mean(0)
    sd = data.x_train.std(0)
    to_t = lambda x: torch.as_tensor((x - mu) / sd, dtype=torch.float32, device=device)  # noqa: E731
    ref, tgt = to_t(data.class_points(R)), to_t(data.class_points(T))

    def sample_batch(gen: torch.Generator):
        i = torch.randint(len(ref), (config.batch_size,), generator=gen)
        j = torch.randint(len(tgt), (config.batch_size,), generator=gen)
        return ref[i.to(device)], tgt[j.to(device)]

    model = build_cyclegan(config, device)
    trainer = Trainer(model, sample_batch, config={**config.to_dict(), "seed": seed},
                      seed=seed, checkpoint_dir=Path(workdir) / "checkpoints" if workdir else None,
                      checkpoint_every=config.checkpoint_every if workdir else 0,
                      log_every=config.log_every, desc="toy CycleGAN")
    if resume:
        trainer.resume()
    history = trainer.fit(config.steps)

    # Augment: translate n_generated distinct reference points into the minority class.
    pick = np.random.default_rng(seed + 1).choice(len(ref), size=min(config.n_generated, len(ref)),
                                                  replace=False)
    generated = model.translate(ref[torch.as_tensor(pick, device=device)]).cpu().numpy() * sd + mu
    reference_used = data.class_points(R)[pick]

    x, y, n = data.x_train, data.y_train, data.n_classes
    y_gen = np.full(len(generated), T, dtype=np.int64)
    rng = np.random.default_rng(seed + 2)
    minority = data.class_points(T)
    oversampled = minority[rng.integers(0, len(minority), size=len(generated))]
    oracle = data.sample(T, len(generated), rng)
    C = config.svm_C
    classifiers = {
        "imbalanced": fit_svm(x, y, C),
        "augmented": fit_svm(np.concatenate([x, generated]), np.concatenate([y, y_gen]), C),
        "class_weighted": fit_svm(x, y, C, class_weight="balanced"),
        "oversampled": fit_svm(np.concatenate([x, oversampled]), np.concatenate([y, y_gen]), C),
        "balanced_oracle": fit_svm(np.concatenate([x, oracle]), np.concatenate([y, y_gen]), C),
    }
    xt, yt = data.x_test, data.y_test
    metrics = {f"svm_acc_{name}": accuracy(clf, xt, yt) for name, clf in classifiers.items()}
    metrics["per_class_acc_imbalanced"] = per_class_accuracy(classifiers["imbalanced"], xt, yt, n)
    metrics["per_class_acc_augmented"] = per_class_accuracy(classifiers["augmented"], xt, yt, n)
    tail = max(1, len(history["cycle"]) // 10)
    metrics["cycle_loss_final"] = float(np.mean(history["cycle"][-tail:]))
    metrics["generated_mean"] = generated.mean(0).tolist()
    metrics["generated_cov"] = np.cov(generated.T).tolist()
    metrics["generated_mean_error"] = float(np.linalg.norm(generated.mean(0) - data.means[T]))
    metrics["steps"] = config.steps
    return ToyResult(config, metrics, data, generated, reference_used, classifiers, history, model)


def run(profile: str, *, seed: int = 0, device: torch.device | str = "cpu",
        workdir: str | Path | None = None, data_root: str | Path | None = None,
        resume: bool = False, **overrides) -> ToyResult:
    """The chapter's entry point for the CLI: the profile's preset, then :func:`run_toy`.

    The toy generates its data, so ``data_root`` is not used.
    """
    return run_toy(ToyConfig.for_profile(profile, **overrides), seed=seed, device=device,
                   workdir=workdir, resume=resume)

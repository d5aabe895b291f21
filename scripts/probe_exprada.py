"""Feasibility probes for the ExprADA chapter (issue 6), before its experiment module exists.

    python scripts/probe_exprada.py uit  --seed 0 --steps 600  --variants '[["uit", {"gan_mode": "vanilla"}]]'
    python scripts/probe_exprada.py cgit --seed 0 --steps 1500 --variants '[["full", {"lr": 5e-4}]]'

Data: EmoFaces, grey 32 px: 3,000 labelled NIR faces (source), 3,000 unlabelled
render faces (target), 700-1,400 test faces. Translators: ExprADA at ngf = ndf = 16,
3 residual blocks, batch 8, ``residual=True`` unless ``--plain``.

``uit``: a SmallCNN C^s trained on the source reads render test faces raw
(source-only) and translated by each UIT variant (``n_classes=0``).
``cgit``: a judge SmallCNN (another seed) trained on real NIR faces reads the
expression asked of each CGIT variant on translated render faces; ``real`` is
its accuracy on real NIR test faces.

Each variant is ``[name, ExprADA keyword overrides]``; the defaults are lr 2e-4
and the method's own (λ_bi = λ_re = 10, λ_cls = 1, LSGAN).
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from emolab.core import seed_everything
from emolab.data.emofaces import EmoFaces
from emolab.experiments.augment import ClassifierMethod, _batches, _to_tensor, predict
from emolab.methods.exprada import ExprADA
from emolab.models import define_classifier
from emolab.models.exprada import define_exprada
from emolab.training import Trainer

DEFAULT_VARIANTS = {
    "uit": [["uit", {}], ["cyclegan_like", {"lambda_re": 0}], ["stargan_like", {"lambda_re": 0, "lambda_bi": 0}]],
    "cgit": [["full", {}], ["no_bi", {"lambda_bi": 0}], ["no_re", {"lambda_re": 0}]],
}


def faces(n: int, domain: str, seed: int):
    ds = EmoFaces(n, size=32, domain=domain, channels=1, seed=seed)
    return _to_tensor(ds.images()), torch.as_tensor(ds.targets)


def classifier(x, y, seed: int):
    torch.manual_seed(seed)
    net = define_classifier("small_cnn", 7, 1, 32, 16, "lrn")
    Trainer(ClassifierMethod(net, 1e-3), _batches(x, y, 16, "cpu"), config={}, seed=seed).fit(800)
    return net


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=("uit", "cgit"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--variants", default=None, help="JSON list of [name, overrides]")
    p.add_argument("--plain", action="store_true", help="the paper's tanh generator, not residual=True")
    args = p.parse_args()
    seed, classes = args.seed, (7 if args.mode == "cgit" else 0)
    seed_everything(seed)
    t0 = time.time()
    xs, ys = faces(3000, "nir", 1 + 10 * seed)
    xt, _ = faces(3000, "render", 2 + 10 * seed)
    xtt, ytt = faces(700 if classes else 1400, "render", 3 + 10 * seed)
    judge = classifier(xs, ys, seed + 100 if classes else seed)

    def acc(x, y):
        return 100 * float((predict(judge, x, "cpu").argmax(1) == y).float().mean())

    if classes:
        xst, yst = faces(700, "nir", 4 + 10 * seed)
        results = {"real": acc(xst, yst)}
        ytt = torch.arange(len(xtt)) % 7  # the asked expressions
    else:
        results = {"source_only": acc(xtt, ytt)}
    for name, overrides in json.loads(args.variants) if args.variants else DEFAULT_VARIANTS[args.mode]:
        torch.manual_seed(seed)
        G_ts, D_s = define_exprada(32, 1, classes, ngf=16, ndf=16, n_blocks=3, residual=not args.plain)
        G_st, _ = define_exprada(32, 1, classes, ngf=16, ndf=16, n_blocks=3, residual=not args.plain)
        _, D_t = define_exprada(32, 1, 0, ngf=16, ndf=16)
        model = ExprADA(G_ts, G_st, D_s, D_t, classes, **{"lr": 2e-4, **overrides})

        def sample(g):
            i, j = torch.randint(len(xs), (8,), generator=g), torch.randint(len(xt), (8,), generator=g)
            return xs[i], ys[i], xt[j]

        t1 = time.time()
        history = Trainer(model, sample, config={}, seed=seed, log_every=50).fit(args.steps)
        model.eval()
        with torch.no_grad():
            translated = torch.cat([model.to_source(a, b if classes else None)
                                    for a, b in zip(xtt.split(256), ytt.split(256), strict=True)])
        results[name] = acc(translated, ytt)
        last = {k: round(v[-1], 3) for k, v in history.items() if k != "step"}
        print(f"{name}: {results[name]:.1f}% ({time.time() - t1:.0f} s) {last}", flush=True)
    print(json.dumps({k: round(v, 1) for k, v in results.items()}), f"total {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()

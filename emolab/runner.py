"""Run a chapter headless: the experiment, its metrics.json and its figures.

The notebook of a chapter calls the same experiment functions; this module only
adds what a headless run needs around them (seeding, timing, files).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from emolab import __version__
from emolab.core import resolve_device, resolve_profile, seed_everything, write_metrics
from emolab.core.distributed import is_main, world_size
from emolab.core.errors import ConfigError
from emolab.experiments import get_chapter


def run_chapter(name: str, *, profile: str | None = None, seed: int = 0,
                out: str | Path, data_root: str | Path | None = None,
                device: str | None = None, resume: bool = False,
                save_figures: bool = True) -> dict:
    """Run chapter ``name`` and write ``out/metrics.json`` and ``out/*.png``.

    Returns the metrics that were written. In a multi-process run
    (:mod:`emolab.core.distributed`) every rank trains and evaluates, and
    rank 0 writes.
    """
    chapter = get_chapter(name)
    profile = resolve_profile(profile)
    dev = resolve_device(device)
    if data_root is not None and not Path(data_root).exists():
        raise ConfigError(f"--data-root {data_root} does not exist")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    seed_everything(seed)
    result = chapter.load().run(profile, seed=seed, device=dev, workdir=out,
                                data_root=data_root, resume=resume)
    figures = []
    if save_figures and is_main():  # in a multi-process run, rank 0 writes
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from emolab.plots import FIGURES

        for stem, fig in FIGURES[name](result).items():
            path = out / f"{stem}.png"
            fig.savefig(path, dpi=120)
            plt.close(fig)
            figures.append(path.name)
    metrics = {
        "chapter": name,
        "profile": profile,
        "seed": seed,
        "device": dev.type,
        "emolab_version": __version__,
        "torch_version": str(torch.__version__),
        "wall_seconds": round(time.perf_counter() - start, 3),
        "processes": world_size(),
        **result.metrics,
        "config": result.config.to_dict(),
        "figures": figures,
    }
    if is_main():
        write_metrics(out / "metrics.json", metrics)
    return metrics


def main_summary(metrics: dict, out: Path) -> None:
    keys = [k for k, v in metrics.items() if isinstance(v, (int, float)) and k != "seed"]
    width = max(map(len, keys))
    for k in keys:
        print(f"  {k:<{width}}  {metrics[k]}")
    print(f"wrote {out / 'metrics.json'} and {len(metrics['figures'])} figures", file=sys.stdout)

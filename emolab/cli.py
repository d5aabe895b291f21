"""``emolab``: list the chapters and run them headless::

    emolab list
    emolab data stats NAME [--root PATH] [--split S]
    emolab data show NAME --out FILE.png [--root PATH] [--split S]
    emolab run CHAPTER [--profile smoke|cpu|full] [--seed N] [--out DIR]
                       [--data-root PATH] [--device cpu|cuda] [--resume] [--nproc N]
    torchrun --nproc-per-node N -m emolab run CHAPTER ...   (the same as --nproc N)
    emolab bench [--model cyclegan|stargan|ganmut|exprada|all] [--size PX] [--batch B]
                 [--steps N] [--warmup N] [--width W] [--device D] [--out FILE.json]

Errors a person can act on (an unknown chapter, profile or device, a bad
path) print one line and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emolab import __version__
from emolab.core.errors import ConfigError, EmolabError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emolab", description="GAN-based domain adaptation for emotion recognition: "
        "run the book's chapters headless.")
    parser.add_argument("--version", action="version", version=f"emolab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("list", help="list the chapters")

    run = sub.add_parser("run", help="run a chapter; writes OUT/metrics.json and figures")
    run.add_argument("chapter", metavar="CHAPTER", help="a name from `emolab list`")
    run.add_argument("--profile", default=None,
                     help="smoke, cpu or full (default: $EMOLAB_PROFILE, else full with CUDA, else cpu)")
    run.add_argument("--seed", type=int, default=0, help="one seed fixes data, init and sampling")
    run.add_argument("--out", type=Path, default=None, help="output folder (default: runs/CHAPTER-PROFILE-sSEED)")
    run.add_argument("--data-root", type=Path, default=None, help="folder with a real dataset")
    run.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    run.add_argument("--resume", action="store_true",
                     help="continue from OUT/checkpoints/last.pt when it exists")
    run.add_argument("--nproc", type=int, default=1,
                     help="data-parallel processes (one per GPU on CUDA; gloo on the CPU); "
                     "starts them with torchrun")
    bench = sub.add_parser("bench", help="time training steps: reference config vs. the fast path")
    bench.add_argument("--model", default="all",
                       help="cyclegan, stargan (alias ganmut: the GANmut/StarGAN backbone), exprada or all")
    bench.add_argument("--size", type=int, default=None,
                       help="image side in px (default: the paper's, 256 CycleGAN, 128 StarGAN and ExprADA)")
    bench.add_argument("--batch", type=int, default=None, help="batch (default: 1 CycleGAN, 16 StarGAN, 8 ExprADA)")
    bench.add_argument("--steps", type=int, default=20, help="timed steps per configuration")
    bench.add_argument("--warmup", type=int, default=5, help="untimed steps first (compilation)")
    bench.add_argument("--width", type=int, default=64, help="filters of the first layer (paper: 64)")
    bench.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    bench.add_argument("--fast", default=None, metavar="SWITCHES",
                       help="compare this configuration instead of the default fast path, e.g. "
                       "'amp=bf16,compile=1' (switches: amp, channels_last, compile, fused_adam, "
                       "cudnn_benchmark; unnamed ones off)")
    bench.add_argument("--out", type=Path, default=None, help="also write the figures as JSON")
    data = sub.add_parser("data", help="inspect a dataset: class counts or a picture grid")
    dsub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    for action, text in (("stats", "print JSON {total, classes}"), ("show", "save a grid per class")):
        p = dsub.add_parser(action, help=text)
        p.add_argument("name", metavar="NAME", help="a dataset name (emofaces, fer2013, ...)")
        p.add_argument("--root", type=Path, default=None, help="the dataset's folder (real datasets)")
        p.add_argument("--split", default="train", help="train, validation or test")
        p.add_argument("--seed", type=int, default=0, help="seed of generated datasets and of the grid")
        if action == "show":
            p.add_argument("--out", type=Path, required=True, help="the PNG file to write")
            p.add_argument("--per-class", type=int, default=8, help="samples per class")
    return parser


def cmd_data(args) -> int:
    import json

    from emolab.data.registry import dataset_stats, open_dataset

    ds = open_dataset(args.name, root=args.root, split=args.split, seed=args.seed)
    if args.data_command == "stats":
        print(json.dumps(dataset_stats(ds)))
        return 0
    import matplotlib

    matplotlib.use("Agg")
    from emolab.plots.datasets import fig_class_grid

    fig = fig_class_grid(ds, per_class=args.per_class, seed=args.seed,
                         title=f"{args.name} ({args.split})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")
    return 0


def cmd_bench(args) -> int:
    from emolab.bench import bench, format_table, parse_accel, write_json

    for name in ("size", "batch", "width"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ConfigError(f"--{name} must be >= 1, got {value}")
    fast = parse_accel(args.fast) if args.fast is not None else None
    results = bench([args.model], size=args.size, batch=args.batch, steps=args.steps, warmup=args.warmup,
                    device=args.device, width=args.width, fast=fast)
    print(format_table(results))
    if args.out is not None:
        write_json(results, args.out)
        print(f"wrote {args.out}")
    return 0


def cmd_list() -> int:
    from emolab.experiments import CHAPTERS

    width = max(map(len, CHAPTERS))
    for c in CHAPTERS.values():
        print(f"{c.name:<{width}}  {c.title}  (notebooks/{c.notebook})")
    return 0


def launch(nproc: int, argv: list[str]) -> int:
    """Start ``nproc`` copies of this command under ``torchrun`` (one machine)."""
    import subprocess

    child: list[str] = []  # the same command without --nproc (torchrun's WORLD_SIZE says it)
    skip = False
    for a in argv:
        if skip:
            skip = False
        elif a == "--nproc":
            skip = True
        elif not a.startswith("--nproc="):
            child.append(a)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc-per-node={nproc}", "-m", "emolab", *child]
    print(f"emolab: starting {nproc} processes: {' '.join(cmd[1:])}", file=sys.stderr)
    return subprocess.call(cmd)


def cmd_run(args, argv: list[str]) -> int:
    from emolab.core import distributed
    from emolab.core.profiles import resolve_profile
    from emolab.core.runtime import resolve_device
    from emolab.experiments import get_chapter

    # Validate everything before the run itself.
    get_chapter(args.chapter)
    profile = resolve_profile(args.profile)
    dev = resolve_device(args.device)
    if args.seed < 0:
        raise ConfigError(f"--seed must be >= 0, got {args.seed}")
    if args.nproc < 1:
        raise ConfigError(f"--nproc must be >= 1, got {args.nproc}")
    world = distributed.env_world_size()
    if args.nproc > 1 and world == 1:
        import torch

        if dev.type == "cuda" and args.nproc > torch.cuda.device_count():
            raise ConfigError(f"--nproc {args.nproc} but only {torch.cuda.device_count()} GPUs are visible")
        return launch(args.nproc, argv)
    if world > 1 and args.nproc not in (1, world):
        raise ConfigError(f"--nproc {args.nproc} disagrees with torchrun's WORLD_SIZE {world}")
    from emolab.runner import main_summary, run_chapter

    out = args.out or Path("runs") / f"{args.chapter}-{profile}-s{args.seed}"
    distributed.init_from_env(dev)
    try:
        metrics = run_chapter(args.chapter, profile=profile, seed=args.seed, out=out,
                              data_root=args.data_root, device=args.device, resume=args.resume)
        if distributed.is_main():
            main_summary(metrics, out)
    finally:
        distributed.shutdown()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        if args.command == "list":
            return cmd_list()
        if args.command == "data":
            return cmd_data(args)
        if args.command == "bench":
            return cmd_bench(args)
        return cmd_run(args, argv)
    except ConfigError as err:
        print(f"emolab: error: {err}", file=sys.stderr)
        return 2
    except EmolabError as err:
        print(f"emolab: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("emolab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Execute the book's notebooks, several at a time, for `make book`.

    python scripts/execute_notebooks.py                    # every chapter in _toc.yml, in place
    python scripts/execute_notebooks.py notebooks/00_toy_manifold.ipynb --out /tmp/run --jobs 1

Each notebook runs in the automatic profile: its `parameters` cell has
`profile = None`, which means $EMOLAB_PROFILE, else `full` with CUDA, else
`cpu`. On the CPU the notebooks run in parallel, one process per core, and
the cores are shared out as threads (2 cores, 4 notebooks: 2 at a time with
1 thread each; ``--threads`` or $OMP_NUM_THREADS set it). With CUDA they run one at a time, since they share one GPU
(``--jobs`` overrides both). A notebook is replaced only when every cell ran
without error; the script exits 1 and names the failing cell otherwise.

Chapters that check their claims on several seeds read the other seeds' headless
runs from ``runs_dir`` (their parameters cell: ``seed``, ``seeds``,
``runs_dir``). Outside the smoke profile the missing ones run first, with the
same pool: ``emolab run CHAPTER --profile P --seed S --out RUNS_DIR/seed-S``
(``--no-seed-runs`` skips this step).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def toc_files() -> list[str]:
    """Every file that _toc.yml lists (root first), without suffix, in its order."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return files


def toc_notebooks() -> list[Path]:
    """The notebooks that _toc.yml lists, in its order."""
    return [ROOT / f"{f}.ipynb" for f in toc_files() if (ROOT / f"{f}.ipynb").exists()]


def recorded_seconds(path: Path) -> float:
    """How long the notebook's last execution took, from its cells' timing metadata (0 if none)."""
    import json
    from datetime import datetime

    stamps = []
    for cell in json.loads(path.read_text()).get("cells", []):
        timing = cell.get("metadata", {}).get("execution", {})
        for key in ("iopub.execute_input", "shell.execute_reply"):
            if key in timing:
                stamps.append(datetime.fromisoformat(timing[key].replace("Z", "+00:00")))
    return (max(stamps) - min(stamps)).total_seconds() if stamps else 0.0


def parameters(path: Path) -> dict:
    """The literal assignments of a notebook's ``parameters`` cell (``{}`` if it has none)."""
    import ast

    import nbformat

    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    values = {}
    for node in ast.parse(cells[0].source).body if cells else []:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return values


def seed_runs(notebooks: list[Path], profile: str) -> list[tuple[str, int, Path]]:
    """The headless runs the notebooks will read and that are missing: ``(chapter, seed, out)``.

    None in the smoke profile, where the chapters do not check their claims.
    """
    if profile == "smoke":
        return []
    sys.path.insert(0, str(ROOT))
    from emolab.experiments import CHAPTERS

    by_notebook = {c.notebook: name for name, c in CHAPTERS.items()}
    jobs = []
    for path in notebooks:
        params, chapter = parameters(path), by_notebook.get(path.name)
        if chapter is None or not {"seeds", "runs_dir"} <= set(params):
            continue
        for s in params["seeds"]:
            out = (path.parent / params["runs_dir"] / f"seed-{s}").resolve()
            if s != params.get("seed", 0) and not (out / "metrics.json").exists():
                jobs.append((chapter, int(s), out))
    return jobs


def run_seed(chapter: str, seed: int, out: Path, profile: str, threads: int) -> tuple[str, float, str | None]:
    """``emolab run CHAPTER --seed S --out OUT`` in a subprocess."""
    import subprocess

    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "EMOLAB_NO_PROGRESS": "1"}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "emolab", "run", chapter, "--profile", profile, "--seed", str(seed),
                           "--out", str(out)], cwd=ROOT, env=env, capture_output=True, text=True)
    error = None if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["failed"])[-1][:300]
    return f"{chapter} seed {seed}", time.perf_counter() - start, error


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def execute(path: Path, out: Path, threads: int, timeout: int) -> tuple[str, float, str | None]:
    """Run one notebook in a fresh kernel; write it to ``out`` only if no cell failed."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)  # the kernel inherits this process's environment
    os.environ.setdefault("EMOLAB_NO_PROGRESS", "1")
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except CellExecutionError as err:
        return path.name, time.perf_counter() - start, str(err).strip().splitlines()[-1][:300]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp)
    tmp.replace(out)
    return path.name, time.perf_counter() - start, None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook in _toc.yml")
    parser.add_argument("--jobs", type=int, default=None, help="notebooks at a time")
    parser.add_argument("--out", type=Path, default=None, help="write the executed copies here (default: in place)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per notebook (default: $OMP_NUM_THREADS, else the cores shared out)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("--no-seed-runs", action="store_true",
                        help="do not run the other seeds the chapters read from runs_dir first")
    args = parser.parse_args(argv)

    notebooks = [p.resolve() for p in args.notebooks] or toc_notebooks()
    # longest first (by the last recorded run), so that the pool finishes together
    notebooks.sort(key=recorded_seconds, reverse=True)
    cores = os.cpu_count() or 1
    jobs = args.jobs or (1 if cuda_available() else max(1, min(cores, len(notebooks))))
    threads = args.threads or int(os.environ.get("OMP_NUM_THREADS") or 0) or max(1, cores // jobs)
    profile = os.environ.get("EMOLAB_PROFILE") or "automatic (full with CUDA, else cpu)"
    print(f"executing {len(notebooks)} notebooks, {jobs} at a time, {threads} thread(s) each; profile: {profile}",
          flush=True)
    start = time.perf_counter()
    failed = []
    resolved = os.environ.get("EMOLAB_PROFILE") or ("full" if cuda_available() else "cpu")
    seeds = [] if args.no_seed_runs else seed_runs(notebooks, resolved)
    if seeds:
        print(f"first {len(seeds)} headless seed runs the chapters read (profile {resolved})", flush=True)
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(run_seed, c, s, out, resolved, threads) for c, s, out in seeds]
            for future in as_completed(futures):
                name, seconds, error = future.result()
                print(f"  {name:40s} {seconds:7.1f} s  {'FAILED: ' + error if error else 'ok'}", flush=True)
                if error:
                    failed.append(name)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(execute, nb, (args.out / nb.name) if args.out else nb, threads, args.timeout)
                   for nb in notebooks]
        for future in as_completed(futures):
            name, seconds, error = future.result()
            print(f"  {name:40s} {seconds:7.1f} s  {'FAILED: ' + error if error else 'ok'}", flush=True)
            if error:
                failed.append(name)
    print(f"executed in {time.perf_counter() - start:.1f} s wall", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)} (left unchanged)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Small jobs end to end: whole processes of reglab's commands against the scikit-learn script, in one run.

1. Warm caches, the best of ``--rounds`` rounds alternated between the commands:
   ``reglab --help``, ``reglab convert``, ``reglab run --data digits --epochs 1``,
   ``reglab run --data digits`` (30 epochs of 1,197 images) and the equivalent
   scikit-learn script (``MLPClassifier((30,), activation="logistic",
   solver="sgd", batch_size=10, max_iter=30)`` on ``load_digits``, split as
   reglab splits it); and, for scale, bare ``python -c "import torch"``,
   ``import numba``, and the floor of a run while the engine keeps its weights
   in torch and its kernel in numba: importing both and initialising numba's
   CPU target, which the first call of a cached kernel does (about 0.6 s: it
   imports SciPy's BLAS, and SciPy imports numpy.f2py). Wall-clock seconds,
   and CPU seconds of the process and the helpers it waited for (user +
   system). It prints the issue's two figures: the 30-epoch run against the
   scikit-learn script, and the one-epoch run against 2 s.
2. The first run after installing: ``reglab run --data digits --epochs 1`` with
   an empty numba cache (``NUMBA_CACHE_DIR`` pointing at a new folder),
   ``--first-runs`` times: seconds from the command to its first epoch's line and
   to its end, and the median.

Run from the repository root::

    python benchmarks/bench_startup.py [--rounds 3] [--write benchmarks/RESULTS.md]

On a shared machine the wall-clock figures move with the others' load; the CPU
seconds move less.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from results import machine, report

SKLEARN_SCRIPT = """
import warnings
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

X, y = load_digits(return_X_y=True)
X = X / 16
X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=300, stratify=y, random_state=0)
X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, test_size=300, stratify=y_rest, random_state=0)
clf = MLPClassifier((30,), activation="logistic", solver="sgd", batch_size=10, max_iter=30, learning_rate_init=0.1,
                    momentum=0.0, alpha=5.0 * 10 / len(y_train), random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    clf.fit(X_train, y_train)
print(f"validation accuracy {clf.score(X_val, y_val):.2%}, test accuracy {clf.score(X_test, y_test):.2%}")
"""

#: What a run must load before its first epoch while the engine is torch and numba: both imported, and numba's
#: CPU target initialised as the first call of a cached kernel initialises it.
FLOOR = "import torch, numba; from numba.core.registry import cpu_target; cpu_target.target_context.refresh()"

REGLAB = [sys.executable, "-m", "reglab"]
EPOCH_1 = "reglab run --data digits --epochs 1"
COMMANDS = {
    "reglab --help": [*REGLAB, "--help"],
    "reglab convert --lmbda 5 --n 50000": [*REGLAB, "convert", "--lmbda", "5", "--n", "50000"],
    EPOCH_1: [*REGLAB, "run", "--data", "digits", "--epochs", "1"],
    "reglab run --data digits (30 epochs)": [*REGLAB, "run", "--data", "digits"],
    "scikit-learn script (30 epochs)": [sys.executable, "-c", SKLEARN_SCRIPT],
    'python -c "import torch"': [sys.executable, "-c", "import torch"],
    'python -c "import numba"': [sys.executable, "-c", "import numba"],
    "floor: import torch and numba, initialise numba's CPU target": [sys.executable, "-c", FLOOR],
}


def run(argv: list[str], env: dict | None = None, mark: str | None = None) -> tuple[float, float, float | None]:
    """``(wall seconds, CPU seconds, seconds to the first output line starting with mark)`` of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    first = None
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True) as p:
        assert p.stdout is not None
        for line in p.stdout:
            if first is None and mark is not None and line.lstrip().startswith(mark):
                first = time.perf_counter() - t0
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed with exit code {p.returncode}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, first


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3, help="alternated rounds; the best is reported (default: 3)")
    ap.add_argument("--no-first-run", action="store_true", help="skip the runs with an empty numba cache")
    ap.add_argument("--first-runs", type=int, default=3, help="runs with an empty numba cache, each about 12 s (default: 3)")
    ap.add_argument("--write", metavar="FILE", help="also write the figures as a section of FILE (Markdown)")
    args = ap.parse_args(argv)
    write = os.path.abspath(args.write) if args.write else None

    load_before = machine()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # the run folders land here
        for argv_ in COMMANDS.values():  # warm the caches (numba's kernels, the OS's files)
            run(argv_)
        best: dict[str, tuple[float, float]] = {}
        for _ in range(args.rounds):
            for name, argv_ in COMMANDS.items():
                wall, cpu, _ = run(argv_)
                old = best.get(name, (float("inf"), float("inf")))
                best[name] = (min(old[0], wall), min(old[1], cpu))
        firsts = []
        for k in range(0 if args.no_first_run else args.first_runs):  # each on a cache of its own, empty
            env = {**os.environ, "NUMBA_CACHE_DIR": os.path.join(tmp, f"empty-numba-cache-{k}")}
            firsts.append(run(COMMANDS[EPOCH_1], env, mark="epoch"))

    lines = [f"machine: {load_before}; Python {sys.version.split()[0]}", "",
             f"1. whole processes, warm caches, the best of {args.rounds} alternated rounds "
             f"(load average {os.getloadavg()[0]:.2f} at the end)",
             "| command | wall-clock s | CPU s (user + system) |", "|---|---|---|"]
    lines += [f"| `{name}` | {wall:.2f} | {cpu:.2f} |" for name, (wall, cpu) in best.items()]
    ours, theirs = best["reglab run --data digits (30 epochs)"], best["scikit-learn script (30 epochs)"]
    lines += ["", f"reglab run --data digits against the scikit-learn script: {ours[0] / theirs[0]:.2f}× its wall-clock "
                  f"time, {ours[1] / theirs[1]:.2f}× its CPU time (below 1: faster; goal: at most 1)",
              f"reglab run --data digits --epochs 1: {best[EPOCH_1][0]:.2f} s wall-clock (goal: under 2 s)"]
    if firsts:
        lines += ["", f"2. the first run after installing: `reglab run --data digits --epochs 1` with an empty numba cache, "
                      f"{len(firsts)} times (load average {os.getloadavg()[0]:.2f} at the end)",
                  "| run | first epoch's line after (s) | the whole process, wall-clock s | CPU s |", "|---|---|---|---|"]
        lines += [f"| {k + 1} | {to_epoch:.1f} | {wall:.1f} | {cpu:.1f} |" for k, (wall, cpu, to_epoch) in enumerate(firsts)]
        lines += ["", f"first epoch's line after {statistics.median(f[2] for f in firsts):.1f} s (the median; goal: within 10 s)"]
    report(lines, write, "bench_startup", "python benchmarks/bench_startup.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""reglab on a busy machine: the default threads against one thread, with a CPU-bound process on every core.

For each job (whole ``reglab`` processes) and each way of running it, the best of
``--rounds`` alternated rounds, wall-clock and CPU seconds:

* default: reglab as installed (every core; idle OpenMP threads sleep, the
  ``OMP_WAIT_POLICY=PASSIVE`` reglab sets when it is imported);
* one thread: ``NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1``;
* spinning: the default threads with ``OMP_WAIT_POLICY=ACTIVE`` (how reglab ran
  before: waiting threads spin), for comparison.

With ``--data-dir`` holding MNIST, a third job trains one [784, 30, 10] model on it, whose steps reglab splits over
the cores by default (``kernel.train_epoch_split``, barriers every step: the case where a busy core hurts most).

Each job runs first on the machine as it is ("no load": on a shared machine,
whatever the others run), then with one busy-looping process per core started
beside it. The target: with the load, default ≤ 1.25 × one thread.

Run from the repository root::

    python benchmarks/bench_contention.py [--rounds 3] [--data-dir DIR] [--write benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

from results import machine, report

LAMBDAS = ",".join(str(v) for v in range(1, 17))
JOBS = {
    "16 models on the digits, 20 epochs": ["train", "--data", "digits", "--lmbda", *LAMBDAS.split(","), "--epochs", "20"],
    "1 model on the digits, 30 epochs (reglab run)": ["run", "--data", "digits"],
}
WAYS = {
    "default": {},
    "one thread": {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
    "spinning (OMP_WAIT_POLICY=ACTIVE)": {"OMP_WAIT_POLICY": "ACTIVE"},
}


@contextmanager
def busy_cores(n: int):
    """``n`` processes that loop without pause, for as long as the block runs."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        time.sleep(0.5)  # let them take the cores
        yield
    finally:
        for h in hogs:
            h.kill()
        for h in hogs:
            h.wait()


def run(args: list[str], extra_env: dict, out: str) -> tuple[float, float]:
    """Wall-clock and CPU seconds of ``reglab ARGS --quiet --out OUT``."""
    env = {**os.environ, **extra_env}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "reglab", *args, "--quiet", "--out", out], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


#: The third job, where MNIST is at hand (``--data-dir``).
MNIST_JOB = ("1 model on MNIST, 10,000 images, 5 epochs (steps split over the cores)",
             ["train", "--data", "mnist", "--train-size", "10000", "--epochs", "5", "--no-plots"])


def measure(rounds: int, tmp: str, jobs: dict[str, list[str]]) -> dict[tuple[str, str], tuple[float, float]]:
    best: dict[tuple[str, str], tuple[float, float]] = {}
    for r in range(rounds):
        for job, args in jobs.items():
            for way, env in WAYS.items():
                wall, cpu = run(args, env, os.path.join(tmp, f"{len(best)}-{r}"))
                old = best.get((job, way), (float("inf"), float("inf")))
                best[job, way] = (min(old[0], wall), min(old[1], cpu))
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3, help="alternated rounds; the best is reported (default: 3)")
    ap.add_argument("--write", metavar="FILE", help="also write the figures as a section of FILE (Markdown)")
    ap.add_argument("--data-dir", help="a data directory holding mnist/: adds the MNIST job")
    args = ap.parse_args(argv)
    cores = os.cpu_count() or 1
    jobs = dict(JOBS)
    if args.data_dir:
        jobs[MNIST_JOB[0]] = [*MNIST_JOB[1], "--data-dir", args.data_dir]
    with tempfile.TemporaryDirectory() as tmp:
        for job_args in jobs.values():
            run(job_args, {}, os.path.join(tmp, "warm"))  # numba's kernels loaded once, the files cached
        quiet = measure(args.rounds, tmp, jobs)
        with busy_cores(cores):
            busy = measure(args.rounds, tmp, jobs)
    lines = [f"machine: {machine()} (at the end); the best of {args.rounds} alternated rounds; wall-clock s (CPU s)", "",
             "| job | load | " + " | ".join(WAYS) + " | default / one thread |", "|---|---|" + "---|" * (len(WAYS) + 1)]
    for job in jobs:
        for load, results in (("no load", quiet), (f"{cores} busy processes", busy)):
            cells = " | ".join(f"{results[job, way][0]:.2f} ({results[job, way][1]:.2f})" for way in WAYS)
            ratio = results[job, "default"][0] / results[job, "one thread"][0]
            lines.append(f"| {job} | {load} | {cells} | {ratio:.2f} |")
    report(lines, args.write, "bench_contention", "python benchmarks/bench_contention.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())

r"""What a piece of work will cost, known before it starts: how many models, how much memory, how long.

Commands refuse work that cannot finish, before allocating anything, and say how large the rest is:

* **a limit on the count** of models (``train``/``run``), cells (``sweep``) or model runs
  (``reproduce``): :data:`DEFAULT_LIMIT`, raised with ``--limit N`` (:func:`check_count`);
* **memory**: the weights and what training keeps beside them must fit in the memory available
  (:func:`check_memory`), or the sizes are named and refused;
* **an estimate line** before anything large (:class:`Estimate`), as ``terraform plan`` or
  ``rsync --dry-run`` say what they would do: the count, the model-epochs, the arithmetic and a time.

The time is the arithmetic over a rate, not a measurement: training a model on ``n`` examples for one
epoch is about :math:`6 W n` floating-point operations (forward, backward and update of ``W`` weights)
and measuring a split of ``n'`` examples :math:`2 W n'`; the rate is :data:`FLOPS_PER_CORE` per core in
use (what the compiled steps reach on one core of a 2020s CPU, see ``benchmarks/``). Small networks
run below it (fixed costs per mini-batch), so the time is a floor for them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from reglab.config import TrainConfig
from reglab.errors import ReglabError
from reglab.provenance import usable_cores

#: The most models (train), cells (sweep) or model runs (reproduce) a command starts without ``--limit``.
DEFAULT_LIMIT = 10_000
#: Floating-point operations per second per core assumed by the time estimate.
FLOPS_PER_CORE = 3e10
#: Estimated seconds above which ``train`` prints its estimate line before starting.
ANNOUNCE_SECONDS = 60.0
#: Numbers per parameter each optimizer keeps (momentum: a velocity; Adam: two moments).
OPTIMIZER_SLOTS = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}


def check_count(count: int, what: str, limit: int | None, detail: str = "") -> None:
    """Refuse ``count`` ``what`` (models, cells) above ``limit`` (default :data:`DEFAULT_LIMIT`)."""
    limit = DEFAULT_LIMIT if limit is None else limit
    if count > limit:
        raise ReglabError(f"{count:,} {what}{f' ({detail})' if detail else ''} are more than the limit of {limit:,}; "
                          f"raise it with --limit {count} if you mean it")


def check_limit_flag(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise ReglabError(f"--limit must be a positive integer, got {limit}")


def weights(sizes: Sequence[int]) -> int:
    """Parameters of one model: ``Σ n_out·(n_in + 1)``."""
    return sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def bytes_needed(config: TrainConfig, sizes: Sequence[int], models: int) -> int:
    """A lower bound of the memory ``models`` models of ``config`` need while training: the parameters, their
    gradients, the initial and final copies and the optimizer's slots (``(5 + k)·P`` numbers per model), and one
    mini-batch's activations and errors."""
    e = 8 if config.dtype == "float64" else 4
    per_model = e * (weights(sizes) * (5 + OPTIMIZER_SLOTS.get(config.optimizer, 2)) + 3 * config.batch_size * sum(sizes[1:]))
    return models * per_model


def record_bytes(config: TrainConfig, sizes: Sequence[int], models: int) -> int:
    """The memory of the per-epoch records: ``12 + 10L`` metrics per epoch (``L`` layers), each an array of
    ``models`` numbers (about 100 bytes of array and 8 per number)."""
    return (config.epochs + 1) * (12 + 10 * (len(sizes) - 1)) * (100 + 8 * models)


def check_memory(config: TrainConfig, sizes: Sequence[int], models: int, available: int | None = None) -> None:
    """Refuse ``models`` models of ``sizes`` whose weights, or whose per-epoch records over ``--epochs``, would not
    fit in the memory available."""
    free = available_memory(config.device) if available is None else available
    records = record_bytes(config, sizes, models)
    if records > free:
        raise ReglabError(f"--epochs {config.epochs:,}: the per-epoch records of {models:,} model(s) would need about "
                          f"{_bytes(records)}, and {_bytes(free)} of memory are available")
    need = bytes_needed(config, sizes, models)
    if need > free:
        what = f"{models:,} models of {weights(sizes):,} weights each" if models > 1 else \
            f"one model of {weights(sizes):,} weights"
        raise ReglabError(f"layer sizes {list(sizes)}: {what} would need about "
                          f"{_bytes(need)} to train, and {_bytes(free)} of memory are available; use smaller "
                          "--hidden/--sizes or fewer models")


def _bytes(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB", "EB"):
        if n < 1000 or unit == "EB":
            return f"{n:.3g} {unit}" if unit != "bytes" else f"{int(n)} bytes"
        n /= 1000
    return f"{n:.3g} EB"  # pragma: no cover


@dataclass(frozen=True)
class Estimate:
    """The size of some training before it starts (see the module docstring)."""

    count: int  # models or cells
    what: str  # "models", "cells", "model runs"
    model_epochs: int
    flops: float
    cores: int

    @property
    def seconds(self) -> float:
        return self.flops / (FLOPS_PER_CORE * max(1, self.cores))

    def line(self) -> str:
        return (f"plan: {self.count:,} {self.what}, {self.model_epochs:,} model-epochs, {self.flops:.2g} floating-point "
                f"operations; at {FLOPS_PER_CORE / 1e9:g} GFLOP/s on {self.cores} core(s): {duration(self.seconds)}")

    def __add__(self, other: Estimate) -> Estimate:
        return Estimate(self.count + other.count, self.what, self.model_epochs + other.model_epochs,
                        self.flops + other.flops, max(self.cores, other.cores))


def estimate(config: TrainConfig, sizes: Sequence[int], n_train: int, n_eval: int, models: int | None = None,
             what: str = "models") -> Estimate:
    """The work of training ``models`` models of ``config`` (default: all of its models) on ``n_train`` examples,
    measuring ``n_eval`` more after every epoch."""
    m = config.n_models if models is None else models
    measured = n_eval + (n_train if "train" in config.monitor and config.monitor_train == "exact" else 0)
    return Estimate(m, what, m * config.epochs, m * config.epochs * epoch_flops(sizes, n_train, measured),
                    min(usable_cores(), max(1, m)))


def epoch_flops(sizes: Sequence[int], n_train: int, n_measured: int) -> float:
    """Arithmetic of one model's epoch: :math:`6 W n` to train on ``n_train`` examples, :math:`2 W n'` to measure
    ``n_measured`` (``W``: the weights of layer sizes ``sizes``)."""
    W = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return 6.0 * W * n_train + 2.0 * W * n_measured


def duration(seconds: float) -> str:
    """``40 s``, ``12 min``, ``3.5 h``, ``2.1 days``, ``4e+03 years``."""
    if not math.isfinite(seconds):
        return "forever"
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size if unit != "min" else seconds >= 90:
            return f"{seconds / size:.2g} {unit}"
    return f"{max(seconds, 1):.0f} s" if seconds >= 1 else "under a second"


# -- memory available -----------------------------------------------------------------------------
def _cgroup_free() -> int | None:
    """Room left under a cgroup memory limit (v2, then v1), or ``None`` without a limit."""
    for limit, usage in (("memory.max", "memory.current"), ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        try:
            text = (Path("/sys/fs/cgroup") / limit).read_text().strip()
            if text == "max" or int(text) >= 1 << 60:
                return None
            return max(0, int(text) - int((Path("/sys/fs/cgroup") / usage).read_text()))
        except (OSError, ValueError):
            continue
    return None


def available_memory(device: str = "auto") -> int:
    """Bytes free for training on ``device``: free GPU memory on CUDA, else available RAM."""
    if device == "cuda" or (device == "auto" and torch.cuda.is_available()):
        return int(torch.cuda.mem_get_info(torch.device("cuda"))[0])
    free = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                free = int(line.split()[1]) * 1024
    except OSError:
        pass
    if free is None:
        try:
            import psutil  # optional: only where /proc is missing

            free = int(psutil.virtual_memory().available)
        except ImportError:
            free = 4 << 30  # no way to ask: assume a small machine
    cgroup = _cgroup_free()
    return free if cgroup is None else min(free, cgroup)

"""λ sweeps: a grid of settings trained in chunks of models at once, resumable, on this machine or a Ray cluster.

>>> from reglab.config import TrainConfig
>>> from reglab.sweep import sweep
>>> result = sweep(TrainConfig(data="digits", epochs=5, seeds=3),
...                {"lmbda": [0.01, 0.1, 1, 10], "reg": ["l2", "l1-prox"]}, out="sweeps/demo")  # doctest: +SKIP
>>> [c.selection.one_se_lmbda for c in result.curves]  # doctest: +SKIP

See :func:`sweep` for the parameters and :mod:`reglab.sweep.store` for the files it writes.
"""

from reglab.sweep.backends import LocalBackend, RayBackend
from reglab.sweep.chunks import Chunk, plan
from reglab.sweep.core import SweepInterrupted, SweepProgress, SweepResult, sweep
from reglab.sweep.grid import parse_values
from reglab.sweep.select import Curve, Selection, one_se_rule
from reglab.sweep.store import read_results

__all__ = [
    "sweep",
    "SweepResult",
    "SweepInterrupted",
    "SweepProgress",
    "LocalBackend",
    "RayBackend",
    "Chunk",
    "plan",
    "parse_values",
    "Curve",
    "Selection",
    "one_se_rule",
    "read_results",
]

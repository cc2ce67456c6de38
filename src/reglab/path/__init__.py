"""λ paths for networks, as glmnet computes them for linear models: from λ_max down, warm-started.

>>> from reglab.config import TrainConfig
>>> from reglab.path import PathSettings, Span, path
>>> result = path(TrainConfig(data="digits", eta=(0.5,), seeds=2),
...               PathSettings(kinds=("l2", "l1-prox"), span=Span(steps=20), start="both"), out="paths/demo")  # doctest: +SKIP
>>> [(c.settings["start"], c.settings["reg"], c.selection.one_se_lmbda) for c in result.curves]  # doctest: +SKIP

Modules: :mod:`~reglab.path.lambdas` (the sequence), :mod:`~reglab.path.collapse` (finding λ_max),
:mod:`~reglab.path.batch` (every path one model of one batch), :mod:`~reglab.path.core` (warm path,
cold sweep, comparison, the folder), :mod:`~reglab.path.plots` (the coefficient path).
"""

from reglab.path.collapse import Found
from reglab.path.core import PathProgress, PathResult, PathSettings, path
from reglab.path.lambdas import Span

__all__ = ["path", "PathSettings", "PathResult", "PathProgress", "Span", "Found"]

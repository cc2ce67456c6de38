r"""How many models fit in one chunk: the memory available and an estimate per model.

A chunk of ``M`` models trains as one batched run, so its memory grows
linearly in ``M``. With ``P = Σ_l n_out·(n_in + 1)`` parameters per model,
``e`` bytes per number (4 for float32), ``m`` the mini-batch size, ``A =
Σ_{l≥1} sizes[l]`` the units of the non-input layers, ``k`` optimizer slots
per parameter (0 for SGD, 1 for momentum, 2 for Adam) and ``E`` epochs:

.. math::

    \text{bytes per model} \approx 1.5\,\bigl[\,e\,\bigl(P(7 + k)
        + 3mA + m\,d_\text{own} + 2000A + 128A\bigr) + 200\,(E+1)\,(12 + 10L)\bigr]

* ``7P``: weights, gradients, regularizer gradients, temporaries of the
  weight statistics, the initial and final copies kept for the summary;
* ``3mA``: a mini-batch's pre-activations, activations and deltas
  (``m·d_own`` more, ``d_own = sizes[0]``, when each model has its own order: ``per_model_order``
  or ``folds``);
* ``2000A``: the monitor's saturation probe (1000 examples, ``z`` and ``a``);
* ``128A``: evaluation rows beyond the monitor's fixed 256 MiB budget;
* the last term: the per-epoch records as Python rows (``L`` layers);
* 1.5: a safety factor.

The budget is half the memory available: RAM (``MemAvailable`` of
``/proc/meminfo``, capped by a cgroup limit) or, on CUDA, the free GPU memory
(``torch.cuda.mem_get_info``). A cap (:data:`CAP`) keeps chunks short enough
that an interruption loses little and time per model has stopped falling.
"""

from __future__ import annotations

from reglab.config import TrainConfig
from reglab.runs.assemble import layer_sizes
from reglab.runs.budget import OPTIMIZER_SLOTS, available_memory

__all__ = ["CAP", "BUDGET_SHARE", "available_memory", "bytes_per_model", "models_per_chunk"]

#: Most models per chunk when memory allows more: on the CPU the compiled steps' time per
#: model-epoch stops falling once every core has a group (near 16 models on 2 cores); a GPU
#: keeps gaining far longer.
CAP = {"cpu": 64, "cuda": 512}
#: Share of the available memory a chunk may use.
BUDGET_SHARE = 0.5


def bytes_per_model(config: TrainConfig, n_features: int, n_classes: int) -> int:
    """The estimate of the module docstring for one model of ``config``."""
    sizes = layer_sizes(config, n_features, n_classes)
    e = 8 if config.dtype == "float64" else 4
    P = sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    A = sum(sizes[1:])
    L = len(sizes) - 1
    m = config.batch_size
    own = m * sizes[0] if config.per_model_order or config.folds else 0
    tensors = e * (P * (7 + OPTIMIZER_SLOTS.get(config.optimizer, 2)) + 3 * m * A + own + 2000 * A + 128 * A)
    records = 200 * (config.epochs + 1) * (12 + 10 * L)
    return int(1.5 * (tensors + records))


def models_per_chunk(config: TrainConfig, n_features: int, n_classes: int, budget: int, cuda: bool = False) -> int:
    """How many models of ``config`` fit in ``BUDGET_SHARE`` of ``budget`` bytes, at most :data:`CAP`, at least 1."""
    kind = "cuda" if cuda else "cpu"
    fit = int(BUDGET_SHARE * budget) // max(1, bytes_per_model(config, n_features, n_classes))
    return max(1, min(CAP[kind], fit))

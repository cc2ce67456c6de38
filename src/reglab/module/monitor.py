r"""What training does to each parameter of any ``nn.Module``, as tidy rows: :class:`WeightMonitor`.

Every ``every`` steps (or epochs) it records, per parameter, the engine's weight statistics
(:func:`reglab.engine.monitors.weight_stats`: ``sum``, ``mean``, ``l1``, ``l2``, ``rms``, ``var``,
``max_abs``, ``frac_small`` = fraction with ``|w| < 10⁻³``, ``zeros`` = count exactly 0) and

==================  ==========================================================================
``frac_zero``       fraction of weights exactly 0
``dead_units``      units (rows: output features, conv output channels) whose incoming weights are
                    all exactly 0 (parameters of two or more dimensions)
``update_ratio``    ``‖w_t − w_{t−1}‖ / ‖w_{t−1}‖`` over the last step before the record (per epoch:
                    over the interval); about 10⁻³ is the classic healthy value
``angle``           the angle in degrees between the weights at this record and at the previous one
==================  ==========================================================================

Rows are ``(step, epoch, layer, parameter, metric, value)`` with ``layer`` the module's name
(``"conv1"``) and ``parameter`` its own (``"weight"``). :meth:`WeightMonitor.close` writes, into
``out``, the run folder's files: ``metrics.csv`` (tidy, atomically), ``layer_rms.png`` (RMS per
parameter of two or more dimensions on a log scale with 1/√fan_in, :func:`reglab.runs.plots.rms_lines`)
and ``weight_histograms.png`` (initial versus final). A TensorBoard ``SummaryWriter`` (``writer=``; or
``writer=True`` for one in ``out/tensorboard``, with the ``tensorboard`` extra) gets every value as a
scalar ``"<parameter>/<metric>"`` and a histogram per parameter at each record. Nothing here prints.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from reglab.engine.monitors import weight_stats
from reglab.errors import ReglabError
from reglab.io import atomic_open, save_figure
from reglab.module.masks import MaskSpec, choose
from reglab.runs import plots
from reglab.runs.folder import write_tidy

#: Steps between two records by default: a record costs about as much as a few small steps (see
#: ``benchmarks/bench_module.py``), so monitoring stays well under 5% of training.
DEFAULT_EVERY = 50
UNITS = ("step", "epoch")
HEADER = ("step", "epoch", "layer", "parameter", "metric", "value")


class WeightMonitor:
    """Record weight statistics of ``model``'s parameters every ``every`` steps or epochs.

    Call :meth:`step` after each optimizer step (and after ``reg.step``), :meth:`epoch` at the end of
    each epoch, :meth:`close` at the end (or use it as a context manager). The state before training
    is recorded at construction (step 0).

    Parameters
    ----------
    model : nn.Module
        Any module.
    out : str or Path, optional
        The folder :meth:`close` writes into (nothing written without it).
    every : int
        Steps (``unit="step"``, default 50) or epochs (``unit="epoch"``, default 1) between records.
    unit : "step" or "epoch"
    mask : "all", "weights", callable or list of globs
        Which parameters (as in :func:`reglab.regularize`); default every parameter.
    writer : SummaryWriter, True or None
        A TensorBoard writer to send every record to too; ``True`` makes one in ``out/tensorboard``.
    """

    def __init__(self, model: nn.Module, out: str | Path | None = None, *, every: int | None = None, unit: str = "step",
                 mask: MaskSpec = "all", writer: Any = None):
        if every is None:
            every = DEFAULT_EVERY if unit == "step" else 1
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ReglabError(f"every must be a positive integer, got {every!r}")
        if unit not in UNITS:
            raise ReglabError(f"unit must be one of {', '.join(UNITS)}, got {unit!r}")
        self.model, self.every, self.unit = model, every, unit
        self.out = Path(out) if out is not None else None
        self.entries = [e for e in choose(model, mask) if e.regularized]
        self.writer = self._writer(writer)
        self.rows: list[tuple[int, int, str, str, str, float]] = []
        self.steps = self.epochs = 0
        self.initial = {e.name: e.param.detach().float().cpu().clone() for e in self.entries}
        self._previous: list[Tensor] | None = None  # the weights at the previous record (angle)
        self._before: list[Tensor] | None = None  # the weights one step before the next record (update ratio)
        self._closed = False
        self.record()

    def _writer(self, writer: Any) -> Any:
        if writer is not True:
            return writer
        if self.out is None:
            raise ReglabError("writer=True writes TensorBoard files into out/tensorboard: give out=")
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ReglabError("writer=True needs TensorBoard: pip install 'reglab[tensorboard]'") from None
        return SummaryWriter(log_dir=str(self.out / "tensorboard"))

    # -- the training loop's calls ------------------------------------------------------------------
    def step(self) -> None:
        """One optimizer step was taken: record if it is the ``every``-th (``unit="step"``)."""
        self.steps += 1
        if self.unit != "step":
            return
        if self.steps % self.every == 0:
            self.record()
        elif (self.steps + 1) % self.every == 0:
            self._before = self._copy()

    def epoch(self) -> None:
        """An epoch ended: record if it is the ``every``-th (``unit="epoch"``)."""
        self.epochs += 1
        if self.unit == "epoch" and self.epochs % self.every == 0:
            self.record()

    def _copy(self) -> list[Tensor]:
        return [e.param.detach().clone() for e in self.entries]

    # -- measuring ---------------------------------------------------------------------------------
    @torch.no_grad()
    def record(self) -> None:
        """Record every parameter's statistics now (one transfer to the CPU for all of them)."""
        before = self._before if self._before is not None else self._previous
        keys: list[tuple[str, str, str]] = []
        values: list[Tensor] = []
        for k, e in enumerate(self.entries):
            w = e.param.detach()
            wf = w.float() if w.dtype in (torch.float16, torch.bfloat16) else w
            stats = weight_stats(wf.reshape(1, -1))
            stats["frac_zero"] = stats["zeros"] / max(w.numel(), 1)
            if w.dim() >= 2:
                stats["dead_units"] = (wf.reshape(w.shape[0], -1) == 0).all(dim=1).sum().to(wf.dtype).reshape(1)
            norm = stats["l2"][0]
            if before is not None:
                stats["update_ratio"] = ((wf - before[k].to(wf.dtype)).norm() / before[k].to(wf.dtype).norm()).reshape(1)
            if self._previous is not None:  # 2·atan2(‖u − v‖, ‖u + v‖) of the unit vectors: accurate near 0° too
                u, v = wf / norm, self._previous[k].to(wf.dtype)
                v = v / v.norm()
                stats["angle"] = torch.rad2deg(2 * torch.atan2((u - v).norm(), (u + v).norm())).reshape(1)
            for metric, value in stats.items():
                keys.append((e.module_name, e.param_name, metric))
                values.append(value[0].double())
        numbers = torch.stack(values).cpu().numpy() if values else np.zeros(0)
        for (layer, param, metric), v in zip(keys, numbers):
            self.rows.append((self.steps, self.epochs, layer, param, metric, float(v)))
        if self.writer is not None:
            x = self.steps if self.unit == "step" else self.epochs
            for (layer, param, metric), v in zip(keys, numbers):
                self.writer.add_scalar(f"{layer}.{param}/{metric}" if layer else f"{param}/{metric}", float(v), x)
            for e in self.entries:
                self.writer.add_histogram(e.name, e.param.detach().float().cpu(), x)
        self._previous = self._copy()
        self._before = None

    def get(self, metric: str, parameter: str) -> tuple[np.ndarray, np.ndarray]:
        """``(x, values)`` of ``metric`` for ``parameter`` (its full name, ``"conv1.weight"``) over the records;
        ``x`` is the step (or epoch, with ``unit="epoch"``)."""
        col = 0 if self.unit == "step" else 1
        pairs = [(r[col], r[5]) for r in self.rows
                 if r[4] == metric and (f"{r[2]}.{r[3]}" if r[2] else r[3]) == parameter]
        if not pairs:
            raise KeyError(f"no {metric!r} recorded for {parameter!r}")
        x, v = zip(*pairs)
        return np.array(x), np.array(v)

    # -- writing -----------------------------------------------------------------------------------
    def close(self) -> Path | None:
        """Record the last state (unless just recorded), write ``out`` and flush the writer; returns ``out``."""
        if self._closed:
            return self.out
        self._closed = True
        last = self.rows[-1][:2] if self.rows else None
        if last != (self.steps, self.epochs):
            self.record()
        if self.writer is not None:
            self.writer.flush()
        if self.out is None:
            return None
        self.out.mkdir(parents=True, exist_ok=True)
        with atomic_open(self.out / "metrics.csv", "w", newline="") as f:
            write_tidy(f, HEADER, self.rows)
        matrices = [e for e in self.entries if e.param.dim() >= 2]
        if matrices:
            save_figure(self.rms_figure(), self.out / "layer_rms.png")
            save_figure(plots.histograms([(f"{e.name} {tuple(e.shape)}", self.initial[e.name], e.param.detach().float().cpu())
                                          for e in matrices]), self.out / "weight_histograms.png")
        return self.out

    def rms_figure(self) -> Any:
        """RMS per parameter of two or more dimensions over the records, log scale, with 1/√fan_in."""
        matrices = [e for e in self.entries if e.param.dim() >= 2]
        series = []
        x = np.zeros(0)
        for e in matrices:
            x, rms = self.get("rms", e.name)
            series.append((e.name, rms, math.prod(e.shape[1:])))
        N = sum(e.param.numel() for e in matrices)
        return plots.rms_lines(x, series, N, self.unit)

    def __enter__(self) -> WeightMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"WeightMonitor({len(self.entries)} parameters, every {self.every} {self.unit}s, "
                f"{len(self.rows)} rows, out={str(self.out) if self.out else None!r})")

r"""The audit of a regularization: every parameter, whether it is regularized and why, and its strength in
every system's units.

reglab's unit is the book's: ``L2(λ)`` is ``C = C₀ + (λ/2n) Σw²``, ``λ_eq = λ/n`` per example (see
:mod:`reglab.units`). The same strength elsewhere, per regularizer (the tests check each numerically,
by training with the peer's rule at the printed value):

==================  ============================  ===========================  =====================================
regularizer         PyTorch                       Keras                        scikit-learn
==================  ============================  ===========================  =====================================
``L2(λ)``           ``SGD(weight_decay=λ/n)``     ``L2(l2=λ/2n)``              ``MLPClassifier(alpha=λ·|B|/n)``
``L1(λ)``           (none)                        ``L1(l1=λ/n)``               ``SGDClassifier(penalty="l1", alpha=λ/n)``
``L1Prox(λ)``       (none)                        ``L1(l1=λ/n)``, no zeros     ``SGDClassifier(penalty="l1", alpha=λ/n)``
``ElasticNet(λ,ρ)`` (none)                        ``L1L2(ρλ/n, (1−ρ)λ/2n)``    ``SGDClassifier(penalty="elasticnet",
                                                                               alpha=λ/n, l1_ratio=ρ)``
``DecoupledDecay``  ``AdamW(weight_decay=λ/n)``   ``AdamW(weight_decay=λ/n)``  (none)
``MaxNorm(c)``      ``Embedding(max_norm=c)``     ``MaxNorm(max_value=c)``     (none)
==================  ============================  ===========================  =====================================

With ``decay="lr-free"`` the decay per step is ``(lr/lr₀)·λ/n``: MosaicML's ``DecoupledAdamW(weight_decay=λ/n)``,
PyTorch's ``AdamW(weight_decay=λ/(n·lr₀))``. A multiplier ``×s`` (``per_layer``) multiplies ``λ``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from reglab.engine.regularizers import (
    L1,
    L2,
    DecoupledDecay,
    ElasticNet,
    L1Prox,
    MaxNorm,
    NoRegularizer,
    Regularizer,
)
from reglab.engine.schedules import Constant, Schedule
from reglab.module.masks import Entry


@dataclass(frozen=True)
class Unit:
    """A strength in one system's terms: ``SGD(weight_decay=0.0001)``."""

    system: str  # "torch", "keras", "sklearn"
    what: str  # the call or option: "SGD", "L2", "MLPClassifier"
    values: dict[str, float] = field(default_factory=dict)
    note: str = ""
    fixed: str = ""  # options that are not strengths: 'penalty="l1"'

    def __str__(self) -> str:
        args = ", ".join([*([self.fixed] if self.fixed else []), *(f"{k}={v:.4g}" for k, v in self.values.items())])
        return f"{self.what}({args})" + (f" {self.note}" if self.note else "")


def equivalents(r: Regularizer, lmbda: float, n: int, batch_size: int | None, decay: str = "lr") -> list[Unit]:
    """The strength ``lmbda`` (reglab's units) of the regularizer ``r``'s kind in PyTorch, Keras and scikit-learn."""
    eq = lmbda / n
    if isinstance(r, NoRegularizer):
        return []
    if isinstance(r, L2):
        sk = Unit("sklearn", "MLPClassifier", {"alpha": eq * batch_size}) if batch_size else \
            Unit("sklearn", "MLPClassifier", {"alpha/|B|": eq}, "(× mini-batch)")
        return [Unit("torch", "SGD", {"weight_decay": eq}), Unit("keras", "L2", {"l2": eq / 2}), sk]
    if isinstance(r, (L1, L1Prox)):
        keras_note = "(no exact zeros)" if isinstance(r, L1Prox) else ""
        return [Unit("keras", "L1", {"l1": eq}, keras_note),
                Unit("sklearn", "SGDClassifier", {"alpha": eq}, fixed='penalty="l1"')]
    if isinstance(r, ElasticNet):
        rho = r.l1_ratio
        return [Unit("keras", "L1L2", {"l1": rho * eq, "l2": (1 - rho) * eq / 2}),
                Unit("sklearn", "SGDClassifier", {"alpha": eq, "l1_ratio": rho}, fixed='penalty="elasticnet"')]
    if isinstance(r, DecoupledDecay):
        if decay == "lr-free":
            return [Unit("torch", "AdamW", {"weight_decay·lr₀": eq}, "(÷ lr₀; MosaicML: weight_decay=λ/n)")]
        return [Unit("torch", "AdamW", {"weight_decay": eq}), Unit("keras", "AdamW", {"weight_decay": eq})]
    if isinstance(r, MaxNorm):  # a radius, not a strength: lmbda is c (× the multiplier), n plays no part
        return [Unit("torch", "Embedding", {"max_norm": lmbda}, "(embeddings only)"),
                Unit("keras", "MaxNorm", {"max_value": lmbda})]
    return []


class Audit:
    """A table: one row per parameter and regularizer part (``rows``); ``str()`` prints it.

    Each row: ``parameter``, ``module``, ``shape``, ``regularized``, ``rule``, ``scale`` (its ``per_layer``
    multiplier and which glob set it), and for a regularized parameter the ``regularizer``, its ``lmbda``
    (× the multiplier), ``lmbda_eq = λ/n`` and ``units`` (:class:`Unit` for PyTorch, Keras, scikit-learn).
    """

    def __init__(self, entries: Sequence[Entry], regularizer: Regularizer, n: int, batch_size: int | None,
                 decay: str = "lr", schedule: Schedule | None = None):
        self.regularizer, self.n, self.batch_size, self.decay = regularizer, n, batch_size, decay
        self.schedule = schedule or Constant()
        self.rows: list[dict] = []
        for e in entries:
            base = {"parameter": e.name, "module": e.module_type, "shape": e.shape, "regularized": e.regularized,
                    "rule": e.rule, "scale": e.scale, "scale_rule": e.scale_rule}
            if not e.regularized:
                self.rows.append({**base, "regularizer": "", "lmbda": None, "lmbda_eq": None, "units": []})
                continue
            for leaf in regularizer.leaves():
                lam = float(leaf.lmbda[0]) * e.scale
                eq = None if isinstance(leaf, MaxNorm) else lam / n  # a radius: n plays no part
                self.rows.append({**base, "regularizer": type(leaf).__name__, "lmbda": lam, "lmbda_eq": eq,
                                  "units": equivalents(leaf, lam, n, batch_size, decay)})

    def row(self, parameter: str, regularizer: str | None = None) -> dict:
        """The row of ``parameter`` (and of ``regularizer``, the class name, where it has several)."""
        for r in self.rows:
            if r["parameter"] == parameter and (regularizer is None or r["regularizer"] == regularizer):
                return r
        raise KeyError(parameter)

    def unit(self, parameter: str, regularizer: str, system: str) -> Unit:
        """The :class:`Unit` of ``system`` for ``parameter`` under ``regularizer``."""
        return next(u for u in self.row(parameter, regularizer)["units"] if u.system == system)

    def __str__(self) -> str:
        head = ["parameter", "shape", "regularized", "rule", "×", "regularizer", "λ", "λ/n", "PyTorch", "Keras",
                "scikit-learn"]
        lines = []
        for i, r in enumerate(self.rows):
            units = {u.system: str(u) for u in r["units"]}
            scale = "" if not r["regularized"] else f"{r['scale']:g}" + (f" ({r['scale_rule']})" if r["scale_rule"] else "")
            again = i > 0 and self.rows[i - 1]["parameter"] == r["parameter"]  # the next part of a sum: only its strength
            about = ["", "", "", "", ""] if again else [
                r["parameter"], "×".join(map(str, r["shape"])) or "scalar", "yes" if r["regularized"] else "no", r["rule"], scale]
            lines.append([*about, r["regularizer"],
                          "" if r["lmbda"] is None else f"{r['lmbda']:.4g}",
                          "" if r["lmbda_eq"] is None else f"{r['lmbda_eq']:.4g}",
                          *(units.get(system, "—" if r["regularized"] else "") for system in ("torch", "keras", "sklearn"))])
        widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(head)]
        fmt = "  ".join(f"{{:{w}}}" for w in widths)
        title = f"{self.regularizer!r} · n = {self.n:,} · λ in the book's units, C = C0 + (λ/2n)Σw²"
        if not isinstance(self.schedule, Constant):
            title += f" · λ scheduled: {self.schedule!r}"
        if self.decay != "lr":
            title += f" · decay {self.decay}"
        kept = len({r["parameter"] for r in self.rows if r["regularized"]})
        title += f" · {kept} of {len({r['parameter'] for r in self.rows})} parameters regularized"
        out = [title, fmt.format(*head).rstrip(), fmt.format(*("─" * w for w in widths)).rstrip()]
        out += [fmt.format(*line).rstrip() for line in lines]
        return "\n".join(out)

    def __repr__(self) -> str:
        return str(self)

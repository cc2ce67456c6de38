r"""One regularization strength in every system's units, and which of them are the same update.

reglab's λ is the book's: ``C = C₀ + (λ/2n) Σ w²`` with ``n`` the training-set size. Systems
write weight decay in three kinds of update, told apart by *where* the decay acts (``g`` the
mean data gradient of a mini-batch, ``u`` the optimizer's step direction made from it: ``u = g``
for plain SGD, ``m̂/(√v̂ + ε)`` for Adam, ``η`` the learning rate):

**penalty** (coupled): the penalty's gradient ``κ·w`` joins the data gradient before the
optimizer, which then treats it like any other gradient (momentum averages it, Adam rescales it
per weight)::

    g ← g + κ w ;  w ← w − η u(g)

**decay** (decoupled, following the learning rate): the weights shrink by ``η·κ`` per step, outside
the optimizer, before its step (PyTorch ``AdamW``, Optax ``adamw``, Keras ``AdamW``, whose
``_apply_weight_decay`` runs before ``update_step``) or after it (reglab's ``--reg decay``, TF
Playground)::

    before:  w ← (1 − ηκ) w − η u        after:  w ← (1 − ηκ)(w − η u)

**lr-free decay**: the weights shrink by ``d`` per step whatever ``η`` is (Loshchilov & Hutter's
AdamW and SGDW with schedule multiplier 1: ``w ← w − η_t(α u + λ w)``); their *normalized* weight
decay sets ``d = λ_norm √(b/(B·T))`` from the batch size ``b``, the ``B`` training points and the
``T`` epochs. While ``η`` is constant, ``d = η κ``.

Every system's number is turned into the one coefficient ``κ`` (per unit of learning rate: the
``λ_eq`` of ``mean loss + (λ_eq/2)‖w‖²`` for a penalty):

===============  =====================================  ============================  ===================
system           parameter as written                   rule                          ``κ``
===============  =====================================  ============================  ===================
``book``         ``lmbda`` λ (network2, reglab)          ``C₀ + (λ/2n)Σw²``            ``λ / n``
``torch``        SGD/Adam ``weight_decay``              ``g += wd·w``                 ``wd``
``sklearn``      ``MLPClassifier(alpha)``               ``g += α·w/|B|``              ``α / |B|``
``keras``        ``regularizers.L2(l2)``                ``loss += l2·Σw²`` (no ½)     ``2·l2``
``optax-l2``     ``add_decayed_weights(wd)`` first      ``g += wd·w``, then the rest  ``wd``
``decay``        reglab ``--reg decay`` λ               after: ``(1 − ηλ/n)``         ``λ / n``
``playground``   TF Playground L2 rate ``r``            after: ``(1 − η r)``          ``r``
``torch-adamw``  ``AdamW(weight_decay)``                before: ``(1 − η wd)``        ``wd``
``optax-adamw``  ``adamw(weight_decay)``                before: ``(1 − η wd)``        ``wd``
``keras-adamw``  ``AdamW(weight_decay)``                before: ``(1 − η wd)``        ``wd``
``lr-free``      decay per step ``d``                   before: ``(1 − d)``           ``d / η``
``normalized``   L&H's ``λ_norm``                       ``d = λ_norm √(b/(B·T))``     ``d / η``
===============  =====================================  ============================  ===================

Sources: Optax's ``adamw`` is ``chain(scale_by_adam, add_decayed_weights(wd),
scale_by_learning_rate(lr))`` and ``add_decayed_weights`` adds ``wd·params`` to the updates;
Keras 3's optimizers apply ``variable − variable·wd·lr`` in ``_apply_weight_decay`` before
``update_step``, and ``L2(l2)`` adds ``l2·Σx²`` to the loss; Keras's Adam adds its ε to ``√v``
before the bias correction ("epsilon hat"), so its step equals PyTorch's and Optax's exactly only
at ε = 0 (the decay is the same either way); scikit-learn's MLP adds ``alpha·coef`` to the summed
gradient and divides by the batch's size; TF Playground subtracts ``η·r·w`` after the gradient
step; Loshchilov & Hutter, *Decoupled Weight Decay Regularization* (ICLR 2019), Algorithm 2 and
Appendix B.1 (normalized weight decay).

Which conversions are the same update (:func:`relation`; ``tests/test_units.py`` runs both sides
100 steps on the same data and weights for each claim):

* two systems of the same kind and place: **equal**, under any optimizer (``lr-free`` and
  ``normalized`` to a decay that follows ``η``: equal while ``η`` is constant);
* a decay before the step and one after it: **equal to first order**: the same shrinking per step,
  but ``(1 − ηκ)`` also scales the step ``η u`` in one and not the other (a difference of
  ``η²κ·u`` per step);
* a penalty and a decay under plain SGD: ``(1 − ηκ) w − η g`` both, **equal** to a decay before
  the step (first order to one after);
* a penalty and a decay under momentum or Adam: **no equivalent**, refused with the reason. The
  optimizer averages (momentum) or rescales per weight (Adam) the penalty's gradient, never a
  decay: Adam + L2 is not AdamW, whatever the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from reglab.errors import ReglabError

#: Optimizers that tell the conversions apart (``adamw`` is ``adam`` with a decay).
OPTIMIZERS = ("sgd", "momentum", "adam")

PENALTY, BEFORE, AFTER = "penalty", "decay before the step", "decay after the step"
EQUAL, FIRST_ORDER = "equal", "equal to first order"


@dataclass(frozen=True)
class Units:
    """What a conversion may need besides the value: ``n`` training points, batch size, ``η``, epochs."""

    n: int | None = None
    batch_size: int | None = None
    eta: float | None = None
    epochs: int | None = None

    def need(self, name: str, system: str) -> float:
        value = getattr(self, name)
        if value is None or not value > 0 or not math.isfinite(value):
            raise ReglabError(f"{system} needs a positive --{name.replace('_', '-')}")
        return float(value)


@dataclass(frozen=True)
class System:
    """One way of writing the strength: its name, its parameter, its rule and its ``κ`` (module docstring)."""

    name: str
    parameter: str
    rule: str
    kind: str  # PENALTY, BEFORE or AFTER
    to_kappa: Callable[[float, Units], float]
    from_kappa: Callable[[float, Units], float]


def _same(v: float, u: Units) -> float:
    return v


def _per_n(system: str) -> tuple[Callable[[float, Units], float], Callable[[float, Units], float]]:
    return (lambda v, u: v / u.need("n", system)), (lambda k, u: k * u.need("n", system))


def _normalized_factor(u: Units) -> float:
    """``√(b/(B·T))``: a normalized decay's per-step decay per unit of ``λ_norm``."""
    return math.sqrt(u.need("batch_size", "normalized") / (u.need("n", "normalized") * u.need("epochs", "normalized")))


SYSTEMS: dict[str, System] = {s.name: s for s in (
    System("book", "lmbda (λ)", "C = C0 + (λ/2n)Σw²", PENALTY, *_per_n("book")),
    System("torch", "SGD/Adam weight_decay", "gradient += wd·w", PENALTY, _same, _same),
    System("sklearn", "MLP alpha", "gradient += α·w/|B|, |B| = mini-batch size", PENALTY,
           lambda v, u: v / u.need("batch_size", "sklearn"), lambda k, u: k * u.need("batch_size", "sklearn")),
    System("keras", "regularizers.L2(l2)", "loss += l2·Σw², no ½", PENALTY, lambda v, u: 2.0 * v, lambda k, u: k / 2.0),
    System("optax-l2", "add_decayed_weights(wd) before the optimizer", "gradient += wd·w", PENALTY, _same, _same),
    System("decay", "reglab --reg decay λ", "after the step: w ← (1 − ηλ/n)w", AFTER, *_per_n("decay")),
    System("playground", "TF Playground L2 rate", "after the step: w ← (1 − η·r)w", AFTER, _same, _same),
    System("torch-adamw", "AdamW weight_decay", "before the step: w ← (1 − η·wd)w", BEFORE, _same, _same),
    System("optax-adamw", "adamw(weight_decay=…)", "before the step: w ← (1 − η·wd)w", BEFORE, _same, _same),
    System("keras-adamw", "AdamW(weight_decay=…)", "before the step: w ← (1 − η·wd)w", BEFORE, _same, _same),
    System("lr-free", "decay per step d", "before the step: w ← (1 − d)w, whatever η", BEFORE,
           lambda v, u: v / u.need("eta", "lr-free"), lambda k, u: k * u.need("eta", "lr-free")),
    System("normalized", "L&H λ_norm", "d = λ_norm·√(b/(B·T)) per step, whatever η", BEFORE,
           lambda v, u: v * _normalized_factor(u) / u.need("eta", "normalized"),
           lambda k, u: k * u.need("eta", "normalized") / _normalized_factor(u)),
)}


@dataclass(frozen=True)
class Relation:
    """How two systems' updates compare at the converted strength: :data:`EQUAL` or :data:`FIRST_ORDER`, and why."""

    kind: str
    why: str


def system(name: str) -> System:
    """The system called ``name``, or a one-line error listing them."""
    try:
        return SYSTEMS[name]
    except KeyError:
        raise ReglabError(f"unknown system {name!r}; choose one of {', '.join(SYSTEMS)}") from None


def no_equivalent(optimizer: str) -> str | None:
    """Why a penalty and a decay have no equivalent under ``optimizer`` (``None`` under plain SGD)."""
    if optimizer == "sgd":
        return None
    through = "momentum averages it" if optimizer == "momentum" else "Adam rescales it per weight"
    return (f"a penalty's gradient goes through the optimizer ({through}), a decay does not: "
            "no fixed decay equals a penalty (Adam + L2 is not AdamW, whatever the numbers)")


def relation(a: str, b: str, optimizer: str = "sgd") -> Relation:
    """Whether ``a``'s update at its strength equals ``b``'s at the converted one, under ``optimizer``.

    Raises
    ------
    ReglabError
        When there is none (a penalty against a decay under momentum or Adam), in one line saying why.
    """
    if optimizer not in OPTIMIZERS:
        raise ReglabError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)} (adamw is adam with a decay)")
    sa, sb = system(a), system(b)
    if sa.kind == sb.kind:
        free = {"lr-free", "normalized"} & {a, b}
        keras = optimizer == "adam" and "keras-adamw" in {a, b} and a != b
        return Relation(EQUAL, "the same update" + (" while η is constant" if free and {a, b} - free else "")
                        + (" (Keras's Adam adds its ε to √v before the bias correction: the steps agree exactly at ε = 0)"
                           if keras else ""))
    if PENALTY not in (sa.kind, sb.kind):
        return Relation(FIRST_ORDER, "the same decay per step, one before the optimizer's step and one after it: "
                                     "they differ by η²κ times the step, per step")
    refused = no_equivalent(optimizer)
    if refused is not None:
        raise ReglabError(f"{a} → {b} has no equivalent under {optimizer}: {refused}")
    decay = sb if sa.kind == PENALTY else sa
    if decay.kind == BEFORE:
        return Relation(EQUAL, "under plain SGD both are w ← (1 − ηκ)w − η·g")
    return Relation(FIRST_ORDER, "under plain SGD a penalty is w ← (1 − ηκ)w − η·g, a decay after the step "
                                 "(1 − ηκ)(w − η·g): they differ by η²κ·g per step")


def _check(value: float, name: str) -> float:
    value = float(value)
    if not value >= 0 or value == math.inf:
        raise ReglabError(f"{name} must be a finite number ≥ 0, got {value}")
    return value


def kappa(system_name: str, value: float, units: Units = Units()) -> float:
    """``κ`` (the per-unit-of-η coefficient of the module docstring) of ``value`` in ``system_name``'s units."""
    return system(system_name).to_kappa(_check(value, "the strength"), units)


def convert(value: float, source: str, target: str, *, n: int | None = None, batch_size: int | None = None,
            eta: float | None = None, epochs: int | None = None, optimizer: str = "sgd") -> float:
    """``value`` in ``source``'s units → ``target``'s, for the same update (see :func:`relation`).

    >>> convert(5, "book", "sklearn", n=50000, batch_size=10)
    0.001
    >>> round(convert(1e-4, "torch-adamw", "lr-free", eta=1e-3, optimizer="adam"), 12)
    1e-07

    Raises
    ------
    ReglabError
        A missing ``n``/``batch_size``/``eta``/``epochs``, a negative value, or no equivalent.
    """
    relation(source, target, optimizer)
    units = Units(n, batch_size, eta, epochs)
    return system(target).from_kappa(kappa(source, value, units), units)


def lmbda_to_torch_weight_decay(lmbda: float, n: int) -> float:
    """The book's λ → PyTorch SGD ``weight_decay`` (``λ/n``)."""
    return convert(lmbda, "book", "torch", n=n)


def lmbda_to_sklearn_alpha(lmbda: float, n: int, batch_size: int) -> float:
    """The book's λ → scikit-learn MLP ``alpha`` (``λ·|B|/n``: scikit-learn divides α by the mini-batch size)."""
    return convert(lmbda, "book", "sklearn", n=n, batch_size=batch_size)


def lmbda_to_keras_l2(lmbda: float, n: int) -> float:
    """The book's λ → Keras ``L2(l2)`` (``λ/(2n)``: Keras writes ``l2·Σw²`` without the ½)."""
    return convert(lmbda, "book", "keras", n=n)


def table(value: float, source: str = "book", *, n: int | None = None, batch_size: int | None = None,
          eta: float | None = None, epochs: int | None = None, optimizer: str = "sgd") -> list[dict]:
    """One row per system: ``{system, parameter, rule, value, relation, note}``.

    ``relation`` is :data:`EQUAL`, :data:`FIRST_ORDER` or ``"none"`` (no equivalent under ``optimizer``);
    ``value`` is ``None`` there and where a setting the system needs is missing, which ``note`` names.
    """
    units = Units(n, batch_size, eta, epochs)
    k = kappa(source, value, units)
    rows = []
    for s in SYSTEMS.values():
        row: dict = {"system": s.name, "parameter": s.parameter, "rule": s.rule, "value": None}
        try:
            rel = relation(source, s.name, optimizer)
        except ReglabError:
            row.update(relation="none", note=no_equivalent(optimizer))
            rows.append(row)
            continue
        row.update(relation=rel.kind, note=rel.why)
        try:
            row["value"] = s.from_kappa(k, units)
        except ReglabError as exc:  # a setting this system needs is missing
            row["note"] = str(exc)
        rows.append(row)
    return rows

r"""One L2 strength in every system's units.

reglab's λ is the book's: ``C = C₀ + (λ/2n) Σ w²`` with ``n`` the training-set
size, so one plain SGD step subtracts ``η·λ_eq·w`` where

.. math::  \lambda_{eq} = \lambda / n .

Every conversion below goes through ``λ_eq`` (the coefficient of the
objective ``mean loss + (λ_eq/2)‖w‖²``):

==========================  ==================================  =====================
system                      penalty as written                  ``λ_eq``
==========================  ==================================  =====================
the book / network2         ``(λ/2n) Σw²``                      ``λ / n``
PyTorch SGD ``weight_decay``  gradient ``+= wd·w``              ``wd``
PyTorch AdamW               ``w ← w − lr·wd·w`` (decoupled)     ``wd`` per unit of lr
scikit-learn MLP ``alpha``  ``0.5·α‖W‖² / |B|`` (batch size)    ``α / |B|``
Keras ``L2(c)``             ``c·Σw²`` (no ½)                    ``2c``
TF Playground rate ``r``    ``½w²`` per weight                  ``r``
==========================  ==================================  =====================

With Adam, PyTorch's ``weight_decay`` is added to the gradient and then
rescaled per weight: it is not this L2 (use AdamW, or reglab's ``decay``).
"""

from __future__ import annotations

from reglab.errors import ReglabError

SYSTEMS = ("book", "torch", "adamw", "sklearn", "keras", "playground")


def _check(value: float, name: str) -> float:
    value = float(value)
    if not value >= 0 or value == float("inf"):
        raise ReglabError(f"{name} must be a finite number ≥ 0, got {value}")
    return value


def to_lambda_eq(system: str, value: float, *, n: int | None = None, batch_size: int | None = None) -> float:
    """``λ_eq`` of ``value`` given in ``system``'s units."""
    value = _check(value, "the strength")
    if system == "book":
        return value / _need(n, "n", system)
    if system in ("torch", "adamw", "playground"):
        return value
    if system == "sklearn":
        return value / _need(batch_size, "batch_size", system)
    if system == "keras":
        return 2.0 * value
    raise ReglabError(f"unknown system {system!r}; choose one of {', '.join(SYSTEMS)}")


def from_lambda_eq(system: str, lam_eq: float, *, n: int | None = None, batch_size: int | None = None) -> float:
    """``λ_eq`` expressed in ``system``'s units."""
    lam_eq = _check(lam_eq, "λ_eq")
    if system == "book":
        return lam_eq * _need(n, "n", system)
    if system in ("torch", "adamw", "playground"):
        return lam_eq
    if system == "sklearn":
        return lam_eq * _need(batch_size, "batch_size", system)
    if system == "keras":
        return lam_eq / 2.0
    raise ReglabError(f"unknown system {system!r}; choose one of {', '.join(SYSTEMS)}")


def convert(value: float, from_system: str, to_system: str, *, n: int | None = None, batch_size: int | None = None) -> float:
    """``value`` in ``from_system``'s units → ``to_system``'s.

    >>> convert(5, "book", "sklearn", n=50000, batch_size=10)
    0.001
    """
    return from_lambda_eq(to_system, to_lambda_eq(from_system, value, n=n, batch_size=batch_size), n=n, batch_size=batch_size)


def lmbda_to_torch_weight_decay(lmbda: float, n: int) -> float:
    """The book's λ → PyTorch SGD/AdamW ``weight_decay`` (``λ/n``)."""
    return convert(lmbda, "book", "torch", n=n)



def lmbda_to_sklearn_alpha(lmbda: float, n: int, batch_size: int) -> float:
    """The book's λ → scikit-learn MLP ``alpha`` (``λ·|B|/n``: sklearn divides α by the mini-batch size)."""
    return convert(lmbda, "book", "sklearn", n=n, batch_size=batch_size)



def lmbda_to_keras_l2(lmbda: float, n: int) -> float:
    """The book's λ → Keras ``L2(c)`` (``λ/(2n)``: Keras writes ``c·Σw²`` without the ½)."""
    return convert(lmbda, "book", "keras", n=n)



def table(value: float, from_system: str = "book", *, n: int, batch_size: int) -> list[dict]:
    """Rows ``{system, parameter, value, note}``: the same strength in every system's units."""
    lam_eq = to_lambda_eq(from_system, value, n=n, batch_size=batch_size)
    rows = [
        ("book", "lmbda (λ)", "C = C0 + (λ/2n)Σw²"),
        ("torch", "SGD weight_decay", "gradient += wd·w (Adam rescales it: not L2)"),
        ("adamw", "AdamW weight_decay", "w ← w − lr·wd·w, decoupled"),
        ("sklearn", "MLP alpha", "0.5·α‖W‖²/|B|, |B| = mini-batch size"),
        ("keras", "L2(c)", "c·Σw², no ½"),
        ("playground", "L2 rate", "½w² per weight"),
    ]
    return [
        {"system": s, "parameter": p, "value": from_lambda_eq(s, lam_eq, n=n, batch_size=batch_size), "note": note}
        for s, p, note in rows
    ]


def _need(v, name, system):
    if v is None or v <= 0:
        raise ReglabError(f"converting {system} units needs a positive --{name.replace('_', '-')}")
    return v

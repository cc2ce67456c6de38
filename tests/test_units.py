"""Every conversion that claims the same update, run: both rules 100 steps from the same weights on the same
mini-batches, their trajectories compared (float64). reglab's side is the engine itself (``fit``); the others are
``torch.optim`` or, for Optax, Keras, scikit-learn, TF Playground and Loshchilov & Hutter, their documented update
written out in numpy (sources in ``reglab.units``). Conversions with no equivalent are refused, in one line."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from reglab import units
from reglab.cli.main import main
from reglab.engine.data import TensorData, TensorSplit
from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor
from reglab.engine.optim import SGD, Adam
from reglab.engine.regularizers import L2, DecoupledDecay
from reglab.errors import ReglabError
from reglab.rng import generator

N, BATCH, EPOCHS, SIZES = 200, 10, 5, [6, 5, 3]  # 20 steps per epoch: 100 steps
BETAS, EPS = (0.9, 0.999), 1e-8
F64 = torch.float64


# -- the problem both sides train on ------------------------------------------------------------
def _data() -> TensorData:
    rng = np.random.default_rng(0)
    X, y = rng.random((N, SIZES[0])), rng.integers(0, SIZES[-1], N)
    return TensorData(TensorSplit.from_arrays(X, y, SIZES[-1], "cpu", F64), None, None, SIZES[-1])


def _model() -> MLP:
    return MLP.initialize(SIZES, seeds=[3], init="default", dtype=F64)


def reglab_run(regularizer, optimizer, eta: float) -> list[list[np.ndarray]]:
    """reglab's engine: the weights and biases after every epoch (5 points on the 100-step trajectory)."""
    model, seen = _model(), []

    def keep(epoch, record, state):
        seen.append([p[0].numpy().copy() for pair in zip(model.weights, model.biases) for p in pair])

    fit(model, _data(), epochs=EPOCHS, batch_size=BATCH, eta=eta, regularizer=regularizer, optimizer=optimizer,
        monitor=Monitor(splits=(), weights=False, saturation_examples=0), callbacks=[keep], beside=False)
    return seen


def reference_run(step) -> list[list[np.ndarray]]:
    """Another system's rule: ``step(params, grads, t)`` updates ``[W0, b0, W1, b1]`` (numpy, in place) from the
    mean data gradient of each mini-batch, taken in the engine's order (``generator(0, "order")``)."""
    model, data = _model(), _data()
    params = [p[0].numpy().copy() for pair in zip(model.weights, model.biases) for p in pair]
    g, out, t = generator(0, "order"), [], 0
    for _ in range(EPOCHS):
        order = torch.randperm(N, generator=g)
        for idx in torch.split(order, BATCH):
            t += 1
            step(params, _grads(model, params, data.train.X[idx], data.train.Y[idx]), t)
        out.append([p.copy() for p in params])
    return out


def _grads(model: MLP, params: list[np.ndarray], x, y) -> list[np.ndarray]:
    """Gradient of the mean data cost over the mini-batch at ``params``, by autograd."""
    ts = [torch.tensor(p[None], requires_grad=True) for p in params]
    net = MLP(ts[0::2], ts[1::2], model.activation, model.cost)
    zs, acts = net.forward(x)
    (net.cost.fn(zs[-1], acts[-1], y).sum() / x.shape[0]).backward()
    return [t.grad[0].numpy() for t in ts]


def assert_same(ours, theirs, rtol=1e-10):
    for a, b in zip(ours, theirs):
        for p, q in zip(a, b):
            np.testing.assert_allclose(p, q, rtol=rtol, atol=1e-12)


def largest_gap(ours, theirs) -> float:
    return max(float(np.abs(p - q).max()) for a, b in zip(ours, theirs) for p, q in zip(a, b))


def _weights(params):
    return params[0::2]  # W0, W1: the decay's mask (weights, not biases) on every side


class NumpyAdam:
    """Adam as Optax's ``scale_by_adam`` (and torch) writes it: ``m̂/(√v̂ + ε)``; or, with ``keras``, as Keras's
    ``Adam.update_step``: ``lr·√(1−β₂ᵗ)/(1−β₁ᵗ)·m/(√v + ε)`` (ε added before the bias correction)."""

    def __init__(self, eps=EPS, keras=False):
        self.eps, self.keras, self.m, self.v = eps, keras, None, None

    def direction(self, grads, t):
        b1, b2 = BETAS
        if self.m is None:
            self.m, self.v = [np.zeros_like(g) for g in grads], [np.zeros_like(g) for g in grads]
        out = []
        for g, m, v in zip(grads, self.m, self.v):
            m += (1 - b1) * (g - m)
            v += (1 - b2) * (g * g - v)
            if self.keras:
                out.append(math.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + self.eps))
            else:
                out.append((m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + self.eps))
        return out


# -- penalties: the same gradient, under SGD and Adam -------------------------------------------
LAMBDA, ETA_SGD, ETA_ADAM = 20.0, 0.5, 0.01


def _penalty_rule(system: str, value: float, adam: NumpyAdam | None, eta: float):
    """A coupled penalty as ``system`` writes it, then plain SGD or Adam."""

    def step(params, grads, t):
        for i in (0, 2):  # weights only
            if system == "keras":  # loss += l2·Σw²: autograd of that term is 2·l2·w
                grads[i] = grads[i] + 2.0 * value * params[i]
            elif system == "sklearn":  # coef_grads = (δᵀa + α·W)/|B|: the mean gradient + α·W/|B|
                grads[i] = grads[i] + value * params[i] / BATCH
            else:  # optax.add_decayed_weights(wd) first: updates + wd·params
                grads[i] = grads[i] + value * params[i]
        direction = grads if adam is None else adam.direction(grads, t)
        for p, u in zip(params, direction):
            p -= eta * u

    return step


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("system", ["keras", "sklearn", "optax-l2"])
def test_penalties_are_the_books_l2(system, optimizer):
    value = units.convert(LAMBDA, "book", system, n=N, batch_size=BATCH, optimizer=optimizer)
    eta = ETA_SGD if optimizer == "sgd" else ETA_ADAM
    ours = reglab_run(L2(LAMBDA), SGD() if optimizer == "sgd" else Adam(*BETAS, EPS), eta)
    theirs = reference_run(_penalty_rule(system, value, None if optimizer == "sgd" else NumpyAdam(), eta))
    assert_same(ours, theirs)
    assert largest_gap(ours, reglab_run(L2(0.0), SGD() if optimizer == "sgd" else Adam(*BETAS, EPS), eta)) > 1e-3


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_torch_weight_decay_is_the_books_l2(optimizer):
    wd, eta = units.convert(LAMBDA, "book", "torch", n=N, optimizer=optimizer), ETA_SGD if optimizer == "sgd" else ETA_ADAM
    ours = reglab_run(L2(LAMBDA), SGD() if optimizer == "sgd" else Adam(*BETAS, EPS), eta)
    theirs = reference_run(_torch_rule(optimizer, wd, eta))
    assert_same(ours, theirs)


def _torch_rule(kind: str, wd: float, eta: float, eps: float = EPS):
    """``torch.optim`` on the numpy parameters (as views), weight decay on the weights' group only."""
    state: dict = {}

    def step(params, grads, t):
        if not state:
            state["p"] = [torch.from_numpy(p) for p in params]  # views: the optimizer updates params in place
            groups = [{"params": state["p"][0::2], "weight_decay": wd}, {"params": state["p"][1::2], "weight_decay": 0.0}]
            cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[kind]
            state["opt"] = cls(groups, lr=eta, **({} if kind == "sgd" else {"betas": BETAS, "eps": eps}))
        for p, g in zip(state["p"], grads):
            p.grad = torch.from_numpy(g.copy())
        with torch.no_grad():
            state["opt"].step()

    return step


# -- decays: before the step, after it, and free of the learning rate ---------------------------
WD, ETA_W = 0.5, 0.01  # PyTorch's AdamW units (κ = wd); strong, so that the decay shows


def _decay_rule(system: str, value: float, eta: float, adam: NumpyAdam | None):
    """A decoupled decay as ``system`` writes it, with plain SGD (``adam`` None) or Adam's direction."""

    def step(params, grads, t):
        direction = grads if adam is None else adam.direction(grads, t)
        if system == "playground":  # w -= η·g, then w -= η·r·w
            for p, u in zip(params, direction):
                p -= eta * u
            for w in _weights(params):
                w -= eta * value * w
            return
        if system in ("optax-adamw",):  # chain(scale_by_adam, add_decayed_weights(wd), scale_by_learning_rate(lr))
            for i, (p, u) in enumerate(zip(params, direction)):
                p -= eta * (u + (value * p if i % 2 == 0 else 0.0))
            return
        if system == "keras-adamw":  # _apply_weight_decay (w − w·wd·lr), then update_step
            decay = eta * value
        elif system == "lr-free":  # L&H: w ← w − η_t(α·u + λ·w) with η_t = 1
            decay = value
        else:  # normalized: λ = λ_norm·√(b/(B·T)) per step
            decay = value * math.sqrt(BATCH / (N * EPOCHS))
        for w in _weights(params):
            w *= 1.0 - decay
        for p, u in zip(params, direction):
            p -= eta * u

    return step


@pytest.mark.parametrize("system", ["optax-adamw", "keras-adamw", "lr-free", "normalized"])
def test_adamw_decays_are_torchs_adamw(system):
    value = units.convert(WD, "torch-adamw", system, eta=ETA_W, n=N, batch_size=BATCH, epochs=EPOCHS, optimizer="adam")
    eps = 0.0 if system == "keras-adamw" else EPS  # Keras adds ε to √v before the bias correction: compare at ε = 0
    theirs = reference_run(_decay_rule(system, value, ETA_W, NumpyAdam(eps=eps, keras=system == "keras-adamw")))
    ours = reference_run(_torch_rule("adamw", WD, ETA_W, eps))
    assert_same(ours, theirs)
    assert largest_gap(ours, reference_run(_torch_rule("adam", 0.0, ETA_W))) > 1e-3  # the decay matters here


def test_reglab_decay_is_playground_and_first_order_to_adamw():
    """``decay`` and Playground both shrink after the step: equal; against AdamW (before the step) the gap is
    the second-order term, far below what a wrong factor in the conversion would give."""
    lam = units.convert(WD, "torch-adamw", "decay", n=N, optimizer="adam")
    r = units.convert(lam, "decay", "playground", n=N)
    assert units.relation("decay", "playground").kind == units.EQUAL
    assert_same(reglab_run(DecoupledDecay(lam), SGD(), ETA_SGD), reference_run(_decay_rule("playground", r, ETA_SGD, None)))
    assert units.relation("decay", "torch-adamw", "adam").kind == units.FIRST_ORDER
    ours = reglab_run(DecoupledDecay(lam), Adam(*BETAS, EPS), ETA_W)
    torch_adamw = reference_run(_torch_rule("adamw", WD, ETA_W))
    steps, wrong = EPOCHS * N // BATCH, reglab_run(DecoupledDecay(2 * lam), Adam(*BETAS, EPS), ETA_W)
    gap = largest_gap(ours, torch_adamw)
    assert 0 < gap <= steps * ETA_W**2 * WD * 3  # per step η·(ηκ)·|u|, Adam's |u| ≲ 3 early on
    assert largest_gap(wrong, torch_adamw) > 10 * gap


def test_under_sgd_a_penalty_is_a_decay_before_the_step():
    d = units.convert(LAMBDA, "book", "lr-free", n=N, eta=ETA_SGD)
    assert units.relation("book", "lr-free").kind == units.EQUAL and d == pytest.approx(ETA_SGD * LAMBDA / N)
    assert_same(reglab_run(L2(LAMBDA), SGD(), ETA_SGD), reference_run(_decay_rule("lr-free", d, ETA_SGD, None)))
    assert units.relation("book", "decay").kind == units.FIRST_ORDER  # after the step: η²κ·g apart


# -- refusals and the table ---------------------------------------------------------------------
@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
@pytest.mark.parametrize("pair", [("torch", "torch-adamw"), ("book", "decay"), ("keras", "lr-free"), ("optax-adamw", "sklearn")])
def test_a_penalty_and_a_decay_have_no_equivalent_under_adaptive_optimizers(pair, optimizer):
    with pytest.raises(ReglabError, match="no equivalent under"):
        units.convert(1e-3, *pair, n=N, batch_size=BATCH, eta=0.1, optimizer=optimizer)


def test_cli_refuses_in_one_line(capsys):
    assert main(["convert", "--from", "torch", "--value", "1e-4", "--to", "torch-adamw", "--optimizer", "adam"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no equivalent under adam" in err and "Adam + L2 is not AdamW" in err


def test_cli_table_and_one_value(capsys):
    assert main(["convert", "--lmbda", "5", "--n", "50000", "--batch-size", "10"]) == 0
    out = capsys.readouterr().out
    for word in ("optax-adamw", "keras-adamw", "normalized", "first order (decay, playground)", "lr-free needs a positive --eta"):
        assert word in out
    assert main(["convert", "--from", "torch-adamw", "--value", "0.01", "--to", "normalized", "--optimizer", "adam",
                 "--eta", "1e-3", "--n", "50000", "--epochs", "30", "--json"]) == 0
    import json
    row = json.loads(capsys.readouterr().out)
    assert row["value"] == pytest.approx(1e-3 * 0.01 / math.sqrt(10 / (50000 * 30))) and row["relation"] == units.EQUAL


def test_table_under_adam_keeps_penalties_and_refuses_decays():
    rows = {r["system"]: r for r in units.table(5.0, n=50_000, batch_size=10, optimizer="adam")}
    assert rows["torch"]["value"] == pytest.approx(1e-4) and rows["keras"]["relation"] == units.EQUAL
    assert rows["torch-adamw"]["value"] is None and rows["torch-adamw"]["relation"] == "none"


def test_reference_values():
    # λ_eq = λ/n; torch wd = λ_eq; sklearn α = λ_eq·|B|; keras l2 = λ_eq/2
    assert units.lmbda_to_torch_weight_decay(5.0, 50_000) == pytest.approx(1e-4)
    assert units.lmbda_to_sklearn_alpha(5.0, 50_000, 10) == pytest.approx(1e-3)
    assert units.lmbda_to_keras_l2(5.0, 50_000) == pytest.approx(5e-5)
    assert units.convert(5.0, "book", "playground", n=50_000) == pytest.approx(1e-4)
    # L&H's normalized decay: λ = λ_norm·√(b/(B·T))
    d = units.convert(0.05, "normalized", "lr-free", n=50_000, batch_size=128, epochs=100, eta=1e-3)
    assert d == pytest.approx(0.05 * math.sqrt(128 / (50_000 * 100)))


@given(
    lam=st.floats(0, 1e4, allow_nan=False),
    n=st.integers(1, 10**6),
    b=st.integers(1, 1000),
    eta=st.floats(1e-6, 10),
    system=st.sampled_from(tuple(units.SYSTEMS)),
)
def test_round_trips(lam, n, b, eta, system):
    kw = dict(n=n, batch_size=b, eta=eta, epochs=7)
    there = units.convert(lam, "book", system, **kw)
    assert units.convert(there, system, "book", **kw) == pytest.approx(lam, rel=1e-12, abs=1e-300)


def test_errors():
    with pytest.raises(ReglabError, match="book needs a positive --n"):
        units.convert(1.0, "book", "torch")
    with pytest.raises(ReglabError, match="unknown system"):
        units.convert(1.0, "book", "caffe", n=1)
    with pytest.raises(ReglabError, match="finite number ≥ 0"):
        units.convert(-1.0, "torch", "book", n=1)
    with pytest.raises(ReglabError, match="unknown optimizer"):
        units.relation("book", "torch", "rmsprop")

"""A session trains on the engine: in chunks it computes what ``reglab train`` computes, and a change mid-run
is the book's update rule with the new values from the next mini-batch on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reglab.data import load_digits
from reglab.errors import ReglabError
from reglab.explore.session import Session
from reglab.explore.settings import Settings
from reglab.runs.assemble import train

pytestmark = pytest.mark.usefixtures("one_thread")

DIGITS = {"data": "digits", "hidden": [16], "activation": "sigmoid", "init": "default", "eta": 0.5, "batch_size": 10,
          "lmbda": [0.0, 1.0, 30.0]}


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def session(tmp_path, digits, **changes) -> Session:
    return Session(Settings.from_json({**DIGITS, **changes}), tmp_path, tmp_path, dataset=digits)


def run_epochs(s: Session, epochs: int, chunk: int, measure_every: int | None = None) -> None:
    """Train ``epochs`` epochs in chunks of about ``chunk`` examples; measure at each epoch's end (and every
    ``measure_every`` chunks)."""
    k = 0
    while s.epochs_done < epochs:
        s.train(chunk)
        k += 1
        if s.position == 0 or (measure_every and k % measure_every == 0):
            s.measure()


@pytest.mark.parametrize("reg, optimizer, extra", [("l2", "sgd", {}), ("l1-prox", "momentum", {}), ("elastic", "adam", {}),
                                                   ("l2", "sgd", {"dropout": 0.5, "max_norm": 0.5})],
                         ids=["l2-sgd", "l1-prox-momentum", "elastic-adam", "l2-sgd-dropout-max-norm"])
def test_an_epoch_in_chunks_is_the_epoch_reglab_train_trains(tmp_path, digits, reg, optimizer, extra):
    s = session(tmp_path, digits, reg=reg, optimizer=optimizer, eta=0.5 if optimizer != "adam" else 0.01, **extra)
    run_epochs(s, 2, chunk=37)  # 37 examples: rounded to whole mini-batches of 10, never past an epoch's end
    ref = train(s.config.replace(epochs=2), digits)
    assert ref.fit.meta["engine"] == type(s.steps).__name__
    if extra:  # the chunks dropped the units the run dropped, and projected as it did
        assert ref.fit.meta["dropout"] is not None and ref.fit.meta["regularizer"] == repr(s.regularizer)
        assert float(torch.linalg.vector_norm(s.model.weights[0], dim=2).max()) <= 0.5 * (1 + 1e-6)
    for W, V in zip(s.model.weights, ref.fit.model.weights):
        assert torch.equal(W, V)
    h, r = s.history, ref.fit.history
    assert h.epochs == r.epochs == [0, 1, 2]
    for key in ("penalty", "train_accuracy", "train_cost", "validation_accuracy", "validation_cost", "test_accuracy",
                ("rms", 0), ("zeros", 0)):
        assert np.array_equal(h.get(*((key,) if isinstance(key, str) else key)),
                              r.get(*((key,) if isinstance(key, str) else key))), key


def test_measuring_mid_epoch_changes_no_weight_and_no_exact_number(tmp_path, digits):
    s = session(tmp_path, digits)
    run_epochs(s, 2, chunk=50, measure_every=3)
    ref = train(s.config.replace(epochs=2), digits)
    assert all(torch.equal(W, V) for W, V in zip(s.model.weights, ref.fit.model.weights))
    assert len(s.history.epochs) > 3 and s.history.epochs[-1] == 2
    last = s.history.records[-1]
    for key in ("penalty", "validation_accuracy", "test_cost"):
        assert np.array_equal(last[key], ref.fit.history.records[-1][key])


def one_step_by_hand(s: Session, W: list[torch.Tensor], b: list[torch.Tensor], lmbda: list[float], eta: float):
    """The book's rule for the next mini-batch, gradients by autograd: w ← w − η(∂C₀/∂w + (λ/n) w)."""
    idx = s.perms[0, s.position : s.position + s.config.batch_size]
    x, Y = s.data.train.X[idx].double(), s.data.train.Y[idx].double()
    Ws = [w.double().clone().requires_grad_() for w in W]
    bs = [v.double().clone().requires_grad_() for v in b]
    a = x.expand(len(lmbda), *x.shape)
    for w, v in zip(Ws, bs):
        z = torch.baddbmm(v.unsqueeze(1), a, w.transpose(1, 2))
        a = torch.sigmoid(z)
    cost = -(Y * torch.log(a) + (1 - Y) * torch.log1p(-a)).sum(dim=-1).mean(dim=-1)  # (M,) cross-entropy
    cost.sum().backward()
    lam = torch.tensor(lmbda, dtype=torch.float64).view(-1, 1, 1)
    return ([w - eta * (w.grad + lam / s.n * w) for w in Ws], [v - eta * v.grad for v in bs])


def test_a_new_lambda_applies_from_the_next_mini_batch_by_the_books_rule(tmp_path, digits):
    s = session(tmp_path, digits)
    s.train(40)
    event = s.change(lmbda=[5.0, 0.0, 300.0])
    assert event is not None and event.epoch == s.epoch and "λ 0→5, 1→0, 30→300" in event.text
    W0, b0 = [w.clone() for w in s.model.weights], [v.clone() for v in s.model.biases]
    want_W, want_b = one_step_by_hand(s, W0, b0, [5.0, 0.0, 300.0], 0.5)
    s.train(10)  # one mini-batch
    for got, want in zip((*s.model.weights, *s.model.biases), (*want_W, *want_b)):
        torch.testing.assert_close(got.double(), want.detach(), rtol=1e-4, atol=1e-5)
    penalty = s.measure()["penalty"]
    by_hand = [lam / (2 * s.n) * sum(float((w[m].double() ** 2).sum()) for w in s.model.weights)
               for m, lam in enumerate([5.0, 0.0, 300.0])]
    np.testing.assert_allclose(penalty, by_hand, rtol=1e-6)


def test_eta_zero_freezes_every_column_and_the_change_is_kept(tmp_path, digits):
    s = session(tmp_path, digits)
    s.train(30)
    s.change(eta=0.0)
    before = [w.clone() for w in s.model.weights]
    s.train(100)
    assert all(torch.equal(a, b) for a, b in zip(before, s.model.weights))
    assert s.settings.eta == 0.0 and s.config.eta == (0.0,) and [m["eta"] for m in s.models] == [0.0] * 3


def test_a_new_regularizer_keeps_the_optimizers_state(tmp_path, digits):
    s = session(tmp_path, digits, optimizer="momentum", reg="l2")
    s.train(200)
    state = s.steps.save().optimizer
    event = s.change(reg="l1-prox", lmbda=[0.0, 10.0, 100.0])
    assert "reg l2→l1-prox" in event.text
    carried = s.steps.save().optimizer
    assert carried[1] == state[1] and all(np.array_equal(a, b) for a, b in zip(carried[0], state[0]))
    while s.position:
        s.train(100)
    zeros = s.measure()[("zeros", 0)]
    assert zeros[0] == 0 and 0 < zeros[1] < zeros[2]  # soft-thresholding: exact zeros, more for a larger λ


def test_refused_changes_change_nothing(tmp_path, digits):
    s = session(tmp_path, digits)
    config = s.config
    with pytest.raises(ReglabError, match="a new number of columns needs a reset"):
        s.change(lmbda=[1.0, 2.0])
    with pytest.raises(ReglabError, match="--lmbda values must be finite numbers ≥ 0"):
        s.change(lmbda=[1.0, -2.0, 3.0])
    with pytest.raises(ReglabError, match="--optimizer adamw is Adam with decoupled decay"):
        Session(Settings.from_json({**DIGITS, "optimizer": "adamw", "reg": "l2"}), tmp_path, tmp_path, dataset=digits)
    assert s.config is config and s.events == []
    assert s.change(lmbda=list(DIGITS["lmbda"])) is None  # what trains already: no event


def test_a_column_whose_weights_are_no_longer_finite_is_stopped_and_the_others_go_on(tmp_path, digits):
    s = session(tmp_path, digits)
    s.train(100)
    s.model.weights[1][0, 3, 2] = float("inf")  # what a diverging column's weights become
    s.measure()
    assert list(s.state.active) == [False, True, True] and s.state.diverged_epoch[0] == s.epoch
    assert s.state.eta.tolist() == [0.0, 0.5, 0.5] and not s.at_limit()
    others = [w[1:].clone() for w in s.model.weights]
    s.train(100)
    assert all(torch.isfinite(w[1:]).all() and not torch.equal(a, w[1:]) for a, w in zip(others, s.model.weights))


def test_reset_draws_the_same_weights_again(tmp_path, digits):
    s = session(tmp_path, digits)
    first = [w.clone() for w in s.model.weights]
    s.train(300)
    s.change(lmbda=[1.0, 2.0, 3.0])
    s.reset()
    assert all(torch.equal(a, b) for a, b in zip(first, s.model.weights))
    assert s.epoch == 0 and s.events == [] and s.history.epochs == [0]


def test_a_long_run_keeps_a_bounded_number_of_points(tmp_path, digits, monkeypatch):
    from reglab.explore import session as module

    monkeypatch.setattr(module, "MAX_POINTS", 20)
    s = session(tmp_path, digits)
    for _ in range(60):
        s.train(300)
        s.measure()
    epochs = s.history.epochs
    assert len(epochs) <= 20 and epochs == sorted(epochs) and len(s.history.records) == len(epochs)
    assert epochs[0] == 0 and epochs[-1] == s.epoch and s.history.records[-1]["penalty"].shape == (3,)


def test_a_record_on_every_core_is_the_record_on_one_thread(tmp_path, digits):
    """Snapshots in turn are measured on every core, beside training on one thread: the same numbers, bit for bit."""
    s = session(tmp_path, digits)
    s.train(300)
    taken = s.take()
    together, alone = s.record(taken), s.record(taken, one_thread=True)
    assert together.keys() == alone.keys()
    for key in together:
        assert torch.equal(together[key], alone[key]), key

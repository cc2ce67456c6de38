"""The one loop against references: the book's update worked by hand, separate runs, callbacks, measuring beside training."""


import numpy as np
import pytest
import torch

from reglab.engine.data import TensorData, TensorSplit
from reglab.engine.loop import EarlyStopping, HalvingSchedule, fit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor
from reglab.engine.optim import SGD, Adam
from reglab.engine.regularizers import L1, L2, DecoupledDecay, ElasticNet, L1Prox
from tests.engine.helpers import F64, small_data


def test_one_sgd_l2_step_is_the_books_update_worked_by_hand():
    """w ← (1 − ηλ/n) w − (η/m) Σ_x ∂C_x/∂w on a 1-1 sigmoid net with cross-entropy; b ← b − (η/m) Σ δ."""
    model = MLP.initialize([1, 1], seeds=[0], dtype=F64)
    model.weights[0].fill_(0.5)
    model.biases[0].fill_(-0.25)
    X = torch.tensor([[1.0], [2.0]], dtype=F64)
    y = torch.tensor([1, 0])
    # one output unit: label 1 means target 1 (a 1-class one-hot is all ones; build Y by hand)
    Y = torch.tensor([[1.0], [0.0]], dtype=F64)
    data = TensorData(TensorSplit(X, y.clamp(max=0), Y), None, None, 1)
    eta, lmbda, n, m = 0.3, 2.0, 2, 2
    fit(model, data, epochs=1, batch_size=m, eta=eta, regularizer=L2(lmbda), monitor=Monitor(splits=(), saturation_examples=0))
    def s(z):
        return 1 / (1 + np.exp(-z))

    a1, a2 = s(0.5 * 1 - 0.25), s(0.5 * 2 - 0.25)
    d1, d2 = a1 - 1.0, a2 - 0.0  # cross-entropy: δ = a − y
    w_new = (1 - eta * lmbda / n) * 0.5 - (eta / m) * (d1 * 1.0 + d2 * 2.0)
    b_new = -0.25 - (eta / m) * (d1 + d2)
    assert model.weights[0].item() == pytest.approx(w_new, rel=1e-12)
    assert model.biases[0].item() == pytest.approx(b_new, rel=1e-12)


def test_last_minibatch_may_be_smaller_and_uses_its_own_size():
    data = small_data(n=7)
    a = MLP.initialize([5, 3, 3], seeds=[0], dtype=F64)
    fit(a, data, epochs=1, batch_size=3, eta=0.5, monitor=Monitor(splits=(), weights=False, saturation_examples=0))
    # replay by hand: batches 3, 3, 1 in the same order
    from reglab.rng import generator

    b = MLP.initialize([5, 3, 3], seeds=[0], dtype=F64)
    perm = torch.randperm(7, generator=generator(0, "order"))
    for idx in perm.split(3):
        zs, acts = b.forward(data.train.X[idx])
        gw, gb = b.backward(data.train.Y[idx], zs, acts)
        for p, g in zip([*b.weights, *b.biases], [*gw, *gb]):
            p -= 0.5 * g
    for p, q in zip([*a.weights, *a.biases], [*b.weights, *b.biases]):
        assert torch.allclose(p, q, atol=1e-13)


REGS = [L2, L1, L1Prox, lambda lam: ElasticNet(lam, 0.5), DecoupledDecay]


@pytest.mark.parametrize("make_reg", REGS, ids=["l2", "l1", "l1-prox", "elastic", "decay"])
@pytest.mark.parametrize("optimizer", [SGD(), SGD(momentum=0.9), Adam()], ids=["sgd", "momentum", "adam"])
@pytest.mark.parametrize("shared_order", [True, False])
def test_M_models_together_equal_M_models_one_by_one(make_reg, optimizer, shared_order):
    data = small_data(n=30)
    lams, etas, seeds = [0.0, 1.0, 4.0], [0.3, 0.1, 0.05], [3, 4, 5]
    order = [7] if shared_order else [7, 8, 9]
    kw = dict(epochs=3, batch_size=4, optimizer=optimizer, monitor=Monitor(saturation_examples=5))
    together = MLP.initialize([5, 4, 3], seeds=seeds, init="default", dtype=F64)
    r = fit(together, data, eta=etas, regularizer=make_reg(lams), order_seeds=order, **kw)
    for i in range(3):
        alone = MLP.initialize([5, 4, 3], seeds=[seeds[i]], init="default", dtype=F64)
        own_order = [order[0] if shared_order else order[i]]
        ri = fit(alone, data, eta=etas[i], regularizer=make_reg(lams[i]), order_seeds=own_order, **kw)
        for p, q in zip([*together.weights, *together.biases], [*alone.weights, *alone.biases]):
            assert torch.allclose(p[i], q[0], rtol=1e-10, atol=1e-12)
        assert np.allclose(r.history.get("validation_accuracy")[:, i], ri.history.get("validation_accuracy")[:, 0])


def test_zero_epochs_and_zero_eta_change_nothing():
    data = small_data()
    m = MLP.initialize([5, 4, 3], seeds=[0, 1], dtype=F64)
    before = m.numpy_params()
    fit(m, data, epochs=0, batch_size=5, eta=0.5, regularizer=L2(1.0))
    fit(m, data, epochs=2, batch_size=5, eta=0.0, regularizer=L1Prox(1.0) + DecoupledDecay(3.0), optimizer=Adam())
    after = m.numpy_params()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_deterministic_given_seeds():
    data = small_data(dtype=torch.float32)
    runs = []
    for _ in range(2):
        m = MLP.initialize([5, 4, 3], seeds=[11], dtype=torch.float32)
        runs.append(fit(m, data, epochs=2, batch_size=4, eta=0.5, regularizer=L2(1.0), order_seeds=[3]).model.numpy_params())
    assert all(np.array_equal(runs[0][k], runs[1][k]) for k in runs[0])


def test_a_diverging_model_is_stopped_and_the_others_go_on():
    data = small_data(dtype=torch.float32)
    m = MLP.initialize([5, 4, 3], seeds=[0, 0], activation="relu", cost="quadratic", init="large", dtype=torch.float32)
    r = fit(m, data, epochs=5, batch_size=4, eta=[0.1, 1e30], regularizer=L2(0.0))
    assert r.state.diverged_epoch[0] is None and r.state.diverged_epoch[1] == 1
    assert np.isfinite(r.history.get("validation_accuracy")[-1, 0])
    assert len(r.history.epochs) == 6


def test_l1_prox_training_gives_exact_zeros_and_subgradient_does_not():
    data = small_data(n=40)
    zeros = {}
    for name, reg in [("prox", L1Prox(8.0)), ("sub", L1(8.0))]:
        m = MLP.initialize([5, 6, 3], seeds=[0], init="default", dtype=F64)
        r = fit(m, data, epochs=20, batch_size=4, eta=0.5, regularizer=reg)
        zeros[name] = r.history.get("zeros", 0)[-1, 0]
    assert zeros["prox"] > 0 and zeros["sub"] == 0


def test_early_stopping_and_halving_schedule():
    es = EarlyStopping(2)
    from reglab.engine.loop import TrainingState

    run = TrainingState(torch.tensor([1.0, 1.0]))
    for epoch, acc in enumerate([[0.5, 0.5], [0.6, 0.4], [0.7, 0.4], [0.8, 0.4]], start=1):
        es(epoch, {"validation_accuracy": np.array(acc)}, run)
    # best 0.5 at epoch 1, no progress at epochs 2 and 3: stopped at epoch 3
    assert run.active.tolist() == [True, False] and run.stopped_epoch == [None, 3]

    hs = HalvingSchedule(1, floor=4.0)
    run = TrainingState(torch.tensor([1.0]))
    for epoch in range(1, 6):
        hs(epoch, {"validation_accuracy": np.array([0.5])}, run)
    # plateaus at epochs 2, 3, 4: η 1 → 0.5 → 0.25 → 0.125 < 1/4: stopped (η frozen at 0)
    assert run.stopped_epoch == [4] and run.eta.tolist() == [0.0]


class _Calls:
    """A callback that remembers every call: (epoch, the record's numbers, the η it saw)."""

    def __init__(self):
        self.calls = []

    def __call__(self, epoch, record, run):
        self.calls.append((epoch, {k: v.copy() for k, v in record.items()}, run.eta.clone()))


def _same_records(a, b):
    return a.history.epochs == b.history.epochs and all(
        x.keys() == y.keys() and all(np.array_equal(x[k], y[k], equal_nan=True) for k in x)
        for x, y in zip(a.history.records, b.history.records))


@pytest.mark.parametrize("engine", ["compiled", "tensor"])
@pytest.mark.parametrize("plateau", [None, "halving", "early-stop", "diverging"])
@pytest.mark.parametrize("train_measure", ["running", "exact"])
def test_measuring_beside_training_gives_the_records_calls_and_weights_of_measuring_in_turn(engine, plateau, train_measure):
    data = small_data(n=60, dtype=torch.float32)
    results, calls = [], []
    for beside in (False, True):
        m = MLP.initialize([5, 6, 3], seeds=[0, 1], init="default", dtype=torch.float32)
        callbacks = {"halving": [HalvingSchedule(1)], "early-stop": [EarlyStopping(1)]}.get(plateau, [])
        eta = [0.5, 1e30] if plateau == "diverging" else [0.5, 0.2]
        spy = _Calls()
        optimizer = Adam() if engine == "tensor" else SGD()
        results.append(fit(m, data, epochs=7, batch_size=4, eta=eta, regularizer=L2(0.5), optimizer=optimizer,
                           monitor=Monitor(train=train_measure), callbacks=[*callbacks, spy], engine=engine, beside=beside))
        calls.append(spy.calls)
    a, b = results
    assert (a.meta["monitor_beside"], b.meta["monitor_beside"]) == (False, True)
    assert _same_records(a, b)
    assert [(e, eta.tolist()) for e, _, eta in calls[0]] == [(e, eta.tolist()) for e, _, eta in calls[1]]
    for p, q in zip([*a.model.weights, *a.model.biases], [*b.model.weights, *b.model.biases]):
        assert np.array_equal(p.numpy(), q.numpy(), equal_nan=True)  # a diverged model's weights are NaN
    assert a.state.stopped_epoch == b.state.stopped_epoch and a.state.diverged_epoch == b.state.diverged_epoch
    if plateau == "early-stop":  # every model stopped before the last epoch: the loop ended early
        assert not b.state.active.any() and len(b.history.epochs) < 8
    if plateau == "diverging":
        assert b.state.diverged_epoch[1] == 1


"""The engine against references: autograd, the book's update worked by hand, separate runs."""

import itertools

import numpy as np
import pytest
import torch

from reglab.model import MLP
from reglab.monitors import Monitor, weight_stats
from reglab.optim import SGD, Adam
from reglab.regularizers import L1, L2, DecoupledDecay, ElasticNet, L1Prox, NoRegularizer, Param
from reglab.train import EarlyStopping, HalvingSchedule, TensorData, TensorSplit, fit

F64 = torch.float64


def _data(n=40, d=5, k=3, seed=0, n_val=20, dtype=F64):
    rng = np.random.default_rng(seed)
    X = rng.random((n + n_val, d))
    y = rng.integers(0, k, n + n_val)
    tr = TensorSplit.from_arrays(X[:n], y[:n], k, "cpu", dtype)
    va = TensorSplit.from_arrays(X[n:], y[n:], k, "cpu", dtype)
    return TensorData(tr, va, None, k)


def _objective(model, x, y, reg, n):
    zs, acts = model.forward(x)
    c0 = model.cost.fn(zs[-1], acts[-1], y) / x.shape[-2]
    pen = sum(reg.penalty(W, Param(l, "weight", n)) + reg.penalty(b, Param(l, "bias", n))
              for l, (W, b) in enumerate(zip(model.weights, model.biases)))
    return c0 + pen


SMOOTH = [NoRegularizer(), L2([0.0, 3.0]), ElasticNet([1.0, 3.0], 0.0)]


@pytest.mark.parametrize(
    "activation,cost,reg",
    list(itertools.product(["sigmoid", "tanh", "relu", "linear"], ["cross-entropy", "quadratic", "log-likelihood"], SMOOTH)),
    ids=str,
)
def test_fused_backward_matches_autograd(activation, cost, reg):
    torch.manual_seed(0)
    model = MLP.initialize([5, 4, 3, 3], seeds=[1, 2], init="default", activation=activation, cost=cost, dtype=F64)
    data = _data()
    x, Y = data.train.X[:7], data.train.Y[:7]
    n = 40
    for p in [*model.weights, *model.biases]:
        p.requires_grad_()
    total = _objective(model, x, Y, reg, n).sum()
    auto = torch.autograd.grad(total, [*model.weights, *model.biases])
    with torch.no_grad():
        zs, acts = model.forward(x)
        gw, gb = model.backward(Y, zs, acts)
        for l, (W, b) in enumerate(zip(model.weights, model.biases)):
            reg.add_grad(W, Param(l, "weight", n), gw[l])
            reg.add_grad(b, Param(l, "bias", n), gb[l])
    for a, f in zip(auto, [*gw, *gb]):
        assert torch.allclose(a, f, rtol=1e-9, atol=1e-12)


def test_fused_backward_matches_finite_differences():
    model = MLP.initialize([3, 4, 2], seeds=[5], init="large", dtype=F64)
    data = _data(d=3, k=2)
    x, Y = data.train.X[:6], data.train.Y[:6]
    reg = L2(2.0)
    with torch.no_grad():
        zs, acts = model.forward(x)
        gw, _ = model.backward(Y, zs, acts)
        for l, W in enumerate(model.weights):
            reg.add_grad(W, Param(l, "weight", 40), gw[l])
        h = 1e-6
        for idx in [(0, 0, 0), (0, 3, 2)]:
            W = model.weights[0]
            W[idx] += h
            up = _objective(model, x, Y, reg, 40).item()
            W[idx] -= 2 * h
            down = _objective(model, x, Y, reg, 40).item()
            W[idx] += h
            assert abs((up - down) / (2 * h) - gw[0][idx].item()) < 1e-6


def test_per_model_inputs_give_the_same_gradients_as_shared():
    model = MLP.initialize([5, 4, 3], seeds=[1, 2], dtype=F64)
    data = _data()
    x, Y = data.train.X[:7], data.train.Y[:7]
    zs, acts = model.forward(x)
    g1 = model.backward(Y, zs, acts)
    xm, Ym = x.expand(2, 7, 5), Y.expand(2, 7, 3)
    zs, acts = model.forward(xm)
    g2 = model.backward(Ym, zs, acts)
    for a, b in zip([*g1[0], *g1[1]], [*g2[0], *g2[1]]):
        assert torch.allclose(a, b, atol=1e-12)


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
    s = lambda z: 1 / (1 + np.exp(-z))
    a1, a2 = s(0.5 * 1 - 0.25), s(0.5 * 2 - 0.25)
    d1, d2 = a1 - 1.0, a2 - 0.0  # cross-entropy: δ = a − y
    w_new = (1 - eta * lmbda / n) * 0.5 - (eta / m) * (d1 * 1.0 + d2 * 2.0)
    b_new = -0.25 - (eta / m) * (d1 + d2)
    assert model.weights[0].item() == pytest.approx(w_new, rel=1e-12)
    assert model.biases[0].item() == pytest.approx(b_new, rel=1e-12)


def test_last_minibatch_may_be_smaller_and_uses_its_own_size():
    data = _data(n=7)
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
    data = _data(n=30)
    lams, etas, seeds = [0.0, 1.0, 4.0], [0.3, 0.1, 0.05], [3, 4, 5]
    order = [7] if shared_order else [7, 8, 9]
    kw = dict(epochs=3, batch_size=4, optimizer=optimizer, monitor=Monitor(saturation_examples=5))
    together = MLP.initialize([5, 4, 3], seeds=seeds, init="default", dtype=F64)
    r = fit(together, data, eta=etas, regularizer=make_reg(lams), order_seeds=order, **kw)
    for i in range(3):
        alone = MLP.initialize([5, 4, 3], seeds=[seeds[i]], init="default", dtype=F64)
        ri = fit(alone, data, eta=etas[i], regularizer=make_reg(lams[i]), order_seeds=[order[0] if shared_order else order[i]], **kw)
        for p, q in zip([*together.weights, *together.biases], [*alone.weights, *alone.biases]):
            assert torch.allclose(p[i], q[0], rtol=1e-10, atol=1e-12)
        assert np.allclose(r.history.get("validation_accuracy")[:, i], ri.history.get("validation_accuracy")[:, 0])


def test_zero_epochs_and_zero_eta_change_nothing():
    data = _data()
    m = MLP.initialize([5, 4, 3], seeds=[0, 1], dtype=F64)
    before = m.numpy_params()
    fit(m, data, epochs=0, batch_size=5, eta=0.5, regularizer=L2(1.0))
    fit(m, data, epochs=2, batch_size=5, eta=0.0, regularizer=L1Prox(1.0) + DecoupledDecay(3.0), optimizer=Adam())
    after = m.numpy_params()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_deterministic_given_seeds():
    data = _data(dtype=torch.float32)
    runs = []
    for _ in range(2):
        m = MLP.initialize([5, 4, 3], seeds=[11], dtype=torch.float32)
        runs.append(fit(m, data, epochs=2, batch_size=4, eta=0.5, regularizer=L2(1.0), order_seeds=[3]).model.numpy_params())
    assert all(np.array_equal(runs[0][k], runs[1][k]) for k in runs[0])


def test_a_diverging_model_is_stopped_and_the_others_go_on():
    data = _data(dtype=torch.float32)
    m = MLP.initialize([5, 4, 3], seeds=[0, 0], activation="relu", cost="quadratic", init="large", dtype=torch.float32)
    r = fit(m, data, epochs=5, batch_size=4, eta=[0.1, 1e30], regularizer=L2(0.0))
    assert r.run.diverged_epoch[0] is None and r.run.diverged_epoch[1] == 1
    assert np.isfinite(r.history.get("validation_accuracy")[-1, 0])
    assert len(r.history.epochs) == 6


def test_l1_prox_training_gives_exact_zeros_and_subgradient_does_not():
    data = _data(n=40)
    zeros = {}
    for name, reg in [("prox", L1Prox(8.0)), ("sub", L1(8.0))]:
        m = MLP.initialize([5, 6, 3], seeds=[0], init="default", dtype=F64)
        r = fit(m, data, epochs=20, batch_size=4, eta=0.5, regularizer=reg)
        zeros[name] = r.history.get("zeros", 0)[-1, 0]
    assert zeros["prox"] > 0 and zeros["sub"] == 0


def test_early_stopping_and_halving_schedule():
    es = EarlyStopping(2)
    from reglab.train import RunState

    run = RunState(torch.tensor([1.0, 1.0]))
    for epoch, acc in enumerate([[0.5, 0.5], [0.6, 0.4], [0.7, 0.4], [0.8, 0.4]], start=1):
        es(epoch, {"validation_accuracy": np.array(acc)}, run)
    # best 0.5 at epoch 1, no progress at epochs 2 and 3: stopped at epoch 3
    assert run.active.tolist() == [True, False] and run.stopped_epoch == [None, 3]

    hs = HalvingSchedule(1, floor=4.0)
    run = RunState(torch.tensor([1.0]))
    for epoch in range(1, 6):
        hs(epoch, {"validation_accuracy": np.array([0.5])}, run)
    # plateaus at epochs 2, 3, 4: η 1 → 0.5 → 0.25 → 0.125 < 1/4: stopped (η frozen at 0)
    assert run.stopped_epoch == [4] and run.eta.tolist() == [0.0]


def test_weight_stats_by_hand():
    W = torch.tensor([[[1.0, -3.0], [0.0, 0.0005]]], dtype=F64)
    s = {k: v.item() for k, v in weight_stats(W).items()}
    assert s["sum"] == pytest.approx(-1.9995) and s["l1"] == pytest.approx(4.0005)
    assert s["l2"] == pytest.approx(np.sqrt(10.00000025)) and s["rms"] == pytest.approx(np.sqrt(10.00000025 / 4))
    assert s["var"] == pytest.approx(np.var([1, -3, 0, 0.0005])) and s["max_abs"] == 3.0
    assert s["frac_small"] == 0.5 and s["zeros"] == 1.0


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
    data = _data(n=60, dtype=torch.float32)
    results, calls = [], []
    for beside in (False, True):
        m = MLP.initialize([5, 6, 3], seeds=[0, 1], init="default", dtype=torch.float32)
        callbacks = {"halving": [HalvingSchedule(1)], "early-stop": [EarlyStopping(1)]}.get(plateau, [])
        eta = [0.5, 1e30] if plateau == "diverging" else [0.5, 0.2]
        spy = _Calls()
        results.append(fit(m, data, epochs=7, batch_size=4, eta=eta, regularizer=L2(0.5), optimizer=Adam() if engine == "tensor" else SGD(),
                           monitor=Monitor(train=train_measure), callbacks=[*callbacks, spy], engine=engine, beside=beside))
        calls.append(spy.calls)
    a, b = results
    assert (a.meta["monitor_beside"], b.meta["monitor_beside"]) == (False, True)
    assert _same_records(a, b)
    assert [(e, eta.tolist()) for e, _, eta in calls[0]] == [(e, eta.tolist()) for e, _, eta in calls[1]]
    for p, q in zip([*a.model.weights, *a.model.biases], [*b.model.weights, *b.model.biases]):
        assert np.array_equal(p.numpy(), q.numpy(), equal_nan=True)  # a diverged model's weights are NaN
    assert a.run.stopped_epoch == b.run.stopped_epoch and a.run.diverged_epoch == b.run.diverged_epoch
    if plateau == "early-stop":  # every model stopped before the last epoch: the loop ended early
        assert not b.run.active.any() and len(b.history.epochs) < 8
    if plateau == "diverging":
        assert b.run.diverged_epoch[1] == 1


@pytest.mark.parametrize("engine", ["compiled", "tensor"])
def test_steps_restore_what_they_saved_and_train_the_same_epoch_again(engine):
    from reglab.steps import make_steps, orders
    from reglab.rng import generator

    data = _data(n=60, dtype=torch.float32)
    m = MLP.initialize([5, 6, 3], seeds=[0, 1], init="default", dtype=torch.float32)
    steps = make_steps(engine, m, L2(0.5), Adam(), torch.tensor([0.1, 0.05]), 60, 4, 0)
    perms = orders(60, [generator(0, "order")])
    steps.epoch(data.train, perms)
    saved = steps.save()
    steps.epoch(data.train, perms)
    once = [p.clone() for p in (*m.weights, *m.biases)]
    assert not torch.equal(once[0], saved.weights[0])
    steps.restore(saved)
    assert all(torch.equal(p, q) for p, q in zip((*m.weights, *m.biases), (*saved.weights, *saved.biases)))
    steps.epoch(data.train, perms)  # the optimizer's state and step count came back too: the same epoch again
    assert all(torch.equal(p, q) for p, q in zip((*m.weights, *m.biases), once))


def test_measuring_beside_is_chosen_where_the_steps_leave_a_core_idle(monkeypatch):
    import os

    from reglab.steps import make_steps

    m = MLP.initialize([5, 6, 3], seeds=[0], dtype=torch.float32)
    steps = make_steps("compiled", m, L2(0.5), SGD(), torch.tensor([0.1]), 60, 4, 0)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert steps.threads == 1 and steps.leaves_core_idle()
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert not steps.leaves_core_idle()
    # steps on several threads: one thread measuring all their models could outlast the epoch
    sweep = make_steps("compiled", MLP.initialize([5, 6, 3], seeds=[0, 1, 2, 3], dtype=torch.float32), L2(0.5), SGD(),
                       torch.full((4,), 0.1), 60, 4, 2)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert sweep.threads == 2 and not sweep.leaves_core_idle()

"""The compiled steps against the tensor steps: every activation, cost, regularizer and optimizer."""

import itertools

import numpy as np
import pytest
import torch

from reglab.engine.compiled import unsupported
from reglab.engine.data import TensorData, TensorSplit
from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor
from reglab.engine.optim import SGD, Adam
from reglab.engine.regularizers import (
    L1,
    L2,
    DecoupledDecay,
    ElasticNet,
    L1Prox,
    MaxNorm,
    NoRegularizer,
    Regularizer,
    all_parameters,
)
from reglab.engine.steps import TensorSteps
from reglab.errors import ReglabError
from tests.engine.helpers import small_data

F64 = torch.float64


def _data(n=53, d=6, k=3, seed=0, dtype=F64):
    rng = np.random.default_rng(seed)
    X = rng.random((n + 20, d))
    y = rng.integers(0, k, n + 20)
    return TensorData(TensorSplit.from_arrays(X[:n], y[:n], k, "cpu", dtype),
                      TensorSplit.from_arrays(X[n:], y[n:], k, "cpu", dtype), None, k)


def _train(engine, *, sizes=(6, 5, 4, 3), activation="sigmoid", cost="cross-entropy", reg=None, opt=None,
           seeds=(1, 2, 3), order_seeds=(0,), batch_size=7, epochs=3, dtype=F64, eta=(0.5, 0.2, 0.05)):
    model = MLP.initialize(sizes, seeds=seeds, init="default", activation=activation, cost=cost, dtype=dtype)
    result = fit(model, _data(d=sizes[0], k=sizes[-1], dtype=dtype), epochs=epochs, batch_size=batch_size,
                 eta=list(eta)[: len(seeds)], regularizer=reg, optimizer=opt, order_seeds=order_seeds, engine=engine)
    return result


def _assert_same(a, b, rtol):
    for p, q in zip([*a.model.weights, *a.model.biases], [*b.model.weights, *b.model.biases]):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=rtol, atol=rtol)


REGS = [
    lambda: NoRegularizer(),
    lambda: L2([5.0, 0.0, 20.0]),
    lambda: L1([3.0, 1.0, 0.0]),
    lambda: L1Prox([3.0, 10.0, 0.5]),
    lambda: ElasticNet([4.0, 8.0, 1.0], 0.3),
    lambda: DecoupledDecay([10.0, 0.0, 2.0]),
    lambda: L2(2.0) + L1Prox([1.0, 2.0, 3.0]),
    lambda: L2(3.0, layer_scale={0: 0.0, 2: 4.0}),
    lambda: L2(2.0) + MaxNorm([0.8, 1.5, float("inf")]),
    lambda: DecoupledDecay([10.0, 0.0, 2.0]) + L1Prox(1.0) + MaxNorm(1.0, mask=all_parameters, layer_scale={1: 0.5}),
]
OPTS = [SGD(), SGD(momentum=0.9), SGD(momentum=0.5, nesterov=True), Adam()]


@pytest.mark.parametrize("make_reg,opt", list(itertools.product(REGS, OPTS)), ids=str)
def test_compiled_steps_equal_tensor_steps_for_every_regularizer_and_optimizer(make_reg, opt):
    eta = (0.01, 0.003, 0.001) if isinstance(opt, Adam) else (0.5, 0.2, 0.05)
    a = _train("compiled", reg=make_reg(), opt=opt, eta=eta)
    b = _train("tensor", reg=make_reg(), opt=opt, eta=eta)
    assert a.meta["engine"] == "CompiledSteps" and b.meta["engine"] == "TensorSteps"
    _assert_same(a, b, 1e-9)


@pytest.mark.parametrize("activation,cost", list(itertools.product(["sigmoid", "tanh", "relu", "linear"],
                                                                    ["cross-entropy", "quadratic", "log-likelihood"])))
def test_compiled_steps_equal_tensor_steps_for_every_activation_and_cost(activation, cost):
    kw = dict(activation=activation, cost=cost, reg=L2([1.0, 2.0, 3.0]), eta=(0.1, 0.05, 0.02))
    _assert_same(_train("compiled", **kw), _train("tensor", **kw), 1e-9)


@pytest.mark.parametrize("sizes", [(6, 3), (6, 9, 3), (6, 7, 5, 2, 3)], ids=str)
@pytest.mark.parametrize("batch_size", [1, 4, 10, 53, 60])
def test_any_depth_and_mini_batch_size_including_a_smaller_last_one(sizes, batch_size):
    kw = dict(sizes=sizes, batch_size=batch_size, reg=L2(1.0))
    _assert_same(_train("compiled", **kw), _train("tensor", **kw), 1e-9)


def test_float32_agrees_to_float32_precision_and_per_model_orders_too():
    kw = dict(dtype=torch.float32, order_seeds=(4, 5, 6), reg=L1Prox(2.0))
    a, b = _train("compiled", **kw), _train("tensor", **kw)
    _assert_same(a, b, 2e-4)


def test_M_models_together_equal_M_models_one_by_one_bit_for_bit():
    together = _train("compiled", reg=L2([5.0, 1.0, 0.5]), opt=Adam(), eta=(0.01, 0.02, 0.03))
    for m, (seed, lam, eta) in enumerate(zip((1, 2, 3), (5.0, 1.0, 0.5), (0.01, 0.02, 0.03))):
        alone = _train("compiled", reg=L2(lam), opt=Adam(), seeds=(seed,), eta=(eta,))
        for p, q in zip([*together.model.weights, *together.model.biases], [*alone.model.weights, *alone.model.biases]):
            assert torch.equal(p[m], q[0])


def test_thread_count_does_not_change_the_numbers():
    model = MLP.initialize((6, 5, 3), seeds=range(8), init="large", dtype=torch.float32)
    twin = MLP(*([t.clone() for t in ts] for ts in (model.weights, model.biases)), model.activation, model.cost)
    data = _data(dtype=torch.float32)
    for m, threads in ((model, 1), (twin, 2)):
        fit(m, data, epochs=2, batch_size=5, eta=0.3, regularizer=L2(1.0), threads=threads, engine="compiled")
    for p, q in zip(model.weights + model.biases, twin.weights + twin.biases):
        assert torch.equal(p, q)


def test_a_frozen_model_does_not_move_and_a_diverging_one_does_not_stop_the_others():
    result = _train("compiled", eta=(0.5, 1e6, 0.0), reg=L2(1.0), cost="quadratic", activation="linear", epochs=4)
    assert result.state.diverged_epoch[1] is not None and result.state.diverged_epoch[0] is None
    fresh = MLP.initialize((6, 5, 4, 3), seeds=(3,), init="default", dtype=F64)
    for p, q in zip(result.model.weights, fresh.weights):
        np.testing.assert_array_equal(p[2].numpy(), q[0].numpy())


class Custom(Regularizer):
    def grad(self, w, p):
        return w**3


def test_auto_falls_back_to_tensor_steps_and_compiled_says_why_not():
    model = MLP.initialize((6, 5, 3), seeds=(0,))
    assert unsupported(model, Custom(1.0), SGD()) is not None
    assert unsupported(model, DecoupledDecay(1.0) + DecoupledDecay(2.0), SGD()) is not None
    assert unsupported(model, L1Prox(1.0) + DecoupledDecay(2.0), SGD()) is not None
    assert unsupported(model, DecoupledDecay(1.0) + L1Prox(2.0), SGD()) is None
    # the kernel projects last: a max-norm before a decay or a threshold does not commute with them
    assert unsupported(model, MaxNorm(1.0) + DecoupledDecay(2.0), SGD()) is not None
    assert unsupported(model, MaxNorm(1.0) + L1Prox(2.0), SGD()) is not None
    assert unsupported(model, L2(1.0) + DecoupledDecay(2.0) + MaxNorm(1.0) + MaxNorm(2.0) + L1(1.0), SGD()) is None
    result = fit(model, _data(dtype=torch.float32), epochs=1, batch_size=10, eta=0.1, regularizer=Custom(1.0))
    assert result.meta["engine"] == "TensorSteps"
    with pytest.raises(ReglabError, match="regularizer .* has no elementwise form"):
        fit(model, _data(dtype=torch.float32), epochs=1, batch_size=10, eta=0.1, regularizer=Custom(1.0), engine="compiled")
    with pytest.raises(ReglabError, match="unknown engine"):
        fit(model, _data(dtype=torch.float32), epochs=1, batch_size=10, eta=0.1, engine="fast")
    assert isinstance(TensorSteps, type)


@pytest.mark.parametrize("activation,cost", list(itertools.product(["sigmoid", "tanh", "relu", "linear"],
                                                                    ["cross-entropy", "quadratic", "log-likelihood"])))
def test_compiled_evaluation_equals_the_tensor_one(activation, cost):
    from reglab.engine.monitors import evaluate, evaluate_tensor

    model = MLP.initialize((6, 9, 5, 3), seeds=(0, 1, 2), init="large", activation=activation, cost=cost, dtype=F64)
    data = _data(n=600, dtype=F64)
    s = data.train
    c1, a1 = evaluate(model, s.X, s.y, s.Y)
    c2, a2 = evaluate_tensor(model, s.X, s.y, s.Y)
    np.testing.assert_allclose(c1.numpy(), c2.numpy(), rtol=1e-10)
    np.testing.assert_array_equal(a1.numpy(), a2.numpy())


def test_an_exception_from_a_signal_handler_reaches_the_caller_as_itself():
    from reglab.engine.kernel import call

    class Stop(Exception):
        pass

    def boxed_with_exception_set():  # what CPython reports when a handler raised while numba boxed
        try:
            raise Stop("SIGTERM")
        except Stop as stop:
            raise SystemError("returned a result with an exception set") from stop

    def twice_wrapped():  # numba's own unpickling failing on the same pending exception
        try:
            boxed_with_exception_set()
        except SystemError as inner:
            raise SystemError("outer") from inner

    for f in (boxed_with_exception_set, twice_wrapped):
        with pytest.raises(Stop, match="SIGTERM"):
            call(f)
    with pytest.raises(SystemError):
        call(lambda: (_ for _ in ()).throw(SystemError("plain")))


def test_data_that_do_not_fit_the_network_get_a_one_line_error_not_an_out_of_bounds_read():
    from reglab.engine.monitors import evaluate

    model = MLP.initialize((6, 5, 3), seeds=(0,), dtype=F64)
    wide = _data(d=7, dtype=F64)
    with pytest.raises(ReglabError, match=r"have shape \(53, 7\).*needs \(N, 6\)"):
        fit(model, wide, epochs=1, batch_size=10, eta=0.1, engine="compiled")
    with pytest.raises(ReglabError, match="float32 but the network computes in torch.float64"):
        fit(model, _data(dtype=torch.float32), epochs=1, batch_size=10, eta=0.1, engine="compiled")
    with pytest.raises(ReglabError, match="data to evaluate"):
        evaluate(model, wide.train.X, wide.train.y, wide.train.Y)
    from reglab.engine.monitors import Monitor

    with pytest.raises(ReglabError, match=r"the training data have shape \(53, 7\)"):
        fit(model, wide, epochs=1, batch_size=10, eta=0.1, engine="compiled",
            monitor=Monitor(splits=(), weights=False, saturation_examples=0))


# -- the running measure of the training split -----------------------------------------------------
def _running(engine, *, cost="cross-entropy", order_seeds=(0,), batch_size=7, dtype=F64, epochs=2):
    model = MLP.initialize((6, 5, 3), seeds=(1, 2, 3), init="default", cost=cost, dtype=dtype)
    return fit(model, _data(dtype=dtype), epochs=epochs, batch_size=batch_size, eta=[0.5, 0.2, 0.05],
               regularizer=L2(1.0), order_seeds=order_seeds, engine=engine,
               monitor=Monitor(splits=("train",), weights=False, saturation_examples=0, train="running"))


@pytest.mark.parametrize("cost", ["cross-entropy", "quadratic", "log-likelihood"])
@pytest.mark.parametrize("order_seeds", [(0,), (4, 5, 6)], ids=["shared order", "own orders"])
def test_running_training_measure_is_the_same_from_both_engines(cost, order_seeds):
    a, b = (_running(e, cost=cost, order_seeds=order_seeds) for e in ("compiled", "tensor"))
    for metric in ("train_cost", "train_accuracy", "train_total_cost"):
        np.testing.assert_allclose(a.history.get(metric), b.history.get(metric), rtol=1e-9)
    assert np.ptp(a.history.get("train_accuracy")[1:]) >= 0  # numbers, one per epoch and model
    assert a.history.get("train_cost").shape == (3, 3)


@pytest.mark.parametrize("engine", ["compiled", "tensor"])
def test_one_mini_batch_per_epoch_makes_the_running_measure_the_exact_one_of_the_weights_before(engine):
    # with the whole training set as one mini-batch, epoch 1's running measure is taken on the initial
    # weights, which epoch 0 measured exactly; epoch 2's differs (the weights moved)
    r = _running(engine, batch_size=53)
    for metric in ("train_cost", "train_accuracy"):
        values = r.history.get(metric)
        np.testing.assert_allclose(values[1], values[0], rtol=1e-9)
    assert not np.allclose(r.history.get("train_cost")[2], r.history.get("train_cost")[1])


def test_running_measure_of_float32_models_agrees_with_float64_arithmetic():
    a, b = (_running(e, dtype=torch.float32) for e in ("compiled", "tensor"))
    np.testing.assert_allclose(a.history.get("train_cost"), b.history.get("train_cost"), rtol=2e-4)
    np.testing.assert_allclose(a.history.get("train_accuracy"), b.history.get("train_accuracy"), atol=1 / 53 + 1e-12)


def test_monitor_train_measure_is_checked():
    with pytest.raises(ValueError, match="Monitor.train must be one of exact, running"):
        Monitor(train="lagging")
    assert not Monitor(splits=("validation",), train="running").running


@pytest.mark.parametrize("cost", ["cross-entropy", "quadratic", "log-likelihood"])
def test_evaluation_on_one_thread_gives_the_numbers_of_every_thread_bit_for_bit(cost):
    from reglab.engine.monitors import evaluate

    for dtype in (F64, torch.float32):
        model = MLP.initialize((6, 9, 5, 3), seeds=(0, 1, 2), init="large", cost=cost, dtype=dtype)
        s = _data(n=1500, dtype=dtype).train
        for a, b in zip(evaluate(model, s.X, s.y, s.Y), evaluate(model, s.X, s.y, s.Y, one_thread=True)):
            assert torch.equal(a, b)


@pytest.mark.parametrize("engine", ["compiled", "tensor"])
def test_steps_restore_what_they_saved_and_train_the_same_epoch_again(engine):
    from reglab.engine.steps import make_steps, orders
    from reglab.rng import generator

    data = small_data(n=60, dtype=torch.float32)
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

    from reglab.engine.steps import make_steps

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

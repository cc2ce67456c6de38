"""``reglab.compat.network2`` against a per-example numpy implementation of the book's equations.

The reference below is written from the equations (REFERENCE.md §2), one
example at a time as the book does; compat must agree with it in float64.
"""

from __future__ import annotations

import functools
import json
import random

import numpy as np
import pytest
import torch

from reglab.compat import network2
from reglab.compat.network2 import CrossEntropyCost, Network, QuadraticCost, book_steps
from reglab.engine.data import TensorSplit
from reglab.engine.steps import TensorSteps
from reglab.errors import ReglabError

SIZES = [6, 5, 4, 3]


# --------------------------------------------------------------------------------------------
# The reference: the book's equations, per example, in numpy
# --------------------------------------------------------------------------------------------
def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def ref_backprop(weights, biases, x, y, quadratic):
    """∂C_x/∂b and ∂C_x/∂w for one column x (d, 1) and one-hot y (K, 1)."""
    acts, zs = [x], []
    for w, b in zip(weights, biases):
        zs.append(w @ acts[-1] + b)
        acts.append(sig(zs[-1]))
    delta = acts[-1] - y
    if quadratic:
        delta = delta * sig(zs[-1]) * (1 - sig(zs[-1]))
    nb, nw = [None] * len(weights), [None] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        nb[l], nw[l] = delta, delta @ acts[l].T
        if l > 0:
            delta = (weights[l].T @ delta) * sig(zs[l - 1]) * (1 - sig(zs[l - 1]))
    return nb, nw


def ref_update(weights, biases, batch, eta, lmbda, n, quadratic=False):
    """w ← (1 − ηλ/n) w − (η/m) Σ_x ∂C_x/∂w, b ← b − (η/m) Σ_x ∂C_x/∂b."""
    sum_b = [np.zeros_like(b) for b in biases]
    sum_w = [np.zeros_like(w) for w in weights]
    for x, y in batch:
        nb, nw = ref_backprop(weights, biases, x, y, quadratic)
        sum_b = [s + d for s, d in zip(sum_b, nb)]
        sum_w = [s + d for s, d in zip(sum_w, nw)]
    m = len(batch)
    weights = [(1 - eta * lmbda / n) * w - (eta / m) * s for w, s in zip(weights, sum_w)]
    biases = [b - (eta / m) * s for b, s in zip(biases, sum_b)]
    return weights, biases


def ref_sgd(weights, biases, data, epochs, m, eta, lmbda, quadratic=False):
    """The original's loop: shuffle the list in place with ``random``, consecutive slices."""
    n = len(data)
    for _ in range(epochs):
        random.shuffle(data)
        for k in range(0, n, m):
            weights, biases = ref_update(weights, biases, data[k : k + m], eta, lmbda, n, quadratic)
    return weights, biases


def one_hot(j, K=3):
    e = np.zeros((K, 1))
    e[j] = 1.0
    return e


def make_data(N, seed=0, K=3, d=6):
    rng = np.random.default_rng(seed)
    X = rng.random((N, d))
    y = rng.integers(0, K, N)
    return X, y


def pairs(X, y, vectors=True):
    return [(x.reshape(-1, 1), one_hot(j) if vectors else j) for x, j in zip(X, y)]


def assert_close(got, want, rtol=1e-6):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * np.abs(w).max())


def fresh_net(cost=CrossEntropyCost, seed=3, **kw):
    np.random.seed(seed)
    net = Network(SIZES, cost=cost, **kw)
    net.large_weight_initializer()
    return net


# --------------------------------------------------------------------------------------------
# Faithfulness
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cost", [CrossEntropyCost, QuadraticCost])
def test_update_mini_batch_matches_per_example_reference(cost):
    net = fresh_net(cost)
    w0, b0 = [w.copy() for w in net.weights], [b.copy() for b in net.biases]
    X, y = make_data(7)
    batch = pairs(X, y)
    net.update_mini_batch(batch, 0.4, 0.3, 50)
    want_w, want_b = ref_update(w0, b0, batch, 0.4, 0.3, 50, quadratic=cost is QuadraticCost)
    assert_close(net.weights, want_w, 1e-12)
    assert_close(net.biases, want_b, 1e-12)
    assert all(w.dtype == np.float64 for w in net.weights + net.biases)
    assert [w.shape for w in net.weights] == [(5, 6), (4, 5), (3, 4)]
    assert [b.shape for b in net.biases] == [(5, 1), (4, 1), (3, 1)]


@pytest.mark.parametrize("cost", [CrossEntropyCost, QuadraticCost])
def test_sgd_matches_reference_with_the_same_random_state(cost):
    """Same weights, same ``random`` state: the same mini-batches, the same weights after 3 epochs (53 = 5·10 + 3)."""
    net = fresh_net(cost)
    w0, b0 = [w.copy() for w in net.weights], [b.copy() for b in net.biases]
    X, y = make_data(53)
    data, ref_data = pairs(X, y), pairs(X, y)
    random.seed(11)
    net.SGD(data, 3, 10, 0.5, lmbda=2.0)
    random.seed(11)
    want_w, want_b = ref_sgd(w0, b0, ref_data, 3, 10, 0.5, 2.0, quadratic=cost is QuadraticCost)
    assert_close(net.weights, want_w)
    assert_close(net.biases, want_b)
    # the caller's list is left shuffled as the original leaves it
    assert [int(np.argmax(t)) for _, t in data] == [int(np.argmax(t)) for _, t in ref_data]
    assert all(a[0] is b[0] or np.array_equal(a[0], b[0]) for a, b in zip(data, ref_data))


def test_sgd_on_arrays_and_zip_equals_sgd_on_lists():
    X, y = make_data(40)
    results = []
    for data in (pairs(X, y), (X, y), zip([x.reshape(-1, 1) for x in X], [one_hot(j) for j in y])):
        net = fresh_net()
        random.seed(5)
        net.SGD(data, 2, 8, 0.3, lmbda=1.0)
        results.append(net.weights + net.biases)
    for other in results[1:]:
        assert_close(other, results[0], 1e-13)


def test_reading_rows_finds_the_rows_the_pairs_are_views_of():
    B = np.random.default_rng(0).random((12, 6)).astype(np.float32)
    X, rows = network2.reading_rows([B[i].reshape(-1, 1) for i in range(3, 9)])
    assert rows is None and X.base is B and np.shares_memory(X, B) and np.array_equal(X, B[3:9])  # a view, no copy
    order = [5, 0, 11, 2, 7, 9, 1]
    X, rows = network2.reading_rows([B[i][:, None] for i in order])  # columns made another way, in any order
    assert X is B and rows.tolist() == order
    assert network2.reading_rows([B[i][None, :] for i in order])[1].tolist() == order  # rows (1, d)
    for xs in ([B[0].reshape(-1, 1), B[1].reshape(-1, 1).copy()],  # one copy among the views
               [B[0, 1:], B[1, 1:]],  # parts of rows
               [B[0, :3], B[0, 3:]],  # halves of one row, each d/2 long: not whole rows
               [B[:, 0], B[:, 1]],  # columns of the array
               [np.ascontiguousarray(B.T)[i] for i in range(2)],  # rows of another array
               [B.view(np.int32)[0], B.view(np.int32)[1]]):  # not floats
        assert network2.reading_rows(xs) is None


def test_sgd_on_views_in_any_order_equals_sgd_on_copies():
    """The pairs as views of one array (shuffled, repeated, or a few of many) train bit for bit as copies do."""
    X, y = make_data(60)
    for take in (np.random.default_rng(1).permutation(60), np.r_[np.arange(40), np.arange(5)], np.arange(0, 60, 3)):
        views = [(X[i].reshape(-1, 1), one_hot(y[i])) for i in take]
        copies = [(x.copy(), t) for x, t in views]
        results = []
        for data in (views, copies):
            net = fresh_net()
            random.seed(5)
            net.SGD(data, 2, 8, 0.3, lmbda=1.0, evaluation_data=data, monitor_training_accuracy=True,
                    monitor_evaluation_cost=True)
            results.append((net.weights + net.biases, [int(np.argmax(t)) for _, t in data]))
        (got, got_order), (want, want_order) = results
        assert all(np.array_equal(g, w) for g, w in zip(got, want)) and got_order == want_order


@pytest.mark.parametrize("cost", [CrossEntropyCost, "doubled"])
def test_float32_images_train_a_float64_network_as_their_float64_copy_does(cost, monkeypatch):
    """The book's images are float32 and its network float64: the compiled steps read the float32 rows as they
    are (no float64 copy of the 50,000 images), the same weights bit for bit as a float64 copy gives; the tensor
    steps (a cost class of one's own) get a float64 copy."""
    from reglab.engine.compiled import KernelProgram

    class Doubled(CrossEntropyCost):
        @staticmethod
        def delta(z, a, y):
            return 2.0 * (a - y)

    inputs, train_epoch = [], KernelProgram.train_epoch

    def spied(self, X, *rest):
        inputs.append(X.dtype)
        return train_epoch(self, X, *rest)

    monkeypatch.setattr(KernelProgram, "train_epoch", spied)
    X, y = make_data(37)
    X32 = X.astype(np.float32)
    results = []
    for data in (pairs(X32, y), (X32, y), pairs(X32.astype(np.float64), y)):
        net = fresh_net(Doubled if cost == "doubled" else cost)
        random.seed(5)
        net.SGD(data, 2, 8, 0.3, lmbda=1.0, evaluation_data=data[:10] if isinstance(data, list) else None,
                monitor_training_accuracy=True)
        results.append(net.weights + net.biases)
    for other in results[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(other, results[0]))
    assert inputs == ([np.float32] * 4 + [np.float64] * 2 if cost != "doubled" else [])


def test_initial_weights_are_the_books_draws():
    np.random.seed(7)
    net = Network([4, 3, 2])
    np.random.seed(7)
    biases = [np.random.randn(3, 1), np.random.randn(2, 1)]
    weights = [np.random.randn(3, 4) / np.sqrt(4), np.random.randn(2, 3) / np.sqrt(3)]
    assert_close(net.weights + net.biases, weights + biases, 0)
    np.random.seed(7)
    net.large_weight_initializer()
    np.random.seed(7)
    biases = [np.random.randn(3, 1), np.random.randn(2, 1)]
    assert_close(net.weights + net.biases, [np.random.randn(3, 4), np.random.randn(2, 3)] + biases, 0)


def test_book_steps_equal_engine_backward_plus_the_books_update():
    net = fresh_net()
    model = net._engine()
    X, y = make_data(9)
    x = torch.as_tensor(X)
    t = torch.nn.functional.one_hot(torch.as_tensor(y), 3).double()
    zs, acts = model.forward(x)
    gw, gb = model.backward(t, zs, acts)
    eta, decay = 0.7, 1 - 0.7 * 0.2 / 30
    want_w = [decay * W - eta * g for W, g in zip(model.weights, gw)]
    want_b = [b - eta * g for b, g in zip(model.biases, gb)]
    book_steps(model, eta, 0.2, 30, 9).epoch(TensorSplit(x, torch.as_tensor(y), t), torch.arange(9).reshape(1, -1))
    for got, want in zip(model.weights + model.biases, want_w + want_b):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14)


def test_backprop_matches_reference():
    net = fresh_net(QuadraticCost)
    X, y = make_data(1)
    x, t = X[0].reshape(-1, 1), one_hot(y[0])
    nb, nw = net.backprop(x, t)
    want_b, want_w = ref_backprop(net.weights, net.biases, x, t, quadratic=True)
    assert_close(nb + nw, want_b + want_w, 1e-12)
    assert [b.shape for b in nb] == [b.shape for b in net.biases]


def test_custom_cost_class_runs_through_the_engine():
    class MyQuadratic:  # the book's interface, written by a user
        @staticmethod
        def fn(a, y):
            return 0.5 * np.linalg.norm(a - y) ** 2

        @staticmethod
        def delta(z, a, y):
            return (a - y) * network2.sigmoid_prime(z)

    X, y = make_data(12)
    mine, book = fresh_net(MyQuadratic), fresh_net(QuadraticCost)
    mine.update_mini_batch(pairs(X, y), 0.5, 1.0, 12)
    book.update_mini_batch(pairs(X, y), 0.5, 1.0, 12)
    assert_close(mine.weights + mine.biases, book.weights + book.biases, 1e-12)
    assert mine.total_cost(pairs(X, y), 1.0) == pytest.approx(book.total_cost(pairs(X, y), 1.0), rel=1e-12)


@pytest.fixture
def kernel_calls(monkeypatch):
    """Counts the compiled kernel's epochs and the engine's tensor-step epochs."""
    from reglab.engine import kernel

    calls = {"kernel": 0, "tensor": 0}
    train_epoch, epoch = kernel.train_epoch, TensorSteps.epoch

    @functools.wraps(train_epoch)  # the program still compiles the kernel beside, as it does unwatched
    def counted_epoch(*args):
        calls["kernel"] += 1
        return train_epoch(*args)

    def counted_tensor_epoch(self, *args, **kw):
        calls["tensor"] += 1
        return epoch(self, *args, **kw)

    monkeypatch.setattr(kernel, "train_epoch", counted_epoch)
    monkeypatch.setattr(TensorSteps, "epoch", counted_tensor_epoch)
    return calls


@pytest.mark.parametrize("cost", [CrossEntropyCost, QuadraticCost, CrossEntropyCost(), QuadraticCost()])
def test_the_books_costs_train_through_the_compiled_kernel(cost, kernel_calls):
    """An epoch of SGD is one kernel call, and so is update_mini_batch; the tensor steps never run."""
    X, y = make_data(25)
    net = fresh_net(cost)
    net.SGD(pairs(X, y), 3, 10, 0.5, lmbda=1.0)
    assert kernel_calls == {"kernel": 3, "tensor": 0}
    net.update_mini_batch(pairs(X, y)[:4], 0.5, 1.0, 25)
    assert kernel_calls == {"kernel": 4, "tensor": 0}


def test_a_custom_cost_trains_through_its_own_delta(kernel_calls):
    """A cost class that is not one of the book's two (a subclass included) trains on the torch engine
    with its own delta: δ = 2(a − y) at λ = 0 is cross-entropy's update with 2η."""
    deltas = []

    class Doubled(CrossEntropyCost):
        @staticmethod
        def delta(z, a, y):
            deltas.append(z.shape)
            return 2.0 * (a - y)

    X, y = make_data(23)
    mine, book = fresh_net(Doubled), fresh_net(CrossEntropyCost)
    random.seed(4)
    mine.SGD(pairs(X, y), 2, 10, 0.25)
    assert kernel_calls == {"kernel": 0, "tensor": 2} and len(deltas) == 6  # 3 mini-batches (10, 10, 3) per epoch
    random.seed(4)
    book.SGD(pairs(X, y), 2, 10, 0.5)
    assert kernel_calls["kernel"] == 2
    assert_close(mine.weights + mine.biases, book.weights + book.biases, 1e-12)


def test_an_interrupted_sgd_writes_back_the_weights_it_reached(monkeypatch):
    """Interrupted after its second epoch, SGD leaves the network and the caller's list as two epochs left them."""
    from reglab.engine import kernel

    X, y = make_data(30)
    done = fresh_net()
    random.seed(9)
    done.SGD(pairs(X, y), 2, 10, 0.5, lmbda=1.0)
    train_epoch, calls = kernel.train_epoch, []

    @functools.wraps(train_epoch)
    def interrupted(*args):
        calls.append(train_epoch(*args))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return calls[-1]

    monkeypatch.setattr(kernel, "train_epoch", interrupted)
    net, original = fresh_net(), pairs(X, y)
    data = list(original)
    random.seed(9)
    with pytest.raises(KeyboardInterrupt):
        net.SGD(data, 5, 10, 0.5, lmbda=1.0)
    assert len(calls) == 2
    assert_close(net.weights + net.biases, done.weights + done.biases, 0)
    random.seed(9)
    order = list(range(30))
    random.shuffle(order)
    random.shuffle(order)
    assert all(a is original[i] for a, i in zip(data, order))


def test_cost_instance_is_accepted_and_stored_as_its_class():
    net = Network([3, 2], cost=QuadraticCost())
    assert net.cost is QuadraticCost


def test_float32_engine_stays_close_and_keeps_float64_arrays():
    X, y = make_data(30)
    a, b = fresh_net(), fresh_net(dtype="float32")
    for net in (a, b):
        random.seed(2)
        net.SGD(pairs(X, y), 2, 10, 0.5, lmbda=1.0)
    assert all(w.dtype == np.float64 for w in b.weights)
    assert_close(b.weights, a.weights, 1e-4)
    with pytest.raises(ReglabError, match="dtype"):
        Network([2, 2], dtype="float16")


# --------------------------------------------------------------------------------------------
# State: numpy arrays are the network between calls
# --------------------------------------------------------------------------------------------
def test_assigned_and_in_place_changed_weights_are_used():
    X, y = make_data(10)
    net = fresh_net()
    net.weights[0] = np.zeros((5, 6))
    net.biases[1] *= 0.0
    want_w, want_b = ref_update([w.copy() for w in net.weights], [b.copy() for b in net.biases], pairs(X, y), 0.5, 0.0, 10)
    net.update_mini_batch(pairs(X, y), 0.5, 0.0, 10)
    assert_close(net.weights + net.biases, want_w + want_b, 1e-12)


def test_training_leaves_arrays_kept_from_before_untouched():
    net = fresh_net()
    before = net.weights[0]
    copy = before.copy()
    X, y = make_data(20)
    net.SGD(pairs(X, y), 1, 5, 0.5)
    assert np.array_equal(before, copy)
    assert net.weights[0] is not before and not np.array_equal(net.weights[0], copy)


def test_wrongly_shaped_weights_are_reported():
    net = fresh_net()
    net.weights[1] = np.zeros((4, 7))
    with pytest.raises(ReglabError, match=r"weights\[1\]"):
        net.accuracy([(np.zeros((6, 1)), 0)])


def test_inputs_of_the_wrong_width_are_reported():
    net = fresh_net()
    X, y = make_data(10, d=5)
    with pytest.raises(ReglabError, match="5 entries but the network has 6 inputs"):
        net.SGD(pairs(X, y), 1, 10, 0.5)
    with pytest.raises(ReglabError, match="inputs"):
        net.accuracy((X, y))


# --------------------------------------------------------------------------------------------
# accuracy, total_cost, SGD's monitoring and printing
# --------------------------------------------------------------------------------------------
def ref_total_cost(net, data, lmbda, convert):
    cost = 0.0
    for x, y in data:
        a = net.feedforward(x)
        if convert:
            y = one_hot(y)
        cost += CrossEntropyCost.fn(a, y) / len(data)
    return cost + 0.5 * (lmbda / len(data)) * sum(np.linalg.norm(w) ** 2 for w in net.weights)


def test_total_cost_adds_the_penalty_once_and_honours_convert():
    net = fresh_net()
    X, y = make_data(25)
    train, test = pairs(X, y, vectors=True), pairs(X, y, vectors=False)
    want = ref_total_cost(net, train, 3.0, convert=False)
    assert net.total_cost(train, 3.0) == pytest.approx(want, rel=1e-12)
    assert net.total_cost(test, 3.0, convert=True) == pytest.approx(want, rel=1e-12)
    assert net.total_cost((X, y), 3.0, convert=True) == pytest.approx(want, rel=1e-12)
    penalty = 0.5 * 3.0 / 25 * sum((w**2).sum() for w in net.weights)
    assert net.total_cost(train, 3.0) - net.total_cost(train, 0.0) == pytest.approx(penalty, rel=1e-9)
    with pytest.raises(ReglabError, match="flip convert"):
        net.total_cost(test, 3.0)  # labels with convert=False
    with pytest.raises(ReglabError, match="flip convert"):
        net.total_cost(train, 3.0, convert=True)


def test_accuracy_counts_and_honours_convert():
    net = fresh_net()
    X, y = make_data(40)
    want = sum(int(np.argmax(net.feedforward(x.reshape(-1, 1))) == j) for x, j in zip(X, y))
    got = net.accuracy(pairs(X, y, vectors=False))
    assert got == want and type(got) is int
    assert net.accuracy(pairs(X, y, vectors=True), convert=True) == want
    assert net.accuracy((X, y)) == want
    with pytest.raises(ReglabError, match="flip convert"):
        net.accuracy(pairs(X, y, vectors=True))


def test_sgd_returns_four_lists_and_prints_like_the_book(capsys):
    net = fresh_net()
    X, y = make_data(30)
    Xe, ye = make_data(12, seed=1)
    out = net.SGD(
        pairs(X, y), 2, 10, 0.5, lmbda=1.0, evaluation_data=pairs(Xe, ye, vectors=False),
        monitor_evaluation_cost=True, monitor_evaluation_accuracy=True,
        monitor_training_cost=True, monitor_training_accuracy=True,
    )
    evaluation_cost, evaluation_accuracy, training_cost, training_accuracy = out
    assert len(out) == 4 and all(len(v) == 2 for v in out)
    assert all(type(a) is int for a in evaluation_accuracy + training_accuracy)
    assert evaluation_accuracy[-1] == net.accuracy(pairs(Xe, ye, vectors=False))
    assert training_cost[-1] == pytest.approx(ref_total_cost(net, pairs(X, y), 1.0, False), rel=1e-12)
    assert evaluation_cost[-1] == pytest.approx(ref_total_cost(net, pairs(Xe, ye, False), 1.0, True), rel=1e-12)
    lines = capsys.readouterr().out.splitlines()
    assert lines[:6] == [
        "Epoch 0 training complete",
        f"Cost on training data: {training_cost[0]}",
        f"Accuracy on training data: {training_accuracy[0]} / 30",
        f"Cost on evaluation data: {evaluation_cost[0]}",
        f"Accuracy on evaluation data: {evaluation_accuracy[0]} / 12",
        "",
    ]
    assert lines[6] == "Epoch 1 training complete" and len(lines) == 12


def test_sgd_without_monitoring_returns_empty_lists(capsys):
    net = fresh_net()
    X, y = make_data(10)
    assert net.SGD(pairs(X, y), 1, 10, 0.1) == ([], [], [], [])
    assert capsys.readouterr().out == "Epoch 0 training complete\n\n"


def test_early_stopping_after_n_epochs_without_improvement(capsys):
    net = fresh_net()
    X, y = make_data(20)
    # η = 0: the accuracy never improves after the first epoch, so 2 more epochs end it
    out = net.SGD(pairs(X, y), 50, 10, 0.0, evaluation_data=pairs(X, y, vectors=False),
                  monitor_evaluation_accuracy=True, early_stopping_n=2)
    assert len(out[1]) == 3


def test_monitoring_evaluation_without_data_is_an_error():
    X, y = make_data(10)
    with pytest.raises(ReglabError, match="evaluation_data"):
        fresh_net().SGD(pairs(X, y), 1, 10, 0.1, monitor_evaluation_accuracy=True)


# --------------------------------------------------------------------------------------------
# Files move both ways between network2.py and reglab
# --------------------------------------------------------------------------------------------
def test_save_writes_the_books_keys_and_load_round_trips(tmp_path):
    net = fresh_net(QuadraticCost)
    path = tmp_path / "net.json"
    net.save(str(path))
    data = json.loads(path.read_text())
    assert set(data) == {"sizes", "weights", "biases", "cost"}
    assert data["cost"] == "QuadraticCost" and data["sizes"] == SIZES
    assert np.array(data["weights"][0]).shape == (5, 6) and np.array(data["biases"][2]).shape == (3, 1)
    back = network2.load(str(path))
    assert back.cost is QuadraticCost and back.sizes == SIZES and back.num_layers == 4
    assert_close(back.weights + back.biases, net.weights + net.biases, 0)


def test_load_reads_a_file_written_by_the_books_network2(tmp_path):
    # what the book's save() writes for a [2, 2, 1] network: json.dump of nested lists
    text = (
        '{"sizes": [2, 2, 1], "weights": [[[0.5, -1.0], [2.0, 0.25]], [[1.5, -0.5]]], '
        '"biases": [[[0.1], [-0.2]], [[0.3]]], "cost": "CrossEntropyCost"}'
    )
    path = tmp_path / "book.json"
    path.write_text(text)
    net = network2.load(str(path))
    assert net.cost is CrossEntropyCost and net.sizes == [2, 2, 1]
    x = np.array([[1.0], [2.0]])
    h = network2.sigmoid(np.array([[0.5 - 2.0 + 0.1], [2.0 + 0.5 - 0.2]]))
    want = network2.sigmoid(np.array([[1.5 * h[0, 0] - 0.5 * h[1, 0] + 0.3]]))
    np.testing.assert_allclose(net.feedforward(x), want, rtol=1e-15)
    net.save(str(tmp_path / "again.json"))
    assert json.loads((tmp_path / "again.json").read_text()) == json.loads(text)


def test_load_reports_unusable_files(tmp_path):
    (tmp_path / "bad.json").write_text('{"sizes": [2, 1]}')
    with pytest.raises(ReglabError, match="not a network2 JSON"):
        network2.load(str(tmp_path / "bad.json"))
    (tmp_path / "cost.json").write_text('{"sizes": [1, 1], "weights": [[[1.0]]], "biases": [[[0.0]]], "cost": "Log"}')
    with pytest.raises(ReglabError, match="unknown cost"):
        network2.load(str(tmp_path / "cost.json"))


def test_module_functions():
    np.testing.assert_array_equal(network2.vectorized_result(3).ravel(), np.eye(10)[3])
    assert network2.vectorized_result(3).shape == (10, 1)
    assert network2.sigmoid(0.0) == 0.5 and network2.sigmoid_prime(0.0) == 0.25
    assert CrossEntropyCost.fn(np.array([[1.0], [0.0]]), np.array([[1.0], [0.0]])) == 0.0


def test_an_mnist_epoch_equals_the_per_example_reference(shared_data_dir):
    """The book's seeds and data: the same accuracy count and the same weights as the per-example loop."""
    from reglab.compat import mnist_loader

    training_data, validation_data, _ = mnist_loader.load_data_wrapper(shared_data_dir)
    train, ref_train = training_data[:3000], training_data[:3000]
    np.random.seed(12345678)
    net = Network([784, 30, 10])
    net.large_weight_initializer()
    w0, b0 = [w.copy() for w in net.weights], [b.copy() for b in net.biases]
    random.seed(12345678)
    _, accuracy, _, _ = net.SGD(train, 1, 10, 0.1, lmbda=5.0, evaluation_data=validation_data[:2000],
                                monitor_evaluation_accuracy=True)
    random.seed(12345678)
    want_w, want_b = ref_sgd(w0, b0, ref_train, 1, 10, 0.1, 5.0)
    assert_close(net.weights + net.biases, want_w + want_b, 1e-10)
    ref_accuracy = sum(int(np.argmax(sig(want_w[1] @ sig(want_w[0] @ x + want_b[0]) + want_b[1])) == y)
                       for x, y in validation_data[:2000])
    assert accuracy == [ref_accuracy]

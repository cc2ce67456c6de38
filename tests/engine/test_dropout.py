"""Dropout: the masks' stream (the same bits in the kernel, in torch and in plain Python), the step against
autograd, the compiled steps against the tensor steps, and M models together against one by one."""

import numpy as np
import pytest
import torch

from reglab.engine import kernel
from reglab.engine.dropout import Dropout, hash32
from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.monitors import evaluate
from reglab.engine.optim import SGD, Adam
from reglab.engine.regularizers import L2, MaxNorm
from reglab.errors import ReglabError
from tests.engine.helpers import small_data

F64 = torch.float64
M32 = 0xFFFFFFFF


def lowbias32(x: int) -> int:
    """The hash as C. Wellons publishes it, in Python integers."""
    x ^= x >> 16
    x = (x * 0x7FEB352D) & M32
    x ^= x >> 15
    x = (x * 0x846CA68B) & M32
    return x ^ (x >> 16)


def reference_keep(key: int, t: int, l: int, i: int, j: int, p: float) -> bool:
    """Whether unit ``j`` of example ``i`` in layer ``l`` is kept at step ``t``: the module docstring's formula."""
    h = lowbias32
    s = h(h(key ^ h(t)) ^ h(l))
    r = h(s ^ h(i))
    return h((r + j) & M32) >= round(p * 2**32)


def test_the_hash_is_lowbias32_in_torch_and_in_the_kernel():
    xs = [0, 1, 2, 12345, 2**31 - 1, 2**31, M32 - 1, M32] + list(np.random.default_rng(0).integers(0, 2**32, 200))
    expected = [lowbias32(int(x)) for x in xs]
    assert hash32(torch.tensor([int(x) for x in xs], dtype=torch.int64)).tolist() == expected
    assert [int(kernel._hash32(np.uint32(x))) for x in xs] == expected
    assert lowbias32(12345) == 2435775735  # a fixed point of the definition, so that it cannot drift


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_kernel_and_tensor_masks_are_the_same_bits_and_follow_the_formula(dtype):
    drop = Dropout([[0.2, 0.5], [0.7, 0.1]], seeds=[3, 4])
    keys, thr, scale = drop.keys(2), drop.thresholds(2), drop.scales(2)
    widths, m, t = [9, 6], 5, 1234
    masks = drop.masks(t, m, widths, torch.device("cpu"), dtype)
    np_dtype = np.float32 if dtype == torch.float32 else np.float64
    for mi in range(2):
        for l, n in enumerate(widths):
            inp = np.ones((m, n), np_dtype)
            keep, out = np.empty_like(inp), np.empty_like(inp)
            kernel._dropout(inp, m, kernel._layer_key(keys[mi], t, l), thr[mi, l], np_dtype(scale[mi, l]), keep, out, True)
            unstored = np.empty_like(inp)
            kernel._dropout(inp, m, kernel._layer_key(keys[mi], t, l), thr[mi, l], np_dtype(scale[mi, l]), keep, unstored,
                            False)
            assert np.array_equal(out, unstored)
            assert np.array_equal(keep, masks[l][mi].numpy())
            expected = [[reference_keep(int(keys[mi]), t, l, i, j, drop.rates[mi, l]) for j in range(n)] for i in range(m)]
            assert np.array_equal(keep > 0, np.array(expected))
            assert np.all(keep[keep > 0] == np_dtype(1 / (1 - drop.rates[mi, l])))


def test_masks_keep_each_unit_with_probability_one_minus_p_independently_and_average_one():
    drop = Dropout([0.2, 0.5], seeds=[0])
    masks = [drop.masks(t, 100, [50, 40], torch.device("cpu"), F64) for t in range(1, 201)]
    for l, p in enumerate((0.2, 0.5)):
        stack = torch.stack([mk[l][0] for mk in masks])  # (steps, examples, units)
        kept = (stack > 0).double()
        n = kept.numel()
        assert abs(kept.mean().item() - (1 - p)) < 5 * (p * (1 - p) / n) ** 0.5  # binomial: 5 standard errors
        assert abs(stack.mean().item() - 1.0) < 5 * (p / (1 - p) / n) ** 0.5  # inverted: E[mask] = 1
        flat = kept.reshape(-1, kept.shape[-1])
        for a, b in ((flat[:, :-1], flat[:, 1:]), (kept[:-1].reshape(-1), kept[1:].reshape(-1)),
                     (kept[:, :-1].reshape(-1), kept[:, 1:].reshape(-1))):  # neighbour units, steps, examples
            corr = np.corrcoef(a.reshape(-1).numpy(), b.reshape(-1).numpy())[0, 1]
            assert abs(corr) < 0.02


def test_a_models_masks_depend_on_its_seed_only():
    cpu = torch.device("cpu")
    both = Dropout([0.5, 0.5], seeds=[7, 8]).masks(3, 4, [10, 10], cpu, F64)
    alone = Dropout([0.5, 0.5], seeds=[8]).masks(3, 4, [10, 10], cpu, F64)
    assert torch.equal(both[0][1], alone[0][0]) and torch.equal(both[1][1], alone[1][0])
    assert not torch.equal(both[0][0], both[0][1])
    assert not torch.equal(both[0][0], Dropout([0.5, 0.5], seeds=[7, 8]).masks(4, 4, [10, 10], cpu, F64)[0][0])
    assert Dropout([0.0, 0.5]).masks(1, 4, [10, 10], cpu, F64)[0] is None  # no model drops the input


def test_the_dropout_step_is_the_gradient_of_the_thinned_network_autograd():
    torch.manual_seed(0)
    model = MLP.initialize([5, 7, 6, 3], seeds=[0, 1], init="default", activation="tanh", dtype=F64)
    x = torch.rand(4, 5, dtype=F64)
    y = torch.nn.functional.one_hot(torch.tensor([0, 2, 1, 1]), 3).to(F64)
    masks = Dropout([0.3, 0.5, 0.2], seeds=[0, 1]).masks(5, 4, [5, 7, 6], torch.device("cpu"), F64)
    gw, gb = model.backward(y, *model.forward(x, masks), masks=masks)
    params = [p.clone().requires_grad_() for p in (*model.weights, *model.biases)]
    L = len(model.weights)
    twin = MLP(params[:L], params[L:], model.activation, model.cost)
    # the thinned network written out by hand: each layer's input times its mask
    a = x
    for l, (W, b) in enumerate(zip(twin.weights, twin.biases)):
        z = (a * masks[l]) @ W.transpose(1, 2) + b.unsqueeze(1)
        a = twin.cost.output(z) if l == L - 1 else torch.tanh(z)
    cost = (twin.cost.fn(z, a, y) / 4).sum()
    auto = torch.autograd.grad(cost, params)
    for mine, theirs in zip([*gw, *gb], auto):
        torch.testing.assert_close(mine, theirs, rtol=1e-12, atol=1e-12)


def _data(dtype=F64):
    return small_data(n=53, d=6, k=3, n_val=20, dtype=dtype)


def _train(engine, drop, *, reg=None, opt=None, activation="sigmoid", cost="cross-entropy", seeds=(1, 2, 3),
           eta=(0.5, 0.2, 0.05), dtype=F64, order_seeds=(0,), sizes=(6, 5, 4, 3), epochs=3, threads=0):
    model = MLP.initialize(sizes, seeds=seeds, init="default", activation=activation, cost=cost, dtype=dtype)
    return fit(model, _data(dtype), epochs=epochs, batch_size=7, eta=list(eta)[: len(seeds)], regularizer=reg,
               optimizer=opt, dropout=drop, engine=engine, order_seeds=order_seeds, threads=threads)


def _params(result):
    return [*result.model.weights, *result.model.biases]


DROPS = {
    "hidden": lambda: Dropout([0.0, 0.5, 0.5], seeds=[1, 2, 3]),
    "input and hidden": lambda: Dropout([0.2, 0.5, 0.3], seeds=[1, 2, 3]),
    "per model": lambda: Dropout([[0.2, 0.5, 0.3], [0.0, 0.0, 0.0], [0.9, 0.0, 0.1]], seeds=[1, 2, 3]),
}


@pytest.mark.parametrize("drop", list(DROPS), ids=str)
@pytest.mark.parametrize("activation,opt,reg", [("sigmoid", SGD(), L2(1.0)), ("relu", SGD(momentum=0.9), None),
                                                ("tanh", Adam(), L2(2.0) + MaxNorm([0.7, 1.0, 2.0]))],
                         ids=["sigmoid-sgd-l2", "relu-momentum", "tanh-adam-maxnorm"])
def test_compiled_steps_equal_tensor_steps_with_dropout(drop, activation, opt, reg):
    eta = (0.01, 0.003, 0.001) if isinstance(opt, Adam) else (0.5, 0.2, 0.05)
    kw = dict(reg=reg, opt=opt, activation=activation, eta=eta)
    a, b = _train("compiled", DROPS[drop](), **kw), _train("tensor", DROPS[drop](), **kw)
    assert a.meta["engine"] == "CompiledSteps" and b.meta["engine"] == "TensorSteps"
    for p, q in zip(_params(a), _params(b)):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-9, atol=1e-9)
    plain = _train("compiled", None, **kw)
    assert not torch.equal(a.model.weights[0], plain.model.weights[0])  # the masks did act


def test_float32_and_per_model_orders_and_the_running_measure_agree_too():
    drop = Dropout([0.2, 0.5, 0.5], seeds=[1, 2, 3])
    a, b = (_train(e, drop, dtype=torch.float32, order_seeds=(4, 5, 6), reg=MaxNorm(1.0)) for e in ("compiled", "tensor"))
    for p, q in zip(_params(a), _params(b)):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=2e-4, atol=2e-4)
    np.testing.assert_allclose(a.history.get("train_cost"), b.history.get("train_cost"), rtol=2e-4)


@pytest.mark.parametrize("engine", ["compiled", "tensor"])
def test_zero_rates_are_no_dropout_bit_for_bit(engine):
    a, b = _train(engine, Dropout([0.0, 0.0, 0.0])), _train(engine, None)
    assert all(torch.equal(p, q) for p, q in zip(_params(a), _params(b)))


def test_M_models_together_equal_M_models_one_by_one_bit_for_bit():
    rates = [[0.2, 0.5, 0.3], [0.0, 0.5, 0.0], [0.5, 0.2, 0.6]]
    together = _train("compiled", Dropout(rates, seeds=[1, 2, 3]), reg=L2([1.0, 2.0, 3.0]) + MaxNorm(1.5))
    for m, seed in enumerate((1, 2, 3)):
        alone = _train("compiled", Dropout(rates[m], seeds=[seed]), reg=L2([1.0, 2.0, 3.0][m]) + MaxNorm(1.5),
                       seeds=(seed,), eta=((0.5, 0.2, 0.05)[m],))
        assert all(torch.equal(p[m], q[0]) for p, q in zip(_params(together), _params(alone)))


def test_thread_count_does_not_change_the_numbers():
    drop = Dropout([0.3, 0.5], seeds=list(range(8)))
    results = [_train("compiled", drop, seeds=tuple(range(8)), eta=(0.3,) * 8, sizes=(6, 5, 3), dtype=torch.float32,
                      threads=threads) for threads in (1, 2)]
    assert all(torch.equal(p, q) for p, q in zip(_params(results[0]), _params(results[1])))


@pytest.mark.parametrize("engine", ["compiled", "tensor"])
def test_steps_restored_train_the_same_epoch_with_the_same_masks(engine):
    from reglab.engine.steps import make_steps, orders
    from reglab.rng import generator

    data = small_data(n=60, dtype=torch.float32)
    m = MLP.initialize([5, 6, 3], seeds=[0, 1], init="default", dtype=torch.float32)
    steps = make_steps(engine, m, L2(0.5), SGD(), torch.tensor([0.1, 0.05]), 60, 4, 0, Dropout([0.2, 0.5], seeds=[0, 1]))
    perms = orders(60, [generator(0, "order")])
    steps.epoch(data.train, perms)
    saved = steps.save()
    steps.epoch(data.train, perms)
    once = [p.clone() for p in (*m.weights, *m.biases)]
    steps.restore(saved)
    steps.epoch(data.train, perms)
    assert all(torch.equal(p, q) for p, q in zip((*m.weights, *m.biases), once))


def test_evaluation_and_the_monitor_use_the_whole_network():
    data = _data()
    result = _train("compiled", Dropout([0.5, 0.5, 0.5], seeds=[1, 2, 3]), epochs=2)
    s = data.validation
    cost, acc = evaluate(result.model, s.X, s.y, s.Y)
    np.testing.assert_array_equal(result.history.get("validation_accuracy")[-1], acc.numpy())
    np.testing.assert_allclose(result.history.get("validation_cost")[-1], cost.numpy(), rtol=1e-12)
    _, acts = result.model.forward(s.X)  # no masks: every unit, no rescaling
    np.testing.assert_allclose((acts[-1].argmax(-1) == s.y).double().mean(1).numpy(), acc.numpy())


def test_bad_rates_seeds_and_shapes_are_one_line_errors():
    with pytest.raises(ReglabError, match=r"rates must lie in \[0, 1\)"):
        Dropout([0.2, 1.0])
    with pytest.raises(ReglabError, match="2 rates per model, but the network has 3 layers"):
        _train("compiled", Dropout([0.2, 0.5]))
    with pytest.raises(ReglabError, match="2 seeds for 3 models"):
        _train("tensor", Dropout([0.2, 0.5, 0.5], seeds=[1, 2]))
    with pytest.raises(ReglabError, match="--dropout gives 3 rates, but the network has 2 hidden layers"):
        Dropout.per_layer([0.1, 0.2, 0.3], layers=3)
    assert Dropout.per_layer([0.5], 0.2, layers=3).rates.tolist() == [[0.2, 0.5, 0.5]]
    assert Dropout.per_layer([0.1, 0.4], layers=3).rates.tolist() == [[0.0, 0.1, 0.4]]
    assert repr(Dropout([0.2, 0.5])) == "Dropout([0.2, 0.5], seeds=[0])"
    assert not Dropout([0.0, 0.0]).active

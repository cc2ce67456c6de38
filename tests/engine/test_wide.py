"""Models too large to share a core's cache train alone, each step split over the threads in fixed blocks
(``kernel.train_epoch_wide``): still equal to the tensor steps, and bit for bit the same on any thread count
and beside any other models."""

import numpy as np
import torch

from reglab.engine.compiled import KernelProgram
from reglab.engine.data import TensorData, TensorSplit
from reglab.engine.dropout import Dropout
from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.optim import SGD
from reglab.engine.regularizers import L2, MaxNorm
from tests.engine.helpers import small_data

F64 = torch.float64
WIDE = (6, 700, 300, 3)  # 216,000 parameters: 1.7 MB in float64, more than a group's cache (kernel.GROUP_BYTES)


def _train(engine, seeds=(1, 2), dtype=F64, threads=0, eta=(0.05, 0.02)):
    model = MLP.initialize(WIDE, seeds=list(seeds), init="default", activation="relu", dtype=dtype)
    return fit(model, small_data(n=53, d=6, k=3, dtype=dtype), epochs=2, batch_size=7, eta=list(eta)[: len(seeds)],
               regularizer=L2(1.0) + MaxNorm(0.8), optimizer=SGD(momentum=0.9), engine=engine, threads=threads,
               dropout=Dropout([0.2, 0.5, 0.5], seeds=list(seeds)), order_seeds=list(seeds))


def _params(result):
    return [*result.model.weights, *result.model.biases]


def test_a_model_larger_than_a_group_trains_alone_split_over_every_thread():
    small = KernelProgram(MLP.initialize((6, 5, 3), seeds=[0]), L2(1.0), SGD(), np.ones(1, np.float32), 10, 5, 0)
    wide = KernelProgram(MLP.initialize(WIDE, seeds=[0], dtype=F64), L2(1.0), SGD(momentum=0.9), np.ones(1), 10, 5, 0)
    assert not small.wide and wide.wide and wide.threads == wide.kernel.pool_size()


def test_wide_compiled_steps_equal_the_tensor_steps_with_dropout_and_max_norm():
    a, b = _train("compiled"), _train("tensor")
    for p, q in zip(_params(a), _params(b)):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-9, atol=1e-12)


def test_wide_models_are_the_same_on_one_thread_or_two_and_together_or_alone():
    one, two = (_train("compiled", dtype=torch.float32, threads=t) for t in (1, 2))
    assert all(torch.equal(p, q) for p, q in zip(_params(one), _params(two)))
    alone = _train("compiled", seeds=(2,), dtype=torch.float32, eta=(0.02,))
    assert all(torch.equal(p[1], q[0]) for p, q in zip(_params(one), _params(alone)))


def test_the_dropout_papers_networks_train_on_the_compiled_steps():
    rng = np.random.default_rng(0)
    split = TensorSplit.from_arrays(rng.random((30, 784)), rng.integers(0, 10, 30), 10, "cpu", torch.float32)
    for sizes in ([784, 800, 800, 10], [784, 1024, 1024, 10]):
        model = MLP.initialize(sizes, seeds=[0], init="he", activation="relu")
        result = fit(model, TensorData(split, None, None, 10), epochs=1, batch_size=10, eta=0.01,
                     regularizer=MaxNorm(3.0), dropout=Dropout([0.2, 0.5, 0.5]), order_seeds=[0])
        assert result.meta["engine"] == "CompiledSteps" and result.state.diverged_epoch == [None]
        assert bool((torch.linalg.vector_norm(model.weights[1], dim=2) <= 3.0 * (1 + 1e-6)).all())

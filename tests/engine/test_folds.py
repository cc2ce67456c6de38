"""k-fold cross-validation inside one batch: the folds partition the training split, and a model trained on
its fold in the batch is the same model trained alone on those rows and validated on the rest."""

import numpy as np
import pytest
import torch

from reglab.engine.data import Folds, TensorData, TensorSplit, kfold
from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor
from reglab.engine.regularizers import L2
from reglab.errors import ReglabError
from tests.engine.helpers import small_data

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("N,k", [(10, 2), (11, 3), (7, 7), (1000, 10)])
def test_folds_are_disjoint_cover_the_split_and_balanced(N, k):
    folds = kfold(N, k, seed=4)
    rows = np.concatenate(folds)
    assert len(rows) == N and sorted(rows.tolist()) == list(range(N))  # disjoint and covering
    assert max(map(len, folds)) - min(map(len, folds)) <= 1
    assert all(np.array_equal(a, b) for a, b in zip(folds, kfold(N, k, seed=4)))  # the seed fixes them
    assert any(not np.array_equal(a, b) for a, b in zip(folds, kfold(N, k, seed=5)))
    f = Folds.split(N, k, 4, list(range(k)))
    for i in range(k):
        assert set(f.train_rows(i).tolist()) == set(range(N)) - set(folds[i].tolist())
    assert f.size == N - max(map(len, folds))


@pytest.mark.parametrize("N,k,message", [(5, 6, "more folds than the 5 training examples"), (5, 1, "at least 2 folds")])
def test_bad_fold_counts(N, k, message):
    with pytest.raises(ReglabError, match=message):
        kfold(N, k, 0)


@pytest.mark.parametrize("held_out", [[[0, 2], [1, 3, 4]], [[4, 3], [2, 0], [1]]])
def test_given_held_out_rows_make_the_folds(held_out):
    f = Folds.of(held_out, [0, 1, 1], 5)
    assert [h.tolist() for h in f.held_out] == [sorted(h) for h in held_out]
    assert f.train_rows(1).tolist() == sorted(set(range(5)) - set(held_out[1]))
    assert f.size == 5 - max(map(len, held_out))


@pytest.mark.parametrize("held_out", [[[0, 1], [1, 2, 3, 4]], [[0, 1], [3, 4]], [[0, 1, 2, 3, 4]], [[0, 1, 2, 3, 4], []],
                                      [[0, 1], [2, 3, 4, 5]]])
def test_given_held_out_rows_must_be_disjoint_and_cover_the_rows(held_out):
    with pytest.raises(ReglabError, match="disjoint, that together are the 5 training rows"):
        Folds.of(held_out, [0], 5)


def test_orders_are_permutations_of_each_models_own_rows():
    f = Folds.split(11, 3, 0, [0, 1, 2, 0])  # held-out sizes 4, 4, 3: every model trains on L = 7 rows an epoch
    from reglab.rng import generator

    perms = f.orders([generator(s, "order") for s in (0, 0, 0, 1)])
    assert perms.shape == (4, 7)
    for m, fold in enumerate(f.fold):
        assert len(set(perms[m].tolist())) == 7 and set(perms[m].tolist()) <= set(f.train_rows(fold).tolist())
    assert not torch.equal(perms[0], perms[3])  # same fold, another seed: another order


@pytest.mark.parametrize("engine", ["compiled", "tensor"])
def test_a_fold_in_the_batch_is_the_model_trained_alone_on_its_rows(engine):
    data = small_data(n=60, n_val=0)
    data = TensorData(data.train, None, None, data.n_classes)
    folds = Folds.split(60, 3, 7, [0, 1, 2, 1])  # 20 rows each: L = 40
    lam = [0.5, 2.0, 2.0, 0.0]
    model = MLP.initialize([5, 4, 3], seeds=[1, 1, 1, 2], init="default", dtype=torch.float64)
    res = fit(model, data, epochs=3, batch_size=7, eta=0.4, regularizer=L2(lam), order_seeds=[3], folds=folds,
              engine=engine, monitor=Monitor(saturation_examples=0))
    assert res.n == 40
    h = res.history
    for m, fold in enumerate(folds.fold):
        tr, ho = folds.train_rows(fold), folds.held_out[fold]
        alone = TensorData(TensorSplit(data.train.X[tr], data.train.y[tr], data.train.Y[tr]),
                           TensorSplit(data.train.X[ho], data.train.y[ho], data.train.Y[ho]), None, data.n_classes)
        single = MLP.initialize([5, 4, 3], seeds=[[1, 1, 1, 2][m]], init="default", dtype=torch.float64)
        ref = fit(single, alone, epochs=3, batch_size=7, eta=0.4, regularizer=L2(lam[m]), order_seeds=[3],
                  engine=engine, monitor=Monitor(saturation_examples=0))
        for W, V in zip(res.model.weights, ref.model.weights):
            torch.testing.assert_close(W[m], V[0], rtol=1e-12, atol=1e-12)
        for metric in ("validation_accuracy", "validation_cost", "train_accuracy", "train_cost", "penalty"):
            np.testing.assert_allclose(h.get(metric)[:, m], ref.history.get(metric)[:, 0], rtol=1e-12, err_msg=metric)


def test_exact_training_measure_is_on_the_folds_rows():
    data = small_data(n=30, n_val=0)
    data = TensorData(data.train, None, None, data.n_classes)
    folds = Folds.split(30, 2, 0, [0, 1])
    model = MLP.initialize([5, 4, 3], seeds=[0, 0], dtype=torch.float64)
    res = fit(model, data, epochs=1, batch_size=5, eta=0.1, folds=folds, monitor=Monitor(train="exact", saturation_examples=0))
    from reglab.engine.monitors import evaluate

    for m, fold in enumerate(folds.fold):
        rows = folds.train_rows(fold)
        one = MLP([W[m : m + 1] for W in res.model.weights], [b[m : m + 1] for b in res.model.biases],
                  model.activation, model.cost)
        _, acc = evaluate(one, data.train.X[rows], data.train.y[rows], data.train.Y[rows])
        assert res.history.get("train_accuracy")[-1, m] == pytest.approx(float(acc[0]))

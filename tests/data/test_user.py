"""A user's own .npz and .csv files: loading, splitting, and one clear error per problem."""

from __future__ import annotations

import numpy as np
import pytest

from reglab.data import load_dataset
from reglab.errors import ReglabError


def write_npz(path, X, y):
    np.savez(path, X=X, y=y)
    return path


def write_csv(path, text):
    path.write_text(text)
    return path


@pytest.fixture
def npz_file(tmp_path):
    """100 examples, 3 features, 4 classes; feature 0 is the example's index, to trace rows."""
    X = np.column_stack([np.arange(100), np.ones(100), np.linspace(0, 1, 100)])
    return write_npz(tmp_path / "mine.npz", X, np.arange(100) % 4)


def test_npz_loads_and_splits(npz_file):
    data = load_dataset(str(npz_file), split=(0.8, 0.1, 0.1), seed=3)
    assert (len(data.train), len(data.validation), len(data.test)) == (80, 10, 10)
    assert (data.name, data.n_classes, data.n_features, data.source) == ("mine.npz", 4, 3, str(npz_file))
    assert data.train.X.dtype == np.float32 and data.train.y.dtype == np.int64
    ids = np.concatenate([s.X[:, 0] for s in (data.train, data.validation, data.test)])
    assert sorted(ids.astype(int)) == list(range(100))  # a partition of the rows
    labels = np.concatenate([s.y for s in (data.train, data.validation, data.test)])
    np.testing.assert_array_equal(labels, ids.astype(int) % 4)  # rows keep their labels


def test_the_split_follows_the_seed(npz_file):
    first, again, other = (load_dataset(npz_file, seed=s).test.X[:, 0] for s in (1, 1, 2))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_split_sizes_and_an_empty_test_part(npz_file):
    data = load_dataset(npz_file, split=(0.7, 0.3, 0.0))
    assert (len(data.train), len(data.validation), len(data.test)) == (70, 30, 0)
    assert data.test.X.shape == (0, 3)


def test_images_are_flattened_and_column_labels_accepted(tmp_path):
    path = write_npz(tmp_path / "img.npz", np.zeros((10, 4, 4), np.uint8), (np.arange(10) % 2)[:, None])
    data = load_dataset(path)
    assert data.n_features == 16 and data.train.y.ndim == 1


def test_csv_loads_with_a_target_column(tmp_path):
    rows = "\n".join(f"{i},{i % 3},{i / 10}" for i in range(30))
    path = write_csv(tmp_path / "mine.csv", f"a,label,b\n{rows}\n")
    data = load_dataset(path, target="label", split=(0.6, 0.2, 0.2))
    assert (len(data.train), len(data.validation), len(data.test), data.n_features, data.n_classes) == (18, 6, 6, 2, 3)
    X = np.concatenate([s.X for s in (data.train, data.validation, data.test)])
    y = np.concatenate([s.y for s in (data.train, data.validation, data.test)])
    np.testing.assert_array_equal(y, X[:, 0].astype(int) % 3)  # the label column is out, a and b are in


def test_csv_accepts_quoted_numbers_and_float_labels(tmp_path):
    path = write_csv(tmp_path / "q.csv", '"x","y"\n"1.5",0.0\n2,1.0\n3,1\n4,0\n5,1\n')
    data = load_dataset(path, target="y", split=(0.6, 0.2, 0.2))
    assert data.n_classes == 2 and len(data.train) == 3


NPZ_PROBLEMS = {
    "non-numeric X": (np.array([["a", "b"], ["c", "d"]]), np.array([0, 1]), r"X is not numeric \(dtype <U1\)"),
    "NaN": (np.array([[0.0, 1.0], [np.nan, 2.0]]), np.array([0, 1]), "X has 1 NaN or infinite values .the first at "
                                                                     "row 1, feature 0."),
    "inf": (np.array([[0.0, np.inf], [1.0, 2.0]]), np.array([0, 1]), "X has 1 NaN or infinite values .the first at "
                                                                     "row 0, feature 1."),
    "beyond float32": (np.array([[0.0, 1.0], [2.0, -1e39]]), np.array([0, 1]),
                       "1 values of X lie beyond float32's range .3.4e38 and would become infinite .the first, -1e.39, "
                       "at row 1, feature 1."),
    "fractional label": (np.zeros((3, 2)), np.array([0, 1.5, 1]), "labels must be integers 0..K-1, found 1.5 at row 1"),
    "NaN label": (np.zeros((3, 2)), np.array([0, np.nan, 1]), "labels must be integers 0..K-1, found nan"),
    "one class": (np.zeros((3, 2)), np.array([0, 0, 0]), "at least two classes"),
    "one text class": (np.zeros((3, 2)), np.array(["a", "a", "a"]), "at least two classes"),
    "an empty text label": (np.zeros((3, 2)), np.array(["a", " ", "b"]), "an empty label at row 1"),
    "bytes as labels": (np.zeros((2, 2)), np.array([b"a", 1], dtype=object), "not a readable .npz file"),
    "lengths": (np.zeros((3, 2)), np.array([0, 1]), "X has 3 rows but y has 2 labels"),
    "1-D X": (np.zeros(3), np.array([0, 1, 0]), r"X must have one row per example, got shape \(3,\)"),
    "2-D y": (np.zeros((2, 2)), np.zeros((2, 2)), r"labels y must be one-dimensional, got shape \(2, 2\)"),
    "empty": (np.zeros((0, 2)), np.zeros(0), "no examples"),
}


@pytest.mark.parametrize(("X", "y", "message"), NPZ_PROBLEMS.values(), ids=NPZ_PROBLEMS.keys())
def test_npz_problems(tmp_path, X, y, message):
    path = write_npz(tmp_path / "bad.npz", X, y)
    with pytest.raises(ReglabError, match=message) as info:
        load_dataset(str(path))
    assert str(info.value).startswith(f"{path}: ") and "\n" not in str(info.value)


def test_npz_without_the_arrays(tmp_path):
    path = tmp_path / "keys.npz"
    np.savez(path, data=np.zeros((2, 2)), labels=np.zeros(2))
    with pytest.raises(ReglabError, match="no array named X or y .it holds data, labels.; an .npz needs arrays X and y"):
        load_dataset(path)


def test_npz_that_is_not_an_archive(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(b"not a zip file at all")
    with pytest.raises(ReglabError, match="junk.npz: not a readable .npz file"):
        load_dataset(path)


def test_npz_of_objects_is_refused(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, X=np.array([[object()]], dtype=object), y=np.array([0]))
    with pytest.raises(ReglabError, match="objects.npz: not a readable .npz file"):
        load_dataset(path)


CSV_PROBLEMS = {  # text of bad.csv, whose label column is "label"; the error
    "non-numeric": ("a,label\n1,0\nx,1\n", "line 3, column 'a': 'x' is not a number"),
    "empty field": ("a,label\n1,0\n,1\n", "line 3, column 'a': '' is not a number"),
    "ragged": ("a,b,label\n1,2,0\n3,1\n", "line 3 has 2 fields but the header names 3 columns"),
    "NaN": ("a,label\n1,0\nnan,1\n", "X has 1 NaN or infinite values .the first at line 3, column 'a'."),
    "inf": ("a,label\n1,0\n2,1\ninf,1\n", "the first at line 4, column 'a'"),
    "beyond float32": ("a,b,label\n1,0,0\n2,5e38,1\n", "values of X lie beyond float32's range .* at line 3, column 'b'"),
    "fractional label": ("a,label\n1,0\n2,0.5\n", "labels must be integers 0..K-1, found 0.5 at line 3"),
    "empty label": ("a,label\n1,cat\n2,\n", "an empty label at line 3"),
    "no target column": ("a,b\n1,0\n", "no column 'label' in the header .columns: a, b."),
    "no header": ("1,0\n2,1\n", "the first line looks like data; a header row naming the columns is required"),
    "target twice": ("label,label\n1,0\n", "names column 'label' more than once"),
    "target only": ("label\n1\n0\n", "no feature columns besides 'label'"),
    "header only": ("a,label\n", "no data rows after the header"),
    "empty file": ("", "empty file"),
}


@pytest.mark.parametrize(("text", "message"), CSV_PROBLEMS.values(), ids=CSV_PROBLEMS.keys())
def test_csv_problems(tmp_path, text, message):
    path = write_csv(tmp_path / "bad.csv", text)
    with pytest.raises(ReglabError, match=message) as info:
        load_dataset(str(path), target="label")
    assert str(info.value).startswith(f"{path}: ") and "\n" not in str(info.value)


def test_csv_needs_a_target(tmp_path):
    path = write_csv(tmp_path / "t.csv", "a,label\n1,0\n")
    with pytest.raises(ReglabError, match=r"t.csv: a .csv file needs target=COLUMN"):
        load_dataset(path)


def test_target_only_for_csv(npz_file):
    with pytest.raises(ReglabError, match="mine.npz: target='label' applies only to .csv files"):
        load_dataset(npz_file, target="label")
    with pytest.raises(ReglabError, match="digits: target='label' applies only to .csv files"):
        load_dataset("digits", target="label")


@pytest.mark.parametrize(
    ("split", "message"),
    [
        ((0.8, 0.1, 0.2), r"split \(0.8, 0.1, 0.2\) sums to 1.1, not 1"),
        ((0.5, 0.1, 0.1), "sums to 0.7, not 1"),
        ((0.0, 0.5, 0.5), "needs a positive training part"),
        ((-0.2, 0.6, 0.6), "needs a positive training part"),
        ((1.1, -0.1, 0.0), "non-negative validation and test parts"),
        ((float("nan"), 0.5, 0.5), "needs a positive training part"),
        ((0.5, 0.5), "must have three parts"),
        (("a", 0.5, 0.5), "is not three numbers"),
    ],
)
def test_bad_splits(npz_file, split, message):
    with pytest.raises(ReglabError, match=message) as info:
        load_dataset(npz_file, split=split)
    assert str(info.value).startswith(f"{npz_file}: ")


def test_a_split_that_leaves_no_training_data(tmp_path):
    path = write_npz(tmp_path / "two.npz", np.zeros((2, 1)), np.array([0, 1]))
    with pytest.raises(ReglabError, match="2 examples leave none for training"):
        load_dataset(path, split=(0.1, 0.45, 0.45))


def test_a_bad_split_is_refused_for_named_data_sets_too():
    with pytest.raises(ReglabError, match="digits: split .* sums to 2"):
        load_dataset("digits", split=(1.0, 0.5, 0.5))


def test_missing_file(tmp_path):
    with pytest.raises(ReglabError, match="nothing.npz: no such file"):
        load_dataset(str(tmp_path / "nothing.npz"))


def test_unknown_extension(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_text("whatever")
    with pytest.raises(ReglabError, match=r"data.xlsx: unknown data set \(names: auto, mnist, digits; files end in "
                                           r".npz, .csv, .pkl.gz, .pkl\)"):
        load_dataset(str(path))


# -- labels mapped to classes, standardization, scales ----------------------------------------------
@pytest.mark.parametrize(("labels", "classes"), [
    (np.array(["setosa", "virginica", "versicolor"] * 10), ("setosa", "versicolor", "virginica")),
    (np.array([1, 2, 3] * 10), (1, 2, 3)),
    (np.array([-1, 1] * 15), (-1, 1)),
    (np.array([0, 7, 3] * 10), (0, 3, 7)),
])
def test_text_and_non_contiguous_labels_become_classes_and_the_mapping_is_kept(tmp_path, labels, classes):
    X = np.arange(len(labels), dtype=float)[:, None]
    data = load_dataset(write_npz(tmp_path / "l.npz", X, labels), split=(0.6, 0.2, 0.2))
    assert data.classes == classes and data.n_classes == len(classes)
    for part in (data.train, data.validation, data.test):
        original = labels[part.X[:, 0].astype(int)]
        np.testing.assert_array_equal(np.array(data.classes)[part.y], original)  # classes[k] is label k's name


def test_labels_that_are_already_classes_keep_no_mapping(npz_file):
    assert load_dataset(npz_file).classes is None


def test_csv_text_labels_like_iris(tmp_path):
    names = ["setosa", "versicolor", "virginica"]
    rows = "\n".join(f"{i / 10},{i % 7}, {names[i % 3]} " for i in range(30))
    path = write_csv(tmp_path / "iris.csv", f"petal,sepal,species\n{rows}\n")
    data = load_dataset(path, target="species", split=(0.6, 0.2, 0.2))
    assert data.classes == tuple(names) and data.n_features == 2
    X = np.concatenate([s.X for s in (data.train, data.validation, data.test)])
    y = np.concatenate([s.y for s in (data.train, data.validation, data.test)])
    np.testing.assert_array_equal(y, np.round(X[:, 0] * 10).astype(int) % 3)  # the species of row i is names[i % 3]


def wine_like(tmp_path, n=200, seed=0):
    """Two informative features on wildly different scales (as the wine data's proline and hue)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = np.column_stack([1000 + 300 * y + 100 * rng.normal(size=n), 0.8 + 0.3 * y + 0.1 * rng.normal(size=n)])
    return write_npz(tmp_path / "wine.npz", X, y)


def test_a_note_when_feature_scales_differ_by_more_than_100x(tmp_path, npz_file):
    data = load_dataset(wine_like(tmp_path))
    assert data.note is not None and "scales differ by" in data.note and "--standardize" in data.note
    assert load_dataset(wine_like(tmp_path), standardize=True).note is None
    assert load_dataset(npz_file).note is None  # feature 0 (0..99) against feature 2 (0..1): 99x, not more than 100x
    similar = write_npz(tmp_path / "ok.npz", np.random.default_rng(0).normal(size=(50, 3)) * [1, 5, 50], np.arange(50) % 2)
    assert load_dataset(similar).note is None


def test_standardize_is_fitted_on_the_training_split_only(tmp_path):
    path = wine_like(tmp_path)
    raw, std = load_dataset(path, seed=2), load_dataset(path, seed=2, standardize=True)
    mean, sd = raw.train.X.astype(np.float64).mean(0), raw.train.X.astype(np.float64).std(0)
    np.testing.assert_allclose(std.standardization.mean, mean, rtol=1e-6)
    np.testing.assert_allclose(std.standardization.scale, sd, rtol=1e-6)
    np.testing.assert_allclose(std.train.X.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(std.train.X.std(0), 1, atol=1e-5)
    for a, b in ((raw.validation, std.validation), (raw.test, std.test)):  # the same transform, not their own
        np.testing.assert_allclose(b.X, (a.X - std.standardization.mean) / std.standardization.scale, rtol=1e-6)
        assert abs(b.X.mean()) > 1e-4


def test_a_constant_feature_is_left_centred(tmp_path):
    X = np.column_stack([np.full(20, 3.0), np.arange(20.0)])
    data = load_dataset(write_npz(tmp_path / "c.npz", X, np.arange(20) % 2), standardize=True)
    assert data.standardization.scale[0] == 1.0 and np.all(data.train.X[:, 0] == 0)


def test_standardize_turns_28_percent_into_a_network_that_learns(tmp_path):
    """The issue's case in small: raw features on scales 1000x apart stall the sigmoid network; standardized,
    the same run learns."""
    import reglab

    path = wine_like(tmp_path, n=400)
    config = reglab.TrainConfig(data=str(path), epochs=15, lmbda=(0.1,), eta=(0.5,))
    raw = reglab.train(config).fit.history.get("validation_accuracy")[-1, 0]
    std = reglab.train(config.replace(standardize=True)).fit.history.get("validation_accuracy")[-1, 0]
    assert std > 0.9 and std > raw + 0.15

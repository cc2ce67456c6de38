"""MNIST loading: tiny IDX files written here (every check), then the real files."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from reglab.data import load_dataset, load_mnist, mnist_available
from reglab.data.idx import IdxSpec, decode_idx, read_idx
from reglab.data.mnist import MNIST_FILES, mnist_status
from reglab.errors import ReglabError

TRAIN_COUNTS = [4932, 5678, 4968, 5101, 4859, 4506, 4951, 5175, 4842, 4988]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array: magic 0x0000080D, the sizes, the bytes."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_file(directory: Path, name: str, content: bytes, gz: bool) -> Path:
    path = directory / (f"{name}.gz" if gz else name)
    path.write_bytes(gzip.compress(content) if gz else content)
    return path


def tiny_mnist(data_dir: Path, *, n_train: int = 12, n_test: int = 4, gz: bool = True) -> dict[str, np.ndarray]:
    """Write four small, well-formed MNIST files into ``data_dir/mnist``; return their arrays."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.arange(n_train, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": np.arange(n_test, dtype=np.uint8) % 10,
    }
    (data_dir / "mnist").mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        write_file(data_dir / "mnist", name, idx_bytes(array), gz)
    return arrays


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "raw"])
def test_tiny_files_load_with_the_book_split(tmp_path, gz):
    arrays = tiny_mnist(tmp_path, gz=gz)
    data = load_mnist(tmp_path, verify=False)
    images = arrays["train-images-idx3-ubyte"].reshape(12, 784)
    # the last sixth of the training images is validation (10,000 of 60,000 for the real files)
    np.testing.assert_array_equal(data.train.X, images[:10] / np.float32(256))
    np.testing.assert_array_equal(data.validation.X, images[10:] / np.float32(256))
    np.testing.assert_array_equal(data.train.y, arrays["train-labels-idx1-ubyte"][:10])
    np.testing.assert_array_equal(data.test.y, arrays["t10k-labels-idx1-ubyte"])
    assert data.train.X.dtype == np.float32 and data.train.y.dtype == np.int64
    assert (data.name, data.n_classes, data.n_features, data.note) == ("mnist", 10, 784, None)


def test_tiny_files_fail_the_canonical_checks(tmp_path):
    tiny_mnist(tmp_path)
    with pytest.raises(ReglabError, match="train-images-idx3-ubyte.gz: header says 12 items, expected 60000"):
        load_mnist(tmp_path)


def test_gzip_is_preferred_when_both_forms_exist(tmp_path):
    tiny_mnist(tmp_path, gz=False)
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.full(4, 7, np.uint8))))
    assert list(load_mnist(tmp_path, verify=False).test.y) == [7, 7, 7, 7]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (idx_bytes(np.zeros((3, 28, 28), np.uint8))[:-5], "truncated: header promises 2352 data bytes, file has 2347"),
        (idx_bytes(np.zeros((3, 28, 28), np.uint8)) + b"xx", "2 bytes after the 2352 data bytes"),
        (b"\x00\x00\x08\x01" + idx_bytes(np.zeros((3, 28, 28), np.uint8))[4:], r"bad magic number 0x00000801, "
                                                                                "expected 0x00000803"),
        (b"\x00\x00\x0d\x03" + idx_bytes(np.zeros((3, 28, 28), np.uint8))[4:], "bad magic number 0x00000d03"),
        (idx_bytes(np.zeros((3, 32, 32), np.uint8)), r"items of shape \(32, 32\), expected \(28, 28\)"),
        (b"\x00\x00", "shorter than the 16-byte IDX header"),
    ],
    ids=["truncated", "trailing", "labels-magic", "float-magic", "wrong-size", "header"],
)
@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "raw"])
def test_malformed_image_files_are_named_with_the_problem(tmp_path, content, message, gz):
    path = write_file(tmp_path, "train-images-idx3-ubyte", content, gz)
    with pytest.raises(ReglabError, match=message) as info:
        read_idx(path, MNIST_FILES["train-images-idx3-ubyte"].relaxed())
    assert str(info.value).startswith(str(path.resolve()))


def test_truncated_gzip_is_reported(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(100, np.uint8)))[:-12])
    with pytest.raises(ReglabError, match="corrupt or truncated gzip data"):
        read_idx(path, IdxSpec(1))


def test_image_and_label_counts_must_agree(tmp_path):
    tiny_mnist(tmp_path)
    write_file(tmp_path / "mnist", "t10k-labels-idx1-ubyte", idx_bytes(np.zeros(5, np.uint8)), gz=True)
    with pytest.raises(ReglabError, match="t10k-images-idx3-ubyte.gz has 4 images but .*t10k-labels-idx1-ubyte.gz has 5 labels"):
        load_mnist(tmp_path, verify=False)


def test_labels_must_be_digits(tmp_path):
    tiny_mnist(tmp_path)
    write_file(tmp_path / "mnist", "t10k-labels-idx1-ubyte", idx_bytes(np.array([1, 2, 12, 3], np.uint8)), gz=True)
    with pytest.raises(ReglabError, match="label 12 is not a digit"):
        load_mnist(tmp_path, verify=False)


def test_sha256_mismatch_on_a_file_of_canonical_size(tmp_path):
    path = write_file(tmp_path, "t10k-labels-idx1-ubyte", idx_bytes(np.zeros(10_000, np.uint8)), gz=True)
    with pytest.raises(ReglabError, match="sha256 of the decompressed content is [0-9a-f]{64}, expected ff7bcfd4"):
        read_idx(path, MNIST_FILES["t10k-labels-idx1-ubyte"])


def test_sha256_is_checked_when_asked_for(tmp_path):
    content = idx_bytes(np.arange(5, dtype=np.uint8))
    with pytest.raises(ReglabError, match="here.idx: sha256"):
        decode_idx(content, IdxSpec(1, sha256="0" * 64), "here.idx")


def test_a_changed_file_is_read_again(tmp_path):
    tiny_mnist(tmp_path)
    assert list(load_mnist(tmp_path, verify=False).test.y) == [0, 1, 2, 3]
    path = write_file(tmp_path / "mnist", "t10k-labels-idx1-ubyte", idx_bytes(np.array([3, 2, 1, 0], np.uint8)), gz=True)
    os.utime(path, ns=(1, 1))  # a different stamp, whatever the clock's resolution
    assert list(load_mnist(tmp_path, verify=False).test.y) == [3, 2, 1, 0]


def test_loads_give_fresh_arrays(tmp_path):
    tiny_mnist(tmp_path)
    first = load_mnist(tmp_path, verify=False)
    first.train.X[:] = -1
    assert load_mnist(tmp_path, verify=False).train.X.min() >= 0


def test_missing_files(tmp_path):
    assert not mnist_available(tmp_path)
    with pytest.raises(ReglabError, match=r"train-images-idx3-ubyte\[.gz\] not found in .*; get MNIST with: reglab "
                                           "data fetch mnist"):
        load_mnist(tmp_path)
    assert [s.state for s in mnist_status(tmp_path)] == ["missing"] * 4


def test_real_mnist_has_the_books_split(shared_data_dir):
    assert mnist_available(shared_data_dir)
    data = load_mnist(shared_data_dir)
    assert (len(data.train), len(data.validation), len(data.test)) == (50_000, 10_000, 10_000)
    assert np.bincount(data.train.y).tolist() == TRAIN_COUNTS
    assert np.bincount(data.test.y).tolist() == TEST_COUNTS
    assert data.train.X.shape == (50_000, 784) and data.train.X.dtype == np.float32
    assert data.train.X.min() == 0 and data.train.X.max() == np.float32(255 / 256)
    assert np.all(data.train.X * 256 == np.round(data.train.X * 256))  # exactly byte / 256
    assert data.train.y.dtype == np.int64
    assert load_dataset("auto", shared_data_dir).name == "mnist"


def test_real_files_check_out(shared_data_dir):
    rows = mnist_status(shared_data_dir)
    assert [r.state for r in rows] == ["OK"] * 4, rows


def test_one_bad_real_file_is_named(shared_data_dir, tmp_path):
    (tmp_path / "mnist").mkdir()
    for name in MNIST_FILES:
        (tmp_path / "mnist" / f"{name}.gz").symlink_to(shared_data_dir / "mnist" / f"{name}.gz")
    bad = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    bad.unlink()
    bad.write_bytes(gzip.compress(idx_bytes(np.zeros(10_000, np.uint8))))
    with pytest.raises(ReglabError, match="t10k-labels-idx1-ubyte.gz: sha256"):
        load_mnist(tmp_path)
    assert [r.state for r in mnist_status(tmp_path)] == ["OK", "OK", "OK", "bad"]

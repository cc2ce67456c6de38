"""Image transforms: the book's one-pixel shifts on a hand-made 3×3 image, the expansion, random shifts and rotations."""

import numpy as np
import pytest
import torch

from reglab.data.augment import Augment, expand_shifts, image_side, rotate_into, shift
from reglab.errors import ReglabError

IMAGE = np.arange(1, 10, dtype=np.float32).reshape(1, 9)  # 1 2 3 / 4 5 6 / 7 8 9


@pytest.mark.parametrize("dy,dx,expected", [
    (1, 0, [[0, 0, 0], [1, 2, 3], [4, 5, 6]]),  # down
    (-1, 0, [[4, 5, 6], [7, 8, 9], [0, 0, 0]]),  # up
    (0, 1, [[0, 1, 2], [0, 4, 5], [0, 7, 8]]),  # right
    (0, -1, [[2, 3, 0], [5, 6, 0], [8, 9, 0]]),  # left
    (1, 1, [[0, 0, 0], [0, 1, 2], [0, 4, 5]]),
    (0, 0, [[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
])
def test_a_shift_moves_the_pixels_and_fills_with_zeros(dy, dx, expected):
    assert shift(IMAGE, 3, dy, dx).reshape(3, 3).tolist() == expected


def test_the_books_expansion_of_a_3x3_image_is_the_image_and_its_four_shifts():
    X = np.concatenate([IMAGE, 10 * IMAGE])  # two images
    y = np.array([3, 7])
    X5, y5 = expand_shifts(X, y, 3)
    assert X5.shape == (10, 9) and X5.dtype == np.float32 and y5.tolist() == [3, 7] * 5
    blocks = X5.reshape(5, 2, 3, 3)
    assert blocks[0, 0].tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert blocks[1, 0].tolist() == [[0, 0, 0], [1, 2, 3], [4, 5, 6]]  # down
    assert blocks[2, 1].tolist() == [[40, 50, 60], [70, 80, 90], [0, 0, 0]]  # up, the second image
    assert blocks[3, 0].tolist() == [[0, 1, 2], [0, 4, 5], [0, 7, 8]]  # right
    assert blocks[4, 0].tolist() == [[2, 3, 0], [5, 6, 0], [8, 9, 0]]  # left
    assert expand_shifts(X, y, 3, dtype=np.float64)[0].dtype == np.float64


def test_the_expansion_matches_the_books_roll_and_zero_on_mnist_sized_images():
    rng = np.random.default_rng(0)
    X = rng.random((4, 784), dtype=np.float32)
    X5, _ = expand_shifts(X, np.zeros(4, dtype=np.int64), 28)
    for k, (d, axis, zero) in enumerate([(1, 0, (0, None)), (-1, 0, (27, None)), (1, 1, (None, 0)), (-1, 1, (None, 27))], 1):
        for i in range(4):  # Nielsen's expand_mnist.py: np.roll, then the wrapped row or column set to 0
            book = np.roll(X[i].reshape(28, 28), d, axis)
            if zero[0] is not None:
                book[zero[0], :] = 0
            else:
                book[:, zero[1]] = 0
            assert np.array_equal(X5[k * 4 + i].reshape(28, 28), book)


def test_a_rotation_by_90_degrees_is_rot90_and_by_0_the_image():
    X = torch.from_numpy(np.concatenate([IMAGE, IMAGE]))
    out = torch.empty_like(X)
    rotate_into(X, 3, torch.tensor([90.0, 0.0]), out)
    np.testing.assert_allclose(out[0].view(3, 3).numpy(), np.rot90(IMAGE.reshape(3, 3)), atol=1e-5)
    np.testing.assert_allclose(out[1].numpy(), IMAGE[0], atol=1e-6)
    rotate_into(X, 3, torch.tensor([-90.0, 180.0]), out)
    np.testing.assert_allclose(out[0].view(3, 3).numpy(), np.rot90(IMAGE.reshape(3, 3), -1), atol=1e-5)
    np.testing.assert_allclose(out[1].view(3, 3).numpy(), np.rot90(IMAGE.reshape(3, 3), 2), atol=1e-5)


def test_a_rotation_by_45_degrees_interpolates_bilinearly():
    X = torch.zeros(1, 9, dtype=torch.float64)
    X[0, 4] = 1.0  # the centre, which stays
    X[0, 1] = 1.0  # the top middle pixel, which turns towards the top left corner
    out = torch.empty_like(X)
    rotate_into(X, 3, torch.tensor([45.0]), out)
    img = out.view(3, 3)
    assert img[1, 1].item() == pytest.approx(1.0)
    # output (0, 0) is (−1, −1) from the centre; turned back by 45° that is (−√2, 0): the input at row
    # 1 − √2 ≈ −0.414, column 1, between row −1 (outside: 0) and row 0 (the pixel 1), 0.586 of the way
    assert img[0, 0].item() == pytest.approx(2 - 2**0.5)
    assert img[2, 2].item() == pytest.approx(0.0, abs=1e-12)  # nothing comes from the bottom


def test_random_augmentation_is_drawn_from_the_generator_and_keeps_the_pixels_with_shifts():
    rng = np.random.default_rng(1)
    X = torch.from_numpy(rng.random((500, 64), dtype=np.float32))
    out1, out2, out3 = (torch.empty_like(X) for _ in range(3))
    aug = Augment.parse(["shift:1"], side=8)
    aug(X, torch.Generator().manual_seed(5), out1)
    aug(X, torch.Generator().manual_seed(5), out2)
    aug(X, torch.Generator().manual_seed(6), out3)
    assert torch.equal(out1, out2) and not torch.equal(out1, out3)
    g = torch.Generator().manual_seed(5)
    dy, dx = torch.randint(-1, 2, (500,), generator=g), torch.randint(-1, 2, (500,), generator=g)
    for i in (0, 1, 77, 499):  # each image is its own draw's exact shift
        assert np.array_equal(out1[i].numpy(), shift(X[i : i + 1].numpy(), 8, int(dy[i]), int(dx[i]))[0])
    assert len({(int(a), int(b)) for a, b in zip(dy, dx)}) == 9


def test_rotation_and_shift_together():
    X = torch.from_numpy(np.random.default_rng(2).random((50, 784), dtype=np.float32))
    out = torch.empty_like(X)
    Augment.parse(["rotate:15", "shift:2"], side=28)(X, torch.Generator().manual_seed(0), out)
    assert out.dtype == torch.float32 and not torch.equal(out, X)
    assert float(out.min()) >= 0 and float(out.max()) <= 1 + 1e-6  # bilinear: a convex mix of pixels and zeros


@pytest.mark.parametrize("specs,message", [
    (["zoom:2"], "expected shift:PIXELS"), (["shift:1.5"], "whole number of pixels"), (["rotate:-3"], "amounts ≥ 0"),
    (["shift:1", "shift:2"], "each at most once"), (["shift:8"], "below the side, 8"),
])
def test_bad_specs_are_one_line_errors(specs, message):
    with pytest.raises(ReglabError, match=message):
        Augment.parse(specs, side=8)


def test_images_must_be_square():
    assert image_side(784) == 28
    with pytest.raises(ReglabError, match="inputs have 5 features"):
        image_side(5)
    assert Augment.parse(["rotate:15", "shift:1"], side=28).specs() == ["shift:1", "rotate:15"]

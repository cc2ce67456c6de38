"""The book's script end to end: reglab.compat.network2 against the original's per-epoch time, in one run.

The script is chapter 3's seed run::

    net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
    net.large_weight_initializer()
    net.SGD(training_data, 30, 10, 0.1, lmbda=5.0, evaluation_data=validation_data,
            monitor_evaluation_accuracy=True)

* reglab: the whole ``SGD`` call of ``--epochs`` epochs (reading the 50,000 pairs,
  every shuffle, training, the validation accuracy after every epoch, writing the
  weights back), float64 (the default) and float32; and its parts: reading the
  pairs into arrays (and casting them to the engine's type), and one epoch's shuffle
  against ``random.shuffle`` of the 50,000-element list.
* the book's code: a per-example numpy loop written here in the shape of the
  original network2.py (``backprop`` one column at a time, gradients summed in
  Python lists, the update of ``update_mini_batch``; per epoch the shuffle of the
  50,000-element list and ``accuracy`` on the validation data twice, as the
  original's print calls it again). With ``--original PATH`` (the book's
  ``src/network2.py``; Python 2 source is translated with lib2to3 in memory, not
  written anywhere) the original is timed the same way beside it, and the faster of
  the two stands for the book. Both are timed on ``--subset`` training examples and
  1,000 validation examples and scaled to 50,000 and 10,000.

Rounds alternate between them so that all see the same machine load; the best
round of each is reported. Run::

    python benchmarks/bench_network2.py --data-dir ../shared/data [--original network2.py] [--write benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import sys
import types
from pathlib import Path

import numpy as np

from reglab.compat import mnist_loader, network2
from reglab.compat.shuffle import shuffle
from results import machine, report, seconds

SIZES = [784, 30, 10]
ETA, LMBDA, BATCH = 0.1, 5.0, 10


# --------------------------------------------------------------------------------------------
# The stand-in for the original: one example at a time, as the book's code does it
# --------------------------------------------------------------------------------------------
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


class PerExample:
    """The book's algorithm in the book's shape: column vectors, Python loops over examples."""

    def __init__(self, weights, biases):
        self.weights = [w.copy() for w in weights]
        self.biases = [b.copy() for b in biases]

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a) + b)
        return a

    def backprop(self, x, y):
        grad_b = [np.zeros(b.shape) for b in self.biases]
        grad_w = [np.zeros(w.shape) for w in self.weights]
        activation, activations, zs = x, [x], []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = activations[-1] - y  # cross-entropy
        grad_b[-1], grad_w[-1] = delta, np.dot(delta, activations[-2].transpose())
        for l in range(2, len(self.weights) + 1):
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * sigmoid_prime(zs[-l])
            grad_b[-l], grad_w[-l] = delta, np.dot(delta, activations[-l - 1].transpose())
        return grad_b, grad_w

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        sum_b = [np.zeros(b.shape) for b in self.biases]
        sum_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            db, dw = self.backprop(x, y)
            sum_b = [s + d for s, d in zip(sum_b, db)]
            sum_w = [s + d for s, d in zip(sum_w, dw)]
        m = len(mini_batch)
        self.weights = [(1 - eta * (lmbda / n)) * w - (eta / m) * s for w, s in zip(self.weights, sum_w)]
        self.biases = [b - (eta / m) * s for b, s in zip(self.biases, sum_b)]

    def accuracy(self, data):
        return sum(int(np.argmax(self.feedforward(x)) == y) for x, y in data)


def load_original(path: str) -> types.ModuleType:
    """The book's network2.py as a module; Python 2 source is translated in memory (lib2to3's fixers)."""
    source = Path(path).read_text()
    try:
        compile(source, path, "exec")
    except SyntaxError:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from lib2to3.refactor import RefactoringTool, get_fixers_from_package

            source = str(RefactoringTool(get_fixers_from_package("lib2to3.fixes")).refactor_string(source + "\n", path))
    module = types.ModuleType("network2_original")
    exec(compile(source, path, "exec"), module.__dict__)
    return module


def book_epoch(net, training_data, validation_data, subset: int) -> float:
    """Seconds of one epoch of the book's loop on all of ``training_data``, measured on ``subset`` examples and
    scaled: the shuffle of the whole list, the mini-batches, and the validation accuracy twice."""
    full = list(training_data)
    shuffle_s = seconds(lambda: random.shuffle(full))
    batch = full[:subset]
    train_s = seconds(lambda: [net.update_mini_batch(batch[k : k + BATCH], ETA, LMBDA, len(full))
                               for k in range(0, subset, BATCH)])
    probe = validation_data[:1000]
    evaluate_s = seconds(lambda: net.accuracy(probe))
    return shuffle_s + train_s * len(full) / subset + 2 * evaluate_s * len(validation_data) / len(probe)


def reglab_call(training_data, validation_data, dtype: str, seed: int, epochs: int) -> float:
    """Seconds of the whole SGD call of the script (its printing to a buffer)."""
    np.random.seed(seed)
    random.seed(seed)
    net = network2.Network(SIZES, cost=network2.CrossEntropyCost, dtype=dtype)
    net.large_weight_initializer()
    with contextlib.redirect_stdout(io.StringIO()):
        return seconds(lambda: net.SGD(training_data, epochs, BATCH, ETA, lmbda=LMBDA, evaluation_data=validation_data,
                                       monitor_evaluation_accuracy=True))


def reading(training_data, dtype: str) -> tuple[float, float]:
    """Seconds to read the pairs into arrays, and to cast them to the engine's type, as ``SGD`` does (the
    targets only, for a float64 network: its compiled steps read the float32 images as they are)."""
    net = network2.Network(SIZES, dtype=dtype)
    read = seconds(lambda: network2.as_examples(training_data, 10))
    examples = network2.as_examples(training_data, 10)
    cast = seconds(lambda: net._arrays(examples, rows=True, narrow=True))
    return read, cast


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="data directory holding mnist/ (default: $REGLAB_DATA, else ~/.cache/reglab)")
    parser.add_argument("--rounds", type=int, default=3, help="alternated rounds; the best is reported (default: 3)")
    parser.add_argument("--subset", type=int, default=5000, help="training images the book's loop is timed on")
    parser.add_argument("--epochs", type=int, default=30, help="epochs of reglab's SGD call (default: 30, the script's)")
    parser.add_argument("--original", metavar="PATH", help="the book's network2.py, timed beside the stand-in")
    parser.add_argument("--write", metavar="FILE", help="also write the figures as a section of FILE (Markdown)")
    args = parser.parse_args(argv)

    training_data, validation_data, _ = mnist_loader.load_data_wrapper(args.data_dir)
    n = len(training_data)
    original = load_original(args.original) if args.original else None
    reglab_call(training_data[:1000], validation_data[:100], "float64", 0, 1)  # compile or load the kernels
    reglab_call(training_data[:1000], validation_data[:100], "float32", 0, 1)
    times: dict[str, list[float]] = {"per-example stand-in": [], "reglab float64": [], "reglab float32": []}
    if original is not None:
        times["the original network2.py"] = []
    parts: dict[str, list[float]] = {"read": [], "cast64": [], "cast32": [], "shuffle": [], "random.shuffle": []}
    for r in range(args.rounds):
        np.random.seed(r)
        book = network2.Network(SIZES)
        book.large_weight_initializer()
        times["per-example stand-in"].append(book_epoch(PerExample(book.weights, book.biases), training_data,
                                                        validation_data, args.subset))
        if original is not None:
            net = original.Network(SIZES, cost=original.CrossEntropyCost)
            net.weights, net.biases = [w.copy() for w in book.weights], [b.copy() for b in book.biases]
            times["the original network2.py"].append(book_epoch(net, training_data, validation_data, args.subset))
        for dtype in ("float64", "float32"):
            times[f"reglab {dtype}"].append(reglab_call(training_data, validation_data, dtype, r, args.epochs) / args.epochs)
        read, cast64 = reading(training_data, "float64")
        parts["read"].append(read)
        parts["cast64"].append(cast64)
        parts["cast32"].append(reading(training_data, "float32")[1])
        order, as_list = np.arange(n), list(range(n))
        parts["shuffle"].append(seconds(lambda order=order: shuffle(order)))
        parts["random.shuffle"].append(seconds(lambda as_list=as_list: random.shuffle(as_list)))
    best = {k: min(v) for k, v in times.items()}
    fastest = {k: min(v) for k, v in parts.items()}
    book_name = min((k for k in best if not k.startswith("reglab")), key=best.get)  # the faster: no flattery
    book_s = best[book_name]

    lines = [f"machine: {machine()}; numpy {np.__version__}",
             f"the seed script: SGD(training_data, {args.epochs}, 10, 0.1, lmbda=5.0, evaluation_data=validation_data, "
             f"monitor_evaluation_accuracy=True) on {n:,} images; the best of {args.rounds} alternated rounds",
             "",
             "| code | seconds per epoch | end to end vs the book |",
             "|---|---|---|"]
    for name, value in best.items():
        what = "the whole SGD call / epochs" if name.startswith("reglab") else f"measured on {args.subset:,} images, scaled"
        ratio = f"{book_s / value:.1f}×" if name.startswith("reglab") else ("the book" if name == book_name else "—")
        lines.append(f"| {name} ({what}) | {value:.3f} | {ratio} |")
    if original is not None:
        lines += ["", f"the stand-in runs at {best['the original network2.py'] / best['per-example stand-in']:.2f}× "
                      "the original's speed; the faster of the two is the book above"]
    lines += ["",
              f"reading the {n:,} pairs into arrays: {fastest['read']:.3f} s; casting them for the engine: "
              f"{fastest['cast64']:.3f} s (float64: the targets; the images are read as float32), "
              f"{fastest['cast32']:.3f} s (float32)",
              f"one epoch's shuffle: {1e3 * fastest['shuffle']:.1f} ms (random.shuffle of the list: "
              f"{1e3 * fastest['random.shuffle']:.1f} ms; the same permutation, bit for bit)"]
    report(lines, args.write, "bench_network2", "python benchmarks/bench_network2.py" +
           (" --original network2.py" if original is not None else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

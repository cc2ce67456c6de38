"""One epoch of the book's script: reglab.compat.network2 vs a per-example numpy loop, in one run.

The script is chapter 3's ``Network([784, 30, 10])``, large initialization,
``SGD(training_data, ·, 10, 0.1, lmbda=5.0, evaluation_data=validation_data,
monitor_evaluation_accuracy=True)`` on the 50,000 MNIST training images.

* reglab: ``reglab.compat.network2`` (float64, the default; and float32), one
  ``SGD`` call of ``--epochs`` epochs; an epoch is the time between two
  "Epoch j training complete" lines (its training and the evaluation after the
  previous one). The first epoch, which also stacks the 50,000 pairs into one
  array, is reported apart.
* the book's code: a per-example numpy loop written here with the structure of
  the original network2.py (``backprop`` one column at a time, gradients summed
  in Python lists, the update of ``update_mini_batch``, and per epoch a shuffle
  of the 50,000-element list and ``accuracy`` on the validation data, twice, as
  the original's print calls it again). It is timed on ``--subset`` training
  examples and 1,000 validation examples and scaled to 50,000 and 10,000.

Rounds alternate between the two so that both see the same machine load;
medians are reported. Run: ``python benchmarks/bench_network2.py [--data-dir DIR]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import statistics
import time

import numpy as np
import torch

from reglab.compat import mnist_loader, network2


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


def time_per_example(net, training_data, validation_data, subset, n_train, n_validation, eta, lmbda):
    """Seconds for one epoch of the original on ``n_train`` images, measured on ``subset`` and scaled."""
    full = list(training_data)
    t = time.perf_counter()
    random.shuffle(full)  # the whole list, as the original does each epoch
    shuffle = time.perf_counter() - t
    batch = full[:subset]
    t = time.perf_counter()
    for k in range(0, subset, 10):
        net.update_mini_batch(batch[k : k + 10], eta, lmbda, n_train)
    train = (time.perf_counter() - t) * n_train / subset
    probe = validation_data[:1000]
    t = time.perf_counter()
    net.accuracy(probe)
    evaluate = (time.perf_counter() - t) * n_validation / len(probe) * 2  # the original calls accuracy twice
    return shuffle + train + evaluate


class EpochClock(io.StringIO):
    """Standard output that notes the time of each "Epoch j training complete" line."""

    def __init__(self):
        super().__init__()
        self.marks = [time.perf_counter()]

    def write(self, text):
        if text.startswith("Epoch "):
            self.marks.append(time.perf_counter())
        return super().write(text)


def time_reglab(training_data, validation_data, eta, lmbda, dtype, seed, epochs):
    """``(first epoch, later epochs' median)`` in seconds, for one SGD call of ``epochs`` epochs."""
    np.random.seed(seed)
    net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost, dtype=dtype)
    net.large_weight_initializer()
    clock = EpochClock()
    with contextlib.redirect_stdout(clock):
        net.SGD(training_data, epochs, 10, eta, lmbda=lmbda, evaluation_data=validation_data,
                monitor_evaluation_accuracy=True)
    gaps = np.diff(clock.marks)
    return gaps[0], float(np.median(gaps[1:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="data directory holding mnist/ (default: $REGLAB_DATA, else ~/.cache/reglab)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported (default: 3)")
    parser.add_argument("--subset", type=int, default=5000, help="training images the per-example loop is timed on")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of each reglab SGD call (at least 2)")
    args = parser.parse_args()

    training_data, validation_data, _ = mnist_loader.load_data_wrapper(args.data_dir)
    n, n_val, eta, lmbda = len(training_data), len(validation_data), 0.1, 5.0
    times = {"reglab float64": [], "reglab float32": [], "per-example numpy": []}
    first = {"reglab float64": [], "reglab float32": []}
    for r in range(args.rounds):
        for dtype in ("float64", "float32"):
            start, epoch = time_reglab(training_data, validation_data, eta, lmbda, dtype, r, max(args.epochs, 2))
            first[f"reglab {dtype}"].append(start)
            times[f"reglab {dtype}"].append(epoch)
        np.random.seed(r)
        book = network2.Network([784, 30, 10])
        book.large_weight_initializer()
        times["per-example numpy"].append(
            time_per_example(PerExample(book.weights, book.biases), training_data, validation_data,
                             args.subset, n, n_val, eta, lmbda))
    median = {k: statistics.median(v) for k, v in times.items()}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"one epoch of the script: 50,000 training images, then the validation accuracy; {args.rounds} rounds, "
          f"medians; {os.cpu_count()} CPUs, load average {load:.2f} at the end, torch {torch.__version__}")
    for name, value in median.items():
        runs = ", ".join(f"{v:.2f}" for v in times[name])
        extra = f"; first epoch {statistics.median(first[name]):.2f} s" if name in first else ""
        print(f"  {name:<18} {value:6.2f} s/epoch   (rounds: {runs}{extra})")
    book_s = median["per-example numpy"]
    for name in ("reglab float64", "reglab float32"):
        print(f"  speed-up of {name} over the per-example loop: {book_s / median[name]:.1f}x")


if __name__ == "__main__":
    main()

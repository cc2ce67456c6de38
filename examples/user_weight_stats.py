"""A reader's script from chapter 3 of Nielsen's book: what does L2 do to the weights?

It trains the book's network with λ = 5 from the large initialization and
prints, per layer, the sum, the L1 norm and the variance of the weights before
and after training. Written for the book's ``network2.py``; to run it on reglab
only the two imports changed:

    import mnist_loader   ->  from reglab.compat import mnist_loader
    import network2       ->  from reglab.compat import network2

MNIST is read from $REGLAB_DATA/mnist (else ~/.cache/reglab/mnist; get it with
``reglab data fetch mnist``); without it the script says so in one line and
exits 1. Run: ``python examples/user_weight_stats.py``.
"""

import random

import numpy as np

from reglab import ReglabError
from reglab.compat import (
    mnist_loader,  # was: import mnist_loader
    network2,  # was: import network2
)
from reglab.compat.network2 import CrossEntropyCost  # was: from network2 import CrossEntropyCost


def weight_stats(net, title):
    print(title)
    for layer, w in enumerate(net.weights, start=1):
        print("  layer %d %-9s sum %9.3f   L1 norm %10.2f   variance %.5f"
              % (layer, "%dx%d" % w.shape, np.sum(w), np.sum(np.abs(w)), np.var(w)))


random.seed(12345678)  # the seeds the book's own scripts use
np.random.seed(12345678)

try:
    training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
except ReglabError as exc:  # MNIST is not there: say where to get it, in one line (not a traceback)
    raise SystemExit(f"user_weight_stats.py: {exc}") from None
net = network2.Network([784, 30, 10], cost=CrossEntropyCost)
net.large_weight_initializer()
before = [w.copy() for w in net.weights]

weight_stats(net, "Before training:")
evaluation_cost, evaluation_accuracy, training_cost, training_accuracy = net.SGD(
    training_data, 30, 10, 0.1, lmbda=5.0,
    evaluation_data=validation_data, monitor_evaluation_accuracy=True)
weight_stats(net, "After training:")

print("Change of each layer's L1 norm: %s" % ", ".join(
    "%.1f%%" % (100.0 * (np.sum(np.abs(w)) / np.sum(np.abs(w0)) - 1)) for w, w0 in zip(net.weights, before)))
print("Best validation accuracy: %d / %d" % (max(evaluation_accuracy), len(validation_data)))

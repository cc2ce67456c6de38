"""The names the CLI offers, in a module that imports nothing heavy (``reglab --help`` stays fast).

Each is checked against the registry that implements it in ``tests/test_choices.py``.
"""

ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")
COSTS = ("cross-entropy", "quadratic", "log-likelihood")
INITIALIZERS = ("large", "default", "he", "glorot")
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
REGULARIZERS = ("none", "l2", "l1", "l1-prox", "elastic", "decay")
ENGINES = ("auto", "compiled", "tensor")  # reglab.engine.steps.make_steps
TRAIN_MEASURES = ("exact", "running")  # reglab.engine.monitors.Monitor.train

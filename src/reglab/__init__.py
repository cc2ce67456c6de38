"""reglab: a laboratory for regularization in neural networks."""

__version__ = "0.1.0"

"""Drop-in versions of the book's code, running on reglab's engine.

* :mod:`reglab.compat.network2` — the API of Michael Nielsen's ``network2.py``
  (chapter 3 of *Neural Networks and Deep Learning*);
* :mod:`reglab.compat.mnist_loader` — its ``mnist_loader.py``, reading MNIST
  through reglab's data directory.

A script written for the book runs with only its imports changed::

    from reglab.compat import mnist_loader, network2
"""

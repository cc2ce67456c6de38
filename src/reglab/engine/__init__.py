"""The engine: the math and the one training loop. Nothing here writes files or prints.

=================  ==========================================================
``nn``             activations and costs, each with its derivative beside it
``model``          the batched MLP (``M`` models as ``(M, n_out, n_in)`` tensors)
``regularizers``   ``penalty`` / ``grad`` / ``prox`` objects that compose (max-norm too)
``dropout``        inverted dropout: rates per layer, masks from a counter-based stream
``optim``          SGD, momentum, Adam (the ``Optimizer`` protocol)
``data``           the splits on the training device (``TensorData``)
``threads``        how many CPU threads torch uses, chosen in one place
``kernel``         the numba kernels (one epoch of every model per call)
``compiled``       the one door into the kernel: when it may run, its arguments
``compiling``      a first run's compilation of the kernel in a second process
``steps``          an epoch's steps as tensor operations or as one kernel call
``monitors``       what each epoch's record holds (``Monitor``)
``history``        the records of every epoch, as numpy (``History``; no torch)
``loop``           ``fit``, the one loop, and its callbacks
=================  ==========================================================
"""

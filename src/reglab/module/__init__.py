"""reglab for your own PyTorch model: the engine's regularizers, schedules and weight monitors on any ``nn.Module``.

::

    reg = reglab.regularize(model, reglab.L2(5.0) + reglab.L1Prox(1e-4), n=len(train_set), per_layer={"fc2": 0.1})
    print(reg.audit())                       # every parameter: regularized or not, why, λ in every system's units
    loss = criterion(model(x), y) + reg.penalty()
    loss.backward(); optimizer.step(); reg.step(optimizer)
    # or: optimizer = reglab.wrap(optimizer, reg), whose step() does both
    monitor = reglab.WeightMonitor(model, out="runs/cnn")

* :mod:`reglab.module.masks` — which parameters, and their multipliers (masks as data);
* :mod:`reglab.module.regularization` — :func:`regularize`, :func:`wrap`, :class:`Regularization`;
* :mod:`reglab.module.audit` — the audit table and the unit conversions it prints;
* :mod:`reglab.module.monitor` — :class:`WeightMonitor`.
"""

from reglab.module.audit import Audit, Unit
from reglab.module.masks import Entry
from reglab.module.monitor import WeightMonitor
from reglab.module.regularization import Regularization, regularize, wrap

__all__ = ["Audit", "Entry", "Regularization", "Unit", "WeightMonitor", "regularize", "wrap"]

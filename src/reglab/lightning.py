"""reglab's regularization and weight monitor in a PyTorch Lightning ``Trainer`` (the ``lightning`` extra).

::

    from reglab.lightning import RegularizationCallback
    trainer = Trainer(callbacks=[RegularizationCallback(reglab.L2(5.0) + reglab.L1Prox(1e-4), monitor=True)])

At the start of training the callback binds the regularizer to the ``LightningModule``
(:func:`reglab.regularize`, ``n`` the training set's length unless given) and hooks it into each of
the trainer's optimizers (:func:`reglab.wrap`): every real optimizer step adds the coupled gradient
(after Lightning's closure, so after gradient accumulation and clipping) and applies the proximal,
decoupled and constraint parts after the step; a step that mixed precision skips skips them too. The
training step returns its loss unchanged. The penalty ``Ω(w)`` is logged as ``reglab/penalty``.
With ``monitor`` a :class:`reglab.WeightMonitor` records after optimizer steps and writes its files
into the trainer's log folder (``weights/``) at the end, and to its TensorBoard logger when it has one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reglab.engine.regularizers import Regularizer
from reglab.engine.schedules import Schedule
from reglab.errors import ReglabError
from reglab.module import Regularization, WeightMonitor, regularize
from reglab.module.masks import MaskSpec

try:
    import lightning.pytorch as pl
except ImportError:  # the older package name, or none
    try:
        import pytorch_lightning as pl  # type: ignore[no-redef]
    except ImportError:
        pl = None  # type: ignore[assignment]

MISSING = "reglab.lightning.RegularizationCallback needs PyTorch Lightning: pip install 'reglab[lightning]'"


class RegularizationCallback(pl.Callback if pl is not None else object):  # type: ignore[misc]
    """Regularize (and optionally monitor) the ``LightningModule`` a ``Trainer`` fits.

    Parameters
    ----------
    regularizer : Regularizer
        As for :func:`reglab.regularize`.
    n : int, optional
        The training-set size (default: ``len`` of the training dataloader's dataset).
    mask, per_layer, schedule, decay
        As for :func:`reglab.regularize`.
    monitor : bool or dict
        ``True`` for a :class:`~reglab.WeightMonitor` with its defaults, a dict for its keyword arguments.
    """

    def __init__(self, regularizer: Regularizer, n: int | None = None, *, mask: MaskSpec = "weights",
                 per_layer: Mapping[str, float] | None = None, schedule: Schedule | None = None, decay: str = "lr",
                 monitor: bool | Mapping[str, Any] = False):
        if pl is None:
            raise ReglabError(MISSING)
        self.regularizer, self.n = regularizer, n
        self.options: dict[str, Any] = {"mask": mask, "per_layer": per_layer, "schedule": schedule, "decay": decay}
        self.monitor_options = dict(monitor) if isinstance(monitor, Mapping) else ({} if monitor else None)
        self.reg: Regularization | None = None
        self.monitor: WeightMonitor | None = None
        self._hooks: list[Any] = []

    def _n(self, trainer: pl.Trainer) -> int:
        if self.n is not None:
            return self.n
        try:
            return len(trainer.train_dataloader.dataset)  # type: ignore[union-attr]
        except (AttributeError, TypeError):
            raise ReglabError("RegularizationCallback could not tell the training-set size from the dataloader: "
                              "give n=") from None

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.reg = regularize(pl_module, self.regularizer, self._n(trainer), **self.options)
        for optimizer in trainer.optimizers:
            self.reg.attach(optimizer)
        if self.monitor_options is not None:
            options = dict(self.monitor_options)
            options.setdefault("out", Path(trainer.log_dir or trainer.default_root_dir) / "weights")
            experiment = getattr(trainer.logger, "experiment", None)
            if "writer" not in options and hasattr(experiment, "add_histogram"):
                options["writer"] = experiment  # a TensorBoardLogger's SummaryWriter
            self.monitor = WeightMonitor(pl_module, **options)
            monitor = self.monitor
            self._hooks = [o.register_step_post_hook(lambda *_: monitor.step()) for o in trainer.optimizers]

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        every = max(int(getattr(trainer, "log_every_n_steps", 50)), 1)
        if self.reg is not None and trainer.global_step % every == 0:
            pl_module.log("reglab/penalty", self.reg.value().float(), on_step=True, on_epoch=False)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.monitor is not None:
            self.monitor.epoch()

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.reg is not None:
            self.reg.detach()
        for hook in self._hooks:
            hook.remove()
        self._hooks = []
        if self.monitor is not None:
            self.monitor.close()

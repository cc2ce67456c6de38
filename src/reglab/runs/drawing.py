"""A run's figures, drawn here or in a helper process that loads matplotlib while the run trains.

Importing matplotlib and drawing a run folder's three PNGs costs about a
second and a half of CPU, where a 30-epoch run on the 8×8 digits trains in a
tenth of one. :class:`Drawer` starts a Python process as soon as a command
knows it will write a run folder (``reglab run`` and ``reglab train`` start it
before they import torch); that process imports matplotlib and loads its fonts
while this one imports and trains (on a machine with a core to spare, at no
cost in wall-clock time) and, once the run is done, draws its figures from what
:meth:`Drawer.draw` sends it: the history, the models' settings and the
weights, as plain numpy data (the helper never imports torch). Where the
system can fork and the helper had a core to itself, it draws each figure in
a process of its own forked from it, matplotlib already loaded, so that the
three share the cores that this process leaves idle while it waits
(:func:`write_forked`, :func:`serve`). Each figure is
written atomically, and :meth:`Drawer.draw` returns when they all are, so the
run folder is complete before ``summary.json`` is written and nothing is left
running after the command. Where the helper cannot start or fails, the same
figures are drawn in this process instead.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reglab.engine.history import History
from reglab.io import save_figure
from reglab.provenance import usable_cores

#: The helper's program: ``-c`` puts the working directory first on ``sys.path``, where a user's own
#: ``numpy.py`` would shadow numpy; it is taken off before anything is imported.
_HELPER = "import sys; del sys.path[0]; from reglab.runs.drawing import serve; serve()"


@dataclass
class Figures:
    """What a run folder's figures are drawn from (plain data: it travels to the helper pickled)."""

    history: History
    models: list[dict]
    sizes: list[int]
    train_measure: str
    initial: dict[str, np.ndarray]
    final: dict[str, np.ndarray]

    def drawings(self) -> dict[str, Callable[[], Any]]:
        """Each figure's file name and the function that draws it (a :class:`matplotlib.figure.Figure`)."""
        from reglab.runs import plots

        return {
            "accuracy_cost.png": lambda: plots.accuracy_and_cost(self.history, self.models, self.train_measure),
            "layer_rms.png": lambda: plots.layer_rms(self.history, self.models, self.sizes),
            "weight_histograms.png": lambda: plots.weight_histograms(self.initial, self.final),
        }

    def write(self, out: Path, names: Sequence[str] | None = None) -> None:
        """Draw each figure (those ``names`` only, if given) and write it into ``out``
        (``accuracy_cost.png``, ``layer_rms.png``, ``weight_histograms.png``), atomically."""
        for name, draw in self.drawings().items():
            if names is None or name in names:
                save_figure(draw(), out / name)


def write_forked(figures: Figures, out: Path) -> None:
    """:meth:`Figures.write`, each figure but the first drawn by a child forked from this process.

    The children inherit what this process has loaded (matplotlib, its fonts), so they start drawing at
    once and the figures take the time of the longest rather than of all three, wherever the cores are free.
    A figure whose child failed is drawn again here; without ``os.fork`` (Windows), or with one core to
    run on, they are all drawn here in turn. Returns when every figure is written.
    """
    names = list(figures.drawings())
    if not hasattr(os, "fork") or usable_cores() < 2:
        figures.write(out)
        return
    children: dict[int, str] = {}
    gc.freeze()  # the children's collector leaves the objects made so far alone: fewer pages copied into them
    try:
        for name in names[1:]:
            pid = os.fork()
            if pid == 0:  # the child: draw one figure and leave without running this process's exit handlers
                code = 1
                try:
                    figures.write(out, [name])
                    code = 0
                finally:
                    os._exit(code)
            children[pid] = name
    except OSError:  # no process to be had: those left are drawn here
        pass
    finally:
        gc.unfreeze()
    try:
        figures.write(out, [name for name in names if name not in children.values()])
    finally:  # never return (or fail) with a child still drawing
        failed = [name for pid, name in children.items() if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0]
    figures.write(out, failed)


class Drawer:
    """Draws :class:`Figures` in a helper process started by :meth:`start` (see the module's docstring).

    Use it as a context manager around the run: leaving it stops a helper that was never given work.
    """

    def __init__(self) -> None:
        self.helper: subprocess.Popen[bytes] | None = None

    def start(self) -> Drawer:
        """Start the helper now (unless it runs already), so that it has loaded matplotlib by the time the run
        is done."""
        if self.helper is not None:
            return self
        package_root = str(Path(__file__).resolve().parents[2])  # the folder reglab is imported from
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": package_root + (os.pathsep + path if path else "")}
        try:
            self.helper = subprocess.Popen([sys.executable, "-c", _HELPER], stdin=subprocess.PIPE,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                                           start_new_session=os.name == "posix")  # a group of its own: see _stop
        except OSError:
            self.helper = None
        return self

    def draw(self, figures: Figures, out: Path) -> None:
        """Write the figures into ``out``: by the helper where it runs, else here; return when they are written."""
        helper, self.helper = self.helper, None
        if helper is not None:
            try:
                helper.communicate(pickle.dumps((figures, str(out))))
                if helper.returncode == 0:
                    return
            except BaseException as exc:  # Ctrl-C, SIGTERM: nothing goes on drawing after this process has left
                _stop(helper)
                if not isinstance(exc, OSError):
                    raise
        figures.write(out)

    def __enter__(self) -> Drawer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.helper is not None:
            _stop(self.helper)
            self.helper = None


def _stop(helper: subprocess.Popen[bytes]) -> None:
    """Kill the helper and the children it forked to draw (on POSIX it leads a process group of its own, which
    also keeps a Ctrl-C in the terminal from reaching it before this process has decided), and reap it."""
    with contextlib.suppress(OSError):
        if os.name == "posix":
            os.killpg(helper.pid, signal.SIGKILL)  # its group, while it is not yet reaped: the id is still its own
        else:
            helper.kill()
    helper.wait()


#: The share of a core the helper must have had while importing matplotlib for it to count on a spare core
#: (see :func:`serve`).
SPARE_SHARE = 0.8


def serve() -> None:
    """The helper: load matplotlib and its fonts, then draw the figures that arrive on standard input.

    Where the helper had a core to itself while importing matplotlib (CPU time at least :data:`SPARE_SHARE` of
    the wall-clock time: the machine has a core the run is not using), it draws them in forked children
    (:func:`write_forked`); on a busy machine that would only take CPU from the others and from the run, and
    they are drawn one after the other. (Drawing a made-up run's figures first, to warm matplotlib's caches
    for the children, was measured: about 0.1 s less wall-clock for 1 s more CPU; not kept.)
    """
    import io
    import time

    began = time.perf_counter(), time.process_time()
    from matplotlib.figure import Figure

    spare = time.process_time() - began[1] >= SPARE_SHARE * (time.perf_counter() - began[0])
    warm = Figure(figsize=(1, 1))  # fonts and the text layout loaded now, while the run trains
    warm.text(0.5, 0.5, "0")
    warm.savefig(io.BytesIO(), format="png")
    figures, out = pickle.load(sys.stdin.buffer)
    if spare:
        write_forked(figures, Path(out))
    else:
        figures.write(Path(out))

"""A run's figures, drawn here or in a helper process that loads matplotlib while the run trains.

Importing matplotlib and drawing a run folder's three PNGs costs about a
second of CPU, where a 30-epoch run on the 8×8 digits trains in a tenth of one.
:class:`Drawer` starts a Python process as soon as a command knows it will
write a run folder; that process imports matplotlib and loads its fonts while
this one trains (on a machine with a core to spare, at no cost in wall-clock
time) and, once the run is done, draws its figures from what
:meth:`Drawer.draw` sends it: the history, the models' settings and the
weights, as plain numpy data (the helper never imports torch). Each figure is
written atomically, and :meth:`Drawer.draw` returns when they all are, so the
run folder is complete before ``summary.json`` is written. Where the helper
cannot start or fails, the same figures are drawn in this process instead.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reglab.engine.history import History
from reglab.io import save_figure

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

    def write(self, out: Path) -> None:
        """Draw each figure and write it into ``out`` (``accuracy_cost.png``, ``layer_rms.png``,
        ``weight_histograms.png``), atomically."""
        from reglab.runs import plots

        save_figure(plots.accuracy_and_cost(self.history, self.models, self.train_measure), out / "accuracy_cost.png")
        save_figure(plots.layer_rms(self.history, self.models, self.sizes), out / "layer_rms.png")
        save_figure(plots.weight_histograms(self.initial, self.final), out / "weight_histograms.png")


class Drawer:
    """Draws :class:`Figures` in a helper process started by :meth:`start` (see the module's docstring).

    Use it as a context manager around the run: leaving it stops a helper that was never given work.
    """

    def __init__(self) -> None:
        self.helper: subprocess.Popen[bytes] | None = None

    def start(self) -> Drawer:
        """Start the helper now, so that it has loaded matplotlib by the time the run is done."""
        package_root = str(Path(__file__).resolve().parents[2])  # the folder reglab is imported from
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": package_root + (os.pathsep + path if path else "")}
        try:
            self.helper = subprocess.Popen([sys.executable, "-c", _HELPER], stdin=subprocess.PIPE,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
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
            except OSError:
                helper.kill()
                helper.wait()
        figures.write(out)

    def __enter__(self) -> Drawer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.helper is not None:
            self.helper.kill()
            self.helper.wait()
            self.helper = None


def serve() -> None:
    """The helper: load matplotlib and its fonts, then draw the figures that arrive on standard input."""
    import io

    from matplotlib.figure import Figure

    warm = Figure(figsize=(1, 1))  # fonts and the text layout loaded now, while the run trains
    warm.text(0.5, 0.5, "0")
    warm.savefig(io.BytesIO(), format="png")
    figures, out = pickle.load(sys.stdin.buffer)
    figures.write(Path(out))

"""A run's figures drawn by the helper process (which never loads torch), or here when it cannot."""

import os
import subprocess
import sys
import time

import pytest

import reglab
from reglab.runs import drawing
from reglab.runs.drawing import Drawer, Figures, write_forked
from reglab.runs.folder import write_run

PNGS = ("accuracy_cost.png", "layer_rms.png", "weight_histograms.png")


@pytest.fixture(scope="module")
def result():
    return reglab.train(reglab.TrainConfig(data="digits", epochs=1, lmbda=(0.5, 5.0), hidden=(8,)))


def _pngs(out):
    return {name: (out / name).read_bytes() for name in PNGS}


def test_the_helper_draws_what_this_process_draws(result, tmp_path, monkeypatch):
    write_run(result, tmp_path / "here")  # no drawer: drawn in this process
    drawn_here = Figures.write
    monkeypatch.setattr(Figures, "write", lambda *a: pytest.fail("drawn in this process, not by the helper"))
    with Drawer().start() as drawer:
        write_run(result, tmp_path / "helper", drawer=drawer)
    monkeypatch.setattr(Figures, "write", drawn_here)
    assert _pngs(tmp_path / "helper") == _pngs(tmp_path / "here")  # the same pictures, byte for byte
    assert not list((tmp_path / "helper").glob(".*.tmp"))


def test_the_helper_imports_neither_torch_nor_numba():
    code = ("import sys; from reglab.runs.drawing import serve; import reglab.runs.plots, matplotlib.figure; "
            "print(sorted(m for m in ('torch', 'numba', 'sklearn') if m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


def test_without_a_helper_the_figures_are_drawn_here(result, tmp_path, monkeypatch):
    monkeypatch.setattr(drawing, "_HELPER", "import sys; sys.exit(3)")  # a helper that fails
    with Drawer().start() as drawer:
        write_run(result, tmp_path / "failed", drawer=drawer)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))  # one that cannot start
    with Drawer().start() as drawer:
        assert drawer.helper is None
        write_run(result, tmp_path / "absent", drawer=drawer)
    for out in (tmp_path / "failed", tmp_path / "absent"):
        assert all((out / name).stat().st_size > 0 for name in PNGS)


def test_a_helper_never_given_work_is_stopped():
    with Drawer().start() as drawer:
        helper = drawer.helper
    assert helper is not None and helper.poll() is not None


def _figures(result) -> Figures:
    fit = result.fit
    return Figures(fit.history, result.models, result.sizes, result.config.monitor_train, fit.initial,
                   fit.model.numpy_params())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="figures are drawn by forked children only where os.fork exists")
def test_children_forked_to_draw_write_what_this_process_writes_and_a_failed_one_is_redrawn(result, tmp_path,
                                                                                            monkeypatch):
    figures = _figures(result)
    figures.write(tmp_path / "here")
    monkeypatch.setattr(drawing, "usable_cores", lambda: 2)  # fork even where CI gives one core
    write_forked(figures, tmp_path / "forked")
    assert _pngs(tmp_path / "forked") == _pngs(tmp_path / "here")

    parent, drawn = os.getpid(), Figures.drawings

    def failing_in_children(self):
        ways = drawn(self)
        return {name: (lambda: 1 / 0) if os.getpid() != parent else draw for name, draw in ways.items()}

    monkeypatch.setattr(Figures, "drawings", failing_in_children)
    write_forked(figures, tmp_path / "redrawn")  # each child fails; this process draws its figure again
    monkeypatch.setattr(Figures, "drawings", drawn)
    assert _pngs(tmp_path / "redrawn") == _pngs(tmp_path / "here")
    assert not list((tmp_path / "redrawn").glob(".*.tmp"))


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (gone, or a zombie waiting to be reaped by init)."""
    try:
        status = open(f"/proc/{pid}/status").read()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_stopping_the_helper_stops_the_children_it_forked(tmp_path, monkeypatch):
    pid_file = tmp_path / "child"
    monkeypatch.setattr(drawing, "_HELPER", "import os, time\n"
                        "if os.fork() == 0:\n"
                        f"    open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)\n"
                        "time.sleep(60)")
    with Drawer().start():
        for _ in range(500):
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.01)
    child = int(pid_file.read_text())
    for _ in range(100):  # killed at once; reaped by init soon after
        if _gone(child):
            break
        time.sleep(0.01)
    assert _gone(child)


def test_an_interrupted_draw_leaves_no_helper_drawing(result, tmp_path):
    with Drawer().start() as drawer:
        helper = drawer.helper
        assert helper is not None

        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt

        helper.communicate = interrupted  # type: ignore[method-assign]
        with pytest.raises(KeyboardInterrupt):
            write_run(result, tmp_path / "interrupted", drawer=drawer)
    assert helper.poll() is not None

"""The command line's entry point: the commands it lists and what it loads to list them."""

import os
import subprocess
import sys

import pytest

import reglab.cli.main as entry
from reglab.cli.main import COMMANDS, build_parser, command_of, early_compiler, early_drawer, main
from reglab.engine.compiled import KernelProgram
from reglab.engine.compiling import KernelCompiler
from reglab.runs.drawing import Drawer

PNGS = ("accuracy_cost.png", "layer_rms.png", "weight_histograms.png")


def test_help_lists_every_command_without_importing_them_or_torch():
    code = ("import sys, reglab.cli.main as m; m.build_parser(); "
            "print('torch' in sys.modules, any(k.startswith('reglab.cli.') and k != 'reglab.cli.main' for k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False False"
    text = build_parser().format_help()
    assert all(name in text for name in COMMANDS)


def test_convert_runs_without_torch():
    code = ("import sys; from reglab.cli.main import main; main(['convert', '--lmbda', '5', '--n', '100']); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out.splitlines()[-1] == "False"


def test_the_command_is_the_first_word_that_is_not_an_option():
    assert command_of(["--debug", "train", "--lmbda", "5"]) == "train"
    assert command_of(["--help"]) is None


def test_a_run_starts_its_drawing_helper_before_importing_torch():
    code = ("import sys; from reglab.cli.main import early_drawer; d = early_drawer(['run', '--data', 'digits']); "
            "print(d.helper is not None, 'torch' in sys.modules, 'numba' in sys.modules); d.__exit__(None, None, None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "True False False"


@pytest.mark.parametrize("argv", [[], ["--help"], ["convert", "--lmbda", "5"], ["sweep", "--data", "digits"],
                                  ["run", "--no-plots"], ["train", "--no-pl"], ["run", "-h"], ["train", "--help"]])
def test_no_helper_where_no_figures_will_be_drawn(argv):
    with early_drawer(argv) as drawer:
        assert drawer is None


def test_main_hands_the_helper_it_started_first_to_the_run(tmp_path, monkeypatch):
    events, drawers, start = [], [], Drawer.start

    def recording_start(self):
        if self.helper is None:
            events.append("helper started")
            drawers.append(self)
        return start(self)

    build = entry.build_parser
    monkeypatch.setattr(Drawer, "start", recording_start)
    monkeypatch.setattr(entry, "build_parser", lambda command=None: events.append("parser built") or build(command))
    out = tmp_path / "run"
    assert main(["run", "--data", "digits", "--epochs", "1", "--quiet", "--json", "--out", str(out)]) == 0
    assert events == ["helper started", "parser built"]  # one helper, started before the command's imports
    assert drawers[0].helper is None  # it drew the figures and is gone: nothing is left running
    assert all((out / name).stat().st_size > 0 for name in PNGS)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="a process beside needs two cores")
def test_a_run_starts_its_compiling_process_before_importing_torch_or_numba():
    code = ("import sys; from reglab.cli.main import early_compiler; "
            "c = early_compiler(['run', '--data', 'digits', '--dtype=float64']); "
            "print(c.dtype, 'torch' in sys.modules, 'numba' in sys.modules); c.__exit__(None, None, None); "
            "print(c.process.returncode is not None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["float64", "False", "False", "True"]  # stopped on leaving: it was never told what to compile


@pytest.mark.parametrize("argv", [[], ["--help"], ["convert", "--lmbda", "5"], ["sweep", "--data", "digits"],
                                  ["run", "--device", "cuda"], ["train", "--engine=tensor"], ["run", "-h"]])
def test_no_compiling_process_where_the_kernel_will_not_train(argv):
    with early_compiler(argv) as compiler:
        assert compiler is None


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="a process beside needs two cores")
def test_main_hands_its_compiling_process_to_the_run(tmp_path, monkeypatch):
    seen, original = [], KernelProgram._compile_beside

    def recording(self, epoch, compiler):
        seen.append(compiler)
        return original(self, epoch, compiler)

    monkeypatch.setattr(KernelProgram, "_compile_beside", recording)
    argv = ["run", "--data", "digits", "--epochs", "1", "--quiet", "--json", "--no-plots", "--out", str(tmp_path / "run")]
    assert main(argv) == 0
    assert len(seen) == 1 and isinstance(seen[0], KernelCompiler)
    assert seen[0].process.poll() is not None  # nothing is left running

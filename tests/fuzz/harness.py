"""How the fuzz suite runs reglab and what it asks of every failure.

``cli(argv)`` runs ``reglab`` in this process (``reglab.cli.main.main``) with stdout and stderr captured;
``real_cli(argv)`` runs it as a user does, in a fresh process. A failure must be *clean*
(:func:`assert_clean_failure`): the documented exit code (2 for bad input, 1 for work that could not be
done with good input, 74 for a failed write; see :mod:`reglab.errors`), exactly one line on stderr naming
the problem, no traceback, no "internal error", and no file left half-written under a final name
(:func:`assert_no_partial_files`).

Hypothesis runs :data:`EXAMPLES` examples per property (``REGLAB_FUZZ_EXAMPLES`` raises it for a longer
hunt), derandomized so that CI is repeatable.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, settings

from reglab.io import TEMP_PATTERN

EXAMPLES = int(os.environ.get("REGLAB_FUZZ_EXAMPLES", "12"))
#: The settings of every property of the suite.
fuzz = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much, HealthCheck.data_too_large])
#: Environment of the real CLI: one thread, no colour, a private data directory (no MNIST unless given).
#: A training command's cheapest settings, and the training commands as they run in about a second.
TINY = ["--data", "digits", "--epochs", "1", "--train-size", "60", "--hidden", "4", "--quiet"]
TRAINERS = {
    "train": ["train", *TINY],
    "run": ["run", *TINY],
    "sweep": ["sweep", *TINY, "--lmbda", "0.1,1", "--no-plots"],
    "path": ["path", *TINY, "--lmbda-max", "1", "--steps", "2", "--path-epochs", "1", "--no-plots"],
}
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NO_COLOR": "1", "COLUMNS": "200"}
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


@contextlib.contextmanager
def cwd(path: Path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def cli(argv: list[str], where: Path | None = None) -> Outcome:
    """``reglab ARGV`` in this process (in folder ``where``), its exit code and what it printed."""
    from reglab.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        if where is not None:
            stack.enter_context(cwd(where))
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # only --help and --version exit this way
            code = exc.code if isinstance(exc.code, int) else 1
    return Outcome(code, out.getvalue(), err.getvalue())


def real_cli(argv: list[str], where: Path, timeout: float = 120, env: dict | None = None, **kw) -> Outcome:
    """``python -m reglab ARGV`` in a fresh process, as a user runs it."""
    env = {**ENV, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]), **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "reglab", *map(str, argv)], cwd=where, env=env, capture_output=True,
                          text=True, timeout=timeout, **kw)
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def assert_clean_failure(outcome: Outcome, *, codes=(2,), mentions: str | None = None, only_line: bool = True) -> str:
    """The failure is one line on stderr with a documented exit code; return that line.

    ``only_line``: stderr holds nothing else (for failures found before any work starts); otherwise the
    error is the last line and the only one that says ``error`` (progress lines may come before it).
    """
    lines = outcome.err_lines
    assert outcome.code in codes, f"exit {outcome.code}, expected {codes}: {outcome.err!r}"
    assert "Traceback" not in outcome.err and "internal error" not in outcome.err, outcome.err
    assert lines, "nothing on stderr"
    error = lines[-1]
    if only_line:
        assert len(lines) == 1, f"{len(lines)} lines on stderr: {outcome.err!r}"
    else:
        assert sum("error" in line for line in lines) == 1, outcome.err
    assert re.match(r"^reglab( [a-z-]+)*: (error|interrupted)", error), error
    if mentions is not None:
        assert mentions in error, f"{mentions!r} not in {error!r}"
    return error


def assert_ok_or_clean_failure(outcome: Outcome, **kw) -> None:
    """Any input: either it ran (exit 0) or it failed cleanly."""
    if outcome.code != 0:
        assert_clean_failure(outcome, **kw)


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``folder``: its bytes (``None`` for a folder); ``{}`` if it does not exist."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): (None if p.is_dir() else p.read_bytes()) for p in sorted(folder.rglob("*"))}


def assert_no_partial_files(folder: Path) -> None:
    """No temporary file of a writer is left, and every JSON file there parses (whole files only)."""
    if not folder.exists():
        return
    import json

    for p in folder.rglob("*"):
        assert not TEMP_PATTERN.match(p.name), f"temporary file left: {p}"
        if p.suffix == ".json" and p.is_file():
            json.loads(p.read_text())

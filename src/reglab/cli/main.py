"""Entry point of the ``reglab`` command.

Each subcommand lives in its own module of this package and exposes
``configure(parser)``, which adds its arguments and sets ``func`` on its parser.
Only the command being run is imported (so ``reglab --help`` and a light command
like ``convert`` do not load torch); the one-line help of every command lives in
:data:`COMMANDS`.

Errors (:func:`report`): whatever goes wrong prints one line on stderr, never a traceback
(``--debug`` shows it): a bad argument ``reglab train: error: … (see reglab train --help)`` and a
:class:`reglab.errors.ReglabError` ``reglab: error: …``, both exit 2; a :class:`reglab.errors.RunFailure`
(or an unexpected error) exit 1; a failed write of the results (disk full) exit 74; Ctrl-C 130 and
SIGTERM 143 (see :mod:`reglab.errors`). Warnings of the libraries underneath print as one ``note:`` line
each, not as Python's two-line warnings.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import sys
import warnings

from reglab.errors import EXIT_IOERR, EXIT_SIGINT, EXIT_SIGTERM, EXIT_USAGE, ReglabError, Terminated, shown

#: Subcommands (module ``reglab.cli.<name>``) and their one-line help, in the order ``reglab --help`` lists them.
COMMANDS = {
    "run": "the main job: the book's L2 experiment, weights before vs after",
    "train": "train MLPs; several --lmbda/--eta values train several models at once",
    "convert": "one weight-decay strength in every framework's units, and which are the same update",
    "data": "list, fetch and inspect data sets",
    "study": "run a study and write its HTML report",
    "sweep": "sweep λ (and more) in chunks of models; validation curves, λ_min and λ_1se; resumable",
    "path": "λ paths from λ_max down, warm-started (glmnet's way) against the cold sweep; coefficient-path plots",
    "reproduce": "run the book's chapter-3 experiments again and compare with its numbers",
    "export": "a trained model as a PyTorch, safetensors or ONNX file, checked by running it",
    "explore": "a live playground in the browser: several λ side by side on real data (needs reglab[explore])",
}


#: The commands that write a run folder's figures (unless ``--no-plots``): :func:`early_drawer` starts their
#: drawing helper before anything else is imported.
DRAWING_COMMANDS = ("run", "train")


def command_of(argv: list[str]) -> str | None:
    """The subcommand named on the command line: its first word that is not an option (the top-level
    options take no value)."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser, with every subcommand listed and ``command`` (if one of them) fully configured."""
    parser = OneLineParser(
        prog="reglab",
        description="A laboratory for regularization in neural networks.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    from reglab import __version__

    parser.add_argument("--version", action="version", version=f"reglab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_line in COMMANDS.items():
        p = sub.add_parser(name, help=help_line)
        if name == command:
            importlib.import_module(f"reglab.cli.{name}").configure(p)
    return parser


def early_drawer(argv: list[str]) -> contextlib.AbstractContextManager:
    """For a command that will draw a run's figures, their helper process (:class:`reglab.runs.drawing.Drawer`),
    started now: it imports matplotlib on another core while this process imports torch and numba and trains
    (about 2 s saved on a small run). Otherwise nothing. Leaving it stops a helper that was never given work.

    The command line is only glanced at (argparse reads it later): ``--no-plots``, ``--help`` or an unknown
    command start nothing, and a helper started for a command line that then fails is stopped unused.
    """
    if command_of(argv) not in DRAWING_COMMANDS or any(
            a in ("-h", "--help") or (a.startswith("--no-p") and "--no-plots".startswith(a)) for a in argv):
        return contextlib.nullcontext()
    from reglab.runs.drawing import Drawer  # numpy, not torch

    return Drawer().start()


def early_compiler(argv: list[str]) -> contextlib.AbstractContextManager:
    """For a command that will train on the CPU's compiled kernel, a process compiling the kernel's epoch into
    numba's cache (:class:`reglab.engine.compiling.KernelCompiler`), started now: on a first run it compiles while
    this process imports torch and prepares the run (about a second sooner; on a warm cache it finds everything
    cached). Otherwise nothing. Leaving it stops a process that was never told what to compile.

    Like :func:`early_drawer` it only glances at the command line: ``--device cuda``, ``--engine tensor``, ``--help``
    or an unknown command start nothing; ``--dtype`` picks the callees it compiles (float32 by default).
    """
    command = command_of(argv)
    glance = " ".join(argv).replace("=", " ")
    if command not in DRAWING_COMMANDS or any(a in ("-h", "--help") for a in argv) or \
            "--device cuda" in glance or "--engine tensor" in glance:
        return contextlib.nullcontext()
    from reglab.engine.compiling import KernelCompiler  # neither torch nor numba

    compiler = KernelCompiler.start("float64" if "--dtype float64" in glance else "float32")
    return compiler if compiler is not None else contextlib.nullcontext()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv  # accepted anywhere on the line, not only before COMMAND
    argv = [a for a in argv if a != "--debug"]
    from reglab.cli.interrupt import sigterm_as_interrupt  # here: `reglab --help` imports no other command module

    try:
        with sigterm_as_interrupt(), warnings.catch_warnings(), early_compiler(argv) as compiler, \
                early_drawer(argv) as drawer:
            if not debug:
                warnings.showwarning = _one_line_warning
            parser = build_parser(command_of(argv))
            args, extra = parser.parse_known_args(argv)
            if extra:
                raise UsageError(getattr(args, "command_prog", parser.prog), f"unrecognized arguments: {' '.join(extra)}")
            args.debug = debug
            args.drawer = drawer
            args.compiler = compiler
            if getattr(args, "func", None) is None:
                parser.print_help()
                return EXIT_USAGE
            return int(args.func(args) or 0)
    except SystemExit:  # --help and --version
        raise
    except BaseException as exc:
        if debug and not isinstance(exc, (UsageError, KeyboardInterrupt)):
            raise
        return report(exc)


# -- errors: one line each ---------------------------------------------------------------------
class UsageError(Exception):
    """A bad command line, as argparse finds it: reported as ``PROG: error: MESSAGE (see PROG --help)``."""

    def __init__(self, prog: str, message: str):
        super().__init__(message)
        self.prog = prog


class OneLineParser(argparse.ArgumentParser):
    """argparse, but an error is one line naming the problem (:func:`report`) instead of the whole usage.

    Its subcommands' parsers are of this class too (argparse makes them of their parent's class), and the
    deepest parser that ran leaves its ``prog`` in ``command_prog``, so that an unknown flag names the
    command it was given to.
    """

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(self.prog, message)

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        ns, extra = super().parse_known_args(args, namespace)
        ns.__dict__.setdefault("command_prog", self.prog)
        return ns, extra


def report(exc: BaseException) -> int:
    """Print ``exc`` as one line on stderr; return the exit code (see :mod:`reglab.errors`)."""
    if isinstance(exc, UsageError):
        return _error_line(f"{exc.prog}: error: {exc} (see {exc.prog} --help)", EXIT_USAGE)
    if isinstance(exc, ReglabError):
        return _error_line(f"reglab: error: {exc}", exc.exit_code)
    if isinstance(exc, Terminated):
        return _error_line("reglab: interrupted by SIGTERM", EXIT_SIGTERM)
    if isinstance(exc, KeyboardInterrupt):
        return _error_line("reglab: interrupted by Ctrl-C", EXIT_SIGINT)
    if isinstance(exc, BrokenPipeError):  # `reglab … | head`: the reader left; say nothing more
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    if isinstance(exc, MemoryError):
        return _error_line("reglab: error: out of memory; use smaller sizes, fewer models or a smaller --max-models",
                           EXIT_USAGE)
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        full = " (the disk is full)" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else ""
        return _error_line(f"reglab: error: {exc.strerror or type(exc).__name__}{full}{where}", EXIT_IOERR)
    if isinstance(exc, Exception):
        return _error_line(f"reglab: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", 1)
    raise exc


def _error_line(text: str, code: int) -> int:
    """``text`` on stderr as exactly one line (a newline in a file's name shown as ``\\n``)."""
    with contextlib.suppress(OSError):
        sys.stderr.write(shown(text) + "\n")
        sys.stderr.flush()
    return code


def forget_handled_interrupt() -> None:
    """Let ``python -m reglab`` exit 130 after a Ctrl-C that :func:`report` handled.

    CPython up to 3.11 remembers a ``KeyboardInterrupt`` that passed through ``exec`` of a string (a
    dataclass or namedtuple being built when Ctrl-C came) as if it had never been caught, and ends a
    ``python -m`` process by SIGINT after ``main`` returned (the shell's ``$?`` is 130 either way, a
    parent process sees ``-2``). Later versions keep that flag elsewhere; there is nothing to do.
    """
    import ctypes

    with contextlib.suppress(ValueError, AttributeError, OSError):
        ctypes.c_int.in_dll(ctypes.pythonapi, "_Py_UnhandledKeyboardInterrupt").value = 0


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A library's warning as one ``note:`` line on stderr (no file name, no source line)."""
    text = " ".join(str(message).split())
    with contextlib.suppress(OSError):
        sys.stderr.write(shown(f"note: {category.__name__}: {text}") + "\n")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Entry point of the ``reglab`` command.

Each subcommand lives in its own module of this package and exposes
``configure(parser)``, which adds its arguments and sets ``func`` on its parser.
Only the command being run is imported (so ``reglab --help`` and a light command
like ``convert`` do not load torch); the one-line help of every command lives in
:data:`COMMANDS`. Errors: a :class:`reglab.errors.ReglabError` (or a bad
argument) prints one line and exits 2, a :class:`reglab.errors.RunFailure` (or an
unexpected error) one line and 1; ``--debug`` shows the traceback (the exit
codes: :mod:`reglab.errors`).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from reglab.errors import ReglabError

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


def command_of(argv: list[str]) -> str | None:
    """The subcommand named on the command line: its first word that is not an option (the top-level
    options take no value)."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser, with every subcommand listed and ``command`` (if one of them) fully configured."""
    parser = argparse.ArgumentParser(
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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv  # accepted anywhere on the line, not only before COMMAND
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser(command_of(argv))
    args = parser.parse_args(argv)
    args.debug = debug
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ReglabError as exc:
        if args.debug:
            raise
        print(f"reglab: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("reglab: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an unexpected failure: still one line unless --debug
        if args.debug:
            raise
        print(f"reglab: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

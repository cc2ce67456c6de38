"""``reglab data``: what data is present (``info``), get MNIST (``fetch``), look at a data set (``show``)."""

from __future__ import annotations

import argparse
import math

import numpy as np

from reglab.cli.console import print_json
from reglab.cli.progress import Progress
from reglab.data import load_dataset
from reglab.data.digits import DIGITS_SOURCE
from reglab.data.dirs import locate_data_dir
from reglab.data.fetch import DEFAULT_MIRRORS, fetch_mnist
from reglab.data.mnist import FETCH_HINT, MNIST_FILES, mnist_dir, mnist_status
from reglab.errors import ReglabError, RunFailure

DESCRIPTION = "List the data present (info), download MNIST (fetch), or load a data set and summarize it (show)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.set_defaults(func=lambda args: _print_help(parser))
    actions = parser.add_subparsers(dest="data_action", metavar="ACTION")
    data_dir_help = "data directory (default: $REGLAB_DATA, else ${XDG_CACHE_HOME:-~/.cache}/reglab)"

    info = actions.add_parser("info", help="list the data present and where it lies")
    info.add_argument("--data-dir", metavar="DIR", help=data_dir_help)
    info.add_argument("--json", action="store_true", help="print the listing as JSON")
    info.set_defaults(func=run_info)

    fetch = actions.add_parser("fetch", help="download a data set into the data directory")
    fetch.add_argument("dataset", choices=["mnist"], help="the data set to download")
    fetch.add_argument("--data-dir", metavar="DIR", help=data_dir_help)
    fetch.add_argument(
        "--mirror", metavar="URL", action="append",
        help="base URL holding the .gz files; repeat to try several in order, instead of the defaults "
             f"({', '.join(DEFAULT_MIRRORS)})",
    )
    fetch.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                       help="give up on a silent mirror after this long (default: 30)")
    fetch.add_argument("--quiet", action="store_true", help="print nothing unless something goes wrong")
    fetch.add_argument("--json", action="store_true", help="print what was done to each file as JSON")
    fetch.set_defaults(func=run_fetch)

    show = actions.add_parser("show", help="load a data set and summarize it")
    show.add_argument("spec", nargs="?", default="auto", help="auto (default), mnist, digits, or a .npz/.csv/.pkl.gz file")
    show.add_argument("--data-dir", metavar="DIR", help=data_dir_help)
    show.add_argument("--target", metavar="COLUMN", help="label column of a .csv file")
    show.add_argument("--split", type=_split_arg, default=(0.8, 0.1, 0.1), metavar="TRAIN,VAL,TEST",
                      help="fractions for .npz/.csv data (default: 0.8,0.1,0.1)")
    show.add_argument("--seed", type=int, default=0, help="seed of the shuffle before splitting .npz/.csv data (default: 0)")
    show.add_argument("--standardize", action="store_true",
                      help="standardize the features by the training split's mean and standard deviation")
    show.add_argument("--json", action="store_true", help="print the summary as JSON")
    show.set_defaults(func=run_show)


def run_info(args: argparse.Namespace) -> int:
    directory, origin = locate_data_dir(args.data_dir)
    if args.json:
        print_json({"data_dir": str(directory), "origin": origin, "mnist": str(mnist_dir(args.data_dir)),
                    "files": [{"name": r.name, "path": None if r.path is None else str(r.path), "state": r.state,
                               "detail": r.detail} for r in mnist_status(args.data_dir)]})
        return 0
    print(f"data dir  {directory}  (from {origin})")
    print(f"mnist     {mnist_dir(args.data_dir)}")
    rows = mnist_status(args.data_dir)
    width = max(len(r.path.name if r.path else r.name) for r in rows)
    for r in rows:
        print(f"  {r.state:<8} {(r.path.name if r.path else r.name):<{width}}  {r.detail}")
    if any(r.state != "OK" for r in rows):
        print(f"          get MNIST with: {FETCH_HINT}")
    print(f"digits    always available ({DIGITS_SOURCE}: 1797 images of 8x8)")
    return 0


def offline_hint(data_dir) -> str:
    """Where to put MNIST by hand when it cannot be downloaded."""
    names = ", ".join(f"{name}.gz" for name in MNIST_FILES)
    return (f"Offline? Copy the four files ({names}; gzip or raw) into {mnist_dir(data_dir)} by hand, "
            "then `reglab data info` checks them")


def run_fetch(args: argparse.Namespace) -> int:
    if not (math.isfinite(args.timeout) and args.timeout > 0):
        raise ReglabError(f"--timeout must be a positive number of seconds, got {args.timeout}")
    # bars at a terminal only: the files are listed on stdout as soon as they are in place
    try:
        with Progress("bytes", show=not (args.quiet or args.json), lines=False) as progress:
            results = fetch_mnist(args.data_dir, args.mirror, progress=progress, timeout=args.timeout)
    except RunFailure as exc:
        raise RunFailure(f"{exc}. {offline_hint(args.data_dir)}") from None
    if args.json:
        print_json({"folder": str(mnist_dir(args.data_dir)),
                    "files": [{"file": r.file, "status": r.status, "source": r.source} for r in results]})
        return 0
    if not args.quiet:
        for r in results:
            print(f"{r.status:<10} {r.file}  {r.source}")
        print(f"MNIST is ready in {mnist_dir(args.data_dir)}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    data = load_dataset(args.spec, args.data_dir, target=args.target, split=args.split, seed=args.seed,
                        standardize=args.standardize)
    parts = (("train", data.train), ("validation", data.validation), ("test", data.test))
    if args.json:
        print_json({"name": data.name, "source": data.source, "features": data.n_features, "classes": data.n_classes,
                    "labels": None if data.classes is None else list(data.classes),
                    "standardized": data.standardization is not None, "note": data.note,
                    "splits": {part: {"examples": len(split),
                                      "per_class": np.bincount(split.y, minlength=data.n_classes).tolist()}
                               for part, split in parts}})
        return 0
    print(f"name        {data.name}")
    print(f"source      {data.source}")
    print(f"features    {data.n_features}")
    print(f"classes     {data.n_classes}" + ("" if data.classes is None else
                                                 f" (labels {', '.join(map(str, data.classes))})"))
    if data.standardization is not None:
        print("inputs      standardized (mean and standard deviation of the training split)")
    for part, split in parts:
        counts = " ".join(str(c) for c in np.bincount(split.y, minlength=data.n_classes))
        print(f"{part:<11} {len(split)} examples; per class: {counts}")
    if data.note:
        print(f"note: {data.note}")
    return 0


def _split_arg(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected three fractions like 0.8,0.1,0.1, got {text!r}") from None


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2

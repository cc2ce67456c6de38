"""``reglab export``: a trained model of a run folder or a sweep as a PyTorch, safetensors or ONNX file.

The file is loaded back and run on 256 inputs, and its outputs compared with reglab's (at most 1e-6 apart):
``torch`` writes the ``state_dict`` (``.pt``) and a ``.json`` describing the network
(``reglab.runs.export.load_sequential`` builds the ``nn.Sequential`` again); ``safetensors`` one file with
that description in its metadata; ``onnx`` one file (run by onnxruntime when installed). The standardization
of ``--standardize`` comes first in the exported network; the classes' labels travel in its description.
"""

from __future__ import annotations

import argparse
from pathlib import Path

FORMATS = ("torch", "safetensors", "onnx")


def configure(p: argparse.ArgumentParser) -> None:
    p.description = __doc__.split("\n\n")[1]
    p.add_argument("source", metavar="DIR", help="a run folder (reglab train/run) or a sweep folder (with --cell)")
    p.add_argument("--to", choices=FORMATS, default="torch", help="the format (default: torch)")
    p.add_argument("--model", type=int, default=0, metavar="K", help="which model of a run, 0..M-1 (default: 0)")
    p.add_argument("--cell", metavar="KEY", help="which cell of a sweep (the cell column of its results.csv)")
    p.add_argument("--out", metavar="FILE", help="the file to write (default: DIR/export/model-K.EXT or cell-KEY.EXT)")
    p.add_argument("--json", action="store_true", help="print what was written and checked as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reglab.cli.console import print_json
    from reglab.errors import ReglabError
    from reglab.outdir import check_file
    from reglab.runs.export import FORMATS as SUFFIX
    from reglab.runs.export import export, from_run

    source = Path(args.source)
    if not source.is_dir():
        raise ReglabError(f"{source}: no such folder")
    if (source / "sweep.json").exists():
        from reglab.sweep.store import SweepStore

        if args.cell is None:
            raise ReglabError(f"{source} is a sweep: name the cell to export with --cell KEY (the cell column of results.csv)")
        model = SweepStore(source).cell_model(args.cell)
        default = source / "export" / f"cell-{args.cell}{SUFFIX[args.to]}"
    else:
        if args.cell is not None:
            raise ReglabError(f"{source} is not a sweep folder (no sweep.json): --cell applies to sweeps, --model to runs")
        model = from_run(source, args.model)
        default = source / "export" / f"model-{args.model}{SUFFIX[args.to]}"
    # checked before the export runs: a folder, a path under a file, read-only or too long is one line, exit 2
    target = check_file(args.out if args.out else default, "--out" if args.out else "the export's file")
    done = export(model, target, args.to)
    if args.json:
        print_json(done.to_dict())
        return 0
    check = (f"checked with {done.checked_with}: outputs within {done.max_difference:.2g} of reglab's"
             if done.max_difference is not None else f"checked with {done.checked_with}")
    print(f"wrote {', '.join(map(str, done.paths))} ({model.source}; {check})")
    return 0

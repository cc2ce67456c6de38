"""An export is a report that stands alone and a run folder that ``reglab train --config`` re-runs."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from reglab.cli.main import main
from reglab.explore.export import export_session
from reglab.explore.session import Session
from reglab.explore.settings import Settings

pytestmark = pytest.mark.usefixtures("one_thread")


def epochs(s: Session, k: int) -> None:
    while s.epochs_done < k:
        s.train(64)
        if s.position == 0:
            s.measure()


def test_the_run_folder_re_runs_to_the_same_numbers(tmp_path):
    s = Session(Settings.from_json({"data": "spiral", "points": 300, "lmbda": [0.0, 3.0]}), tmp_path, tmp_path / "data")
    epochs(s, 3)
    written = export_session(s, tmp_path / "out")
    run = tmp_path / "out" / "exports" / written["name"] / "run"
    config = json.loads((run / "config.json").read_text())
    assert config["data"] == str((run / "data.npz").resolve()) and config["epochs"] == 3 and config["lmbda"] == [0.0, 3.0]
    assert main(["train", "--config", str(run / "config.json"), "--out", str(tmp_path / "again"), "--quiet"]) == 0
    again = json.loads((tmp_path / "again" / "summary.json").read_text())
    shown = json.loads((run / "summary.json").read_text())
    for a, b in zip(again["models"], shown["models"]):
        for key in ("final_validation_accuracy", "final_test_accuracy", "final_train_accuracy", "final_penalty"):
            assert a[key] == b[key], key
    for name in ("weights_initial.npz", "weights_final.npz"):
        with np.load(run / name) as x, np.load(tmp_path / "again" / name) as y:
            assert all(np.array_equal(x[k], y[k]) for k in x.files)


def test_the_report_embeds_every_figure_and_lists_the_changes(tmp_path):
    s = Session(Settings.from_json({"data": "digits", "hidden": [9], "lmbda": [0.1, 10.0], "eta": 0.3}), tmp_path,
                tmp_path / "data")
    epochs(s, 1)
    s.change(lmbda=[0.1, 100.0])
    s.train(200)
    s.measure()
    written = export_session(s, tmp_path / "out")
    page = open(written["report"], encoding="utf-8").read()
    images = re.findall(r'<img src="([^"]+)"', page)
    assert len(images) == 5 and all(src.startswith("data:image/png;base64,") for src in images)
    assert not re.search(r'(?:src|href)="(?!data:)', page)  # nothing to fetch
    assert "λ 0.1, 10→100" in page and "first_layer" in page and "lambda_curve" in page
    summary = json.loads(open(f"{written['run']}/summary.json").read())
    assert summary["explore_events"][0]["text"] == "λ 0.1, 10→100"
    assert summary["epochs"] == s.epoch

"""``reglab data info`` and ``reglab data show``, through ``main`` (fetch: tests/test_data_fetch.py)."""

from __future__ import annotations

import numpy as np

from reglab.cli.main import main


def test_info_on_the_shared_data(shared_data_dir, capsys):
    assert main(["data", "info", "--data-dir", str(shared_data_dir)]) == 0
    out = capsys.readouterr().out
    assert f"data dir  {shared_data_dir}  (from --data-dir)" in out
    assert f"mnist     {shared_data_dir / 'mnist'}" in out
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"):
        assert f"OK       {name}" in out
    assert "60000 images of 28x28, sha256 verified" in out
    assert "fetch" not in out
    assert "digits    always available" in out


def test_info_on_an_empty_dir(tmp_path, capsys):
    assert main(["data", "info", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("missing  ") == 4
    assert "get MNIST with: reglab data fetch mnist" in out
    assert "digits    always available" in out


def test_info_names_a_bad_file(tmp_path, capsys):
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01")
    assert main(["data", "info", "--data-dir", str(tmp_path)]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if "t10k-labels" in l)
    assert line.split()[:2] == ["bad", "t10k-labels-idx1-ubyte"] and "truncated" in line


def test_info_follows_the_environment(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REGLAB_DATA", str(tmp_path))
    assert main(["data", "info"]) == 0
    assert f"data dir  {tmp_path}  (from $REGLAB_DATA)" in capsys.readouterr().out


def test_show_auto_falls_back_to_digits(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REGLAB_DATA", str(tmp_path))
    assert main(["data", "show"]) == 0
    out = capsys.readouterr().out
    assert "name        digits" in out and "train       1197 examples" in out
    assert f"note: MNIST not found in {tmp_path / 'mnist'}; using the 8x8 digits" in out


def test_show_mnist(shared_data_dir, capsys):
    assert main(["data", "show", "mnist", "--data-dir", str(shared_data_dir)]) == 0
    out = capsys.readouterr().out
    assert "features    784" in out
    assert "train       50000 examples; per class: 4932 5678 4968 5101 4859 4506 4951 5175 4842 4988" in out


def test_show_a_csv_with_split_and_seed(tmp_path, capsys):
    path = tmp_path / "points.csv"
    path.write_text("x,y,label\n" + "".join(f"{i},{-i},{i % 2}\n" for i in range(20)))
    argv = ["data", "show", str(path), "--target", "label", "--split", "0.5,0.25,0.25", "--seed", "4"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "name        points.csv" in out and "features    2" in out and "classes     2" in out
    assert "train       10 examples" in out and "test        5 examples" in out


def test_show_errors_are_one_line(tmp_path, capsys):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((4, 2)), y=np.array([0, 1, 2.5, 5]))
    assert main(["data", "show", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"reglab: error: {path}: labels must be integers 0..K-1, found 2.5") and err.count("\n") == 1
    assert main(["data", "show", str(tmp_path / "x.csv"), "--target", "label"]) == 2
    assert capsys.readouterr().err == f"reglab: error: {tmp_path / 'x.csv'}: no such file\n"
    assert main(["data", "show", str(path), "--split", "0.5,0.5,0.5"]) == 2
    assert "sums to 1.5, not 1" in capsys.readouterr().err


def test_data_without_an_action_prints_help(capsys):
    assert main(["data"]) == 2
    assert "info" in capsys.readouterr().out


def test_a_split_that_is_not_numbers_is_a_usage_error(capsys):
    assert main(["data", "show", "digits", "--split", "a,b,c"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("reglab data show: error: argument --split:"), err
    assert "expected three fractions like 0.8,0.1,0.1, got 'a,b,c'" in err[0]

"""``--config FILE``: any file, any JSON, any field with any value — it runs, or it fails in one line naming the
file, exactly as a flag would (the same messages), and writes nothing."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reglab.config import TrainConfig
from reglab.errors import ReglabError
from tests.fuzz.harness import assert_clean_failure, assert_ok_or_clean_failure, cli, fuzz, snapshot
from tests.fuzz.strategies import config_documents, config_objects

FIELDS = [f.name for f in dataclasses.fields(TrainConfig)]
# flags after --config override the file: whatever it says, the run stays small
SMALL = ["--data", "digits", "--epochs", "1", "--train-size", "60", "--hidden", "4", "--seeds", "1", "--lmbda", "1",
         "--eta", "0.1", "--batch-size", "10", "--threads", "1", "--quiet"]


@fuzz
@given(document=st.one_of(config_objects(FIELDS).map(lambda d: json.dumps(d).encode()), config_documents.map(
    lambda v: v if isinstance(v, bytes) else json.dumps(v).encode())))
def test_any_config_file_runs_or_fails_naming_the_file(document, tmp_path_factory):
    where = tmp_path_factory.mktemp("cwd")
    config = where.parent / f"{where.name}.json"
    config.write_bytes(document)
    outcome = cli(["train", "--config", config, *SMALL, "--out", where / "run"], where)
    assert_ok_or_clean_failure(outcome)
    if outcome.code != 0:
        assert f"config file {config}" in outcome.err or "--" in outcome.err
        assert snapshot(where) == {}


@pytest.mark.parametrize("content,message", [
    ('{"hidden": 30}', "config file {path}: --hidden must be a list of integers, got 30 (int)"),
    ("[1, 2]", "config file {path}: a configuration is a JSON object of settings such as {{\"epochs\": 30}}, not a JSON list"),
    ('{"seed": "abc"}', "config file {path}: --seed must be an integer, got 'abc' (str)"),
    ('{"seed": -1}', "config file {path}: --seed must be an integer from 0 to 2**63-1, got -1"),
    ('{"eta": [1e999]}', "config file {path}: --eta values must be finite numbers ≥ 0"),
    ('{"epochs": true}', "config file {path}: --epochs must be an integer, got True (bool)"),
    ('{"activation": null}', "config file {path}: --activation must be a text, got None (NoneType)"),
    ('{"sizes": null, "target": 3}', "config file {path}: --target must be a text or null, got 3 (int)"),
    ('{"lmbda": "5"}', "config file {path}: --lmbda must be a list of numbers, got '5' (str)"),
    ("null", "config file {path}: a configuration is a JSON object of settings such as {{\"epochs\": 30}}, not a JSON null"),
    ("\xff\xfe", "config file {path} is not UTF-8 text"),
    ("{", "config file {path} is not valid JSON"),
])
def test_the_issue_s_config_files(tmp_path, content, message):
    path = tmp_path / "c.json"
    path.write_bytes(content.encode("latin1"))
    error = assert_clean_failure(cli(["train", "--config", path, *SMALL], tmp_path))
    assert message.format(path=path) in error


def test_a_folder_a_device_or_a_huge_file_as_config(tmp_path):
    assert "is a folder; give the config.json inside it" in assert_clean_failure(cli(["train", "--config", tmp_path], tmp_path))
    assert "is not a regular file" in assert_clean_failure(cli(["train", "--config", "/dev/zero"], tmp_path))
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (2 << 20))
    assert "a configuration is a small JSON object" in assert_clean_failure(cli(["train", "--config", big], tmp_path))
    assert "does not exist" in assert_clean_failure(cli(["train", "--config", tmp_path / "none.json"], tmp_path))


def test_flag_and_file_give_the_same_message(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"batch_size": 0}')
    from_file = assert_clean_failure(cli(["train", "--config", path, "--data", "digits"], tmp_path))
    from_flag = assert_clean_failure(cli(["train", "--batch-size", "0", "--data", "digits"], tmp_path))
    assert from_file == from_flag.replace("reglab: error: ", f"reglab: error: config file {path}: ")


@given(values=st.dictionaries(st.sampled_from(FIELDS), st.none() | st.booleans() | st.integers() | st.text(max_size=3)
                              | st.lists(st.integers(-3, 3), max_size=2), max_size=3))
@fuzz
def test_the_python_api_checks_types_too(values):
    try:
        config = TrainConfig.from_dict(values)
    except ReglabError as exc:
        assert "\n" not in str(exc)
    else:
        assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config

"""Every command's flags, given hostile values: either the command runs, or it fails cleanly (one line, exit 2)
and writes nothing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.harness import TRAINERS, assert_clean_failure, assert_ok_or_clean_failure, cli, fuzz, snapshot
from tests.fuzz.strategies import markup_text, number_words

#: What each command needs to run cheaply; the fuzzed flag comes after and overrides.
BASE = {
    **TRAINERS,
    "convert": ["convert", "--lmbda", "5", "--n", "1000"],
    "data show": ["data", "show", "digits"],
    "study": ["study", "no-such-study"],  # never runs a study: an unknown name, or a bad flag before it
    "reproduce": ["reproduce", "nielsen-ch3"],  # never trains: MNIST is not in the --data-dir given
}
FLAGS = {
    "train": ["--eta", "--lmbda", "--seed", "--seeds", "--hidden", "--sizes", "--batch-size", "--epochs", "--train-size",
              "--momentum", "--l1-ratio", "--early-stop", "--schedule", "--threads", "--split", "--limit", "--monitor",
              "--activation", "--reg", "--dtype", "--data", "--target"],
    "sweep": ["--lmbda", "--eta", "--seeds", "--seed", "--hidden", "--train-size", "--max-models", "--limit", "--reg",
              "--init", "--epochs", "--batch-size", "--backend"],
    "path": ["--reg", "--lmbda-max", "--eps", "--steps", "--lmbda", "--path-epochs", "--seeds", "--folds", "--hidden",
             "--max-models", "--eta"],
    "convert": ["--lmbda", "--n", "--batch-size", "--value"],
    "data show": ["--seed", "--split", "--target"],
    "study": ["--seed"],
    "reproduce": ["--seeds", "--only", "--max-epochs", "--threads", "--limit"],
}
FLAGS["run"] = FLAGS["train"]
#: Flags whose valid values cost time in proportion: their fuzzed values stay cheap or absurd (which must be refused).
COSTLY = {"--epochs", "--seeds", "--hidden", "--sizes", "--early-stop", "--schedule", "--max-models", "--limit",
          "--train-size", "--max-epochs", "--steps", "--path-epochs", "--folds"}


def cheap_or_absurd(flag: str, word: str) -> bool:
    """Keep values that are not a valid, expensive size: ints up to 64 or beyond 10**7 (refused), anything else."""
    if flag not in COSTLY and flag not in ("--lmbda", "--eta"):
        return True
    for token in word.replace(",", " ").split():
        parts = token.split(":")
        count = parts[2] if len(parts) == 3 else (token if flag in COSTLY else "1")
        try:
            n = int(float(count))
        except (ValueError, OverflowError):
            continue
        if 64 < n <= 10**7:
            return False
    return True


values = st.one_of(number_words, markup_text, st.sampled_from(["l3", "float16", "digits,mnist", "train,dev", "none"]))


@fuzz
@given(data=st.data())
@pytest.mark.parametrize("command", list(FLAGS))
def test_any_flag_value_runs_or_fails_in_one_line(command, data, tmp_path_factory):
    where = tmp_path_factory.mktemp("cwd")
    flag = data.draw(st.sampled_from(FLAGS[command]), label="flag")
    word = data.draw(values.filter(lambda w: cheap_or_absurd(flag, w)), label="value")
    extra = ["--out", where / "out"] if command in ("train", "run", "sweep", "path", "reproduce") else []
    if command == "reproduce":
        extra += ["--data-dir", where / "no-mnist"]
    outcome = cli([*BASE[command], flag, word, *extra], where)
    assert_ok_or_clean_failure(outcome)
    if outcome.code != 0:
        assert snapshot(where) == {}, "a failed command wrote something"


@pytest.mark.parametrize("argv,mentions", [
    (["train", "--hidden", "1e9"], "reglab train: error: argument --hidden"),
    (["train", "--bogus"], "reglab train: error: unrecognized arguments: --bogus"),
    (["sweep", "--reg"], "reglab sweep: error: argument --reg: expected at least one argument"),
    (["data", "show", "--split", "x"], "reglab data show: error: argument --split"),
    (["reproduce", "nielsen-ch4"], "reglab reproduce: error: argument study: invalid choice"),
    (["frobnicate"], "reglab: error: argument COMMAND: invalid choice: 'frobnicate'"),
    (["convert", "--lmbda"], "reglab convert: error: argument --lmbda/--lambda: expected one argument"),
    (["path", "--cold", "--both"], "reglab path: error: argument --both: not allowed with argument --cold"),
])
def test_argparse_errors_are_one_line_with_a_hint(argv, mentions, tmp_path):
    error = assert_clean_failure(cli(argv, tmp_path), mentions=mentions)
    assert error.endswith("--help)")

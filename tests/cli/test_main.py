"""The command line's entry point: the commands it lists and what it loads to list them."""

import subprocess
import sys

from reglab.cli.main import COMMANDS, build_parser, command_of


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

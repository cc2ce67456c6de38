"""The CLI's light list of names agrees with the registries that implement them."""

from reglab import choices
from reglab.engine.model import init_layer
from reglab.engine.nn import ACTIVATIONS, COSTS
from reglab.engine.optim import make_optimizer
from reglab.engine.regularizers import KINDS


def test_choices_match_the_registries():
    assert tuple(ACTIVATIONS) == choices.ACTIVATIONS
    assert tuple(COSTS) == choices.COSTS
    assert tuple(KINDS) == choices.REGULARIZERS
    for name in choices.OPTIMIZERS:
        make_optimizer(name)
    import torch

    for name in choices.INITIALIZERS:
        init_layer(name, 3, 2, torch.Generator().manual_seed(0))


def test_help_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, reglab.cli.main as m; m.build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"

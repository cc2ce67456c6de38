r"""Trained models out of reglab: a PyTorch ``nn.Sequential``, a ``state_dict`` or safetensors file, ONNX.

One model of a run (``--model K`` of its ``M``) is a :class:`TrainedModel`:
plain arrays ``W^l`` ``(n_out, n_in)`` and ``b^l`` ``(n_out,)``, the hidden
activation, the output non-linearity its cost fixed (sigmoid, softmax, or none
for a regressor), the standardization its inputs went through (``--standardize``)
and the original label of each class. From there:

* :func:`to_sequential` — ``nn.Sequential(Standardize, Linear, Sigmoid, …)``
  computing exactly what reglab computes: ``a^{l+1} = f(a^l W^{l\,T} + b^l)``;
* :func:`export` — a file, checked by loading it back and running it:
  ``torch`` (``model.pt``, the ``state_dict``, loadable with
  ``torch.load(..., weights_only=True)``, and ``model.json`` beside it saying how
  to build the network), ``safetensors`` (one file, the same description in
  its metadata), ``onnx`` (one file built with ``onnx.helper``: ``Sub``/``Div``
  for the standardization, ``Gemm`` and the activations; run by onnxruntime
  when it is installed). ``safetensors`` and ``onnx`` are optional extras
  (``pip install 'reglab[export]'``);
* :func:`load_sequential` — a ``.pt`` or ``.safetensors`` file back as an ``nn.Sequential``.

What a model comes from: a run folder (``config.json``, ``weights_final.npz``,
``data.json``), a :class:`~reglab.runs.assemble.TrainResult`, a
:class:`~reglab.engine.loop.FitResult` or an :class:`~reglab.engine.model.MLP`, or
any object with a ``trained_model(model)`` method (the scikit-learn estimators of
:mod:`reglab.sklearn`, a sweep's cell through :mod:`reglab.sweep.store`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from reglab.data.dataset import Standardization
from reglab.engine.model import MLP
from reglab.errors import ReglabError
from reglab.io import atomic_open, write_bytes, write_json
from reglab.provenance import versions

#: Export formats (``reglab export --to``) and the file suffix of each.
FORMATS = {"torch": ".pt", "safetensors": ".safetensors", "onnx": ".onnx"}
#: The largest difference allowed between an exported model's outputs and reglab's.
TOLERANCE = 1e-6

_MODULES = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "linear": nn.Identity}
_ONNX_OPS = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu", "softmax": "Softmax", "linear": None}


class Standardize(nn.Module):
    """``(x − mean) / scale`` per feature: the standardization a model was trained behind (``--standardize``)."""

    mean: torch.Tensor
    scale: torch.Tensor

    def __init__(self, mean: torch.Tensor, scale: torch.Tensor):
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("scale", scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.scale


@dataclass(frozen=True)
class TrainedModel:
    """One trained network as plain arrays, with what its inputs and outputs mean.

    Attributes
    ----------
    weights, biases : list of np.ndarray
        ``weights[l]`` ``(n_out, n_in)``, ``biases[l]`` ``(n_out,)``, in the dtype it trained in.
    activation : str
        The hidden layers' activation (``sigmoid``, ``tanh``, ``relu``, ``linear``).
    output : str
        The output layer's non-linearity: ``sigmoid``, ``softmax`` or ``linear`` (a regressor).
    standardization : Standardization or None
        What the raw inputs go through first.
    classes : list or None
        The original label of output ``k`` (``None``: the classes are ``0..K-1``; a regressor has none).
    source : str
        Where it came from (a run folder and model, a sweep cell, an estimator).
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    activation: str
    output: str
    standardization: Standardization | None = None
    classes: list | None = None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sizes(self) -> list[int]:
        return [self.weights[0].shape[1]] + [W.shape[0] for W in self.weights]

    @property
    def dtype(self) -> torch.dtype:
        return torch.float64 if self.weights[0].dtype == np.float64 else torch.float32

    def description(self) -> dict[str, Any]:
        """JSON data: how to build the network again (``model.json``, the safetensors and ONNX metadata)."""
        s = self.standardization
        return {"format": "reglab.mlp/1", "sizes": self.sizes, "activation": self.activation, "output": self.output,
                "dtype": str(self.dtype).removeprefix("torch."), "standardization": None if s is None else s.to_dict(),
                "classes": self.classes, "source": self.source, **self.extra, "versions": versions()}

    def reference(self, X: np.ndarray) -> np.ndarray:
        """reglab's own outputs on raw inputs ``X`` (N, d): the engine's forward pass, ``(N, K)``."""
        mlp = MLP([torch.from_numpy(W[None].copy()) for W in self.weights],
                  [torch.from_numpy(b[None].copy()) for b in self.biases], _activation(self.activation), _cost(self.output))
        Xs = self.standardization.apply(X) if self.standardization is not None else X
        with torch.no_grad():
            return mlp.output(torch.as_tensor(np.asarray(Xs), dtype=self.dtype))[0].numpy()


def _activation(name: str):
    from reglab.engine.nn import get_activation

    return get_activation(name)


def _cost(output: str):
    """A cost whose output non-linearity is ``output`` (the forward pass needs only that)."""
    from reglab.engine.nn import Cost, get_cost

    if output == "sigmoid":
        return get_cost("cross-entropy")
    if output == "softmax":
        return get_cost("log-likelihood")

    class Identity(Cost):
        name, output_activation = "identity", "linear"

        def output(self, z: torch.Tensor) -> torch.Tensor:
            return z

    return Identity()


# -- where a model comes from ----------------------------------------------------------------------
def from_mlp(mlp: MLP, model: int = 0, *, standardization: Standardization | None = None, classes=None,
             source: str = "") -> TrainedModel:
    """Model ``model`` of a batched :class:`~reglab.engine.model.MLP`."""
    if not 0 <= model < mlp.M:
        raise ReglabError(f"--model {model} is not one of the {mlp.M} model(s) (0..{mlp.M - 1})")
    weights = [W[model].detach().cpu().numpy().copy() for W in mlp.weights]
    biases = [b[model].detach().cpu().numpy().copy() for b in mlp.biases]
    output = mlp.cost.output_activation
    return TrainedModel(weights, biases, mlp.activation.name, output, standardization,
                        None if classes is None else list(classes), source or f"model {model}")


def from_arrays(params: dict[str, np.ndarray], model: int, dtype: str, activation: str, output: str,
                data: dict | None, source: str) -> TrainedModel:
    """Model ``model`` of arrays ``W0, b0, W1, …`` shaped ``(M, n_out, n_in)``, ``(M, n_out)`` (a weights file)."""
    L = sum(1 for k in params if k.startswith("W"))
    if L == 0 or any(f"W{l}" not in params or f"b{l}" not in params for l in range(L)):
        raise ReglabError(f"{source}: the weights hold {', '.join(sorted(params))}, not W0, b0, W1, b1, …")
    M = params["W0"].shape[0]
    if not 0 <= model < M:
        raise ReglabError(f"--model {model} is not one of the {M} model(s) of {source} (0..{M - 1})")
    np_dtype = np.float64 if dtype == "float64" else np.float32
    weights = [params[f"W{l}"][model].astype(np_dtype) for l in range(L)]
    biases = [params[f"b{l}"][model].astype(np_dtype) for l in range(L)]
    data = data or {}
    s = data.get("standardization")
    return TrainedModel(weights, biases, activation, output, None if s is None else Standardization.from_dict(s),
                        data.get("classes"), f"{source}, model {model}")


def from_run(folder: str | Path, model: int = 0) -> TrainedModel:
    """Model ``model`` of a run folder written by ``reglab train`` / ``reglab run``."""
    from reglab.engine.nn import get_cost

    folder = Path(folder)
    config = _read_json(folder / "config.json", "a run folder")
    try:
        with np.load(folder / "weights_final.npz", allow_pickle=False) as f:
            params = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise ReglabError(f"{folder}: no weights_final.npz (an unfinished run?)") from None
    except (OSError, ValueError) as exc:
        raise ReglabError(f"{folder / 'weights_final.npz'}: not readable ({exc})") from None
    data = _read_json(folder / "data.json", "a run folder") if (folder / "data.json").exists() else None
    output = get_cost(config.get("cost", "cross-entropy")).output_activation
    return from_arrays(params, model, config.get("dtype", "float32"), config.get("activation", "sigmoid"), output, data,
                       str(folder))


def trained_model(obj: Any, model: int = 0) -> TrainedModel:
    """A :class:`TrainedModel` from a run folder (path), a ``TrainResult``, a ``FitResult``, an ``MLP``, or
    an object with a ``trained_model(model)`` method (the scikit-learn estimators, a sweep's store)."""
    from reglab.engine.loop import FitResult
    from reglab.runs.assemble import TrainResult

    if isinstance(obj, TrainedModel):
        return obj
    if isinstance(obj, (str, Path)):
        return from_run(obj, model)
    if isinstance(obj, TrainResult):
        return from_mlp(obj.fit.model, model, standardization=obj.standardization, classes=obj.classes,
                        source=f"{obj.dataset_name} run, model {model}")
    if isinstance(obj, FitResult):
        return from_mlp(obj.model, model)
    if isinstance(obj, MLP):
        return from_mlp(obj, model)
    if hasattr(obj, "trained_model"):
        return obj.trained_model(model)  # type: ignore[no-any-return]
    raise ReglabError(f"cannot export a {type(obj).__name__}: give a run folder, a TrainResult, an MLP or a fitted estimator")


def _read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except FileNotFoundError:
        raise ReglabError(f"{path.parent}: no {path.name}; not {what}") from None
    except (OSError, ValueError) as exc:
        raise ReglabError(f"{path}: not readable JSON ({exc})") from None


# -- PyTorch ---------------------------------------------------------------------------------------
def to_sequential(obj: Any, model: int = 0) -> nn.Sequential:
    """The model as ``nn.Sequential``: ``Standardize`` (if any), then ``Linear`` and activation per layer,
    in the dtype it trained in; its outputs are reglab's (probabilities for a classifier)."""
    m = trained_model(obj, model)
    return _build(m.description(), _state(m))


def _state(m: TrainedModel) -> dict[str, torch.Tensor]:
    """The ``state_dict`` of :func:`to_sequential`'s network for ``m``."""
    state: dict[str, torch.Tensor] = {}
    i = 0
    if m.standardization is not None:
        state["0.mean"] = torch.from_numpy(m.standardization.mean.astype(m.weights[0].dtype))
        state["0.scale"] = torch.from_numpy(m.standardization.scale.astype(m.weights[0].dtype))
        i = 1
    for W, b in zip(m.weights, m.biases):  # Linear, then its activation
        state[f"{i}.weight"], state[f"{i}.bias"] = torch.from_numpy(W.copy()), torch.from_numpy(b.copy())
        i += 2
    return state


def _build(description: dict, state: dict[str, torch.Tensor]) -> nn.Sequential:
    """The ``nn.Sequential`` a :meth:`TrainedModel.description` describes, holding ``state``."""
    sizes, activation, output = description["sizes"], description["activation"], description["output"]
    dtype = torch.float64 if description.get("dtype") == "float64" else torch.float32
    layers: list[nn.Module] = []
    if description.get("standardization") is not None:
        d = sizes[0]
        layers.append(Standardize(torch.zeros(d, dtype=dtype), torch.ones(d, dtype=dtype)))
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out, dtype=dtype))
        last = l == len(sizes) - 2
        name = output if last else activation
        if name == "softmax":
            layers.append(nn.Softmax(dim=-1))
        elif name not in _MODULES:
            raise ReglabError(f"activation {name!r} has no PyTorch module to export it to")
        elif not (last and name == "linear"):
            layers.append(_MODULES[name]())
    net = nn.Sequential(*layers)
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise ReglabError(f"the weights do not fit the network {sizes}: {str(exc).splitlines()[0]}") from None
    return net.eval()


def load_sequential(path: str | Path) -> nn.Sequential:
    """A file written by :func:`export` (``.pt`` with its ``.json``, or ``.safetensors``) as ``nn.Sequential``."""
    path = Path(path)
    if path.suffix == ".safetensors":
        safetensors = _optional("safetensors.torch", "safetensors")
        with safetensors.safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        if "reglab" not in meta:
            raise ReglabError(f"{path}: no reglab description in its metadata")
        return _build(json.loads(meta["reglab"]), safetensors.load_file(str(path)))
    if path.suffix == ".pt":
        description = _read_json(path.with_suffix(".json"), "the description of a .pt model")
        return _build(description, torch.load(path, weights_only=True))
    raise ReglabError(f"{path}: a .pt or .safetensors file is expected (ONNX files run in onnxruntime)")


# -- ONNX -------------------------------------------------------------------------------------------
def to_onnx(m: TrainedModel):
    """An ONNX ``ModelProto`` of ``m`` (opset 17): input ``input`` (batch, d), output ``output`` (batch, K)."""
    onnx = _optional("onnx", "onnx")
    from onnx import TensorProto, helper, numpy_helper

    elem = TensorProto.DOUBLE if m.dtype == torch.float64 else TensorProto.FLOAT
    nodes, inits = [], []
    x = "input"
    if m.standardization is not None:
        dt = m.weights[0].dtype
        inits += [numpy_helper.from_array(m.standardization.mean.astype(dt), "mean"),
                  numpy_helper.from_array(m.standardization.scale.astype(dt), "scale")]
        nodes += [helper.make_node("Sub", [x, "mean"], ["centered"]), helper.make_node("Div", ["centered", "scale"], ["x0"])]
        x = "x0"
    L = len(m.weights)
    for l, (W, b) in enumerate(zip(m.weights, m.biases)):
        inits += [numpy_helper.from_array(W, f"W{l}"), numpy_helper.from_array(b, f"b{l}")]
        name = m.output if l == L - 1 else m.activation
        if name not in _ONNX_OPS:
            raise ReglabError(f"activation {name!r} has no ONNX operator to export it to")
        op, a = _ONNX_OPS[name], "output" if l == L - 1 else f"a{l + 1}"
        z = a if op is None else f"z{l}"
        nodes.append(helper.make_node("Gemm", [x, f"W{l}", f"b{l}"], [z], transB=1))
        if op == "Softmax":
            nodes.append(helper.make_node(op, [z], [a], axis=-1))
        elif op is not None:
            nodes.append(helper.make_node(op, [z], [a]))
        x = a
    graph = helper.make_graph(nodes, "reglab_mlp", [helper.make_tensor_value_info("input", elem, ["batch", m.sizes[0]])],
                              [helper.make_tensor_value_info("output", elem, ["batch", m.sizes[-1]])], inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="reglab")
    proto.ir_version = 8  # readable by every onnxruntime since 1.10
    helper.set_model_props(proto, {"reglab": json.dumps(m.description())})
    onnx.checker.check_model(proto)
    return proto


# -- files, checked --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Exported:
    """What :func:`export` wrote and how it was checked.

    Attributes
    ----------
    paths : list of Path
        The files written (the model first).
    format : str
    max_difference : float or None
        The largest ``|exported − reglab|`` over the outputs on the check inputs; ``None`` where the
        file could not be run (ONNX without onnxruntime).
    checked_with : str
        What ran the exported file.
    """

    paths: list[Path]
    format: str
    max_difference: float | None
    checked_with: str

    def to_dict(self) -> dict[str, Any]:
        return {"paths": [str(p) for p in self.paths], "format": self.format, "max_difference": self.max_difference,
                "checked_with": self.checked_with, "tolerance": TOLERANCE}


def probe_inputs(m: TrainedModel, n: int = 256, seed: int = 0) -> np.ndarray:
    """Inputs to check an export on, ``(n, d)`` in the model's dtype: standard normal draws in the
    standardized space (mapped back to raw units when the model standardizes its inputs)."""
    z = np.random.default_rng(seed).standard_normal((n, m.sizes[0]))
    if m.standardization is not None:
        z = z * m.standardization.scale + m.standardization.mean
    return z.astype(m.weights[0].dtype)


def export(obj: Any, path: str | Path, to: str = "torch", model: int = 0) -> Exported:
    """Write model ``model`` of ``obj`` (see :func:`trained_model`) to ``path`` in format ``to``, load it back,
    run it on :func:`probe_inputs` and compare with reglab's outputs (a :class:`ReglabError` beyond
    :data:`TOLERANCE`). Every file is written atomically."""
    if to not in FORMATS:
        raise ReglabError(f"--to {to!r} is not one of {', '.join(FORMATS)}")
    m = trained_model(obj, model)
    path = Path(path)
    X = probe_inputs(m)
    expected = m.reference(X)
    if to == "torch":
        sidecar = path.with_suffix(".json")
        with atomic_open(path, "wb") as f:
            torch.save(_state(m), f)
        write_json(sidecar, m.description())
        got, runner, paths = _run_torch(load_sequential(path), X), f"torch {torch.__version__}", [path, sidecar]
    elif to == "safetensors":
        st = _optional("safetensors.torch", "safetensors")
        write_bytes(path, st.save({k: v.contiguous() for k, v in _state(m).items()},
                                  metadata={"reglab": json.dumps(m.description())}))
        got, runner, paths = _run_torch(load_sequential(path), X), f"torch {torch.__version__}", [path]
    else:
        write_bytes(path, to_onnx(m).SerializeToString())
        paths = [path]
        try:
            import onnxruntime
        except ImportError:
            return Exported(paths, to, None, "onnx.checker only (install onnxruntime to run it: pip install 'reglab[export]')")
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        got, runner = session.run(["output"], {"input": X})[0], f"onnxruntime {onnxruntime.__version__}"
    diff = float(np.max(np.abs(got.astype(np.float64) - expected.astype(np.float64))))
    if not diff <= TOLERANCE:
        raise ReglabError(f"{path}: the exported model's outputs differ from reglab's by {diff:.3g} (> {TOLERANCE:g})")
    return Exported(paths, to, diff, runner)


def _run_torch(net: nn.Sequential, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.from_numpy(X)).numpy()


def _optional(module: str, package: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ReglabError(f"this needs {package}: pip install 'reglab[export]' (or pip install {package})") from None

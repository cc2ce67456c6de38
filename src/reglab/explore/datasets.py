"""The playground's data: TensorFlow Playground's four 2-D sets as data files, and the data directory's listing.

The 2-D sets are Playground's generators (``dataset.ts``: circle, xor, two
gaussians, spiral) with its noise slider ``noise ∈ [0, 0.5]``, drawn from
``numpy.random.default_rng`` and scaled from Playground's square ``[-6, 6]²``
to ``[-1, 1]²``. Class 1 is Playground's blue (+1), class 0 its orange (−1).

A drawn set is written once as an ``.npz`` file (arrays ``X``, ``y``) named
by its parameters, and read back through :func:`reglab.data.load_dataset`
like any user's file, so the playground, an exported run folder and
``reglab train --config`` all train on the same examples, split the same way.

The server reads no path a request names: a user's file is chosen by its name
from :func:`data_files`, the listing of the data directory, and looked up there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from reglab.errors import ReglabError
from reglab.io import save_npz

#: Playground's square is [-6, 6]²; ours is [-1, 1]² (inputs of order one for sigmoid and tanh units).
SCALE = 1.0 / 6.0
#: The box the decision boundary is drawn over: the whole square.
BOX = (-1.0, 1.0)
#: Endings of the user files the listing offers.
FILE_SUFFIXES = (".npz", ".csv")
#: A user's file is read whole into memory: at most this many bytes.
MAX_FILE_BYTES = 512 * 1024**2

Generator = Callable[[int, float, np.random.Generator], tuple[np.ndarray, np.ndarray]]


def _circle(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Half the points within radius 2.5 (class 1), half between 3.5 and 5 (class 0); the label is read off
    the noisy point's distance from the centre, as Playground does."""
    radius = 5.0
    inner, outer = n // 2, n - n // 2
    r = np.concatenate([rng.uniform(0, radius * 0.5, inner), rng.uniform(radius * 0.7, radius, outer)])
    angle = rng.uniform(0, 2 * math.pi, n)
    xy = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    xy = xy + rng.uniform(-radius, radius, (n, 2)) * noise
    return xy, (np.hypot(xy[:, 0], xy[:, 1]) < radius * 0.5).astype(np.int64)


def _xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Uniform in [-5, 5]² pushed 0.3 away from the axes; class 1 where x·y ≥ 0 after the noise."""
    xy = rng.uniform(-5, 5, (n, 2))
    xy = xy + np.where(xy > 0, 0.3, -0.3)
    xy = xy + rng.uniform(-5, 5, (n, 2)) * noise
    return xy, (xy[:, 0] * xy[:, 1] >= 0).astype(np.int64)


def _gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two gaussians at (2, 2) (class 1) and (−2, −2) (class 0), variance 0.5 + 7·noise (Playground's 0.5 → 4)."""
    sd = math.sqrt(0.5 + noise * 7.0)
    y = (np.arange(n) < n // 2).astype(np.int64)
    centre = np.where(y[:, None] == 1, 2.0, -2.0)
    return centre + rng.normal(0.0, sd, (n, 2)), y


def _spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two spirals of 1.75 turns out to radius 5, the second turned by π (class 0)."""
    half = [n - n // 2, n // 2]
    parts = []
    for label, (delta, k) in enumerate(zip((math.pi, 0.0), half)):
        i = np.arange(k) / max(k, 1)
        r, t = i * 5.0, 1.75 * i * 2 * math.pi + delta
        xy = np.stack([r * np.sin(t), r * np.cos(t)], axis=1) + rng.uniform(-1, 1, (k, 2)) * noise
        parts.append((xy, np.full(k, label, dtype=np.int64)))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


#: The 2-D sets by name.
PLANAR: dict[str, Generator] = {"circle": _circle, "xor": _xor, "gauss": _gauss, "spiral": _spiral}


def planar(name: str, n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of the 2-D set ``name``: ``X`` (n, 2) float32 in about [-1, 1]², ``y`` (n,) int64 in {0, 1}."""
    if name not in PLANAR:
        raise ReglabError(f"unknown 2-D data set {name!r}; choose one of {', '.join(PLANAR)}")
    xy, y = PLANAR[name](n, noise, np.random.default_rng(seed))
    return (xy * SCALE).astype(np.float32), y


def planar_file(name: str, n: int, noise: float, seed: int, folder: Path) -> Path:
    """The 2-D set as ``folder/<name>-n<n>-noise<noise>-seed<seed>.npz`` (written atomically when absent)."""
    path = Path(folder) / f"{name}-n{n}-noise{noise:g}-seed{seed}.npz"
    if not path.is_file():
        X, y = planar(name, n, noise, seed)
        save_npz(path, {"X": X, "y": y})
    return path


def data_files(data_dir: Path) -> list[str]:
    """The names of the ``.npz`` and ``.csv`` files directly in ``data_dir`` (sorted; none if it is absent)."""
    if not data_dir.is_dir():
        return []
    return sorted(p.name for p in data_dir.iterdir() if p.is_file() and p.name.lower().endswith(FILE_SUFFIXES))


def data_file(data_dir: Path, name: str) -> Path:
    """The file ``name`` of :func:`data_files` (only a name the listing holds: never a path the request made up)."""
    for listed in data_files(data_dir):
        if listed == name:
            size = (data_dir / listed).stat().st_size
            if size > MAX_FILE_BYTES:
                raise ReglabError(f"{name} is {size / 1024**2:,.0f} MB; the playground reads files of at most "
                                  f"{MAX_FILE_BYTES // 1024**2} MB (reglab train reads any)")
            return data_dir / listed
    raise ReglabError(f"{name!r} is not a .npz or .csv file of the data directory {data_dir}")

"""Classical IR precipitation baselines behind one interface and a registry.

``get_baseline(name, **settings)`` with ``name`` one of ``"gpi"`` (Arkin & Meisner 1987),
``"ae"`` (Auto-Estimator, Vicente et al. 1998), ``"persiann_ccs"`` (Hong et al. 2004) and
``"gbm"`` (per-pixel gradient boosting). Each has ``fit(ir, precip, valid)`` and
``predict(ir) -> mm h-1``; ``load_baseline(path)`` reads what ``save(path)`` wrote.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from prelib.baselines.auto_estimator import AutoEstimator
from prelib.baselines.base import IRBaseline
from prelib.baselines.gbm import GradientBoostingIR
from prelib.baselines.gpi import GPI
from prelib.baselines.persiann_ccs import PersiannCCS
from prelib.errors import UnsafeFileError

BASELINES: dict[str, type[IRBaseline]] = {
    "gpi": GPI,
    "ae": AutoEstimator,
    "persiann_ccs": PersiannCCS,
    "gbm": GradientBoostingIR,
}


def get_baseline(name: str, **settings) -> IRBaseline:
    """A new, unfitted baseline by name (see :data:`BASELINES`)."""
    try:
        cls = BASELINES[name]
    except KeyError:
        raise ValueError(f"unknown baseline {name!r}; choose one of {sorted(BASELINES)}") from None
    return cls(**settings)


def load_baseline(path: str | os.PathLike) -> IRBaseline:
    """Read a baseline saved with ``save``: a pickle-free ``.npz`` of settings and arrays.

    Any other extension is refused without opening the file, and the ``.npz`` is read with
    ``allow_pickle=False``: loading a baseline never runs code from the file.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    prelib.errors.UnsafeFileError
        ``path`` is not a ``.npz`` (e.g. a joblib/pickle file of an older prelib).
    ValueError
        The ``.npz`` is not a saved baseline (the message names the file and what is missing).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved baseline at {path}")
    if path.suffix.lower() != ".npz":
        raise UnsafeFileError(
            f"{path}: baselines are read only from pickle-free '.npz' files written by "
            f"prelib's save(); refusing '{path.suffix or '(no extension)'}' (pickle/joblib files "
            "can run code when opened; refit the baseline and save it as .npz)"
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["__meta__"]))
            arrays = {k: data[k] for k in data.files if k != "__meta__"}
        name, settings = meta["name"], meta["settings"]
    except (ValueError, OSError, KeyError, TypeError, EOFError) as err:
        raise ValueError(
            f"{path}: not a baseline saved by prelib (expected a .npz with a '__meta__' entry "
            f"and plain arrays): {err}"
        ) from err
    model = get_baseline(name)
    model.set_state(settings, arrays)
    return model


__all__ = [
    "BASELINES",
    "GPI",
    "AutoEstimator",
    "GradientBoostingIR",
    "IRBaseline",
    "PersiannCCS",
    "get_baseline",
    "load_baseline",
]

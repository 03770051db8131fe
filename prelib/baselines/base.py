"""Common interface of the classical IR precipitation baselines.

Every baseline maps brightness temperatures ``ir`` of shape (N, 8, H, W) in K, channels in
``prelib.conventions.AGRI_IR_CHANNELS`` order, to a rain rate (N, H, W) in mm h-1::

    model = get_baseline("gpi").fit(ir_train, precip_train, valid_train)
    rain = model.predict(ir_test)
    model.save("gpi.npz"); same = load_baseline("gpi.npz")

``fit`` uses only the training split. Storage: every baseline keeps its
parameters as plain arrays in a pickle-free ``.npz`` (``allow_pickle=False`` on load; the
gradient-boosting trees as node arrays), so loading a saved baseline never runs code.
"""

from __future__ import annotations

import abc
import json
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from prelib import conventions as cv
from prelib.atomic import atomic_path

WINDOW_INDEX: int = cv.AGRI_IR_CHANNELS.index(cv.AGRI_WINDOW_CHANNEL)
"""Index of the 10.8 µm window channel in the (N, 8, H, W) stack."""

BT_RANGE_K: tuple[float, float] = (100.0, 400.0)
"""Plausible brightness temperatures; values outside suggest wrong units (e.g. °C or counts)."""


def check_ir(ir: np.ndarray) -> np.ndarray:
    """Validate ``ir`` (N, 8, H, W) in K and return it as float32.

    NaN is allowed (missing pixels give NaN predictions); finite values outside 100–400 K raise.
    """
    ir = np.asarray(ir, dtype=np.float32)
    if ir.ndim != 4 or ir.shape[1] != cv.N_IR:
        raise ValueError(f"ir must have shape (N, {cv.N_IR}, H, W) in K, got {ir.shape}")
    finite = ir[np.isfinite(ir)]
    if finite.size == 0:
        raise ValueError("ir contains no finite brightness temperature")
    low, high = float(finite.min()), float(finite.max())
    if low < BT_RANGE_K[0] or high > BT_RANGE_K[1]:
        raise ValueError(
            f"ir must be brightness temperature in K within {BT_RANGE_K}, got values in "
            f"[{low:.1f}, {high:.1f}] (°C or raw counts?)"
        )
    return ir


def check_labels(ir: np.ndarray, precip: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    """Validate labels against ``ir`` and return the boolean mask of usable pixels (N, H, W)."""
    precip = np.asarray(precip, dtype=np.float32)
    expected = (ir.shape[0], *ir.shape[2:])
    if precip.shape != expected:
        raise ValueError(f"precip must have shape {expected}, got {precip.shape}")
    usable = np.isfinite(precip) & np.isfinite(ir).all(axis=1)
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != expected:
            raise ValueError(f"valid must have shape {expected}, got {valid.shape}")
        usable &= valid
    if not usable.any():
        raise ValueError("no valid training pixel (labels all NaN or valid mask empty)")
    if (precip[usable] < 0).any():
        raise ValueError("precip has negative rain rates on valid pixels")
    return usable


class IRBaseline(abc.ABC):
    """Base class: ``fit(ir, precip, valid) -> self`` and ``predict(ir) -> (N, H, W) mm h-1``."""

    name: ClassVar[str] = ""

    @abc.abstractmethod
    def fit(self, ir: np.ndarray, precip: np.ndarray, valid: np.ndarray | None = None):
        """Fit on the training split; returns ``self``."""

    @abc.abstractmethod
    def predict(self, ir: np.ndarray) -> np.ndarray:
        """Rain rate (N, H, W) in mm h-1 (NaN where the 10.8 µm input is missing)."""

    # -- pickle-free storage: settings as JSON, fitted state as arrays ------------------------
    @abc.abstractmethod
    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(JSON-able settings, named arrays) that :meth:`set_state` restores."""

    @abc.abstractmethod
    def set_state(self, settings: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`get_state` returned."""

    def save(self, path: str | os.PathLike) -> Path:
        """Write the baseline atomically to ``path`` (must end in ``.npz``)."""
        settings, arrays = self.get_state()
        meta = json.dumps({"name": self.name, "settings": settings})
        path = Path(path)
        if path.suffix.lower() != ".npz":
            raise ValueError(
                f"{path}: baselines are saved as '.npz' (pickle-free); got {path.suffix!r}"
            )
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, __meta__=np.array(meta), **arrays)
        return path

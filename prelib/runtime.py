"""Seeding and device selection: the one setup call every notebook and command makes."""

from __future__ import annotations

import os
import random

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators (CPU and CUDA)."""
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)  # noqa: NPY002 (legacy global state, for third-party code)
    import torch

    torch.manual_seed(int(seed))
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(int(seed))


def select_device(device: str = "auto"):
    """Return a ``torch.device``: ``"auto"`` picks CUDA when present, else CPU.

    Raises
    ------
    ValueError
        If a CUDA device is requested but none is available, or the name is not a device.
    """
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"unknown device {device!r}: {err}") from None
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available on this machine")
    return chosen


def setup(seed: int = 0, device: str = "auto", threads: int | None = None):
    """Seed everything, optionally cap CPU threads, and return the selected ``torch.device``.

    Parameters
    ----------
    seed : int
        Seed for Python, NumPy and torch.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"`` …
    threads : int, optional
        torch intra-op threads; default: ``PRELIB_THREADS`` or torch's default.
    """
    import torch

    threads = threads or int(os.environ.get("PRELIB_THREADS", "0")) or None
    if threads:
        torch.set_num_threads(threads)
    seed_everything(seed)
    return select_device(device)

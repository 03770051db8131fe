"""Capture and restore every random state that decides a training run.

Python's ``random``, NumPy's global generator, torch's CPU (and CUDA) generators, and the
DataLoader's own generators (the loader's and its sampler's), which decide the shuffling order and
the workers' seeds. States are stored as tensors, ints and strings only, so checkpoints load with
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def capture_global_rng() -> dict[str, Any]:
    """Python, NumPy and torch global generator states."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002 (global state)
    state: dict[str, Any] = {
        "python": {
            "version": version,
            "state": torch.tensor(internal, dtype=torch.int64),
            "gauss": gauss,
        },
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_global_rng(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_global_rng`."""
    py = state["python"]
    random.setstate((py["version"], tuple(int(v) for v in py["state"].tolist()), py["gauss"]))
    npy = state["numpy"]
    np.random.set_state(  # noqa: NPY002
        (
            npy["kind"],
            npy["keys"].numpy().astype(np.uint32),
            npy["pos"],
            npy["has_gauss"],
            npy["cached"],
        )
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _loader_generators(loader) -> dict[str, torch.Generator]:
    found = {}
    if getattr(loader, "generator", None) is not None:
        found["loader"] = loader.generator
    sampler = getattr(loader, "sampler", None)
    if getattr(sampler, "generator", None) is not None:
        found["sampler"] = sampler.generator
    batch_sampler = getattr(loader, "batch_sampler", None)
    inner = getattr(batch_sampler, "sampler", None)
    if inner is not sampler and getattr(inner, "generator", None) is not None:
        found["batch_sampler"] = inner.generator
    return found


def capture_loader_rng(loader) -> dict[str, torch.Tensor]:
    """States of the generators a DataLoader owns (empty when it uses the global generator)."""
    return {name: gen.get_state() for name, gen in _loader_generators(loader).items()}


def restore_loader_rng(loader, state: dict[str, torch.Tensor]) -> None:
    """Inverse of :func:`capture_loader_rng`."""
    generators = _loader_generators(loader)
    for name, value in state.items():
        if name in generators:
            generators[name].set_state(value)

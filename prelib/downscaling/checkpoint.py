"""Atomic checkpoints of the downscaling models (``torch.save`` / ``weights_only`` load)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from prelib.atomic import atomic_path


def save_checkpoint(model: nn.Module, path: str | Path, meta: dict[str, Any]) -> Path:
    """Write ``{"state_dict", "meta"}`` atomically; ``meta`` holds plain types only."""
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save({"state_dict": model.state_dict(), "meta": meta}, tmp)
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    return torch.load(path, map_location="cpu", weights_only=True)

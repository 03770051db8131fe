"""The per-sample Self-MaskTune flags, keyed by dataset index and double-buffered across epochs.

Updates recorded in epoch ``t`` are used in epoch ``t + 1`` (also under DDP, where the ranks'
updates are gathered), and the store is checkpointed with the model (packed as tensors so that
``torch.load(weights_only=True)`` reads it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class MaskStore:
    """Per-sample flags keyed by dataset index, double-buffered across epochs.

    Lives in the main process. :meth:`put` writes to a pending buffer; :meth:`commit` (at the end of
    an epoch) makes the pending flags visible to :meth:`get`, so epoch t reads what epoch t−1 wrote.
    """

    def __init__(self) -> None:
        self._flags: dict[int, np.ndarray] = {}
        self._pending: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._flags)

    def get(self, indices: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        """Flags of ``indices`` (B,) as a (B, h0, w0) bool tensor; unknown samples → all True."""
        out = np.ones((len(indices), *grid), dtype=bool)
        for row, index in enumerate(as_index_list(indices)):
            stored = self._flags.get(index)
            if stored is None:
                continue
            if stored.shape != tuple(grid):
                raise ValueError(
                    f"stored mask of sample {index} has grid {stored.shape}, "
                    f"expected {tuple(grid)} "
                    "(the input size changed between epochs)"
                )
            out[row] = stored
        return torch.from_numpy(out)

    def put(self, indices: torch.Tensor, flags: torch.Tensor) -> None:
        """Queue ``flags`` (B, h0, w0) of ``indices`` (B,) for the next epoch."""
        flags_np = flags.detach().cpu().numpy().astype(bool)
        index_list = as_index_list(indices)
        if len(index_list) != flags_np.shape[0]:
            raise ValueError(f"{len(index_list)} indices for {flags_np.shape[0]} masks")
        for row, index in enumerate(index_list):
            self._pending[index] = flags_np[row].copy()

    def commit(self, gather=None) -> None:
        """Publish the pending flags. ``gather`` (optional) merges the ranks' pending dicts."""
        pending = self._pending if gather is None else gather(self._pending)
        self._flags.update(pending)
        self._pending = {}

    def state_dict(self) -> dict[str, Any]:
        """Tensors only, so that ``torch.load(weights_only=True)`` reads it."""
        return {"flags": _pack(self._flags), "pending": _pack(self._pending)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._flags = _unpack(state["flags"])
        self._pending = _unpack(state["pending"])


def as_index_list(indices) -> list[int]:
    """Dataset indices of a batch (tensor, list or scalar) as a list of ints."""
    return [int(i) for i in torch.as_tensor(indices).reshape(-1).tolist()]


def _pack(flags: dict[int, np.ndarray]) -> dict[str, Any]:
    keys = sorted(flags)
    shapes = {flags[k].shape for k in keys}
    if len(shapes) > 1:
        # Mixed grids (inputs of different sizes) are stored one by one.
        return {
            "indices": torch.tensor(keys, dtype=torch.int64),
            "masks": [torch.from_numpy(flags[k].astype(np.uint8)) for k in keys],
        }
    stacked = np.stack([flags[k] for k in keys]).astype(np.uint8) if keys else np.zeros((0, 1, 1))
    return {"indices": torch.tensor(keys, dtype=torch.int64), "masks": torch.from_numpy(stacked)}


def _unpack(packed: dict[str, Any]) -> dict[int, np.ndarray]:
    masks = packed["masks"]
    return {
        int(k): np.asarray(masks[i].numpy(), dtype=bool)
        for i, k in enumerate(packed["indices"].tolist())
    }

"""Neighbourhood categorical scores by non-overlapping max-pooling: the paper's CSI-4 and CSI-8.

Following PRE-Net's evaluation (Wang et al., KDD 2025; prenet_reference §7.3), prediction and
truth are max-pooled over non-overlapping ``n × n`` windows (stride ``n``) of the last two
dimensions — a rain event anywhere in the window makes the window an event — and the usual
``>= threshold`` contingency table is accumulated over the pooled grid. A 256 × 256 patch gives
a 64 × 64 grid for ``n = 4`` and 32 × 32 for ``n = 8``.

Missing values
    A window that contains any missing pixel (NaN or infinite truth or prediction, or
    ``valid`` False) is dropped from the table, as the reference code drops windows containing
    a NaN label. (The reference code looks at label NaNs only; a missing prediction is treated
    the same way here so that it can never count as dry.)

Ragged edges
    When a spatial size is not a multiple of ``n`` the trailing partial windows (the last
    ``size mod n`` rows / columns) are dropped, like ``torch.nn.functional.max_pool2d`` with its
    default ``ceil_mode=False``. The paper's sizes (256 with n = 4, 8) divide evenly. A field
    smaller than one window raises ``ValueError``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from prelib.conventions import RAIN_THRESHOLD
from prelib.metrics.base import StreamingMetric
from prelib.metrics.categorical import CONTINGENCY_SCORES, ContingencyTable
from prelib.metrics.inputs import (
    ArrayLike,
    check_spatial_samples,
    check_threshold,
    check_window,
    group_rows,
    prepare_pair,
)


def max_pool_blocks(
    field: np.ndarray, valid: np.ndarray, kernel: int
) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping ``kernel × kernel`` max-pool of the last two dimensions.

    Parameters
    ----------
    field : np.ndarray, shape ``(..., y, x)``
        Values to pool (missing pixels may hold anything; they are masked by ``valid``).
    valid : np.ndarray of bool, same shape
        Pixels that may be used.
    kernel : int
        Window size and stride in pixels.

    Returns
    -------
    pooled : np.ndarray, shape ``(..., y // kernel, x // kernel)``
        Maximum over each window's valid pixels (``-inf`` where a window has none).
    pooled_valid : np.ndarray of bool, same shape
        ``True`` where every pixel of the window is valid.

    Raises
    ------
    ValueError
        If the field has fewer than two dimensions or is smaller than one window.
    """
    kernel = check_window(kernel, "kernel")
    if field.ndim < 2:
        raise ValueError(f"max-pooling needs (..., y, x) arrays, got shape {field.shape}")
    ny, nx = field.shape[-2] // kernel, field.shape[-1] // kernel
    if ny == 0 or nx == 0:
        raise ValueError(
            f"kernel {kernel} is larger than the spatial size {field.shape[-2:]}; "
            "no complete window fits"
        )
    lead = field.shape[:-2]
    window_shape = (*lead, ny, kernel, nx, kernel)
    trimmed = np.where(valid, field, -np.inf)[..., : ny * kernel, : nx * kernel]
    pooled = trimmed.reshape(window_shape).max(axis=(-3, -1))
    pooled_valid = valid[..., : ny * kernel, : nx * kernel].reshape(window_shape).all(axis=(-3, -1))
    return pooled, pooled_valid


class NeighbourhoodCategorical(StreamingMetric):
    """A contingency-table score on ``kernel × kernel`` max-pooled fields (e.g. CSI-4).

    Parameters
    ----------
    kernel : int
        Window size and stride in pixels (the paper: 4 and 8).
    threshold : float
        Event threshold in mm h-1 applied with ``>=`` to the pooled fields; default
        :data:`prelib.conventions.RAIN_THRESHOLD`.
    score : {"csi", "pod", "far", "fbias", "hss", "ets"}
        Which score of the pooled contingency table to return.
    aggregation : {"pooled", "per_sample"}
        See :class:`~prelib.metrics.base.StreamingMetric`; samples are the leading axis, and any
        dimensions between it and the last two are pooled into the sample.

    Notes
    -----
    Inputs need at least two dimensions ``(..., y, x)``. See the module docstring for missing
    values and ragged edges.
    """

    undefined_reason = "zero denominator in the pooled contingency table (no events or no windows)"

    def __init__(
        self,
        kernel: int = 4,
        threshold: float = RAIN_THRESHOLD,
        score: str = "csi",
        aggregation: str = "pooled",
    ) -> None:
        self.kernel = check_window(kernel, "kernel")
        self.threshold = check_threshold(threshold)
        if score not in CONTINGENCY_SCORES:
            raise ValueError(f"score must be one of {sorted(CONTINGENCY_SCORES)}, got {score!r}")
        self.score = score
        super().__init__(aggregation)

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.score}{self.kernel}"

    def config(self) -> dict[str, Any]:
        return {
            "kernel": self.kernel,
            "threshold": self.threshold,
            "score": self.score,
            **super().config(),
        }

    def state_key(self) -> tuple:
        return ("neighbourhood", self.kernel, self.threshold, self.aggregation)

    @property
    def table(self) -> ContingencyTable | None:
        """The pooled table of windows accumulated so far (``None`` if empty or per-sample)."""
        return self._state  # type: ignore[return-value]

    def _batch_state(
        self, pred: ArrayLike, truth: ArrayLike, valid: ArrayLike | None
    ) -> ContingencyTable:
        pred, truth, valid = prepare_pair(pred, truth, valid, min_ndim=2)
        check_spatial_samples(pred.shape, self.per_sample)
        pooled_pred, window_valid = max_pool_blocks(pred, valid, self.kernel)
        pooled_truth, _ = max_pool_blocks(truth, valid, self.kernel)
        rows = (group_rows(a, self.per_sample) for a in (pooled_pred, pooled_truth, window_valid))
        return ContingencyTable.from_fields(*rows, threshold=self.threshold)

    def _scores(self, state: ContingencyTable) -> np.ndarray:
        return CONTINGENCY_SCORES[self.score](state)


class NeighbourhoodCSI(NeighbourhoodCategorical):
    """CSI-n of the PRE-Net paper: CSI of ``kernel × kernel`` non-overlapping max-pooled fields.

    Parameters
    ----------
    kernel : int
        Window size and stride in pixels (the paper reports 4 and 8).
    threshold : float
        Event threshold (mm h-1, ``>=``).
    aggregation : {"pooled", "per_sample"}
        The paper pools.
    """

    def __init__(
        self, kernel: int = 4, threshold: float = RAIN_THRESHOLD, aggregation: str = "pooled"
    ) -> None:
        super().__init__(kernel=kernel, threshold=threshold, score="csi", aggregation=aggregation)

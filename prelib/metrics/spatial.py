"""Fractions skill score (FSS) at several neighbourhood scales (Roberts & Lean 2008).

Roberts, N. M. & Lean, H. W. (2008), "Scale-selective verification of rainfall accumulations
from high-resolution forecasts of convective events", Mon. Wea. Rev. 136, 78–97.

For a square window of ``n × n`` pixels sliding over the last two dimensions, the event fractions
``P_f`` (prediction) and ``P_o`` (truth) are the fraction of the window's pixels with
``value >= threshold``. Summed over all windows of all fields::

    FSS(n) = 1 − Σ (P_f − P_o)² / (Σ P_f² + Σ P_o²)

Streaming: the numerator ``Σ (P_f − P_o)²`` and the reference ``Σ P_f² + Σ P_o²`` are sums, so
they are accumulated per scale and the score is formed at ``compute()``; pooling over fields this
way is Roberts & Lean's aggregation for many forecasts (and that of ``scores.spatial.fss_2d``).
Window sums use integral images, so event counts are exact.

Window placement and missing values (our documented choice)
    Only windows lying entirely inside the field are used (the "inner border" of
    ``scores.spatial.fss_2d``'s default; no zero padding, which would count the outside of the
    domain as dry). A window containing any missing pixel (NaN / infinite truth or prediction,
    or ``valid`` False) is dropped, the same rule as the paper's CSI-n; missing values are never
    counted as dry. A scale larger than the field raises ``ValueError``. The rule suits missing
    data that come in regions (sea or out-of-domain pixels of a gauge analysis); with many
    scattered missing pixels few large windows survive (``FractionsState.windows`` counts them).

``padding="zero"`` (pysteps' convention)
    Every pixel is the centre of a window and the outside of the field counts as "no event"
    (zero padding), exactly as ``pysteps.verification.spatialscores.fss`` (``uniform_filter``
    with ``mode="constant", cval=0``; for an even window of side ``n`` the window spans
    ``[i − n//2, i − n//2 + n)``). Missing values are then *non-events* too, as in pysteps,
    which sets NaN to ``thr − 1``; use it to reproduce pysteps numbers, not for data with gaps.

Conventions against other packages (for users comparing numbers)
    * event rule: ours is ``value >= threshold`` here and in every categorical score of
      :mod:`prelib.metrics`. pysteps' FSS also uses ``>=``, but its categorical scores
      (``det_cat_fct``: POD, FAR, CSI …) use ``>``; ``scores`` takes the comparison as an
      argument (``threshold_operator`` of ``fss_2d``; check its default in your version). A rate
      exactly at the threshold (common in quantised radar data, e.g. 0.1 mm h-1) is an event
      here and a non-event for pysteps' CSI.
    * borders: ours drops windows that leave the field (``padding="inner"``, like ``scores``'
      default ``zero_padding=False``); pysteps zero-pads (``padding="zero"``), which lowers the
      fractions near the edges and changes FSS at large windows.
    * missing values: ours drops every window touching one (inner) — never dry; pysteps counts
      them as dry; ``scores`` propagates NaN into the fractions.

Degenerate case: when no retained window contains an event in either field the reference sum
is 0 and FSS is NaN with a ``RuntimeWarning``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from prelib.conventions import RAIN_THRESHOLD
from prelib.metrics.base import MetricState, StreamingMetric, safe_divide
from prelib.metrics.inputs import (
    ArrayLike,
    check_spatial_samples,
    check_threshold,
    check_window,
    group_rows,
    prepare_pair,
)

PADDINGS: tuple[str, ...] = ("inner", "zero")
"""Window placements: complete windows only (ours), or zero padding (pysteps)."""

DEFAULT_FSS_SCALES: tuple[int, ...] = (1, 3, 5, 9)
"""Default window sizes in pixels (our choice; the PRE-Net paper does not report FSS)."""


def window_counts(indicator: np.ndarray, size: int) -> np.ndarray:
    """Number of ``True`` pixels in every ``size × size`` window inside the last two dimensions.

    Parameters
    ----------
    indicator : np.ndarray of bool, shape ``(..., y, x)``
    size : int
        Window side in pixels, ``1 <= size <= min(y, x)``.

    Returns
    -------
    np.ndarray of int64, shape ``(..., y − size + 1, x − size + 1)``
        Counts for the window whose top-left pixel is at each position.
    """
    counts = indicator.astype(np.int64)
    integral = np.zeros((*counts.shape[:-2], counts.shape[-2] + 1, counts.shape[-1] + 1), np.int64)
    integral[..., 1:, 1:] = counts.cumsum(axis=-2).cumsum(axis=-1)
    return (
        integral[..., size:, size:]
        - integral[..., :-size, size:]
        - integral[..., size:, :-size]
        + integral[..., :-size, :-size]
    )


@dataclasses.dataclass(frozen=True)
class FractionsState(MetricState):
    """FSS sums per group and scale, arrays of shape ``(group, scale)``.

    Attributes
    ----------
    numerator : Σ (P_f − P_o)² over retained windows.
    reference : Σ P_f² + Σ P_o² over retained windows.
    windows : number of retained windows (int64).
    """

    numerator: np.ndarray
    reference: np.ndarray
    windows: np.ndarray

    def merge(self, other: FractionsState) -> FractionsState:
        return FractionsState(
            numerator=self.numerator + other.numerator,
            reference=self.reference + other.reference,
            windows=self.windows + other.windows,
        )


class FSS(StreamingMetric):
    """Fractions skill score at one or more window sizes.

    Parameters
    ----------
    scales : sequence of int
        Square window sides in pixels; default :data:`DEFAULT_FSS_SCALES`.
    threshold : float
        Event threshold (mm h-1) applied with ``>=``; default
        :data:`prelib.conventions.RAIN_THRESHOLD`.
    aggregation : {"pooled", "per_sample"}
        See :class:`~prelib.metrics.base.StreamingMetric`.
    padding : {"inner", "zero"}
        ``"inner"`` (default): only windows inside the field, windows with missing values
        dropped. ``"zero"``: pysteps' convention (module docstring) — every pixel-centred window,
        the outside and missing values count as non-events.

    Notes
    -----
    ``compute()`` returns ``{scale: fss}``; a :class:`~prelib.metrics.collection.MetricCollection`
    flattens it to keys ``fss_1``, ``fss_3``, …
    """

    name = "fss"
    undefined_reason = "no event in any retained window of either field"

    def __init__(
        self,
        scales: tuple[int, ...] | list[int] = DEFAULT_FSS_SCALES,
        threshold: float = RAIN_THRESHOLD,
        aggregation: str = "pooled",
        padding: str = "inner",
    ) -> None:
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {list(PADDINGS)}, got {padding!r}")
        self.padding = padding
        if isinstance(scales, int | np.integer):
            scales = (int(scales),)
        scales = tuple(check_window(scale, "FSS scale") for scale in scales)
        if not scales or len(set(scales)) != len(scales):
            raise ValueError(f"scales must be a non-empty sequence of distinct sizes, got {scales}")
        self.scales = scales
        self.threshold = check_threshold(threshold)
        super().__init__(aggregation)

    def config(self) -> dict[str, Any]:
        return {
            "scales": self.scales,
            "threshold": self.threshold,
            "padding": self.padding,
            **super().config(),
        }

    def _batch_state(
        self, pred: ArrayLike, truth: ArrayLike, valid: ArrayLike | None
    ) -> FractionsState:
        user_valid = valid
        pred, truth, valid = prepare_pair(pred, truth, valid, min_ndim=2)
        check_spatial_samples(pred.shape, self.per_sample)
        if self.padding == "zero":
            # pysteps: a missing value is a non-event of its own field only
            keep = (
                np.ones(pred.shape, bool)
                if user_valid is None
                else valid | ~np.isfinite(pred) | ~np.isfinite(truth)
            )
            return self._zero_padded_state(pred, truth, keep)
        if max(self.scales) > min(pred.shape[-2:]):
            raise ValueError(
                f"FSS scale {max(self.scales)} is larger than the spatial size {pred.shape[-2:]}"
            )
        pred_event = (pred >= self.threshold) & valid
        truth_event = (truth >= self.threshold) & valid
        parts = []
        for scale in self.scales:
            area = float(scale * scale)
            keep = window_counts(~valid, scale) == 0
            pred_fraction = window_counts(pred_event, scale) / area
            truth_fraction = window_counts(truth_event, scale) / area
            rows = [
                group_rows(np.where(keep, x, 0.0), self.per_sample).sum(axis=1)
                for x in (
                    np.square(pred_fraction - truth_fraction),
                    np.square(pred_fraction) + np.square(truth_fraction),
                )
            ]
            windows = group_rows(keep, self.per_sample).sum(axis=1)
            parts.append((*rows, windows))
        numerator, reference, windows = (np.stack(column, axis=1) for column in zip(*parts))
        return FractionsState(numerator, reference, windows.astype(np.int64))

    def _zero_padded_state(
        self, pred: np.ndarray, truth: np.ndarray, valid: np.ndarray
    ) -> FractionsState:
        with np.errstate(invalid="ignore"):
            pred_event = np.isfinite(pred) & (pred >= self.threshold) & valid
            truth_event = np.isfinite(truth) & (truth >= self.threshold) & valid
        lead = pred.ndim - 2
        parts = []
        for scale in self.scales:
            before, after = scale // 2, scale - 1 - scale // 2
            pad = [(0, 0)] * lead + [(before, after), (before, after)]
            area = float(scale * scale)
            fractions = [
                window_counts(np.pad(event, pad), scale) / area
                for event in (pred_event, truth_event)
            ]
            rows = [
                group_rows(x, self.per_sample).sum(axis=1)
                for x in (
                    np.square(fractions[0] - fractions[1]),
                    np.square(fractions[0]) + np.square(fractions[1]),
                )
            ]
            windows = group_rows(np.ones(pred.shape, dtype=bool), self.per_sample).sum(axis=1)
            parts.append((*rows, windows))
        numerator, reference, windows = (np.stack(column, axis=1) for column in zip(*parts))
        return FractionsState(numerator, reference, windows.astype(np.int64))

    def _scores(self, state: FractionsState) -> np.ndarray:
        return 1.0 - safe_divide(state.numerator, state.reference)

    def _score_shape(self) -> tuple[int, ...]:
        return (len(self.scales),)

    def _format(self, values: np.ndarray) -> dict[int, float]:
        return {scale: float(value) for scale, value in zip(self.scales, values)}


def fss(
    pred: ArrayLike,
    truth: ArrayLike,
    threshold: float = RAIN_THRESHOLD,
    scale: int = 3,
    padding: str = "inner",
    valid: ArrayLike | None = None,
) -> float:
    """Pooled FSS of ``(..., y, x)`` fields at one window size (see :class:`FSS`).

    ``padding="zero"`` reproduces ``pysteps.verification.spatialscores.fss(pred, truth,
    threshold, scale)`` for 2-D fields (and its ``fss_accum`` over many fields).
    """
    metric = FSS(scales=(scale,), threshold=threshold, padding=padding)
    metric.update(pred, truth, valid)
    return metric.compute()[scale]

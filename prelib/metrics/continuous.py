"""Continuous scores: RMSE, MAE, bias (mean error) and the Pearson correlation coefficient.

All four are computed from one set of float64 sufficient statistics per group
(:class:`MomentState`): the pixel count, the sums of the error, absolute error and squared error,
and — for the correlation — the means of prediction and truth with their centred second moments
and co-moment. Within a batch the centred moments are computed in two passes; batches are
combined with the pairwise update of Chan, Golub & LeVeque (1979, "Updating formulae and a
pairwise algorithm for computing sample variances"), the parallel form of Welford (1962). This
avoids the catastrophic cancellation of the textbook ``Σxy − n·x̄·ȳ`` formula when precipitation
means are large relative to their spread.

Definitions (pooled over valid pixels, ``e = pred − truth``, mm h-1)::

    RMSE = sqrt(mean(e²))        MAE = mean(|e|)        bias = mean(e)
    CC   = Σ(p − p̄)(t − t̄) / sqrt(Σ(p − p̄)² Σ(t − t̄)²)

Degenerate cases: no valid pixel → NaN with a ``RuntimeWarning`` (all four scores). CC is also
undefined with fewer than two valid pixels or when the prediction or the truth is constant
(zero variance), e.g. an all-dry scene; it is then NaN with a ``RuntimeWarning``. The PRE-Net
reference code sets CC to 0 when all observations or all predictions are 0 (prenet_reference
§7.2); pass ``constant_value=0.0`` to :class:`PearsonCC` to reproduce that.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from prelib.metrics.base import MetricState, StreamingMetric, safe_divide
from prelib.metrics.inputs import ArrayLike, group_rows, prepare_pair

_RELATIVE_ROUNDING = 1e-12
"""Relative size below which a centred second moment counts as zero (a constant field)."""


@dataclasses.dataclass(frozen=True)
class MomentState(MetricState):
    """Float64 sums and centred moments, each an array of shape ``(group,)``.

    Attributes
    ----------
    count : valid pixels.
    sum_error, sum_abs_error, sum_sq_error : Σe, Σ|e|, Σe² with e = pred − truth.
    mean_pred, mean_truth : means (0 where ``count`` is 0).
    m2_pred, m2_truth : Σ(p − p̄)², Σ(t − t̄)².
    comoment : Σ(p − p̄)(t − t̄).
    """

    count: np.ndarray
    sum_error: np.ndarray
    sum_abs_error: np.ndarray
    sum_sq_error: np.ndarray
    mean_pred: np.ndarray
    mean_truth: np.ndarray
    m2_pred: np.ndarray
    m2_truth: np.ndarray
    comoment: np.ndarray

    @classmethod
    def from_arrays(cls, pred: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> MomentState:
        """Statistics of ``(group, pixel)`` arrays, masked by ``valid`` (same shape)."""
        count = valid.sum(axis=1).astype(np.float64)
        error = np.where(valid, pred - truth, 0.0)
        pred0 = np.where(valid, pred, 0.0)
        truth0 = np.where(valid, truth, 0.0)
        denominator = np.maximum(count, 1.0)
        mean_pred = pred0.sum(axis=1) / denominator
        mean_truth = truth0.sum(axis=1) / denominator
        # second pass: centre before multiplying so that large means cannot cancel precision
        dp = np.where(valid, pred - mean_pred[:, None], 0.0)
        dt = np.where(valid, truth - mean_truth[:, None], 0.0)
        return cls(
            count=count,
            sum_error=error.sum(axis=1),
            sum_abs_error=np.abs(error).sum(axis=1),
            sum_sq_error=np.square(error).sum(axis=1),
            mean_pred=mean_pred,
            mean_truth=mean_truth,
            m2_pred=np.square(dp).sum(axis=1),
            m2_truth=np.square(dt).sum(axis=1),
            comoment=(dp * dt).sum(axis=1),
        )

    def merge(self, other: MomentState) -> MomentState:
        """Chan et al. (1979) pairwise combination of two groups' moments."""
        n_a, n_b = self.count, other.count
        n = n_a + n_b
        weight_b = safe_divide(n_b, n)  # NaN only where both are empty
        weight_b = np.where(n > 0, weight_b, 0.0)
        cross = np.where(n > 0, safe_divide(n_a * n_b, n), 0.0)
        delta_pred = other.mean_pred - self.mean_pred
        delta_truth = other.mean_truth - self.mean_truth
        return MomentState(
            count=n,
            sum_error=self.sum_error + other.sum_error,
            sum_abs_error=self.sum_abs_error + other.sum_abs_error,
            sum_sq_error=self.sum_sq_error + other.sum_sq_error,
            mean_pred=self.mean_pred + delta_pred * weight_b,
            mean_truth=self.mean_truth + delta_truth * weight_b,
            m2_pred=self.m2_pred + other.m2_pred + delta_pred**2 * cross,
            m2_truth=self.m2_truth + other.m2_truth + delta_truth**2 * cross,
            comoment=self.comoment + other.comoment + delta_pred * delta_truth * cross,
        )


class _MomentMetric(StreamingMetric):
    """Shared batch statistics of the continuous scores."""

    def _batch_state(
        self, pred: ArrayLike, truth: ArrayLike, valid: ArrayLike | None
    ) -> MomentState:
        pred, truth, valid = prepare_pair(pred, truth, valid)
        per_sample = self.per_sample
        return MomentState.from_arrays(
            group_rows(pred, per_sample),
            group_rows(truth, per_sample),
            group_rows(valid, per_sample),
        )

    def state_key(self) -> tuple:
        # RMSE, MAE, bias and CC share one MomentState per aggregation
        return (MomentState, self.aggregation)


class RMSE(_MomentMetric):
    """Root-mean-square error ``sqrt(mean((pred − truth)²))`` in the data's units (mm h-1)."""

    name = "rmse"

    def _scores(self, state: MomentState) -> np.ndarray:
        return np.sqrt(safe_divide(state.sum_sq_error, state.count))


class MSE(_MomentMetric):
    """Mean squared error ``mean((pred − truth)²)`` in squared units ((mm h-1)²)."""

    name = "mse"

    def _scores(self, state: MomentState) -> np.ndarray:
        return safe_divide(state.sum_sq_error, state.count)


class MAE(_MomentMetric):
    """Mean absolute error ``mean(|pred − truth|)`` (also the CRPS of a deterministic forecast)."""

    name = "mae"

    def _scores(self, state: MomentState) -> np.ndarray:
        return safe_divide(state.sum_abs_error, state.count)


class Bias(_MomentMetric):
    """Mean error ``mean(pred − truth)`` (additive bias; positive = overestimation)."""

    name = "bias"

    def _scores(self, state: MomentState) -> np.ndarray:
        return safe_divide(state.sum_error, state.count)


class PearsonCC(_MomentMetric):
    """Pearson correlation coefficient of prediction and truth over the valid pixels.

    Parameters
    ----------
    aggregation : {"pooled", "per_sample"}
        See :class:`~prelib.metrics.base.StreamingMetric`.
    constant_value : float
        Returned when the score is undefined because a field is constant or only one pixel is
        valid. Default NaN (with a ``RuntimeWarning`` from ``compute``); the PRE-Net reference
        code uses 0. Without any valid pixel the result is NaN whatever this value.
    """

    name = "cc"
    undefined_reason = "fewer than 2 valid pixels, or a constant prediction or truth field"

    def __init__(self, aggregation: str = "pooled", constant_value: float = math.nan) -> None:
        if not isinstance(constant_value, int | float) or isinstance(constant_value, bool):
            raise ValueError(f"constant_value must be a number, got {constant_value!r}")
        if math.isfinite(constant_value) and not -1.0 <= constant_value <= 1.0:
            raise ValueError(f"constant_value must be NaN or in [-1, 1], got {constant_value!r}")
        self.constant_value = float(constant_value)
        super().__init__(aggregation)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "constant_value": self.constant_value}

    def _scores(self, state: MomentState) -> np.ndarray:
        scale = np.sqrt(state.m2_pred * state.m2_truth)
        # A constant field's centred moment is zero up to the rounding of its mean; anything below
        # that rounding level is treated as zero variance rather than correlated noise.
        constant_pred = state.m2_pred <= state.count * (_RELATIVE_ROUNDING * state.mean_pred) ** 2
        constant_truth = (
            state.m2_truth <= state.count * (_RELATIVE_ROUNDING * state.mean_truth) ** 2
        )
        defined = (state.count >= 2) & ~constant_pred & ~constant_truth & (scale > 0)
        # constant_value stands in for a constant field, never for having no data at all
        fallback = np.where(state.count > 0, self.constant_value, np.nan)
        cc = np.where(defined, safe_divide(state.comoment, scale), fallback)
        # rounding can push |cc| a hair above 1 for perfectly (anti-)correlated fields
        return np.clip(cc, -1.0, 1.0)

"""Continuous ranked probability score (CRPS) of ensembles and of deterministic forecasts.

For an ensemble ``x_1 … x_m`` and an observation ``y`` the kernel (energy) form of the CRPS is
(Gneiting & Raftery 2007, eq. 21)::

    CRPS = (1/m) Σ_i |x_i − y|  −  c · Σ_i Σ_j |x_i − x_j|

with ``c = 1 / (2 m²)`` for the empirical-CDF ("ecdf") estimator, the CRPS of the ensemble's
step-function CDF, and ``c = 1 / (2 m (m − 1))`` for the "fair" estimator (Ferro 2014, QJRMS 140,
1917–1923; Zamo & Naveau 2018, Math. Geosci. 50, 209–234), an unbiased estimator of the CRPS of
the distribution the members are drawn from, which does not favour small ensembles. The double
sum is computed in O(m log m) per pixel from the sorted members:
``Σ_i Σ_j |x_i − x_j| = 2 Σ_k (2k − m − 1) x_(k)``, k = 1 … m.

For a deterministic forecast (no member axis) the CRPS reduces to the absolute error, so the
pooled CRPS equals the MAE.

Scores are the mean over valid pixels (pooled) or the mean over samples of per-sample means, in
the data's units (mm h-1). A pixel is missing when the truth or *any* member is NaN / infinite or
``valid`` is False. No valid pixel → NaN with a ``RuntimeWarning``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from prelib.metrics.base import MetricState, StreamingMetric, safe_divide
from prelib.metrics.inputs import (
    ArrayLike,
    as_float64,
    group_rows,
    is_dataarray,
    prepare_pair,
    prepare_valid,
    to_numpy,
)

CRPS_ESTIMATORS: tuple[str, ...] = ("fair", "ecdf")


@dataclasses.dataclass(frozen=True)
class MeanState(MetricState):
    """Float64 sum of per-pixel scores and int64 pixel counts, arrays of shape ``(group,)``."""

    total: np.ndarray
    count: np.ndarray

    def merge(self, other: MeanState) -> MeanState:
        return MeanState(self.total + other.total, self.count + other.count)


def ensemble_crps(members: np.ndarray, truth: np.ndarray, estimator: str = "fair") -> np.ndarray:
    """Per-pixel CRPS of an ensemble.

    Parameters
    ----------
    members : np.ndarray, shape ``(member, ...)``
        Ensemble values (finite), e.g. precipitation in mm h-1.
    truth : np.ndarray, shape ``(...)``
        Observations (finite), same units.
    estimator : {"fair", "ecdf"}
        See the module docstring. "fair" needs at least 2 members.

    Returns
    -------
    np.ndarray of float64, shape ``(...)``
        CRPS in the data's units.
    """
    if estimator not in CRPS_ESTIMATORS:
        raise ValueError(f"estimator must be one of {list(CRPS_ESTIMATORS)}, got {estimator!r}")
    n_members = members.shape[0]
    if members.shape[1:] != truth.shape:
        raise ValueError(
            f"members must be shaped (member, *truth.shape) = (m, {truth.shape}), "
            f"got {members.shape}"
        )
    if estimator == "fair" and n_members < 2:
        raise ValueError(f"the fair CRPS needs at least 2 members, got {n_members}")
    skill = np.abs(members - truth).mean(axis=0)
    ranks = np.arange(1, n_members + 1, dtype=np.float64)
    weights = (2.0 * ranks - n_members - 1.0).reshape((n_members,) + (1,) * truth.ndim)
    pair_sum = 2.0 * (weights * np.sort(members, axis=0)).sum(axis=0)
    norm = 2.0 * n_members * (n_members - 1 if estimator == "fair" else n_members)
    return skill - pair_sum / norm


class CRPS(StreamingMetric):
    """Mean CRPS of an ensemble (or deterministic) precipitation forecast.

    Parameters
    ----------
    member_axis : int, str or None
        Where the members are in ``pred``: an axis number, or a dimension name (e.g.
        :data:`prelib.conventions.DIM_MEMBER`) for ``xarray`` input. ``pred`` must have the
        truth's shape plus that axis. ``None``: ``pred`` is deterministic (same shape as the
        truth) and the CRPS is the absolute error.
    estimator : {"fair", "ecdf"}
        Unbiased "fair" estimator (default) or the ensemble-CDF one; ignored when
        deterministic.
    aggregation : {"pooled", "per_sample"}
        See :class:`~prelib.metrics.base.StreamingMetric`; samples are the truth's leading axis.
    """

    name = "crps"

    def __init__(
        self,
        member_axis: int | str | None = None,
        estimator: str = "fair",
        aggregation: str = "pooled",
    ) -> None:
        if estimator not in CRPS_ESTIMATORS:
            raise ValueError(f"estimator must be one of {list(CRPS_ESTIMATORS)}, got {estimator!r}")
        if member_axis is not None and (
            isinstance(member_axis, bool) or not isinstance(member_axis, int | str)
        ):
            raise ValueError(
                f"member_axis must be an int, a dimension name or None, got {member_axis!r}"
            )
        self.member_axis = member_axis
        self.estimator = estimator
        super().__init__(aggregation)

    def config(self) -> dict[str, Any]:
        return {
            "member_axis": self.member_axis,
            "estimator": self.estimator,
            **super().config(),
        }

    def _members(self, pred: ArrayLike, truth: ArrayLike) -> np.ndarray:
        """``pred`` as float64 ``(member, *truth.shape)``."""
        axis = self.member_axis
        if isinstance(axis, str):
            if not is_dataarray(pred):
                raise ValueError(
                    f"member_axis={axis!r} is a dimension name, so pred must be an "
                    f"xarray.DataArray; got {type(pred).__name__}"
                )
            if axis not in pred.dims:
                raise ValueError(f"pred has no dimension {axis!r}; its dims are {pred.dims}")
            other = [d for d in pred.dims if d != axis]
            if is_dataarray(truth) and set(truth.dims) == set(other):
                other = list(truth.dims)
            return as_float64(to_numpy(pred.transpose(axis, *other), "pred"), "pred")
        members = as_float64(to_numpy(pred, "pred"), "pred")
        if not -members.ndim <= axis < members.ndim:
            raise ValueError(
                f"member_axis {axis} is out of range for pred of shape {members.shape}"
            )
        return np.moveaxis(members, axis, 0)

    def _batch_state(self, pred: ArrayLike, truth: ArrayLike, valid: ArrayLike | None) -> MeanState:
        if self.member_axis is None:
            pred_array, truth_array, mask = prepare_pair(pred, truth, valid)
            crps = np.abs(pred_array - truth_array)
        else:
            members = self._members(pred, truth)
            truth_array = as_float64(to_numpy(truth, "truth"), "truth")
            if members.shape[1:] != truth_array.shape:
                raise ValueError(
                    f"pred without its member axis must match truth's shape: pred "
                    f"{members.shape[1:]} (+ {members.shape[0]} members) vs truth "
                    f"{truth_array.shape}"
                )
            mask = prepare_valid(valid, truth_array.shape, truth)
            mask = mask & np.isfinite(truth_array) & np.isfinite(members).all(axis=0)
            # zero the missing pixels so that NaN cannot leak into sorted sums
            members = np.where(mask, members, 0.0)
            crps = ensemble_crps(members, np.where(mask, truth_array, 0.0), self.estimator)
        crps = np.where(mask, crps, 0.0)
        return MeanState(
            total=group_rows(crps, self.per_sample).sum(axis=1),
            count=group_rows(mask, self.per_sample).sum(axis=1).astype(np.int64),
        )

    def _scores(self, state: MeanState) -> np.ndarray:
        return safe_divide(state.total, state.count)

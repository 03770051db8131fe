"""The streaming-accumulator protocol shared by every metric in :mod:`prelib.metrics`.

A metric is fed batch by batch and scored at the end (pysteps verification style)::

    metric = RMSE()
    for pred, truth in batches:
        metric.update(pred, truth)          # numpy, xarray or torch; NaN = missing
    value = metric.compute()

Accumulating batch by batch gives the same result as one pass over the concatenation, and
``a.merge(b)`` (e.g. across data-loader workers or DDP ranks; metrics pickle) gives the same
result as feeding ``b``'s batches to ``a``.

Two aggregations are offered:

``"pooled"`` (default, the PRE-Net paper's way, prenet_reference §7.2)
    The sufficient statistics (sums, co-moments, contingency counts) of all valid pixels of all
    samples are pooled and the score is computed once.
``"per_sample"``
    The score is computed for each sample (the leading axis of every batch) and the mean over
    samples is returned. Samples whose score is undefined (e.g. CSI of a sample without rain) are
    left out of the mean, and :meth:`StreamingMetric.compute` warns how many were left out.

Undefined results (no valid pixel, zero denominators) are ``NaN`` with a ``RuntimeWarning``,
never an exception and never a silent zero.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

import numpy as np

from prelib.metrics.inputs import ArrayLike

AGGREGATIONS: tuple[str, ...] = ("pooled", "per_sample")


class MetricState(ABC):
    """Sufficient statistics of one metric, one row per group (``(group, ...)`` arrays)."""

    @abstractmethod
    def merge(self, other: Self) -> Self:
        """Statistics of the union of the pixels behind ``self`` and ``other`` (same groups)."""


class StreamingMetric(ABC):
    """Base class: ``update`` / ``merge`` / ``compute`` / ``reset`` over batches.

    Subclasses implement :meth:`_batch_state` (statistics of one batch, grouped by sample or
    pooled) and :meth:`_scores` (scores from statistics), and describe their configuration in
    :meth:`config` so that only like metrics merge.

    Parameters
    ----------
    aggregation : {"pooled", "per_sample"}
        Pool all pixels (paper) or average per-sample scores over the leading axis.
    """

    name: ClassVar[str] = ""
    """Registry name and default key in a :class:`~prelib.metrics.collection.MetricCollection`."""

    undefined_reason: ClassVar[str] = "no valid pixels"
    """Why the score can be undefined; used in the ``RuntimeWarning`` when it is."""

    def __init__(self, aggregation: str = "pooled") -> None:
        if aggregation not in AGGREGATIONS:
            raise ValueError(
                f"aggregation must be one of {list(AGGREGATIONS)}, got {aggregation!r}"
            )
        self.aggregation = aggregation
        self.reset()

    # ------------------------------------------------------------------------------ protocol
    @property
    def per_sample(self) -> bool:
        """Whether scores are averaged per sample rather than pooled."""
        return self.aggregation == "per_sample"

    def reset(self) -> None:
        """Forget everything accumulated so far."""
        self._state: MetricState | None = None
        self._sample_sum: np.ndarray | None = None
        self._sample_defined: np.ndarray | None = None
        self._n_samples = 0

    def update(self, pred: ArrayLike, truth: ArrayLike, valid: ArrayLike | None = None) -> None:
        """Accumulate one batch.

        Parameters
        ----------
        pred, truth : array-like, same shape ``(sample, ...)``
            numpy arrays, ``xarray.DataArray`` (truth is transposed to pred's dims) or torch
            tensors (any device; detached and copied to the CPU). NaN or infinite values in
            either are treated as missing.
        valid : array-like of bool, optional
            ``True`` where a pixel is to be scored; same shape as ``truth``.

        Raises
        ------
        ValueError
            On mismatched shapes, a mask of the wrong shape or dtype, or non-numeric data.
        """
        self._accumulate(self._batch_state(pred, truth, valid))

    def merge(self, other: StreamingMetric) -> Self:
        """Add what ``other`` accumulated into this metric (in place) and return ``self``.

        Raises
        ------
        ValueError
            If ``other`` is a different metric or has a different configuration.
        """
        if type(other) is not type(self) or not _same_config(other.config(), self.config()):
            raise ValueError(f"cannot merge {other!r} into {self!r}: metrics must be identical")
        if self.per_sample:
            if other._sample_sum is not None:
                self._add_sample_scores(other._sample_sum, other._sample_defined, 0)
            self._n_samples += other._n_samples
        elif other._state is not None:
            self._state = other._state if self._state is None else self._state.merge(other._state)
        return self

    def compute(self) -> Any:
        """The score over everything accumulated (``float``; FSS gives ``{scale: float}``).

        Undefined scores are ``NaN`` and raise a ``RuntimeWarning`` saying why.
        """
        if self.per_sample:
            values = self._per_sample_mean()
        elif self._state is None:
            values = np.full(self._score_shape(), np.nan)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                values = np.asarray(self._scores(self._state), dtype=np.float64)[0]
        if np.any(np.isnan(values)):
            warnings.warn(
                f"{self!r}: score undefined ({self.undefined_reason}); returning NaN",
                RuntimeWarning,
                stacklevel=2,
            )
        return self._format(values)

    def config(self) -> dict[str, Any]:
        """The configuration that defines this metric (compared by :meth:`merge`)."""
        return {"aggregation": self.aggregation}

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.config().items())
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------------ subclass interface
    @abstractmethod
    def _batch_state(
        self, pred: ArrayLike, truth: ArrayLike, valid: ArrayLike | None
    ) -> MetricState:
        """Statistics of one batch: one group when pooled, one per sample otherwise."""

    @abstractmethod
    def _scores(self, state: MetricState) -> np.ndarray:
        """Scores per group, shape ``(group,)`` or ``(group, *score_shape)``; NaN if undefined."""

    def _score_shape(self) -> tuple[int, ...]:
        """Shape of one score (``()``; FSS: ``(n_scales,)``)."""
        return ()

    def _format(self, values: np.ndarray) -> Any:
        return float(values)

    def state_key(self) -> tuple:
        """Metrics with equal keys compute identical batch statistics (shared by collections)."""
        return (type(self), tuple(sorted(self.config().items())))

    # --------------------------------------------------------------------- accumulation
    def _accumulate(self, state: MetricState) -> None:
        if not self.per_sample:
            self._state = state if self._state is None else self._state.merge(state)
            return
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = np.asarray(self._scores(state), dtype=np.float64)
        defined = np.isfinite(scores)
        self._add_sample_scores(
            np.where(defined, scores, 0.0).sum(axis=0), defined.sum(axis=0), scores.shape[0]
        )

    def _add_sample_scores(self, total: np.ndarray, defined: np.ndarray, n_samples: int) -> None:
        if self._sample_sum is None:
            self._sample_sum = np.zeros(self._score_shape())
            self._sample_defined = np.zeros(self._score_shape(), dtype=np.int64)
        self._sample_sum = self._sample_sum + total
        self._sample_defined = self._sample_defined + defined
        self._n_samples += n_samples

    def _per_sample_mean(self) -> np.ndarray:
        if self._sample_sum is None or self._n_samples == 0:
            return np.full(self._score_shape(), np.nan)
        defined = self._sample_defined
        left_out = int(np.max(self._n_samples - defined))
        if 0 < left_out < self._n_samples:
            warnings.warn(
                f"{self!r}: {left_out} of {self._n_samples} samples have an undefined score "
                f"({self.undefined_reason}) and are left out of the per-sample mean",
                RuntimeWarning,
                stacklevel=3,
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(defined > 0, self._sample_sum / np.maximum(defined, 1), np.nan)


def _same_config(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """Equal configurations, with NaN equal to NaN (e.g. ``PearsonCC(constant_value=nan)``)."""
    if first.keys() != second.keys():
        return False
    for key, value in first.items():
        other = second[key]
        both_nan = isinstance(value, float) and isinstance(other, float) and value != value
        if not (value == other or (both_nan and other != other)):
            return False
    return True


def safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` as float64, ``NaN`` (no warning) where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out

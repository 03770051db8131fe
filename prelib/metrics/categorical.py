"""Categorical (rain / no-rain) scores from a streaming 2 × 2 contingency table.

An event is ``value >= threshold`` in both the prediction and the truth (default
:data:`prelib.conventions.RAIN_THRESHOLD` = 0.1 mm h-1, the PRE-Net paper's rule,
prenet_reference §7.2). Over the valid pixels (finite prediction and truth, ``valid`` True)::

    hits H = truth ≥ t ∧ pred ≥ t        misses M = truth ≥ t ∧ pred < t
    false alarms F = truth < t ∧ pred ≥ t   correct negatives N = truth < t ∧ pred < t

and, with T = H + M + F + N (Jolliffe & Stephenson 2012, "Forecast Verification", ch. 3;
Wilks 2011, "Statistical Methods in the Atmospheric Sciences", §8.2)::

    POD  = H / (H + M)                     FAR = F / (H + F)
    CSI  = H / (H + M + F)                 frequency bias = (H + F) / (H + M)
    HSS  = 2 (H N − M F) / ((H + M)(M + N) + (H + F)(F + N))
    ETS  = (H − Hr) / (H + M + F − Hr),    Hr = (H + M)(H + F) / T

Counts are int64, so no pixel count can overflow or lose precision.

Conventions against other packages: pysteps' ``det_cat_fct`` counts an event as
``value > threshold`` (strictly greater) and its NaN comparisons come out False, so a missing
prediction is a "no" (a miss or a correct negative); here an event is ``>=`` and missing pixels
are excluded from the table. ``scores.categorical`` takes the event rule from the caller. To
reproduce a pysteps CSI, pass a threshold just above theirs (e.g. ``np.nextafter(thr, inf)``) and
drop the NaN pixels from both fields.

Degenerate cases: a zero denominator gives NaN with a ``RuntimeWarning`` — POD and frequency bias
when no event is observed; FAR when none is predicted; CSI and ETS when neither has events; HSS and
ETS when both fields are all-event, HSS also when both are all-non-event. The reference code adds
1e-10 to the denominators instead, turning these cases into 0; for non-degenerate tables the two
agree to about 1e-10 / count.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from prelib.conventions import RAIN_THRESHOLD
from prelib.metrics.base import MetricState, StreamingMetric, safe_divide
from prelib.metrics.inputs import ArrayLike, check_threshold, group_rows, prepare_pair


@dataclasses.dataclass(frozen=True)
class ContingencyTable(MetricState):
    """Int64 counts of a 2 × 2 contingency table, each an array of shape ``(group,)``."""

    hits: np.ndarray
    misses: np.ndarray
    false_alarms: np.ndarray
    correct_negatives: np.ndarray

    @classmethod
    def from_events(
        cls, pred_event: np.ndarray, truth_event: np.ndarray, valid: np.ndarray
    ) -> ContingencyTable:
        """Count ``(group, pixel)`` boolean event fields over the ``valid`` pixels."""
        pred_event = pred_event & valid
        truth_event = truth_event & valid
        hits = np.count_nonzero(pred_event & truth_event, axis=1)
        n_pred = np.count_nonzero(pred_event, axis=1)
        n_truth = np.count_nonzero(truth_event, axis=1)
        n_valid = np.count_nonzero(valid, axis=1)
        return cls(
            hits=hits.astype(np.int64),
            misses=(n_truth - hits).astype(np.int64),
            false_alarms=(n_pred - hits).astype(np.int64),
            correct_negatives=(n_valid - n_pred - n_truth + hits).astype(np.int64),
        )

    @classmethod
    def from_fields(
        cls, pred: np.ndarray, truth: np.ndarray, valid: np.ndarray, threshold: float
    ) -> ContingencyTable:
        """Threshold ``(group, pixel)`` fields with ``>=`` and count."""
        return cls.from_events(pred >= threshold, truth >= threshold, valid)

    def merge(self, other: ContingencyTable) -> ContingencyTable:
        return ContingencyTable(
            hits=self.hits + other.hits,
            misses=self.misses + other.misses,
            false_alarms=self.false_alarms + other.false_alarms,
            correct_negatives=self.correct_negatives + other.correct_negatives,
        )

    @property
    def total(self) -> np.ndarray:
        """Number of valid pixels per group."""
        return self.hits + self.misses + self.false_alarms + self.correct_negatives


# ------------------------------------------------------------------------------------------
# Scores of a table: float64 arrays of the table's shape, NaN where undefined.
# ------------------------------------------------------------------------------------------
def probability_of_detection(table: ContingencyTable) -> np.ndarray:
    """POD (hit rate) = H / (H + M)."""
    return safe_divide(table.hits, table.hits + table.misses)


def false_alarm_ratio(table: ContingencyTable) -> np.ndarray:
    """FAR = F / (H + F)."""
    return safe_divide(table.false_alarms, table.hits + table.false_alarms)


def critical_success_index(table: ContingencyTable) -> np.ndarray:
    """CSI (threat score) = H / (H + M + F)."""
    return safe_divide(table.hits, table.hits + table.misses + table.false_alarms)


def frequency_bias(table: ContingencyTable) -> np.ndarray:
    """Frequency bias = (H + F) / (H + M); 1 is unbiased, > 1 over-forecasts events."""
    return safe_divide(table.hits + table.false_alarms, table.hits + table.misses)


def heidke_skill_score(table: ContingencyTable) -> np.ndarray:
    """HSS = 2 (H N − M F) / ((H + M)(M + N) + (H + F)(F + N))."""
    h, m, f, n = (
        np.asarray(x, dtype=np.float64)
        for x in (table.hits, table.misses, table.false_alarms, table.correct_negatives)
    )
    return safe_divide(2.0 * (h * n - m * f), (h + m) * (m + n) + (h + f) * (f + n))


def equitable_threat_score(table: ContingencyTable) -> np.ndarray:
    """ETS (Gilbert skill score) = (H − Hr) / (H + M + F − Hr), Hr = (H + M)(H + F) / T."""
    h, m, f = (
        np.asarray(x, dtype=np.float64) for x in (table.hits, table.misses, table.false_alarms)
    )
    random_hits = safe_divide((h + m) * (h + f), table.total)
    return safe_divide(h - random_hits, h + m + f - random_hits)


CONTINGENCY_SCORES = {
    "pod": probability_of_detection,
    "far": false_alarm_ratio,
    "csi": critical_success_index,
    "fbias": frequency_bias,
    "hss": heidke_skill_score,
    "ets": equitable_threat_score,
}
"""Score functions of a :class:`ContingencyTable`, by registry name."""


# ------------------------------------------------------------------------------------------
# Streaming metrics
# ------------------------------------------------------------------------------------------
class CategoricalMetric(StreamingMetric):
    """A contingency-table score at one threshold.

    Parameters
    ----------
    threshold : float
        Event threshold in the data's units (mm h-1), applied with ``>=`` to prediction and
        truth. Default :data:`prelib.conventions.RAIN_THRESHOLD`.
    aggregation : {"pooled", "per_sample"}
        See :class:`~prelib.metrics.base.StreamingMetric`.

    Attributes
    ----------
    table : ContingencyTable or None
        The pooled table accumulated so far (``None`` before the first update or per-sample).
    """

    score: ClassVar[str] = ""

    def __init__(self, threshold: float = RAIN_THRESHOLD, aggregation: str = "pooled") -> None:
        self.threshold = check_threshold(threshold)
        super().__init__(aggregation)

    def config(self) -> dict[str, Any]:
        return {"threshold": self.threshold, **super().config()}

    def state_key(self) -> tuple:
        # all scores at one threshold share one table
        return (ContingencyTable, self.threshold, self.aggregation)

    @property
    def table(self) -> ContingencyTable | None:
        return self._state  # type: ignore[return-value]

    def _batch_state(
        self, pred: ArrayLike, truth: ArrayLike, valid: ArrayLike | None
    ) -> ContingencyTable:
        pred, truth, valid = prepare_pair(pred, truth, valid)
        rows = (group_rows(a, self.per_sample) for a in (pred, truth, valid))
        return ContingencyTable.from_fields(*rows, threshold=self.threshold)

    def _scores(self, state: ContingencyTable) -> np.ndarray:
        return CONTINGENCY_SCORES[self.score](state)


class POD(CategoricalMetric):
    """Probability of detection H / (H + M); undefined without observed events."""

    name = score = "pod"
    undefined_reason = "no observed events (hits + misses = 0)"


class FAR(CategoricalMetric):
    """False alarm ratio F / (H + F); undefined without predicted events."""

    name = score = "far"
    undefined_reason = "no predicted events (hits + false alarms = 0)"


class CSI(CategoricalMetric):
    """Critical success index H / (H + M + F); undefined when neither field has events."""

    name = score = "csi"
    undefined_reason = "no observed or predicted events (hits + misses + false alarms = 0)"


class FrequencyBias(CategoricalMetric):
    """Frequency bias (H + F) / (H + M); undefined without observed events."""

    name = score = "fbias"
    undefined_reason = "no observed events (hits + misses = 0)"


class HSS(CategoricalMetric):
    """Heidke skill score; undefined when both fields are all-event or all-non-event."""

    name = score = "hss"
    undefined_reason = "zero denominator (both fields all-event or all-non-event)"


class ETS(CategoricalMetric):
    """Equitable threat score; undefined when neither field has events or both are all-event."""

    name = score = "ets"
    undefined_reason = "no observed or predicted events, or both fields all-event"

"""Several streaming metrics updated together, and one-shot scoring.

:class:`MetricCollection` feeds every batch to all its metrics and returns one flat
``{name: float}`` dict — the form written to ``metrics.json`` and the paper's tables. Metrics
that need the same statistics (RMSE, MAE, bias and CC share the moments; POD, FAR, CSI … at one
threshold share one contingency table) compute them once per batch.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> truth = rng.gamma(0.5, 2.0, size=(4, 64, 64))
>>> pred = truth + rng.normal(0, 0.5, size=truth.shape)
>>> collection = MetricCollection(["rmse", "cc", "pod", "csi", "csi4"])
>>> collection.update(pred, truth)
>>> sorted(collection.compute())
['cc', 'csi', 'csi4', 'pod', 'rmse']
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Self

import numpy as np

from prelib.metrics.base import StreamingMetric
from prelib.metrics.inputs import ArrayLike, is_torch_tensor, to_numpy
from prelib.metrics.registry import accepted_arguments, get_metric

PAPER_METRICS: tuple[str, ...] = ("rmse", "cc", "pod", "far", "csi", "csi4", "csi8")
"""The scores PRE-Net reports (prenet_reference §7), all pooled at 0.1 mm h-1."""


class MetricCollection:
    """Named streaming metrics updated, merged, computed and reset together.

    Parameters
    ----------
    metrics : sequence of (str or StreamingMetric), or mapping of str to (str or StreamingMetric)
        Registry names (``"rmse"``, ``"csi@1"``, ``"csi8"`` …), metric objects (keyed by their
        ``name``), or an explicit ``{key: metric}`` mapping.
    **common
        Arguments given to every metric built here from a name that accepts them, e.g.
        ``threshold=1.0`` or ``aggregation="per_sample"``. An argument no metric accepts raises
        ``ValueError``.

    Notes
    -----
    All metrics receive the same ``pred``: put an ensemble CRPS (``member_axis`` set) in its
    own collection, or score the ensemble mean in another.
    """

    def __init__(
        self,
        metrics: Sequence[str | StreamingMetric] | Mapping[str, str | StreamingMetric],
        **common: Any,
    ) -> None:
        if isinstance(metrics, str | StreamingMetric):
            metrics = [metrics]
        items = (
            list(metrics.items())
            if isinstance(metrics, Mapping)
            else [(m if isinstance(m, str) else m.name, m) for m in metrics]
        )
        if not items:
            raise ValueError("a MetricCollection needs at least one metric")
        self.metrics: dict[str, StreamingMetric] = {}
        used: set[str] = set()
        for key, metric in items:
            if key in self.metrics:
                raise ValueError(f"duplicate metric key {key!r} in the collection")
            if isinstance(metric, str):
                accepted = accepted_arguments(metric)
                kwargs = {k: v for k, v in common.items() if k in accepted}
                used.update(kwargs)
                metric = get_metric(metric, **kwargs)
            elif not isinstance(metric, StreamingMetric):
                raise ValueError(
                    f"metric {key!r}: expected a name or a StreamingMetric, got {type(metric)}"
                )
            self.metrics[key] = metric
        unused = sorted(set(common) - used)
        if unused:
            raise ValueError(f"no metric in the collection takes argument(s) {unused}")

    # --------------------------------------------------------------------------- protocol
    def update(self, pred: ArrayLike, truth: ArrayLike, valid: ArrayLike | None = None) -> None:
        """Accumulate one batch into every metric (see :meth:`StreamingMetric.update`)."""
        # copy torch tensors to the host once, not once per metric
        pred, truth, valid = (
            to_numpy(a, name) if is_torch_tensor(a) else a
            for a, name in ((pred, "pred"), (truth, "truth"), (valid, "valid"))
        )
        groups: dict[tuple, list[StreamingMetric]] = {}
        for metric in self.metrics.values():
            groups.setdefault(metric.state_key(), []).append(metric)
        for members in groups.values():
            state = members[0]._batch_state(pred, truth, valid)
            for metric in members:
                metric._accumulate(state)

    def merge(self, other: MetricCollection) -> Self:
        """Merge another collection with the same keys into this one; returns ``self``."""
        if not isinstance(other, MetricCollection) or other.metrics.keys() != self.metrics.keys():
            raise ValueError(
                "can only merge a MetricCollection with the same metric keys: "
                f"{list(self.metrics)} vs {list(getattr(other, 'metrics', {}))}"
            )
        for key, metric in self.metrics.items():
            metric.merge(other.metrics[key])
        return self

    def compute(self) -> dict[str, float]:
        """Flat ``{key: value}``; a multi-scale FSS under key ``fss`` gives ``fss_1``, ``fss_3``."""
        results: dict[str, float] = {}
        for key, metric in self.metrics.items():
            value = metric.compute()
            if isinstance(value, Mapping):
                results.update({f"{key}_{sub}": float(v) for sub, v in value.items()})
            else:
                results[key] = float(value)
        return results

    def reset(self) -> None:
        """Reset every metric."""
        for metric in self.metrics.values():
            metric.reset()

    # ------------------------------------------------------------------------ container
    def __getitem__(self, key: str) -> StreamingMetric:
        return self.metrics[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.metrics)

    def __len__(self) -> int:
        return len(self.metrics)

    def __repr__(self) -> str:
        return f"MetricCollection({self.metrics!r})"


def score(
    pred: ArrayLike,
    truth: ArrayLike,
    valid: ArrayLike | None = None,
    metrics: Sequence[str | StreamingMetric] | Mapping[str, str | StreamingMetric] = PAPER_METRICS,
    **common: Any,
) -> dict[str, float]:
    """Score one prediction against its truth in one call.

    Parameters
    ----------
    pred, truth : array-like, same shape ``(sample, ..., y, x)``
        numpy, xarray or torch; NaN / infinite values are missing.
    valid : array-like of bool, optional
        Pixels to score.
    metrics : names or metrics
        Default :data:`PAPER_METRICS` (RMSE, CC, POD, FAR, CSI, CSI-4, CSI-8).
    **common
        Passed to every metric that accepts it (``threshold``, ``aggregation`` …).

    Returns
    -------
    dict of str to float
        E.g. ``{"rmse": 0.81, "cc": 0.62, "pod": 0.74, ...}``; undefined scores are NaN (with a
        ``RuntimeWarning``).
    """
    collection = MetricCollection(metrics, **common)
    collection.update(pred, truth, valid)
    return collection.compute()


def json_ready(results: Mapping[str, Any]) -> dict[str, float | None]:
    """JSON-ready copy of a results dict: NaN becomes ``None`` (JSON has no NaN)."""
    return {key: (None if np.isnan(value) else float(value)) for key, value in results.items()}

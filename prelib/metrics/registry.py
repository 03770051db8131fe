"""Metrics by name, so that notebook parameters and configs can list them as plain strings.

Names (case-insensitive)::

    rmse mse mae bias cc                       continuous (prelib.metrics.continuous)
    pod far csi hss ets fbias                  categorical at a threshold
    csi4 csi8 … (any <score><n>, e.g. pod4)    neighbourhood scores on n × n max-pooled fields
    fss                                        fractions skill score at several scales
    crps                                       ensemble / deterministic CRPS

A threshold can be written into the name with ``@``: ``"csi@1.0"`` is the CSI at 1 mm h-1 and
``"csi8@5"`` the CSI-8 at 5 mm h-1 (same as passing ``threshold=``).

Examples
--------
>>> get_metric("csi8")
NeighbourhoodCSI(kernel=8, threshold=0.1, score='csi', aggregation='pooled')
>>> get_metric("pod@2.5", aggregation="per_sample")
POD(threshold=2.5, aggregation='per_sample')
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from prelib.metrics.base import StreamingMetric
from prelib.metrics.categorical import CSI, ETS, FAR, HSS, POD, FrequencyBias
from prelib.metrics.continuous import MAE, MSE, RMSE, Bias, PearsonCC
from prelib.metrics.neighbourhood import NeighbourhoodCategorical, NeighbourhoodCSI
from prelib.metrics.probabilistic import CRPS
from prelib.metrics.spatial import FSS

METRICS: dict[str, type[StreamingMetric]] = {
    "rmse": RMSE,
    "mse": MSE,
    "mae": MAE,
    "bias": Bias,
    "cc": PearsonCC,
    "pod": POD,
    "far": FAR,
    "csi": CSI,
    "hss": HSS,
    "ets": ETS,
    "fbias": FrequencyBias,
    "fss": FSS,
    "crps": CRPS,
}
"""Plain metric names and their classes (neighbourhood names are parsed, see the module doc)."""

_NEIGHBOURHOOD_NAME = re.compile(r"^(pod|far|csi|hss|ets|fbias)(\d+)$")


def available_metrics() -> tuple[str, ...]:
    """The plain registry names plus the paper's neighbourhood names ``csi4`` and ``csi8``."""
    return (*METRICS, "csi4", "csi8")


def _factory(base: str) -> tuple[Callable[..., StreamingMetric], dict[str, Any]]:
    """The constructor for a name without its ``@threshold`` and the arguments the name fixes."""
    if base in METRICS:
        return METRICS[base], {}
    match = _NEIGHBOURHOOD_NAME.match(base)
    if match:
        score, kernel = match.group(1), int(match.group(2))
        if score == "csi":
            return NeighbourhoodCSI, {"kernel": kernel}
        return NeighbourhoodCategorical, {"kernel": kernel, "score": score}
    raise ValueError(
        f"unknown metric {base!r}; known: {sorted(METRICS)} and neighbourhood scores such as "
        "'csi4', 'csi8' (<score><kernel>), optionally with '@<threshold>'"
    )


def accepted_arguments(name: str) -> frozenset[str]:
    """Keyword arguments the metric called ``name`` accepts (beyond those its name fixes)."""
    factory, fixed = _factory(_split_threshold(name)[0])
    return frozenset(inspect.signature(factory).parameters) - set(fixed)


def _split_threshold(name: str) -> tuple[str, float | None]:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"metric name must be a non-empty string, got {name!r}")
    base, _, threshold_text = name.strip().lower().partition("@")
    if not threshold_text:
        return base, None
    try:
        return base, float(threshold_text)
    except ValueError:
        raise ValueError(
            f"metric name {name!r}: text after '@' must be a threshold number, "
            f"got {threshold_text!r}"
        ) from None


def get_metric(name: str, **kwargs: Any) -> StreamingMetric:
    """Build a streaming metric by name.

    Parameters
    ----------
    name : str
        A registry name (see the module docstring), optionally with ``@<threshold>``.
    **kwargs
        Constructor arguments, e.g. ``threshold=1.0``, ``aggregation="per_sample"``,
        ``scales=(1, 5)`` (FSS), ``member_axis=1`` (CRPS).

    Raises
    ------
    ValueError
        For an unknown name, an argument the metric does not take, or a threshold given both in
        the name and as an argument with different values.
    """
    base, threshold = _split_threshold(name)
    factory, fixed = _factory(base)
    accepted = set(inspect.signature(factory).parameters) - set(fixed)
    if threshold is not None:
        if "threshold" not in accepted:
            raise ValueError(f"metric {base!r} takes no threshold, but the name is {name!r}")
        if "threshold" in kwargs and kwargs["threshold"] != threshold:
            raise ValueError(
                f"metric {name!r}: threshold {threshold} in the name conflicts with "
                f"threshold={kwargs['threshold']!r}"
            )
        kwargs = {**kwargs, "threshold": threshold}
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ValueError(
            f"metric {base!r} does not take argument(s) {unknown}; it takes {sorted(accepted)}"
        )
    return factory(**fixed, **kwargs)

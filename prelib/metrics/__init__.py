"""Streaming verification metrics for precipitation retrieval, bias correction and downscaling.

Every metric is an accumulator with ``update(pred, truth, valid=None)``, ``merge(other)``,
``compute()`` and ``reset()`` that accepts numpy arrays, ``xarray.DataArray`` and torch tensors,
treats NaN as missing (never as dry) and gives the same result batch by batch as in one pass.

* :mod:`~prelib.metrics.continuous` — RMSE, MSE, MAE, bias, Pearson CC (stable float64 moments);
* :mod:`~prelib.metrics.categorical` — POD, FAR, CSI, HSS, ETS, frequency bias at a threshold;
* :mod:`~prelib.metrics.neighbourhood` — the paper's CSI-4 / CSI-8 (non-overlapping max-pool);
* :mod:`~prelib.metrics.spatial` — fractions skill score (Roberts & Lean 2008);
* :mod:`~prelib.metrics.probabilistic` — ensemble CRPS (fair and ecdf) and deterministic CRPS;
* :mod:`~prelib.metrics.registry` — :func:`get_metric` by name;
* :mod:`~prelib.metrics.collection` — :class:`MetricCollection` and one-shot :func:`score`.

Scores are pooled over all valid pixels by default, as in PRE-Net (Wang et al., KDD 2025);
``aggregation="per_sample"`` averages per-sample scores over the leading axis instead.

This package never imports torch or :mod:`prelib.models`.
"""

from prelib.metrics.base import AGGREGATIONS, StreamingMetric
from prelib.metrics.categorical import (
    CSI,
    ETS,
    FAR,
    HSS,
    POD,
    CategoricalMetric,
    ContingencyTable,
    FrequencyBias,
)
from prelib.metrics.collection import PAPER_METRICS, MetricCollection, json_ready, score
from prelib.metrics.continuous import MAE, MSE, RMSE, Bias, MomentState, PearsonCC
from prelib.metrics.neighbourhood import NeighbourhoodCategorical, NeighbourhoodCSI, max_pool_blocks
from prelib.metrics.probabilistic import CRPS, ensemble_crps
from prelib.metrics.registry import available_metrics, get_metric
from prelib.metrics.spatial import FSS, fss

__all__ = [
    "AGGREGATIONS",
    "CRPS",
    "CSI",
    "ETS",
    "FAR",
    "FSS",
    "HSS",
    "MAE",
    "MSE",
    "PAPER_METRICS",
    "POD",
    "RMSE",
    "Bias",
    "CategoricalMetric",
    "ContingencyTable",
    "FrequencyBias",
    "MetricCollection",
    "MomentState",
    "NeighbourhoodCSI",
    "NeighbourhoodCategorical",
    "PearsonCC",
    "StreamingMetric",
    "available_metrics",
    "ensemble_crps",
    "fss",
    "get_metric",
    "json_ready",
    "max_pool_blocks",
    "score",
]

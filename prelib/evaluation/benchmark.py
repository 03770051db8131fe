"""Score several retrievals on one benchmark split and return tables (notebook ``06_benchmark``).

The paper's Table 5 compares PRE-Net with IR baselines on the Full-IPR test split, and its
Table 7 the same retrievals under Gaussian input noise (Wang et al., KDD 2025, §5.2–5.3). The
functions here take *predictors* (``batch -> (B, H, W)`` rain rate in mm h-1, built with
:func:`~prelib.evaluation.scoring.two_network_predictor` or
:func:`~prelib.evaluation.scoring.baseline_predictor`) and a loader, and return tidy DataFrames:

* :func:`fit_baselines` — the classical IR methods fitted on a training split;
* :func:`predict_methods` — every predictor's rates on one split, kept for plots;
* :func:`score_methods` — the paper's pooled scores of those predictions (one row per method);
* :func:`score_predictors` — the same scores streamed batch by batch, optionally under noise;
* :func:`noise_table` — :func:`score_predictors` at several noise settings (Table 7);
* :func:`skill_by_intensity` — POD, CSI, FAR and frequency bias against the rain-rate threshold.

Protocol (as :mod:`prelib.evaluation.scoring`): scores are pooled over every pixel whose label
is valid and whose IR inputs are all finite; the rain threshold is 0.1 mm h-1.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from prelib.conventions import RAIN_THRESHOLD
from prelib.evaluation.scoring import Predictor, as_prediction, score_arrays, score_predictor
from prelib.metrics import PAPER_METRICS

INTENSITY_THRESHOLDS: tuple[float, ...] = (RAIN_THRESHOLD, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
"""Default rain-rate thresholds (mm h-1) of :func:`skill_by_intensity`: drizzle to heavy rain."""

INTENSITY_SCORES: tuple[str, ...] = ("pod", "csi", "far", "fbias")
"""Categorical scores :func:`skill_by_intensity` can compute (registry names)."""


def fit_baselines(
    names: Sequence[str],
    ir: np.ndarray,
    precip: np.ndarray,
    valid: np.ndarray | None = None,
    seed: int = 0,
    max_pixels: int = 200_000,
) -> dict[str, Any]:
    """Fit classical IR baselines by registry name on one training split.

    Parameters
    ----------
    names : sequence of str
        Names of :data:`prelib.baselines.BASELINES` (``gpi``, ``ae``, ``persiann_ccs``, ``gbm``).
    ir : ndarray, shape (sample, channel, y, x)
        Brightness temperatures in K (NaN where missing).
    precip : ndarray, shape (sample, y, x)
        Label rain rate in mm h-1 (NaN where missing).
    valid : ndarray of bool, shape (sample, y, x), optional
        Training pixels; default: finite labels.
    seed : int
        Seed of the gradient-boosting subsample and of the PERSIANN-CCS-style clustering.
    max_pixels : int
        Training pixels of gradient boosting
        (:attr:`prelib.evaluation.config.EvaluationConfig.baseline_max_pixels`).

    Returns
    -------
    dict of str to fitted baseline
        In the order of ``names``.

    Raises
    ------
    ValueError
        If ``names`` is empty or names an unknown baseline.
    """
    from prelib.baselines import get_baseline

    if not names:
        raise ValueError("names must list at least one baseline, got none")
    precip = np.asarray(precip, dtype=np.float32)
    valid = np.isfinite(precip) if valid is None else np.asarray(valid, dtype=bool)
    settings: dict[str, dict[str, Any]] = {
        "gbm": {"max_pixels": max_pixels, "seed": seed},
        "persiann_ccs": {"seed": seed},
    }
    return {
        name: get_baseline(name, **settings.get(name, {})).fit(
            np.asarray(ir, dtype=np.float32), precip, valid
        )
        for name in names
    }


def predict_methods(
    predictors: Mapping[str, Predictor], loader: Iterable[dict[str, Any]]
) -> dict[str, Any]:
    """Every predictor's rain rate on every batch of ``loader``, kept as arrays.

    Parameters
    ----------
    predictors : mapping of str to predictor
        Method name → ``batch -> (B, H, W)`` rate in mm h-1.
    loader : iterable of batches
        Batches of :class:`prelib.data.datasets.BenchmarkDataset` (``ir``, ``precip``,
        ``valid``, ``input_valid``), e.g. a test-split DataLoader without shuffling.

    Returns
    -------
    dict
        ``pred``: method → float32 (sample, y, x) mm h-1; ``truth``: float32 (sample, y, x)
        mm h-1; ``valid``: bool (sample, y, x), label valid and IR inputs finite.

    Raises
    ------
    ValueError
        If ``predictors`` is empty, the loader yields no batch, or a prediction's shape differs
        from the label's.
    """
    if not predictors:
        raise ValueError("predictors must name at least one method, got none")
    preds: dict[str, list[np.ndarray]] = {name: [] for name in predictors}
    truths, valids = [], []
    for batch in loader:
        truth = batch["precip"].cpu().numpy().astype(np.float32)
        valid = batch["valid"].cpu().numpy().astype(bool)
        if "input_valid" in batch:
            valid &= batch["input_valid"].cpu().numpy().astype(bool)
        for name, predict in predictors.items():
            pred = np.asarray(as_prediction(predict(batch)).rate, dtype=np.float32)
            if pred.shape != truth.shape:
                raise ValueError(
                    f"{name}: prediction shape {pred.shape} differs from the label's {truth.shape}"
                )
            preds[name].append(pred)
        truths.append(truth)
        valids.append(valid)
    if not truths:
        raise ValueError("the loader yielded no batch")
    return {
        "pred": {name: np.concatenate(values) for name, values in preds.items()},
        "truth": np.concatenate(truths),
        "valid": np.concatenate(valids),
    }


def score_methods(
    predictions: Mapping[str, Any],
    metrics: Sequence[str] = PAPER_METRICS,
    threshold: float = RAIN_THRESHOLD,
) -> pd.DataFrame:
    """The paper's pooled scores of :func:`predict_methods`' output, one row per method.

    Parameters
    ----------
    predictions : mapping
        With ``pred`` (method → rate), ``truth`` (mm h-1) and ``valid``.
    metrics : sequence of str
        Registry names (default: RMSE, CC, POD, FAR, CSI, CSI-4, CSI-8).
    threshold : float
        Rain threshold of the categorical scores, mm h-1.

    Returns
    -------
    DataFrame
        Index ``method`` (in the order of ``pred``), one column per metric; NaN where a score is
        undefined (e.g. no rain predicted for FAR).
    """
    missing = [k for k in ("pred", "truth", "valid") if k not in predictions]
    if missing:
        raise ValueError(f"predictions lack {missing}; got {sorted(predictions)}")
    rows = {}
    for name, pred in predictions["pred"].items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # undefined scores are NaN
            rows[name] = score_arrays(
                pred,
                predictions["truth"],
                predictions["valid"],
                threshold=threshold,
                metrics=list(metrics),
            )
    return _table(rows, metrics)


def score_predictors(
    predictors: Mapping[str, Predictor],
    loader: Iterable[dict[str, Any]],
    noise: tuple[str, float] = ("none", 0.0),
    metrics: Sequence[str] = PAPER_METRICS,
    threshold: float = RAIN_THRESHOLD,
    seed: int = 0,
) -> pd.DataFrame:
    """Score several predictors on one split, streaming (no prediction is kept).

    Parameters
    ----------
    predictors : mapping of str to predictor
        Method name → ``batch -> (B, H, W)`` rate in mm h-1.
    loader : iterable of batches
        A re-iterable loader (each predictor makes one pass).
    noise : (str, float)
        ``(kind, sigma)`` of :mod:`prelib.evaluation.noise` applied to the IR input; every
        predictor sees the same noise draws given ``seed``.
    metrics, threshold
        As in :func:`score_methods`.
    seed : int
        Seed of the noise.

    Returns
    -------
    DataFrame
        Index ``method``, one column per metric.
    """
    if not predictors:
        raise ValueError("predictors must name at least one method, got none")
    rows = {}
    for name, predict in predictors.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            rows[name] = score_predictor(
                predict, loader, threshold=threshold, metrics=metrics, noise=noise, seed=seed
            )
    return _table(rows, metrics)


def noise_table(
    predictors: Mapping[str, Predictor],
    loader: Iterable[dict[str, Any]],
    levels: Mapping[str, float],
    metrics: Sequence[str] = PAPER_METRICS,
    threshold: float = RAIN_THRESHOLD,
    seed: int = 0,
    reference: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Scores under input noise: the Table 7 analogue, for any set of methods.

    Parameters
    ----------
    predictors : mapping of str to predictor
    loader : iterable of batches
    levels : mapping of str to float
        Noise kind → σ, e.g. ``{"none": 0.0, "additive": 1.0, "multiplicative": 0.005}``
        (additive σ in K, multiplicative σ relative; see :mod:`prelib.evaluation.noise`).
    metrics, threshold, seed
        As in :func:`score_predictors`.
    reference : DataFrame, optional
        Scores without noise already computed (e.g. by :func:`score_methods`, index ``method``):
        its rows of these methods become the ``"none"`` rows (σ = 0) instead of a new pass.

    Returns
    -------
    DataFrame
        MultiIndex ``(method, noise)``; columns ``sigma`` and one per metric; methods in the
        order of ``predictors``, noise kinds in the order given (``"none"`` first when taken
        from ``reference``).
    """
    if not levels:
        raise ValueError("levels must name at least one noise kind, got none")
    frames = []
    if reference is not None:
        absent = [m for m in predictors if m not in reference.index]
        if absent or any(m not in reference.columns for m in metrics):
            raise ValueError(f"reference lacks methods {absent} or one of the metrics {metrics}")
        clean = reference.loc[list(predictors), list(metrics)].copy()
        clean.index.name = "method"
        clean.insert(0, "sigma", 0.0)
        clean["noise"] = "none"
        frames.append(clean.reset_index())
    for kind, sigma in levels.items():
        table = score_predictors(predictors, loader, (kind, float(sigma)), metrics, threshold, seed)
        table.insert(0, "sigma", float(sigma))
        table["noise"] = kind
        frames.append(table.reset_index())
    out = pd.concat(frames, ignore_index=True)
    order = {name: i for i, name in enumerate(predictors)}
    out = out.sort_values("method", key=lambda s: s.map(order), kind="stable")
    return out.set_index(["method", "noise"])


def skill_by_intensity(
    predictions: Mapping[str, np.ndarray],
    truth: np.ndarray,
    valid: np.ndarray | None = None,
    thresholds: Sequence[float] = INTENSITY_THRESHOLDS,
    scores: Sequence[str] = ("pod", "csi", "fbias"),
) -> pd.DataFrame:
    """Categorical skill of several retrievals against the rain-rate threshold.

    An event is a rate at or above the threshold (the paper's convention), so the score at
    4 mm h-1 says how well a method finds moderate-to-heavy rain.

    Parameters
    ----------
    predictions : mapping of str to ndarray
        Method name → rain rate (mm h-1), each the shape of ``truth``.
    truth : ndarray
        True rain rate, mm h-1.
    valid : ndarray of bool, optional
        Pixels to score (same shape).
    thresholds : sequence of float
        Positive thresholds in mm h-1.
    scores : sequence of str
        Any of :data:`INTENSITY_SCORES` (``fbias`` = predicted over observed event count).

    Returns
    -------
    DataFrame
        MultiIndex ``(method, threshold)``; one column per score plus ``n_events`` (observed
        pixels at or above the threshold). NaN where a score is undefined.

    Raises
    ------
    ValueError
        If ``predictions`` is empty, a score is unknown, or a threshold is not positive.
    """

    if not predictions:
        raise ValueError("predictions must name at least one retrieval, got none")
    unknown = [s for s in scores if s not in INTENSITY_SCORES]
    if unknown or not scores:
        raise ValueError(f"scores must be among {list(INTENSITY_SCORES)}, got {list(scores)}")
    thresholds = [float(t) for t in thresholds]
    if not thresholds or min(thresholds) <= 0:
        raise ValueError(f"thresholds must be positive mm/h values, got {thresholds}")
    truth = np.asarray(truth, dtype=np.float32)
    mask = (
        np.isfinite(truth) if valid is None else np.asarray(valid, dtype=bool) & np.isfinite(truth)
    )
    records = []
    for name, pred in predictions.items():
        for threshold in thresholds:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                values = score_arrays(pred, truth, mask, threshold=threshold, metrics=list(scores))
            records.append(
                {
                    "method": name,
                    "threshold": threshold,
                    **{s: float(values[s]) for s in scores},
                    "n_events": int((truth[mask] >= threshold).sum()),
                }
            )
    return pd.DataFrame.from_records(records).set_index(["method", "threshold"])


def _table(rows: Mapping[str, Mapping[str, float]], metrics: Sequence[str]) -> pd.DataFrame:
    table = pd.DataFrame.from_dict(
        {name: {m: float(scores[m]) for m in metrics} for name, scores in rows.items()},
        orient="index",
        columns=list(metrics),
    )
    table.index.name = "method"
    return table

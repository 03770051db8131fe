"""The one scoring protocol of every table, notebook and ``prelib evaluate``.

Protocol (the paper's ``test.py``; prenet_reference.md §7, §10):

* **Retrieval** — PRE-Net's two networks are composed as in the reference test code: the
  regression rate where the classifier's argmax is "rain", exactly 0 elsewhere
  (:func:`prelib.inference.composition.compose_precipitation`). IR baselines predict the rate
  directly; a single regression network (no classifier) is scored on its rate.
* **Pooled scores** over all valid pixels of the split (not averaged per sample): RMSE, CC, POD,
  FAR, CSI, CSI-4, CSI-8 at 0.1 mm h-1 (:data:`prelib.metrics.PAPER_METRICS`). A pixel is scored
  when its label is valid *and* all its inputs are finite (``valid & input_valid``), so networks
  and IR baselines are compared on the same pixels.
* **Threshold-free classifier scores** whenever the predictor gives a rain probability: pooled
  cross-entropy (nats per pixel), Brier score and ROC-AUC (from 1,000-bin probability
  histograms: exact up to ties inside a bin of width 0.001). They show whether a classifier
  ranks pixels well even when its probabilities are squeezed below 0.5.
* **CSI at a validation-chosen probability threshold** (``csi_pval``, with ``pod_pval``,
  ``far_pval`` and the threshold ``p_threshold``): the threshold maximising the composed CSI on
  the *validation* split replaces 0.5; reported as extra columns, never replacing the paper's
  argmax protocol.
* **Test-set size** with every result: ``n_samples``, ``n_pixels`` (scored pixels) and
  ``n_rain_pixels``.

A *predictor* maps a batch (dict of tensors from :mod:`prelib.data.datasets`) to either the
rain rate ``(B, H, W)`` in mm h-1 (numpy) or a :class:`Prediction` carrying the rain
probability and the raw regression too. :func:`network_predictor`,
:func:`two_network_predictor` and :func:`baseline_predictor` build them; :func:`score_predictor`
(streaming over a loader) and :func:`score_arrays` (arrays in memory) both go through
:class:`ScoreAccumulator`, the only place where scores are computed.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from prelib.conventions import IR_NORM, RAIN_THRESHOLD
from prelib.evaluation.noise import perturb_normalised_ir
from prelib.metrics import PAPER_METRICS, MetricCollection
from prelib.metrics.registry import accepted_arguments

PROBABILITY_BINS: int = 1000
"""Bins of the probability histograms behind ROC-AUC and the validation threshold."""

CLASSIFIER_SCORES: tuple[str, ...] = ("ce", "brier", "auc")
"""Threshold-free scores of the rain probability (NaN for predictors without one)."""

VALIDATION_THRESHOLD_SCORES: tuple[str, ...] = ("p_threshold", "pod_pval", "far_pval", "csi_pval")
"""Composed scores at the probability threshold chosen on the validation split."""

SIZE_COLUMNS: tuple[str, ...] = ("n_samples", "n_pixels", "n_rain_pixels")
"""Size of the scored split, reported with every result."""


@dataclasses.dataclass
class Prediction:
    """One batch of a retrieval.

    Attributes
    ----------
    rate : ndarray, shape (B, H, W)
        The scored rain rate, mm h-1 (for two networks: the argmax composition).
    p_rain : ndarray, shape (B, H, W), optional
        Probability of rain (≥ 0.1 mm h-1) in [0, 1].
    regression : ndarray, shape (B, H, W), optional
        The rate the retrieval gives where it detects rain (mm h-1), so that the composition can
        be redone at another probability threshold.
    """

    rate: np.ndarray
    p_rain: np.ndarray | None = None
    regression: np.ndarray | None = None


Predictor = Callable[[dict[str, Any]], "np.ndarray | Prediction"]


def as_prediction(output: np.ndarray | Prediction) -> Prediction:
    """A predictor's output as a :class:`Prediction` (a bare rate array gets no probability)."""
    if isinstance(output, Prediction):
        return output
    return Prediction(rate=np.asarray(output))


def _device(model: torch.nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _first(output: Any) -> torch.Tensor:
    if hasattr(output, "logits"):
        return output.logits
    return output[0] if isinstance(output, tuple | list) else output


def _forward(model: torch.nn.Module, batch: dict[str, Any]) -> torch.Tensor:
    """Logits of ``model`` on ``batch``: the teacher gets its ``inputs``, others ``ir``."""
    device = _device(model)
    names = getattr(model, "inputs", None)
    if isinstance(names, tuple | list) and names and isinstance(names[0], str):
        out = model({k: batch[k].to(device) for k in names})
    else:
        out = model(batch["ir"].to(device))
    return _first(out).float()


def network_predictor(model: torch.nn.Module) -> Predictor:
    """Predictor of one regression network (``n_classes = 1``) scored on its rate alone.

    Networks that take a mask get none (all-ones at evaluation, as the reference test code).
    """
    model.eval()

    @torch.no_grad()
    def predict(batch: dict[str, Any]) -> np.ndarray:
        logits = _forward(model, batch)
        if logits.shape[1] != 1:
            raise ValueError(f"a regression network has 1 output channel, got {logits.shape[1]}")
        return logits[:, 0].cpu().numpy()

    return predict


def two_network_predictor(classifier: torch.nn.Module, regressor: torch.nn.Module) -> Predictor:
    """Predictor of the paper's composition: regression × [argmax classification == rain].

    Works for students (IR input) and teachers (their modalities). The :class:`Prediction`
    also carries the classifier's rain probability (softmax) and the clamped regression.
    """
    from prelib.inference.composition import compose_precipitation

    classifier.eval()
    regressor.eval()

    @torch.no_grad()
    def predict(batch: dict[str, Any]) -> Prediction:
        logits = _forward(classifier, batch)
        rate = _forward(regressor, batch)
        if logits.shape[1] != 2 or rate.shape[1] != 1:
            raise ValueError(
                f"a classifier has 2 output channels and a regressor 1, got {logits.shape[1]} "
                f"and {rate.shape[1]}"
            )
        composed = compose_precipitation(logits, rate.to(logits.device))
        p_rain = torch.softmax(logits, dim=1)[:, 1]
        return Prediction(
            rate=composed[:, 0].cpu().numpy(),
            p_rain=p_rain.cpu().numpy(),
            regression=rate[:, 0].clamp(min=0.0).cpu().numpy(),
        )

    return predict


def baseline_predictor(baseline) -> Predictor:
    """Predictor of a fitted IR baseline (``prelib.baselines``): it gets the batch's IR in K.

    Baselines with ``components(ir) -> (p_rain, rate_if_rain)`` (the gradient-boosting
    classifier × regressor) also give the threshold-free and validation-threshold scores.
    """
    offset, scale = IR_NORM

    def predict(batch: dict[str, Any]) -> np.ndarray | Prediction:
        ir = batch["ir"].cpu().numpy().astype(np.float32) * np.float32(scale) + np.float32(offset)
        missing = ~batch["input_valid"].cpu().numpy().astype(bool)
        ir = np.where(missing[:, None], np.float32(np.nan), ir)
        rate = np.asarray(baseline.predict(ir), dtype=np.float32)
        if hasattr(baseline, "components"):
            p_rain, regression = baseline.components(ir)
            return Prediction(rate, np.asarray(p_rain), np.asarray(regression))
        return rate

    return predict


class ScoreAccumulator:
    """Pooled scores of one retrieval, accumulated batch by batch (see the module docstring).

    Parameters
    ----------
    threshold : float
        Rain threshold of the categorical scores, mm h-1.
    metrics : sequence of str
        Registry names of the rate scores (default: RMSE, CC, POD, FAR, CSI, CSI-4, CSI-8).
    p_threshold : float, optional
        Probability threshold chosen on validation (:meth:`best_probability_threshold`); when
        given, ``pod_pval``/``far_pval``/``csi_pval`` score the composition at it.
    """

    def __init__(
        self,
        threshold: float = RAIN_THRESHOLD,
        metrics: Sequence[str] = PAPER_METRICS,
        p_threshold: float | None = None,
    ) -> None:
        self.threshold = float(threshold)
        # the rain threshold goes to the metrics that take one (RMSE and CC do not)
        takes_threshold = any("threshold" in accepted_arguments(m) for m in metrics)
        common = {"threshold": threshold} if takes_threshold else {}
        self.collection = MetricCollection(tuple(metrics), **common)
        self.p_threshold = p_threshold
        self.at_p = (
            None
            if p_threshold is None
            else MetricCollection(("pod", "far", "csi"), threshold=threshold)
        )
        self.n_samples = 0
        self.n_pixels = 0
        self.n_rain = 0
        self.n_prob = 0
        self.ce_sum = 0.0
        self.brier_sum = 0.0
        self.hist_rain = np.zeros(PROBABILITY_BINS, dtype=np.int64)
        self.hist_dry = np.zeros(PROBABILITY_BINS, dtype=np.int64)
        # pixels whose regression would call rain, by probability bin and truth (threshold pick)
        self.detect_rain = np.zeros(PROBABILITY_BINS, dtype=np.int64)
        self.detect_dry = np.zeros(PROBABILITY_BINS, dtype=np.int64)

    def update(
        self, prediction: np.ndarray | Prediction, truth: np.ndarray, valid: np.ndarray
    ) -> None:
        """Add one batch: ``prediction`` (rate or :class:`Prediction`), ``truth`` (B, H, W) in
        mm h-1 and ``valid`` (B, H, W) bool."""
        pred = as_prediction(prediction)
        truth = np.asarray(truth)
        valid = np.asarray(valid, dtype=bool)
        if pred.rate.shape != truth.shape or valid.shape != truth.shape:
            raise ValueError(
                f"prediction shape {pred.rate.shape}, label {truth.shape} and valid mask "
                f"{valid.shape} differ"
            )
        valid = valid & np.isfinite(truth)
        self.collection.update(pred.rate, truth, valid)
        self.n_samples += int(truth.shape[0])
        self.n_pixels += int(valid.sum())
        wet = valid & (np.nan_to_num(truth, nan=0.0) >= self.threshold)
        self.n_rain += int(wet.sum())
        if pred.p_rain is None:
            return
        p = np.asarray(pred.p_rain, dtype=np.float64)
        if p.shape != truth.shape:
            raise ValueError(f"p_rain shape {p.shape} differs from the label's {truth.shape}")
        use = valid & np.isfinite(p)
        p_use, y = np.clip(p[use], 0.0, 1.0), wet[use]
        clipped = np.clip(p_use, 1e-7, 1.0 - 1e-7)
        self.ce_sum += float(-(np.where(y, np.log(clipped), np.log1p(-clipped))).sum())
        self.brier_sum += float(((p_use - y) ** 2).sum())
        self.n_prob += int(use.sum())
        bins = np.minimum((p_use * PROBABILITY_BINS).astype(np.int64), PROBABILITY_BINS - 1)
        self.hist_rain += np.bincount(bins[y], minlength=PROBABILITY_BINS)
        self.hist_dry += np.bincount(bins[~y], minlength=PROBABILITY_BINS)
        if pred.regression is not None:
            reg = np.nan_to_num(np.asarray(pred.regression)[use], nan=0.0)
            calls = reg >= self.threshold
            self.detect_rain += np.bincount(bins[calls & y], minlength=PROBABILITY_BINS)
            self.detect_dry += np.bincount(bins[calls & ~y], minlength=PROBABILITY_BINS)
            if self.at_p is not None:
                rain = p >= self.p_threshold
                rate = np.where(rain, np.maximum(np.asarray(pred.regression), 0.0), 0.0)
                self.at_p.update(rate.astype(np.float32), truth, valid)

    def best_probability_threshold(self) -> float:
        """The probability threshold (a multiple of 0.001) that maximises the composed CSI
        ``hits / (hits + misses + false alarms)`` on the data seen; ties → closest to 0.5.

        Raises
        ------
        ValueError
            When no batch carried a probability and a regression.
        """
        if self.n_prob == 0:
            raise ValueError("no rain probability was given: cannot choose a threshold")
        hits = np.cumsum(self.detect_rain[::-1])[::-1].astype(np.float64)
        false_alarms = np.cumsum(self.detect_dry[::-1])[::-1].astype(np.float64)
        misses = self.n_rain - hits
        denominator = hits + misses + false_alarms
        csi = np.divide(hits, denominator, out=np.zeros_like(hits), where=denominator > 0)
        candidates = np.flatnonzero(csi >= csi.max() - 1e-12)
        edges = candidates / PROBABILITY_BINS
        return float(edges[np.argmin(np.abs(edges - 0.5))])

    def compute(self) -> dict[str, float]:
        """All scores (see the module docstring); NaN where undefined."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # undefined scores are NaN
            out = {key: float(value) for key, value in self.collection.compute().items()}
            nan = math.nan
            if self.n_prob:
                out["ce"] = self.ce_sum / self.n_prob
                out["brier"] = self.brier_sum / self.n_prob
                out["auc"] = _histogram_auc(self.hist_rain, self.hist_dry)
            else:
                out.update({key: nan for key in CLASSIFIER_SCORES})
            if self.at_p is not None and self.n_prob:
                at_p = self.at_p.compute()
                out["p_threshold"] = float(self.p_threshold)
                out.update({f"{k}_pval": float(v) for k, v in at_p.items()})
            else:
                out.update({key: nan for key in VALIDATION_THRESHOLD_SCORES})
        out.update(
            n_samples=float(self.n_samples),
            n_pixels=float(self.n_pixels),
            n_rain_pixels=float(self.n_rain),
        )
        return out


def _histogram_auc(positives: np.ndarray, negatives: np.ndarray) -> float:
    """ROC-AUC from per-bin counts: P(p_rain > p_dry) + ½ P(same bin)."""
    n_pos, n_neg = positives.sum(), negatives.sum()
    if n_pos == 0 or n_neg == 0:
        return math.nan
    below = np.concatenate([[0], np.cumsum(negatives)[:-1]]).astype(np.float64)
    return float((positives * (below + 0.5 * negatives)).sum() / (float(n_pos) * float(n_neg)))


def _batches(loader, noise, rng, show_progress, description):
    for batch in tqdm(loader, desc=description, disable=not show_progress, leave=False):
        if noise[0] != "none":
            batch = {
                **batch,
                "ir": perturb_normalised_ir(
                    batch["ir"], batch["input_valid"], noise[0], noise[1], rng
                ),
            }
        yield batch


def _accumulate(accumulator: ScoreAccumulator, predict: Predictor, batches) -> None:
    n_batches = 0
    for batch in batches:
        truth = batch["precip"].cpu().numpy()
        valid = batch["valid"].cpu().numpy().astype(bool)
        if "input_valid" in batch:
            valid &= batch["input_valid"].cpu().numpy().astype(bool)
        accumulator.update(predict(batch), truth, valid)
        n_batches += 1
    if n_batches == 0:
        raise ValueError("the loader yielded no batch")


def score_predictor(
    predict: Predictor,
    loader,
    threshold: float = RAIN_THRESHOLD,
    metrics: Sequence[str] = PAPER_METRICS,
    noise: tuple[str, float] = ("none", 0.0),
    seed: int = 0,
    show_progress: bool = False,
    description: str = "score",
    calibration_loader=None,
) -> dict[str, float]:
    """Pooled scores of ``predict`` over every batch of ``loader`` (the one protocol).

    Parameters
    ----------
    predict : callable
        ``batch -> (B, H, W)`` rain rate in mm h-1, or a :class:`Prediction`.
    loader : iterable of batches
        E.g. :func:`prelib.data.datasets.make_dataloader` over a test split (no shuffling).
    threshold : float
        Rain threshold of the categorical scores, mm h-1.
    metrics : sequence of str
        Registry names (default: RMSE, CC, POD, FAR, CSI, CSI-4, CSI-8).
    noise : (str, float)
        ``(kind, sigma)`` applied to the IR input before ``predict`` (Table 7; see
        :mod:`prelib.evaluation.noise`); the same draws for every predictor given ``seed``.
    seed : int
        Seed of the noise generator.
    calibration_loader : iterable of batches, optional
        The **validation** split: the probability threshold of the ``*_pval`` scores is chosen
        on it (without noise). Without it those scores are NaN.

    Returns
    -------
    dict of str to float
        ``metrics``, :data:`CLASSIFIER_SCORES`, :data:`VALIDATION_THRESHOLD_SCORES` and
        :data:`SIZE_COLUMNS`; NaN where undefined (e.g. no rain in the truth for POD).
    """
    p_threshold = None
    if calibration_loader is not None:
        calibration = ScoreAccumulator(threshold, ("csi",))
        _accumulate(
            calibration,
            predict,
            _batches(calibration_loader, ("none", 0.0), None, show_progress, description + " val"),
        )
        if calibration.n_prob:
            p_threshold = calibration.best_probability_threshold()
    accumulator = ScoreAccumulator(threshold, metrics, p_threshold)
    rng = np.random.default_rng(seed)
    _accumulate(accumulator, predict, _batches(loader, noise, rng, show_progress, description))
    return accumulator.compute()


def score_arrays(
    pred: np.ndarray | Prediction,
    truth: np.ndarray,
    valid: np.ndarray | None = None,
    threshold: float = RAIN_THRESHOLD,
    metrics: Sequence[str] = PAPER_METRICS,
) -> dict[str, float]:
    """The same protocol on predictions held in memory.

    Parameters
    ----------
    pred : ndarray or Prediction
        Rate in mm h-1, ``(sample, y, x)`` or one field ``(y, x)``.
    truth : ndarray
        Same shape, mm h-1 (NaN = missing).
    valid : ndarray of bool, optional
        Pixels to score; default: where ``truth`` is finite.
    threshold, metrics
        As :func:`score_predictor`.

    Returns
    -------
    dict of str to float
        The requested ``metrics``, the sizes, and the classifier scores when ``pred`` is a
        :class:`Prediction` with a probability.
    """
    truth = np.asarray(truth)
    valid = np.isfinite(truth) if valid is None else np.asarray(valid, dtype=bool)
    prediction = as_prediction(pred)
    if truth.ndim == 2:  # one field: a sample axis of length 1
        truth, valid = truth[None], valid[None]
        prediction = Prediction(
            *(None if a is None else np.asarray(a)[None] for a in dataclasses.astuple(prediction))
        )
    accumulator = ScoreAccumulator(threshold, metrics)
    accumulator.update(prediction, truth, valid)
    out = accumulator.compute()
    keep = [*metrics, *SIZE_COLUMNS]
    if prediction.p_rain is not None:
        keep += list(CLASSIFIER_SCORES)
    return {key: out[key] for key in keep}

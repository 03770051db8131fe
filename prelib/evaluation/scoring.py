"""Score a predictor on a benchmark split with the paper's protocol.

Protocol (prenet_reference.md §7, §10): every score is **pooled over all valid pixels** of the
test split (not averaged per sample), the rain threshold is 0.1 mm h-1 and CSI-4 / CSI-8 use
non-overlapping max-pooling (:data:`prelib.metrics.PAPER_METRICS`). A pixel is scored when its
label is valid *and* all its inputs are finite (``valid & input_valid``), so that networks and
IR baselines are compared on the same pixels.

A *predictor* maps a batch (dict of tensors from :mod:`prelib.data.datasets`) to the rain rate
``(B, H, W)`` in mm h-1 as a numpy array; :func:`network_predictor`,
:func:`two_network_predictor` and :func:`baseline_predictor` build the three kinds used here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from prelib.conventions import IR_NORM
from prelib.evaluation.noise import perturb_normalised_ir
from prelib.metrics import PAPER_METRICS, MetricCollection

Predictor = Callable[[dict[str, Any]], np.ndarray]


def _device(model: torch.nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _first(output: Any) -> torch.Tensor:
    if hasattr(output, "logits"):
        return output.logits
    return output[0] if isinstance(output, tuple | list) else output


def network_predictor(model: torch.nn.Module) -> Predictor:
    """Predictor of one regression network (``n_classes = 1``), e.g. a Stage-I student.

    The teacher gets the batch entries named in ``model.inputs``; other networks get ``ir``.
    Networks that take a mask get none (all-ones at evaluation, as the reference test code).
    """
    model.eval()

    @torch.no_grad()
    def predict(batch: dict[str, Any]) -> np.ndarray:
        device = _device(model)
        names = getattr(model, "inputs", None)
        if isinstance(names, tuple | list) and names and isinstance(names[0], str):
            out = model({k: batch[k].to(device) for k in names})
        else:
            out = model(batch["ir"].to(device))
        logits = _first(out).float()
        if logits.shape[1] != 1:
            raise ValueError(f"a regression network has 1 output channel, got {logits.shape[1]}")
        return logits[:, 0].cpu().numpy()

    return predict


def two_network_predictor(classifier: torch.nn.Module, regressor: torch.nn.Module) -> Predictor:
    """Predictor of the paper's composition: regression × [argmax classification == rain]."""
    from prelib.inference.composition import TwoNetworkRetrieval

    retrieval = TwoNetworkRetrieval(classifier.eval(), regressor.eval())

    def predict(batch: dict[str, Any]) -> np.ndarray:
        return retrieval(batch["ir"].to(_device(regressor)))[:, 0].cpu().numpy()

    return predict


def baseline_predictor(baseline) -> Predictor:
    """Predictor of a fitted IR baseline (``prelib.baselines``): it gets the batch's IR in K."""
    offset, scale = IR_NORM

    def predict(batch: dict[str, Any]) -> np.ndarray:
        ir = batch["ir"].cpu().numpy().astype(np.float32) * np.float32(scale) + np.float32(offset)
        missing = ~batch["input_valid"].cpu().numpy().astype(bool)
        ir = np.where(missing[:, None], np.float32(np.nan), ir)
        return np.asarray(baseline.predict(ir), dtype=np.float32)

    return predict


def score_predictor(
    predict: Predictor,
    loader,
    threshold: float = 0.1,
    metrics: Sequence[str] = PAPER_METRICS,
    noise: tuple[str, float] = ("none", 0.0),
    seed: int = 0,
    show_progress: bool = False,
    description: str = "score",
) -> dict[str, float]:
    """Pooled scores of ``predict`` over every batch of ``loader``.

    Parameters
    ----------
    predict : callable
        ``batch -> (B, H, W)`` rain rate in mm h-1.
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

    Returns
    -------
    dict of str to float
        Scores; NaN where undefined (e.g. no rain in the truth for POD).
    """
    collection = MetricCollection(tuple(metrics), threshold=threshold)
    rng = np.random.default_rng(seed)
    n_batches = 0
    for batch in tqdm(loader, desc=description, disable=not show_progress, leave=False):
        if noise[0] != "none":
            batch = {
                **batch,
                "ir": perturb_normalised_ir(
                    batch["ir"], batch["input_valid"], noise[0], noise[1], rng
                ),
            }
        pred = predict(batch)
        truth = batch["precip"].cpu().numpy()
        valid = (batch["valid"] & batch["input_valid"]).cpu().numpy()
        if pred.shape != truth.shape:
            raise ValueError(
                f"prediction shape {pred.shape} differs from the label's {truth.shape}"
            )
        collection.update(pred, truth, valid)
        n_batches += 1
    if n_batches == 0:
        raise ValueError("the test loader yielded no batch")
    return {key: float(value) for key, value in collection.compute().items()}

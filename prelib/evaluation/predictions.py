"""Predictions of a retrieval over a benchmark loader, kept as arrays for plots, and their scores.

A *retrieval* is any callable mapping a batch's inputs to a rain rate ``(B, 1, H, W)`` in mm h-1,
e.g. :class:`prelib.inference.composition.TwoNetworkRetrieval` built from a classifier and a
regressor (PRE-Net's two networks, Wang et al., KDD 2025 §4), or from two multimodal teachers
(which take a mapping of modalities, hence ``inputs``). Scores are the paper's (RMSE, CC, POD,
FAR, CSI, CSI-4, CSI-8) pooled over the valid pixels of all samples
(:func:`prelib.metrics.score`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import torch

from prelib.conventions import VAR_PRECIP

PREDICTION_KEYS: tuple[str, ...] = ("pred", "truth", "valid", "ir")


def predict_benchmark(
    retrieval: Callable[[Any], torch.Tensor],
    loader: Iterable[dict[str, Any]],
    inputs: Sequence[str] = ("ir",),
    max_batches: int | None = None,
    device: str | torch.device = "cpu",
) -> dict[str, np.ndarray]:
    """Predict every sample of ``loader`` and collect prediction, truth and valid mask.

    Parameters
    ----------
    retrieval : callable
        ``retrieval(x) -> Tensor (B, 1, H, W)`` in mm h-1 (or a tuple whose first element is
        that tensor, as the networks' NamedTuple outputs). ``x`` is the batch's ``ir`` tensor
        when ``inputs == ("ir",)``, else the mapping ``{name: batch[name] for name in inputs}``.
        A ``torch.nn.Module`` is put in eval mode.
    loader : iterable of dict
        Batches of :class:`prelib.data.datasets.BenchmarkDataset` (``ir``, ``precip``, ``valid``
        and the other modalities), e.g. from :func:`prelib.data.datasets.make_dataloader`.
    inputs : sequence of str
        Batch keys the retrieval takes.
    max_batches : int, optional
        Stop after this many batches (a quick look on a big split).
    device : str or torch.device
        Where the inputs are moved before the call (the retrieval must live there too).

    Returns
    -------
    dict of str to ndarray
        ``pred`` and ``truth`` float32 (sample, y, x) in mm h-1, ``valid`` bool (sample, y, x)
        (label present and, when the batch says, IR input present),
        ``ir`` float32 (sample, channel, y, x) as fed to the network (normalised).

    Raises
    ------
    ValueError
        If ``inputs`` is empty or names a key a batch lacks, the output shape is not
        (B, 1, H, W) matching the label, the prediction holds NaN at a valid pixel, or the loader
        yields no batch.
    """
    inputs = tuple(inputs)
    if not inputs:
        raise ValueError("inputs must name at least one batch key, got none")
    if max_batches is not None and max_batches < 1:
        raise ValueError(f"max_batches must be >= 1, got {max_batches}")
    if isinstance(retrieval, torch.nn.Module):
        retrieval.eval()
    collected: dict[str, list[np.ndarray]] = {key: [] for key in PREDICTION_KEYS}
    for n, batch in enumerate(loader):
        if max_batches is not None and n >= max_batches:
            break
        missing = [k for k in (*inputs, VAR_PRECIP, "valid") if k not in batch]
        if missing:
            raise ValueError(f"batch lacks {missing}; it has {sorted(batch)}")
        if inputs == ("ir",):
            x = batch["ir"].to(device)
        else:
            x = {k: batch[k].to(device) for k in inputs}
        with torch.no_grad():
            pred = retrieval(x)
        if isinstance(pred, tuple | list):
            # Networks return NamedTuples (TeacherOutput, StudentOutput) whose first field is the
            # logits: a regressor's logits are its rate in mm h-1.
            pred = pred[0]
        truth = batch[VAR_PRECIP]
        if pred.ndim != 4 or pred.shape[1] != 1 or pred.shape[-2:] != truth.shape[-2:]:
            raise ValueError(
                f"retrieval must return (B, 1, H, W) with H, W of the label {tuple(truth.shape)}, "
                f"got {tuple(pred.shape)}"
            )
        pred = pred[:, 0].float().cpu().numpy()
        valid = batch["valid"].bool()
        if "input_valid" in batch:  # same protocol as score_predictor: missing IR is not scored
            valid = valid & batch["input_valid"].bool()
        valid = valid.cpu().numpy().reshape(pred.shape)
        if not np.all(np.isfinite(pred[valid])):
            raise ValueError("the retrieval produced NaN or infinite rates at valid pixels")
        collected["pred"].append(pred)
        collected["truth"].append(truth.float().cpu().numpy().reshape(pred.shape))
        collected["valid"].append(valid)
        collected["ir"].append(batch["ir"].float().cpu().numpy())
    if not collected["pred"]:
        raise ValueError("the loader yielded no batch")
    return {key: np.concatenate(values) for key, values in collected.items()}


def score_predictions(predictions: dict[str, np.ndarray], **common: Any) -> dict[str, float]:
    """The paper's scores of :func:`predict_benchmark`'s output (pooled over valid pixels).

    Parameters
    ----------
    predictions : dict
        With ``pred``, ``truth`` (mm h-1) and ``valid``.
    **common
        ``threshold`` and ``metrics`` of :func:`prelib.evaluation.scoring.score_arrays` (the one
        scoring protocol).

    Returns
    -------
    dict of str to float
        ``rmse`` (mm h-1), ``cc``, ``pod``, ``far``, ``csi``, ``csi4``, ``csi8`` and the scored
        split's size (``n_samples``, ``n_pixels``, ``n_rain_pixels``).
    """
    from prelib.evaluation.scoring import score_arrays

    missing = [k for k in ("pred", "truth", "valid") if k not in predictions]
    if missing:
        raise ValueError(f"predictions lack {missing}; got {sorted(predictions)}")
    return score_arrays(predictions["pred"], predictions["truth"], predictions["valid"], **common)

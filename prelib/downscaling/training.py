"""Small, explicit training loops for the downscaling models (CPU-friendly, seeded, tqdm).

Each loop trains on in-memory tensors (the demo data fit in memory) with Adam, shows a tqdm
bar, and returns the mean loss of every epoch. :func:`fit` is the shared core; the others build
the per-batch loss of each model.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from prelib.downscaling.data import DownscalingPairs
from prelib.downscaling.maunet import MAUNet
from prelib.downscaling.precipdiff import PrecipDiff
from prelib.downscaling.transform import PrecipTransform


def fit(
    model: nn.Module,
    tensors: Sequence[torch.Tensor],
    batch_loss: Callable[..., torch.Tensor],
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int = 0,
    desc: str = "train",
    parameters: Sequence[nn.Parameter] | None = None,
    progress: bool = True,
    schedule: str = "constant",
    validate: Callable[[], float] | None = None,
) -> list[float]:
    """Minimise ``batch_loss(*batch_tensors)`` over shuffled mini-batches.

    Parameters
    ----------
    model : nn.Module
        Put in train mode.
    tensors : sequence of Tensor
        Same leading size; batches are index slices of all of them.
    batch_loss : callable
        ``batch_loss(*batch) -> scalar loss``.
    epochs, batch_size : int
    lr : float
        Adam learning rate.
    seed : int
        Seeds the shuffling.
    parameters : sequence of Parameter, optional
        What to optimise (default ``model.parameters()``).
    schedule : {"constant", "cosine"}
        Learning rate: constant, or cosine decay to 0 over all batches.
    validate : callable, optional
        ``validate() -> score`` (lower is better), called in eval mode after every epoch; the
        model ends with the weights of the best epoch. Small, heavy-tailed rain batches make
        BatchNorm's running statistics and the last epoch's weights noisy (measured on MRMS:
        test RMSE jumped by ±10 % between consecutive epochs), so the best validation epoch is
        kept instead of the last.

    Returns
    -------
    list of float
        Mean loss per epoch.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs}, {batch_size}")
    n = len(tensors[0])
    generator = torch.Generator().manual_seed(seed)
    if schedule not in ("constant", "cosine"):
        raise ValueError(f"schedule must be 'constant' or 'cosine', got {schedule!r}")
    optimizer = torch.optim.Adam(parameters or model.parameters(), lr=lr)
    n_batches = epochs * -(-n // batch_size)
    scheduler = (
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, n_batches)
        if schedule == "cosine"
        else None
    )
    model.train()
    history = []
    best_score, best_state = float("inf"), None
    bar = tqdm(range(epochs), desc=desc, disable=not progress, leave=False)
    for _ in bar:
        order = torch.randperm(n, generator=generator)
        total = 0.0
        for start in range(0, n, batch_size):
            index = order[start : start + batch_size]
            loss = batch_loss(*(t[index] for t in tensors))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            total += float(loss.detach()) * len(index)
        history.append(total / n)
        bar.set_postfix(loss=f"{history[-1]:.4f}")
        if validate is not None:
            model.eval()
            with torch.no_grad():
                score = float(validate())
            if score < best_score:
                best_score, best_state = score, copy.deepcopy(model.state_dict())
            model.train()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history


def maunet_tensors(
    model: MAUNet, pairs: DownscalingPairs, transform: PrecipTransform
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(input, target)`` in transformed space for a MAUNet of the pairs' task.

    ``factor == pairs.factor``: downscaling from the satellite product to the fine truth;
    ``factor == 1``: bias correction of the satellite product towards the block-mean truth.
    """
    if model.config.factor == pairs.factor:
        target = pairs.fine
    elif model.config.factor == 1:
        target = pairs.coarse_truth_mean
    else:
        raise ValueError(
            f"MAUNet factor {model.config.factor} fits neither the pairs' factor {pairs.factor} "
            "nor bias correction (1)"
        )
    return (
        transform.forward(pairs.satellite).unsqueeze(1),
        transform.forward(target).unsqueeze(1),
    )


MAUNET_LOSSES: tuple[str, ...] = ("log-mse", "mse")


def maunet_loss(
    output: torch.Tensor, target: torch.Tensor, loss: str, transform: PrecipTransform
) -> torch.Tensor:
    """``"log-mse"``: MSE in the transformed (log1p) space; ``"mse"``: MSE of rates (mm h-1).

    The log-space MSE is minimised by the conditional mean of ``log1p(p)``, whose inverse is
    below the conditional mean of ``p`` (Jensen): on MRMS at ×10 the test RMSE of rates *rose*
    while the log loss fell. The rate MSE targets the quantity RMSE scores.
    """
    if loss == "log-mse":
        return F.mse_loss(output, target)
    if loss == "mse":
        rate = torch.expm1((output * transform.scale).clamp(max=8.0)).clamp(min=0.0)
        return F.mse_loss(rate, torch.expm1(target * transform.scale))
    raise ValueError(f"loss must be one of {list(MAUNET_LOSSES)}, got {loss!r}")


def rate_rmse(
    model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, transform: PrecipTransform
) -> float:
    """RMSE (mm h-1) of a MAUNet-like model on transformed inputs/targets, in batches."""
    total, count = 0.0, 0
    for start in range(0, len(inputs), 32):
        out = transform.inverse(model(inputs[start : start + 32]))
        truth = transform.inverse(targets[start : start + 32])
        total += float(((out - truth) ** 2).sum())
        count += truth.numel()
    return (total / count) ** 0.5


def train_maunet(
    model: MAUNet,
    pairs: DownscalingPairs,
    epochs: int,
    batch_size: int = 8,
    lr: float = 1e-3,
    seed: int = 0,
    transform: PrecipTransform | None = None,
    loss: str = "log-mse",
    schedule: str = "constant",
    validation: DownscalingPairs | None = None,
) -> list[float]:
    """Train a MAUNet with ``loss`` (see :func:`maunet_loss`).

    With ``validation`` pairs, the epoch with the lowest validation RMSE is kept.
    """
    transform = transform or PrecipTransform()
    inputs, targets = maunet_tensors(model, pairs, transform)
    validate = None
    if validation is not None:
        val_inputs, val_targets = maunet_tensors(model, validation, transform)

        def validate() -> float:
            return rate_rmse(model, val_inputs, val_targets, transform)

    torch.manual_seed(seed)
    return fit(
        model,
        (inputs, targets),
        lambda x, y: maunet_loss(model(x), y, loss, transform),
        epochs,
        batch_size,
        lr,
        seed,
        desc="MAUNet",
        schedule=schedule,
        validate=validate,
    )


def train_precipdiff(
    model: PrecipDiff,
    pairs: DownscalingPairs,
    epochs: int,
    batch_size: int = 8,
    lr: float = 1e-3,
    seed: int = 0,
    teacher_forcing: bool = True,
) -> dict[str, list[float]]:
    """Fit the residual scales, then train the correction and the downscaling stage.

    Parameters
    ----------
    teacher_forcing : bool
        Train the downscaling stage from the max-pooled truth (True) or, pipeline-consistent,
        from the trained correction stage's output on the satellite product (one member per
        sample), the input it will see at inference. PrecipDiff does not say which; both are
        our options (downscaling_anchors.md §3).
    """
    coarse_truth = pairs.coarse_truth
    model.fit_scales(pairs.satellite, coarse_truth, pairs.fine)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    history = {}
    for name in ("correction", "downscaling"):
        stage = getattr(model, name)
        if name == "correction":
            tensors = model.correction_example(pairs.satellite, coarse_truth)
        else:  # built after the correction stage is trained, for the pipeline-consistent case
            coarse = coarse_truth if teacher_forcing else model.correct(pairs.satellite, 1, seed)[0]
            tensors = model.downscaling_example(coarse, pairs.fine)
        history[name] = fit(
            stage,
            tensors,
            lambda cond, target, s=stage: s.loss(cond, target, generator),
            epochs,
            batch_size,
            lr,
            seed,
            desc=f"{model.kind} {name}",
        )
    return history

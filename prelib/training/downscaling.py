"""Training the downscaling networks (MAUNet, MAUNet-Light, PrecipDiff) with the common Trainer.

Every network here trains through :class:`~prelib.training.trainer.Trainer` on in-memory tensors
(:func:`~prelib.training.tensor_loader.tensor_loader`): the Trainer brings the checkpoints
(``last.pt`` / ``best.pt`` with SHA-256 integrity), the metrics log, the non-finite-loss stop and
the best-epoch selection; this module brings the step functions:

* :func:`train_maunet` — MAUNet with :func:`maunet_loss` (rate MSE or log-space MSE);
* :func:`distil_maunet_light` — a MAUNet-Light student from a trained MAUNet
  (:class:`~prelib.models.maunet_light.MAUNetLightDistillation`);
* :func:`train_precipdiff` — PrecipDiff's (or the regression mean's) two residual stages.

The caller seeds the run once (``prelib.runtime.seed_everything``, before the networks are
built). Each function below then reseeds torch's global generator with ``config.seed`` before
its network trains (dropout; the diffusion stages draw their noise levels and noise from their
own generator, seeded likewise), as the downscaling experiment always has; a distillation
creates its feature adapters before that reseed. The
:class:`~prelib.training.config.TrainingConfig`
(:meth:`prelib.downscaling.config.DownscalingConfig.training_config`) sets Adam without
clipping; ``schedule`` keeps the learning rate constant or decays it per step (cosine). With
validation tensors, the epoch with the lowest validation RMSE of rates (``val_rate_rmse``) is
kept: small, heavy-tailed rain batches make BatchNorm's running statistics and the last epoch's
weights noisy (measured on MRMS: test RMSE jumped by ±10 % between consecutive epochs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from prelib.models.maunet import MAUNet
from prelib.models.maunet_light import MAUNetLightDistillation
from prelib.models.precip_transform import PrecipTransform
from prelib.models.precipdiff import PrecipDiff
from prelib.training.checkpoint import load_checkpoint, load_state_checked
from prelib.training.config import TrainingConfig
from prelib.training.tensor_loader import tensor_loader
from prelib.training.trainer import Trainer, TrainingResult

MAUNET_LOSSES: tuple[str, ...] = ("log-mse", "mse")
SCHEDULES: tuple[str, ...] = ("constant", "cosine")
VALIDATION_BATCH: int = 32
"""Validation batch size (only the memory use depends on it)."""

Tensors = tuple[torch.Tensor, torch.Tensor]


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


def cosine_schedule(optimizer: torch.optim.Optimizer, total_steps: int):
    """Cosine decay of the learning rate to 0 over ``total_steps`` optimiser steps."""
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, total_steps)


def _scheduler_fn(schedule: str):
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {list(SCHEDULES)}, got {schedule!r}")
    return cosine_schedule if schedule == "cosine" else None


def rate_rmse_fn(transform: PrecipTransform, network=lambda model: model):
    """``evaluate_fn`` of the Trainer: RMSE of rates (mm h-1) over the validation batches.

    ``network(model)`` picks the MAUNet inside the trained module (the student of a
    distillation).
    """

    def evaluate(model: nn.Module, loader, device: torch.device) -> dict[str, float]:
        total, count = 0.0, 0
        net = network(model)
        for batch in loader:
            out = transform.inverse(net(batch["input"].to(device)))
            truth = transform.inverse(batch["target"].to(device))
            total += float(((out - truth) ** 2).sum())
            count += truth.numel()
        return {"rate_rmse": (total / count) ** 0.5}

    return evaluate


def _loaders(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    config: TrainingConfig,
    validation: Tensors | None,
    keys: tuple[str, str] = ("input", "target"),
):
    train = tensor_loader(dict(zip(keys, (inputs, targets))), config.batch_size, True, config.seed)
    val = None
    if validation is not None:
        val = tensor_loader(dict(zip(keys, validation)), VALIDATION_BATCH, False, config.seed)
    return train, val


def _keep_best(model: nn.Module, result: TrainingResult, validated: bool) -> None:
    """Load the best validation epoch's weights (the last epoch's stay without validation)."""
    if validated and result.best_checkpoint is not None:
        payload = load_checkpoint(result.best_checkpoint)
        load_state_checked(model, payload["model"], str(result.best_checkpoint))


def losses(result: TrainingResult) -> list[float]:
    """The mean training loss of every epoch of a run."""
    return [float(row["train_loss"]) for row in result.history]


def train_maunet(
    model: MAUNet,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    config: TrainingConfig,
    run_dir: str | Path,
    loss: str = "mse",
    transform: PrecipTransform | None = None,
    schedule: str = "constant",
    validation: Tensors | None = None,
    show_progress: bool = True,
    run_config: dict[str, Any] | None = None,
) -> TrainingResult:
    """Train a MAUNet with ``loss`` (see :func:`maunet_loss`); the model ends in eval mode.

    Parameters
    ----------
    model : MAUNet
    inputs, targets : Tensor ``(n, 1, h, w)``, ``(n, 1, H, W)``
        Transformed coarse inputs and truth.
    config : TrainingConfig
        Epochs, batch size, Adam's learning rate, seed (of the shuffling).
    run_dir : path-like
        The Trainer's ``last.pt``, ``best.pt`` and metrics log.
    loss : {"mse", "log-mse"}
    schedule : {"constant", "cosine"}
        Constant learning rate, or a cosine decay to 0 over all optimiser steps.
    validation : (Tensor, Tensor), optional
        Validation inputs and targets: the epoch with the lowest ``val_rate_rmse`` is kept.
    """
    if loss not in MAUNET_LOSSES:
        raise ValueError(f"loss must be one of {list(MAUNET_LOSSES)}, got {loss!r}")
    transform = transform or PrecipTransform()
    train, val = _loaders(inputs, targets, config, validation)
    torch.manual_seed(config.seed)

    def step(net: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"loss": maunet_loss(net(batch["input"]), batch["target"], loss, transform)}

    result = Trainer(
        model,
        step,
        train,
        config,
        run_dir,
        val_loader=val,
        model_name="maunet",
        profile="downscaling",
        evaluate_fn=rate_rmse_fn(transform) if val is not None else None,
        image_key="input",
        show_progress=show_progress,
        run_config=run_config,
        scheduler_fn=_scheduler_fn(schedule),
    ).fit(resume=False)
    _keep_best(model, result, val is not None)
    model.eval()
    return result


def distil_maunet_light(
    teacher: MAUNet,
    student: MAUNet,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    config: TrainingConfig,
    run_dir: str | Path,
    alpha: float = 0.5,
    beta: float = 0.1,
    kd_mode: str = "standard",
    transform: PrecipTransform | None = None,
    schedule: str = "constant",
    validation: Tensors | None = None,
    show_progress: bool = True,
    run_config: dict[str, Any] | None = None,
) -> TrainingResult:
    """Train ``student`` from the frozen, trained ``teacher`` (module docstring).

    The adapters are created here, before the global generator is reseeded with
    ``config.seed`` for the student's dropout; the teacher runs in evaluation mode and is
    trainable again afterwards. Arguments as :func:`train_maunet`, plus ``alpha``, ``beta`` and
    ``kd_mode`` of :func:`~prelib.models.maunet_light.distillation_loss`.
    """
    transform = transform or PrecipTransform()
    train, val = _loaders(inputs, targets, config, validation)
    distillation = MAUNetLightDistillation(student, teacher, alpha, beta, kd_mode)
    torch.manual_seed(config.seed)

    def step(net: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        loss, _ = net(batch["input"], batch["target"])
        return {"loss": loss}

    try:
        result = Trainer(
            distillation,
            step,
            train,
            config,
            run_dir,
            val_loader=val,
            model_name=f"maunet-light:{kd_mode}",
            profile="downscaling",
            evaluate_fn=(
                rate_rmse_fn(transform, lambda net: net.student) if val is not None else None
            ),
            image_key="input",
            show_progress=show_progress,
            run_config=run_config,
            scheduler_fn=_scheduler_fn(schedule),
        ).fit(resume=False)
        _keep_best(distillation, result, val is not None)
    finally:
        distillation.release_teacher()
    student.eval()
    return result


def train_precipdiff(
    model: PrecipDiff,
    satellite,
    coarse_truth,
    fine,
    config: TrainingConfig,
    run_dir: str | Path,
    teacher_forcing: bool = True,
    show_progress: bool = True,
    run_config: dict[str, Any] | None = None,
) -> dict[str, TrainingResult]:
    """Fit the residual scales, then train the correction and the downscaling stage.

    Parameters
    ----------
    model : PrecipDiff
        ``kind="diffusion"`` or ``"regression"``.
    satellite, coarse_truth, fine : np.ndarray, ``(n, h, w)``, ``(n, h, w)``, ``(n, H, W)``
        Coarse product, max-pooled truth and fine truth, mm h-1.
    config : TrainingConfig
        Each stage trains ``config.epochs`` with a constant learning rate; one generator
        seeded with ``config.seed`` draws the noise levels and noise of both stages.
    run_dir : path-like
        Each stage's Trainer writes to ``run_dir/<stage>/``.
    teacher_forcing : bool
        Train the downscaling stage from the max-pooled truth (True) or, pipeline-consistent,
        from the trained correction stage's output on the satellite product (one member per
        sample), the input it will see at inference. PrecipDiff does not say which; both are
        our options (downscaling_anchors.md §3).

    Returns
    -------
    dict
        ``{"correction": TrainingResult, "downscaling": TrainingResult}``.
    """
    model.fit_scales(satellite, coarse_truth, fine)
    seed = config.seed
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    results = {}
    for name in ("correction", "downscaling"):
        stage = getattr(model, name)
        if name == "correction":
            cond, target = model.correction_example(satellite, coarse_truth)
        else:  # built after the correction stage is trained, for the pipeline-consistent case
            coarse = coarse_truth if teacher_forcing else model.correct(satellite, 1, seed)[0]
            cond, target = model.downscaling_example(coarse, fine)
        loader = tensor_loader({"cond": cond, "target": target}, config.batch_size, True, seed)

        def step(net: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
            return {"loss": net.loss(batch["cond"], batch["target"], generator)}

        results[name] = Trainer(
            stage,
            step,
            loader,
            config,
            Path(run_dir) / name,
            model_name=f"{model.kind}:{name}",
            profile="downscaling",
            image_key="cond",
            show_progress=show_progress,
            run_config=run_config,
        ).fit(resume=False)
        stage.eval()
    return results

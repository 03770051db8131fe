"""Training PRE-Net-Light: response + feature distillation from an adapted PRE-Net on Full-IPR.

``train_light_distillation`` runs the common :class:`~prelib.training.trainer.Trainer` on a
:class:`~prelib.models.light_distill.LightDistillation` (student + 1 × 1 feature adapters,
frozen teacher); the checkpoint's ``student`` sub-state is what :func:`load_light` rebuilds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from prelib import runtime
from prelib.conventions import RAIN_THRESHOLD
from prelib.models.config import LightDistillConfig
from prelib.training.checkpoint import load_checkpoint
from prelib.training.config import TrainingConfig, load_training_config
from prelib.training.loss_balance import LossBalancer
from prelib.training.stages import _check_task, _task_loss, load_adapted
from prelib.training.trainer import Trainer, TrainingResult


def light_name(task: str) -> str:
    """Checkpoint model name, e.g. ``prenet_light:cls``."""
    return f"prenet_light:{task}"


def light_balancer(config: LightDistillConfig) -> LossBalancer:
    """The loss balance of ``config``: fixed weights, or gradient-norm targets per term."""
    from prelib.models.light_distill import TERMS

    weights = {"response": config.response_weight, "feature": config.feature_weight}
    fractions = {name: weight for name, weight in weights.items() if weight > 0} or 1.0
    mode = "gradnorm" if config.weighting == "gradnorm" else "fixed"
    return LossBalancer(mode, fractions, config.gradnorm_every, TERMS)


def build_light_distillation(profile: str | Any, task: str, teacher: nn.Module) -> nn.Module:
    """Student of ``profile`` for ``task``, adapters to ``teacher``'s feature widths and the
    loss balance of the profile's ``light_distill`` section.

    ``profile`` is a profile name or the run's model configurations (``cfg.models``).
    """
    from prelib.models import get_model, load_model_config
    from prelib.models.light_distill import LightDistillation
    from prelib.models.preparation import prepare_for_inference

    student = get_model("prenet_light", profile, n_classes=_check_task(task))
    config = (
        load_model_config("light_distill", profile)
        if isinstance(profile, str)
        else profile.light_distill
    )
    w_s = student.config.base_width
    w_t = teacher.config.base_width
    frozen = prepare_for_inference(teacher, "cpu", channels_last=False, fold_bn=False)
    return LightDistillation(
        student,
        frozen,
        (w_s, 2 * w_s, 4 * w_s),
        (2 * w_t, 4 * w_t, 8 * w_t),
        config,
        light_balancer(config),
    )


def light_evaluate_fn(task: str, threshold: float = RAIN_THRESHOLD):
    """``evaluate_fn(model, val_loader, device)`` for the :class:`~prelib.training.trainer.
    Trainer`: the student's pooled validation CSI (``val_csi``) on its own.

    Rain is the classifier's argmax (``cls``) or a rate ≥ ``threshold`` (``reg``); the truth is
    ``precip ≥ threshold`` on the valid pixels. With ``best_metric: val_csi`` (mode ``max``) it
    picks the epoch whose decision is best, which the task loss does not: a classifier's
    cross-entropy can still fall while its argmax stops predicting rain. Under the
    distillation's ``match_rain_fraction`` the classifier's decision threshold is first matched
    to the teacher's on the same split (:func:`~prelib.models.light_distill.
    match_rain_fraction`; logged as ``val_rain_logit_offset``).
    """

    @torch.no_grad()
    def evaluate(model: nn.Module, loader, device) -> dict[str, float]:
        from prelib.models.light_distill import match_rain_fraction

        student = getattr(model, "student", model)
        extra = {}
        config = getattr(model, "config", None)
        if task == "cls" and getattr(config, "match_rain_fraction", False):
            extra = {
                "rain_logit_offset": match_rain_fraction(model, loader, device)["rain_logit_offset"]
            }
        counts = torch.zeros(3, dtype=torch.float64)  # hits, misses, false alarms
        for batch in loader:
            logits = student(batch["ir"].to(device)).logits
            rain = logits.argmax(1) == 1 if task == "cls" else logits[:, 0] >= threshold
            truth = batch["precip"].to(device) >= threshold
            valid = batch["valid"].to(device)
            counts += torch.stack(
                [
                    (rain & truth & valid).sum(),
                    (~rain & truth & valid).sum(),
                    (rain & ~truth & valid).sum(),
                ]
            ).cpu()
        total = float(counts.sum())
        return {"csi": float(counts[0]) / total if total > 0 else float("nan"), **extra}

    return evaluate


def light_step_fn(task: str):
    """``step(model, batch)`` for a :class:`LightDistillation`."""

    def step(model: nn.Module, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        return model(batch["ir"], lambda logits: _task_loss(task, logits, batch), batch["valid"])

    return step


def train_light_distillation(
    train_loader,
    val_loader,
    run_dir: str | Path,
    teacher_checkpoint: str | Path,
    profile: str | Any = "demo",
    task: str = "reg",
    teacher_variant: str = "selfmask",
    config: TrainingConfig | None = None,
    show_progress: bool = True,
    run_config: dict[str, Any] | None = None,
) -> TrainingResult:
    """Distil PRE-Net-Light for ``task`` from the adapted PRE-Net in ``teacher_checkpoint``.

    ``profile`` is a profile name or the run's model configurations (``cfg.models``, which
    then also give the teacher's structure); ``run_config`` (``cfg.to_dict()``) goes into the
    checkpoint header and names the profile there when ``profile`` is not a name.
    """
    name = profile if isinstance(profile, str) else None
    if config is None:
        if name is None:
            raise ValueError("config is required when profile is not a profile name")
        config = load_training_config(name, "light")
    runtime.seed_everything(config.seed)
    teacher = load_adapted(teacher_checkpoint, profile, task, teacher_variant)
    model = build_light_distillation(profile, task, teacher)
    return Trainer(
        model,
        light_step_fn(task),
        train_loader,
        config,
        run_dir,
        val_loader=val_loader,
        model_name=light_name(task),
        profile=name,
        show_progress=show_progress,
        run_config=run_config,
        evaluate_fn=light_evaluate_fn(task),
    ).fit()


def load_light(path: str | Path, profile: str | Any, task: str) -> nn.Module:
    """The distilled student from a :func:`train_light_distillation` checkpoint (eval mode).

    ``profile`` is a profile name (checked against the checkpoint) or model configurations.
    """
    from prelib.models import get_model

    student = get_model("prenet_light", profile, n_classes=_check_task(task))
    checked = profile if isinstance(profile, str) else None
    payload = load_checkpoint(path, model_name=light_name(task), profile=checked)
    state = {
        key.removeprefix("student."): value
        for key, value in payload["model"].items()
        if key.startswith("student.")
    }
    student.load_state_dict(state)
    return student.eval()

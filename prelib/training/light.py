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
from prelib.config import deprecated_profile_name
from prelib.models.config import ModelConfigs, load_model_configs
from prelib.training.checkpoint import load_checkpoint
from prelib.training.config import TrainingConfig, load_training_config
from prelib.training.stages import _check_task, _task_loss, load_adapted
from prelib.training.trainer import Trainer, TrainingResult


def light_name(task: str) -> str:
    """Checkpoint model name, e.g. ``prenet_light:cls``."""
    return f"prenet_light:{task}"


def build_light_distillation(models: ModelConfigs, task: str, teacher: nn.Module) -> nn.Module:
    """Student for ``task`` and adapters to ``teacher``'s feature widths.

    ``models`` is the run's model configurations (``cfg.models``).
    """
    from prelib.models import get_model
    from prelib.models.light_distill import LightDistillation
    from prelib.models.preparation import prepare_for_inference

    student = get_model("prenet_light", models, n_classes=_check_task(task))
    w_s = student.config.base_width
    w_t = teacher.config.base_width
    frozen = prepare_for_inference(teacher, "cpu", channels_last=False, fold_bn=False)
    return LightDistillation(student, frozen, (w_s, 2 * w_s, 4 * w_s), (2 * w_t, 4 * w_t, 8 * w_t))


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
    models: ModelConfigs | str,
    task: str = "reg",
    teacher_variant: str = "selfmask",
    config: TrainingConfig | None = None,
    show_progress: bool = True,
    run_config: dict[str, Any] | None = None,
) -> TrainingResult:
    """Distil PRE-Net-Light for ``task`` from the adapted PRE-Net in ``teacher_checkpoint``.

    ``models`` is the run's model configurations (``cfg.models``, which also give the teacher's
    structure) and ``config`` its Stage-II settings (``cfg.training.adapt``); a profile name is
    deprecated. ``run_config`` (``cfg.to_dict()``) goes into the checkpoint header.
    """
    name = None
    if isinstance(models, str):
        deprecated_profile_name(models, "train_light_distillation(...)", "cfg.models and config")
        name, models = models, load_model_configs(models)
        config = config or load_training_config(name, "adapt")
    if config is None:
        raise ValueError("train_light_distillation needs config (cfg.training.adapt)")
    runtime.seed_everything(config.seed)
    teacher = load_adapted(teacher_checkpoint, models, task, teacher_variant)
    model = build_light_distillation(models, task, teacher)
    return Trainer(
        model,
        light_step_fn(task),
        train_loader,
        config,
        run_dir,
        val_loader=val_loader,
        model_name=light_name(task),
        label=name,
        show_progress=show_progress,
        run_config=run_config,
    ).fit()


def load_light(path: str | Path, models: ModelConfigs, task: str) -> nn.Module:
    """The distilled student from a :func:`train_light_distillation` checkpoint (eval mode).

    ``models`` is the run's model configurations (``cfg.models``).
    """
    from prelib.models import get_model

    student = get_model("prenet_light", models, n_classes=_check_task(task))
    payload = load_checkpoint(path, model_name=light_name(task))
    state = {
        key.removeprefix("student."): value
        for key, value in payload["model"].items()
        if key.startswith("student.")
    }
    student.load_state_dict(state)
    return student.eval()

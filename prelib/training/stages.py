"""The three training stages of PRE-Net, built on :class:`~prelib.training.trainer.Trainer`.

* **Stage 0 — teacher** (:func:`train_teacher`): the multimodal U-Net on Swath-MPR (IR + PMW + PR
  + geo, or a modality subset). The reference code ships no teacher training; we train it with
  the task loss alone.
* **Stage I — Swath-Distilling** (:func:`train_swath_distilling`): an IR-only student distilled
  from a trained, frozen teacher: total = task loss + the distiller's weighted terms (feature KL,
  reconstruction, self-consistency; :func:`prelib.models.get_distiller`). Students: ``none``
  (UNet, task loss only), ``kd``, ``mgd`` (UNet), ``mkd``, ``rmkd``, ``comwe`` (PRE-Net). The
  teacher runs in eval mode without gradients (the code runs it in train mode, defect #19).
* **Stage II — Full-Disc Adaptation** (:func:`train_full_disc_adaptation`) on Full-IPR with the
  variants of the paper's Table 4: ``scratch`` (PRE-Net trained on the full disc only),
  ``kd_nonmask`` (the Stage-I KD UNet fine-tuned), ``comwe_noadapt`` (the Stage-I PRE-Net, not
  adapted: no training, its weights are re-saved as this stage's checkpoint), and ``nonmask`` /
  ``randmask`` / ``selfmask`` (Stage-I PRE-Net + LoRA with the freezing policy of
  ``profiles/models.yaml`` and Non-/Rand-/Self-MaskTune). RMKD splitting is switched off
  (``n_splits = 1``) as in the code; the Stage-I decoder is kept (the code re-initialises it —
  ``reset_decoder=True`` reproduces that).

Every function takes configuration objects resolved once by the caller
(:func:`prelib.config.resolve`): ``models`` is ``cfg.models`` and ``config`` the stage's
``cfg.training.<stage>``. Each ``train_*`` function is one training run: it seeds Python, NumPy and
torch with ``config.seed`` once, before the network is built, and the
:class:`~prelib.training.trainer.Trainer` does not seed again. ``run_config`` (the resolved
run's ``to_dict()``) is stored in the checkpoints so that a model can be rebuilt from its file.

Tasks: ``"reg"`` (1 channel, MSE on mm h-1) and ``"cls"`` (2 logits, cross-entropy on
``rain``), trained as two separate networks as in the paper. Batches are the dicts of
``prelib.data`` (``ir``, ``pmw``, ``pr``, ``geo``, ``precip``, ``valid``, ``rain``, ``index``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from prelib import runtime
from prelib.config import deprecated_profile_name
from prelib.models.config import ModelConfigs, load_model_configs
from prelib.training import distributed
from prelib.training.checkpoint import (
    load_checkpoint,
    make_header,
    save_checkpoint,
    strip_ddp_prefix,
    to_plain,
)
from prelib.training.config import TrainingConfig, load_training_config
from prelib.training.losses import masked_cross_entropy, masked_mse
from prelib.training.trainer import Trainer, TrainingResult

TASKS: tuple[str, ...] = ("reg", "cls")
ADAPT_VARIANTS: tuple[str, ...] = (
    "scratch",
    "kd_nonmask",
    "comwe_noadapt",
    "nonmask",
    "randmask",
    "selfmask",
)
_MASK_STRATEGY = {"nonmask": "none", "randmask": "random", "selfmask": "self"}


def _configs(
    models: ModelConfigs | str, config: TrainingConfig | None, stage: str | None
) -> tuple[ModelConfigs, TrainingConfig | None, str]:
    """``(models, config, label)``; a profile name in place of ``models`` is deprecated."""
    if isinstance(models, str):
        deprecated_profile_name(
            models,
            "training.stages",
            "cfg.models and cfg.training.<stage> from prelib.config.resolve(profile)",
            stacklevel=4,
        )
        if config is None and stage is not None:
            config = load_training_config(models, stage)
        return load_model_configs(models), config, models
    if not isinstance(models, ModelConfigs):
        raise ValueError(f"models must be ModelConfigs (cfg.models), got {type(models).__name__}")
    if stage is not None and not isinstance(config, TrainingConfig):
        raise ValueError(f"the {stage} stage needs its TrainingConfig (cfg.training.{stage})")
    return models, config, ""


def _label(run_config: Mapping[str, Any] | None, fallback: str) -> str:
    """The profile label written into checkpoint headers."""
    if run_config is not None:
        return str(run_config.get("profile", fallback or "custom"))
    return fallback or "custom"


def _check_task(task: str) -> int:
    if task not in TASKS:
        raise ValueError(f"task must be one of {list(TASKS)}, got {task!r}")
    return 1 if task == "reg" else 2


def _target(batch: dict[str, Any], task: str) -> torch.Tensor:
    if task == "cls" and "rain" in batch:
        return batch["rain"]
    return batch["precip"]


def _task_loss(task: str, logits: torch.Tensor, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
    loss = masked_mse if task == "reg" else masked_cross_entropy
    return loss(logits, _target(batch, task), batch["valid"])


def teacher_name(task: str, modalities: tuple[str, ...]) -> str:
    """Checkpoint model name of a teacher, e.g. ``teacher:reg:ir+pmw+pr``."""
    return f"teacher:{task}:{'+'.join(modalities)}"


def student_name(distiller: str, task: str) -> str:
    """Checkpoint model name of a Stage-I student, e.g. ``student:comwe:reg``."""
    return f"student:{distiller}:{task}"


def _suffix(student_overrides: Mapping[str, Any]) -> str:
    """Model-name suffix of a student with config changes, e.g. ``-dawe_mode=off``."""
    return "".join(f"-{k}={v}" for k, v in sorted(student_overrides.items()))


def adapted_name(variant: str, task: str) -> str:
    """Checkpoint model name of a Stage-II model, e.g. ``adapted:selfmask:cls``."""
    return f"adapted:{variant}:{task}"


# ------------------------------------------------------------------------------------------
# Stage 0: teacher
# ------------------------------------------------------------------------------------------
def teacher_step_fn(task: str):
    """``step(model, batch)``: teacher forward on its modalities + masked task loss."""

    def step(model: nn.Module, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        net = distributed.unwrap_model(model)
        out = model({k: batch[k] for k in net.inputs})
        return _task_loss(task, out.logits, batch)

    return step


def build_teacher(
    models: ModelConfigs, task: str, modalities: tuple[str, ...] | None = None
) -> nn.Module:
    """The teacher network of ``models.teacher`` for ``task`` (optionally a modality subset)."""
    from prelib.models import get_model

    models = _configs(models, None, None)[0]
    overrides: dict[str, Any] = {"n_classes": _check_task(task)}
    if modalities is not None:
        overrides["modalities"] = tuple(modalities)
    return get_model("teacher", models.teacher, **overrides)


def train_teacher(
    train_loader,
    val_loader,
    run_dir: str | Path,
    models: ModelConfigs,
    task: str = "reg",
    modalities: tuple[str, ...] | None = None,
    config: TrainingConfig | None = None,
    show_progress: bool = True,
    run_config: Mapping[str, Any] | None = None,
) -> TrainingResult:
    """Stage 0: train the multimodal teacher; checkpoints in ``run_dir``.

    ``models`` is ``cfg.models``, ``config`` is ``cfg.training.teacher`` and ``run_config`` the
    resolved run (``cfg.to_dict()``) stored in the checkpoints.
    """
    models, config, profile = _configs(models, config, "teacher")
    runtime.seed_everything(config.seed)  # the run's one seeding, before the network exists
    teacher = build_teacher(models, task, modalities)
    name = teacher_name(task, tuple(teacher.config.modalities))
    return Trainer(
        teacher,
        teacher_step_fn(task),
        train_loader,
        config,
        run_dir,
        val_loader=val_loader,
        model_name=name,
        profile=_label(run_config, profile),
        show_progress=show_progress,
        run_config=run_config,
    ).fit()


def _load_weights(model: nn.Module, path: str | Path, name: str) -> None:
    """Load the weights of checkpoint ``path`` (written for model ``name``) into ``model``."""
    payload = load_checkpoint(path, model_name=name)
    model.load_state_dict(strip_ddp_prefix(payload["model"]))


def load_teacher(
    path: str | Path,
    models: ModelConfigs,
    task: str,
    modalities: tuple[str, ...] | None = None,
) -> nn.Module:
    """A trained teacher from its checkpoint (eval mode, frozen); ``models`` is ``cfg.models``."""
    teacher = build_teacher(_configs(models, None, None)[0], task, modalities)
    _load_weights(teacher, path, teacher_name(task, tuple(teacher.config.modalities)))
    teacher.eval().requires_grad_(False)
    return teacher


# ------------------------------------------------------------------------------------------
# Stage I: Swath-Distilling
# ------------------------------------------------------------------------------------------
class DistillationPair(nn.Module):
    """Student + distiller trained together (the distiller may own aligners/generators).

    ``forward(ir, teacher_out, target, valid)`` returns the step dict, so that under DDP every
    trained parameter is reached from the forward pass.
    """

    def __init__(self, student: nn.Module, distiller: nn.Module, task: str) -> None:
        super().__init__()
        from prelib.training.loss_balance import LossBalancer

        self.student, self.distiller, self.task = student, distiller, task
        self.balancer = LossBalancer.from_config(distiller.config)

    def forward(self, ir, teacher_out, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        from prelib.training.loss_balance import shared_encoder_parameters

        student_out = self.student(ir)
        task = _task_loss(self.task, student_out.logits, batch)
        terms = self.distiller.loss(student_out, teacher_out, valid=batch["valid"])
        parts = {k[len("part_") :]: v for k, v in terms.items() if k.startswith("part_")}
        total, balance = self.balancer.combine(
            task["loss"], parts, shared_encoder_parameters(self.student)
        )
        out = {
            "loss": total,
            "task_loss": task["loss"].detach(),
            "loss_map": task["loss_map"],
            "n_valid": task["n_valid"],
        }
        out.update(
            {
                f"distill_{k}": v.detach()
                for k, v in terms.items()
                if k != "loss" and not k.startswith("part_")
            }
        )
        out.update(balance)
        return out


def distill_step_fn(teacher: nn.Module | None):
    """``step(model, batch)`` for a :class:`DistillationPair` and a frozen teacher."""

    def step(model: nn.Module, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        teacher_out = None
        if teacher is not None:
            with torch.no_grad():
                teacher_out = teacher({k: batch[k] for k in teacher.inputs})
        return model(batch["ir"], teacher_out, batch)

    return step


def build_distillation(
    models: ModelConfigs, task: str, distiller: str, **student_overrides: Any
) -> DistillationPair:
    """Student and distiller of method ``distiller`` for ``task`` (``models`` = ``cfg.models``).

    ``student_overrides`` change the student's config (e.g. ``dawe_mode``; ablations).
    """
    from prelib.models import get_distiller, get_student

    models = _configs(models, None, None)[0]
    student = get_student(distiller, models, n_classes=_check_task(task), **student_overrides)
    return DistillationPair(student, get_distiller(distiller, models), task)


def train_swath_distilling(
    train_loader,
    val_loader,
    run_dir: str | Path,
    teacher_checkpoint: str | Path | None,
    models: ModelConfigs,
    task: str = "reg",
    distiller: str = "comwe",
    modalities: tuple[str, ...] | None = None,
    config: TrainingConfig | None = None,
    show_progress: bool = True,
    run_config: Mapping[str, Any] | None = None,
    student_overrides: Mapping[str, Any] | None = None,
) -> TrainingResult:
    """Stage I: distil an IR-only student from the teacher at ``teacher_checkpoint``.

    ``models`` is ``cfg.models``, ``config`` is ``cfg.training.distill``; ``student_overrides``
    change the student's config (ablations) and are part of the checkpoint's model name.
    """
    models, config, profile = _configs(models, config, "distill")
    runtime.seed_everything(config.seed)  # the run's one seeding, before the network exists
    overrides = dict(student_overrides or {})
    pair = build_distillation(models, task, distiller, **overrides)
    teacher = None
    if pair.distiller.needs_teacher:
        if teacher_checkpoint is None:
            raise ValueError(f"distiller {distiller!r} needs a teacher checkpoint")
        device = distributed.init_distributed(runtime.select_device(config.device))
        teacher = load_teacher(teacher_checkpoint, models, task, modalities).to(device)
    return Trainer(
        pair,
        distill_step_fn(teacher),
        train_loader,
        config,
        run_dir,
        val_loader=val_loader,
        model_name=student_name(distiller, task) + _suffix(overrides),
        profile=_label(run_config, profile),
        show_progress=show_progress,
        run_config=run_config,
    ).fit()


def load_student(
    path: str | Path, models: ModelConfigs, task: str, distiller: str, **student_overrides: Any
) -> nn.Module:
    """The student network of a Stage-I checkpoint (weights only, without the distiller)."""
    pair = build_distillation(_configs(models, None, None)[0], task, distiller, **student_overrides)
    _load_weights(pair, path, student_name(distiller, task) + _suffix(student_overrides))
    return pair.student


# ------------------------------------------------------------------------------------------
# Stage II: Full-Disc Adaptation
# ------------------------------------------------------------------------------------------
def adaptation_step_fn(task: str, mask_target: str = "ae"):
    """``step(model, batch)``: forward with the batch's base mask (all-ones when the strategy
    gives none: PRE-Net would otherwise draw a random one in training) + masked task loss.

    ``mask_target`` (PRE-Net only): ``"ae"`` masks the AE input only (the paper's Eq. 7),
    ``"ae+conv"`` also the conv features (the reference code)."""
    from prelib.models import base_grid_shape

    def step(model: nn.Module, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        x = batch["ir"]
        net = distributed.unwrap_model(model)
        if getattr(net, "accepts_mask", True):
            mask = batch.get("mask")
            if mask is None:
                mask = x.new_ones(x.shape[0], 1, *base_grid_shape(*x.shape[-2:]))
            if hasattr(net, "encoder") and hasattr(net.encoder, "ae"):
                out = model(x, mask, mask_target)
            else:
                out = model(x, mask)
        else:
            out = model(x)
        return _task_loss(task, out.logits, batch)

    return step


def adapted_structure(models: ModelConfigs, task: str, variant: str) -> nn.Module:
    """The untrained network of Stage-II ``variant``, shaped like its checkpoint's weights.

    ``scratch`` → PRE-Net without RMKD splitting; ``kd_nonmask`` → the KD UNet;
    ``comwe_noadapt`` → the Stage-I PRE-Net; the LoRA variants → PRE-Net with ``n_splits = 1``
    and LoRA adapters of ``models.lora``.
    """
    from prelib.models import apply_lora, get_model, get_student

    models = _configs(models, None, None)[0]
    if variant not in ADAPT_VARIANTS:
        raise ValueError(f"variant must be one of {list(ADAPT_VARIANTS)}, got {variant!r}")
    n_classes = _check_task(task)
    if variant == "scratch":
        return get_model("prenet", models, n_classes=n_classes, n_splits=1)
    if variant == "kd_nonmask":
        return get_student("kd", models, n_classes=n_classes)
    model = get_student("comwe", models, n_classes=n_classes)
    if variant != "comwe_noadapt":
        model.set_num_splits(1)
        lora = models.lora
        apply_lora(model, lora.rank, lora.alpha, tuple(lora.targets))
    return model


def build_adaptation_model(
    variant: str,
    models: ModelConfigs,
    task: str,
    stage1_checkpoint: str | Path | None,
    reset_decoder: bool = False,
) -> tuple[nn.Module, str]:
    """The Stage-II network of ``variant`` and its mask strategy (``models`` = ``cfg.models``)."""
    from prelib.models import apply_lora, freeze_for_adaptation, get_model

    models = _configs(models, None, None)[0]
    if variant not in ADAPT_VARIANTS:
        raise ValueError(f"variant must be one of {list(ADAPT_VARIANTS)}, got {variant!r}")
    n_classes = _check_task(task)
    if variant == "scratch":
        return get_model("prenet", models, n_classes=n_classes, n_splits=1), "none"
    if stage1_checkpoint is None:
        raise ValueError(f"variant {variant!r} starts from a Stage-I checkpoint; none given")
    if variant == "kd_nonmask":
        return load_student(stage1_checkpoint, models, task, "kd"), "none"
    model = load_student(stage1_checkpoint, models, task, "comwe")
    if variant == "comwe_noadapt":
        return model, "none"
    model.set_num_splits(1)
    if reset_decoder:
        model.reset_decoder()
    lora = models.lora
    apply_lora(model, lora.rank, lora.alpha, tuple(lora.targets))
    freeze_for_adaptation(model, lora.freeze)
    return model, _MASK_STRATEGY[variant]


def train_full_disc_adaptation(
    train_loader,
    val_loader,
    run_dir: str | Path,
    stage1_checkpoint: str | Path | None,
    models: ModelConfigs,
    task: str = "reg",
    variant: str = "selfmask",
    config: TrainingConfig | None = None,
    reset_decoder: bool = False,
    show_progress: bool = True,
    run_config: Mapping[str, Any] | None = None,
) -> TrainingResult | None:
    """Stage II: adapt a Stage-I model to full-disc IR (see the module docstring).

    ``models`` is ``cfg.models``, ``config`` is ``cfg.training.adapt`` (its mask strategy is set
    from ``variant``). Returns ``None`` for ``comwe_noadapt``, whose un-adapted weights are saved
    as ``last.pt``.
    """
    models, config, profile = _configs(models, config, "adapt")
    runtime.seed_everything(config.seed)  # the run's one seeding, before the network exists
    model, strategy = build_adaptation_model(
        variant, models, task, stage1_checkpoint, reset_decoder
    )
    name = adapted_name(variant, task)
    label = _label(run_config, profile)
    if variant == "comwe_noadapt":
        header = make_header(name, label, config.to_dict(), epoch=0)
        if run_config is not None:
            header["run_config"] = to_plain(dict(run_config))
        save_checkpoint(Path(run_dir) / "last.pt", {"header": header, "model": model.state_dict()})
        return None
    config = config.replace(masktune=config.masktune.replace(strategy=strategy))
    return Trainer(
        model,
        adaptation_step_fn(task, config.masktune.target),
        train_loader,
        config,
        run_dir,
        val_loader=val_loader,
        model_name=name,
        profile=label,
        show_progress=show_progress,
        run_config=run_config,
    ).fit()


def load_adapted(path: str | Path, models: ModelConfigs, task: str, variant: str) -> nn.Module:
    """A Stage-II model from its checkpoint, rebuilt with the variant's structure (eval mode)."""
    model = adapted_structure(models, task, variant)
    _load_weights(model, path, adapted_name(variant, task))
    return model.eval()

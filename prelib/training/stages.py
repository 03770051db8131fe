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

Tasks: ``"reg"`` (1 channel, MSE on mm h-1) and ``"cls"`` (2 logits, cross-entropy on
``rain``), trained as two separate networks as in the paper. Batches are the dicts of
``prelib.data`` (``ir``, ``pmw``, ``pr``, ``geo``, ``precip``, ``valid``, ``rain``, ``index``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from prelib import runtime
from prelib.training import distributed
from prelib.training.checkpoint import load_checkpoint, make_header, save_checkpoint
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


def build_teacher(profile: str, task: str, modalities: tuple[str, ...] | None = None) -> nn.Module:
    """The teacher network of ``profile`` for ``task`` (optionally a modality subset)."""
    from prelib.models import get_model

    overrides: dict[str, Any] = {"n_classes": _check_task(task)}
    if modalities is not None:
        overrides["modalities"] = tuple(modalities)
    return get_model("teacher", profile, **overrides)


def train_teacher(
    train_loader,
    val_loader,
    run_dir: str | Path,
    profile: str = "tiny",
    task: str = "reg",
    modalities: tuple[str, ...] | None = None,
    config: TrainingConfig | None = None,
    show_progress: bool = True,
) -> TrainingResult:
    """Stage 0: train the multimodal teacher; checkpoints in ``run_dir``."""
    config = config or load_training_config(profile, "teacher")
    runtime.seed_everything(config.seed)
    teacher = build_teacher(profile, task, modalities)
    name = teacher_name(task, tuple(teacher.config.modalities))
    return Trainer(
        teacher,
        teacher_step_fn(task),
        train_loader,
        config,
        run_dir,
        val_loader=val_loader,
        model_name=name,
        profile=profile,
        show_progress=show_progress,
    ).fit()


def load_teacher(
    path: str | Path, profile: str, task: str, modalities: tuple[str, ...] | None = None
) -> nn.Module:
    """A trained teacher from its checkpoint (eval mode, frozen)."""
    teacher = build_teacher(profile, task, modalities)
    name = teacher_name(task, tuple(teacher.config.modalities))
    payload = load_checkpoint(path, model_name=name, profile=profile)
    teacher.load_state_dict(payload["model"])
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


def build_distillation(profile: str, task: str, distiller: str) -> DistillationPair:
    """Student and distiller of method ``distiller`` for ``task``."""
    from prelib.models import get_distiller, get_student

    student = get_student(distiller, profile, n_classes=_check_task(task))
    return DistillationPair(student, get_distiller(distiller, profile), task)


def train_swath_distilling(
    train_loader,
    val_loader,
    run_dir: str | Path,
    teacher_checkpoint: str | Path | None,
    profile: str = "tiny",
    task: str = "reg",
    distiller: str = "comwe",
    modalities: tuple[str, ...] | None = None,
    config: TrainingConfig | None = None,
    show_progress: bool = True,
) -> TrainingResult:
    """Stage I: distil an IR-only student from the teacher at ``teacher_checkpoint``."""
    config = config or load_training_config(profile, "distill")
    runtime.seed_everything(config.seed)
    pair = build_distillation(profile, task, distiller)
    teacher = None
    if pair.distiller.needs_teacher:
        if teacher_checkpoint is None:
            raise ValueError(f"distiller {distiller!r} needs a teacher checkpoint")
        device = distributed.init_distributed(runtime.select_device(config.device))
        teacher = load_teacher(teacher_checkpoint, profile, task, modalities).to(device)
    return Trainer(
        pair,
        distill_step_fn(teacher),
        train_loader,
        config,
        run_dir,
        val_loader=val_loader,
        model_name=student_name(distiller, task),
        profile=profile,
        show_progress=show_progress,
    ).fit()


def load_student(path: str | Path, profile: str, task: str, distiller: str) -> nn.Module:
    """The student network of a Stage-I checkpoint (weights only, without the distiller)."""
    pair = build_distillation(profile, task, distiller)
    payload = load_checkpoint(path, model_name=student_name(distiller, task), profile=profile)
    pair.load_state_dict(payload["model"])
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


def build_adaptation_model(
    variant: str,
    profile: str,
    task: str,
    stage1_checkpoint: str | Path | None,
    reset_decoder: bool = False,
) -> tuple[nn.Module, str]:
    """The Stage-II network of ``variant`` and its mask strategy."""
    from prelib.models import apply_lora, freeze_for_adaptation, get_model, load_model_config

    if variant not in ADAPT_VARIANTS:
        raise ValueError(f"variant must be one of {list(ADAPT_VARIANTS)}, got {variant!r}")
    n_classes = _check_task(task)
    if variant == "scratch":
        return get_model("prenet", profile, n_classes=n_classes, n_splits=1), "none"
    if stage1_checkpoint is None:
        raise ValueError(f"variant {variant!r} starts from a Stage-I checkpoint; none given")
    if variant == "kd_nonmask":
        return load_student(stage1_checkpoint, profile, task, "kd"), "none"
    model = load_student(stage1_checkpoint, profile, task, "comwe")
    if variant == "comwe_noadapt":
        return model, "none"
    model.set_num_splits(1)
    if reset_decoder:
        model.reset_decoder()
    lora = load_model_config("lora", profile)
    apply_lora(model, lora.rank, lora.alpha, tuple(lora.targets))
    freeze_for_adaptation(model, lora.freeze)
    return model, _MASK_STRATEGY[variant]


def train_full_disc_adaptation(
    train_loader,
    val_loader,
    run_dir: str | Path,
    stage1_checkpoint: str | Path | None,
    profile: str = "tiny",
    task: str = "reg",
    variant: str = "selfmask",
    config: TrainingConfig | None = None,
    reset_decoder: bool = False,
    show_progress: bool = True,
) -> TrainingResult | None:
    """Stage II: adapt a Stage-I model to full-disc IR (see the module docstring).

    Returns ``None`` for ``comwe_noadapt``, whose un-adapted weights are saved as ``last.pt``.
    """
    config = config or load_training_config(profile, "adapt")
    runtime.seed_everything(config.seed)
    model, strategy = build_adaptation_model(
        variant, profile, task, stage1_checkpoint, reset_decoder
    )
    name = adapted_name(variant, task)
    if variant == "comwe_noadapt":
        header = make_header(name, profile, config.to_dict(), epoch=0)
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
        profile=profile,
        show_progress=show_progress,
    ).fit()


def load_adapted(path: str | Path, profile: str, task: str, variant: str) -> nn.Module:
    """A Stage-II model from its checkpoint, rebuilt with the variant's structure (eval mode)."""
    from prelib.models import apply_lora, get_model, get_student, load_model_config

    n_classes = _check_task(task)
    if variant == "scratch":
        model = get_model("prenet", profile, n_classes=n_classes, n_splits=1)
    elif variant == "kd_nonmask":
        model = get_student("kd", profile, n_classes=n_classes)
    else:
        model = get_student("comwe", profile, n_classes=n_classes)
        if variant != "comwe_noadapt":
            model.set_num_splits(1)
            lora = load_model_config("lora", profile)
            apply_lora(model, lora.rank, lora.alpha, tuple(lora.targets))
    payload = load_checkpoint(path, model_name=adapted_name(variant, task), profile=profile)
    model.load_state_dict(payload["model"])
    return model.eval()

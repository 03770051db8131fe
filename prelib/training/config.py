"""Training configuration: optimiser, schedule, validation, checkpoints and Self-MaskTune.

Defaults follow the paper and its reference code (prenet_reference.md §5.2, §6.5): RMSprop with
momentum 0.999 and weight decay 1e-4, a step schedule that halves the learning rate every 30
epochs, and global gradient-norm clipping at 1.0. The ``tiny`` and ``demo`` profiles in
``prelib/profiles/training.yaml`` raise the learning rate so that a few CPU epochs move the
weights; ``paper`` keeps the published values.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from prelib.config import Config, profile_section, require_choice, require_positive
from prelib.training.masktune import MaskTuneConfig

OPTIMIZERS: tuple[str, ...] = ("rmsprop", "adam", "adamw", "sgd")
BEST_MODES: tuple[str, ...] = ("min", "max")
AMP_MODES: tuple[str, ...] = ("auto", "bf16", "off")


@dataclasses.dataclass(frozen=True)
class TrainingConfig(Config):
    """Settings of :class:`prelib.training.trainer.Trainer`.

    Attributes
    ----------
    epochs : int
        Number of epochs (1-indexed in logs and checkpoints).
    optimizer : str
        ``"rmsprop"`` (paper), ``"adam"``, ``"adamw"`` or ``"sgd"``.
    lr, momentum, weight_decay : float
        Optimiser settings; ``momentum`` is ignored by Adam/AdamW (their betas stay default).
    lr_step_size, lr_gamma : int, float
        Step schedule: multiply the learning rate by ``lr_gamma`` every ``lr_step_size`` epochs
        (paper: halve every 30).
    grad_clip : float
        Maximum global L2 norm of the gradients; ``0`` disables clipping (paper: 1.0).
    val_every : int
        Validate every this many epochs and after the last one.
    best_metric, best_mode : str
        Validation metric that selects ``best.pt`` and whether lower or higher is better.
    seed : int
        Seed of Python, NumPy and torch (``prelib.runtime.setup``).
    device : str
        ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"`` …; under ``torchrun`` the local rank's
        GPU is used.
    amp : str
        ``"auto"`` = bf16 autocast on CUDA and full precision on CPU; ``"bf16"`` forces it;
        ``"off"``.
    batch_size, num_workers : int
        DataLoader settings used by the stage builders.
    max_steps_per_epoch : int
        Cap on optimiser steps per epoch (``0`` = the whole loader); for smoke runs.
    keep_epoch_checkpoints : bool
        Also keep ``epoch-NNNN.pt`` for every epoch, not only ``last.pt`` and ``best.pt``.
    find_unused_parameters : bool
        Passed to DDP (PRE-Net has branches that are inactive in some stages).
    masktune : MaskTuneConfig
        Mask strategy of Full-Disc Adaptation (``none`` elsewhere).
    adabn : bool
        Let the BatchNorm layers of frozen modules re-estimate their running statistics on the
        training data (AdaBN). Default ``False``: every module whose parameters are all frozen
        runs in evaluation mode, so its parameters and buffers stay bit-identical
        (:mod:`prelib.training.frozen`).
    """

    epochs: int = 2
    optimizer: str = "rmsprop"
    lr: float = 1e-6
    momentum: float = 0.999
    weight_decay: float = 1e-4
    lr_step_size: int = 30
    lr_gamma: float = 0.5
    grad_clip: float = 1.0
    val_every: int = 1
    best_metric: str = "val_loss"
    best_mode: str = "min"
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"
    batch_size: int = 8
    num_workers: int = 0
    max_steps_per_epoch: int = 0
    keep_epoch_checkpoints: bool = False
    find_unused_parameters: bool = True
    masktune: MaskTuneConfig = dataclasses.field(default_factory=MaskTuneConfig)
    adabn: bool = False

    def __post_init__(self) -> None:
        # YAML and command lines give the nested section as a plain mapping.
        if isinstance(self.masktune, dict):
            object.__setattr__(self, "masktune", MaskTuneConfig.from_dict(self.masktune))
        super().__post_init__()

    def validate(self) -> None:
        for name in ("epochs", "lr_step_size", "val_every", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"TrainingConfig.{name} must be an integer >= 1, got {value!r}")
        for name in ("num_workers", "max_steps_per_epoch", "seed"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"TrainingConfig.{name} must be an integer >= 0, got {value!r}")
        require_positive(self, "lr", "lr_gamma")
        require_positive(self, "momentum", "weight_decay", "grad_clip", allow_zero=True)
        require_choice(self, "optimizer", OPTIMIZERS)
        require_choice(self, "best_mode", BEST_MODES)
        require_choice(self, "amp", AMP_MODES)
        if not isinstance(self.masktune, MaskTuneConfig):
            raise ValueError(
                f"TrainingConfig.masktune must be a MaskTuneConfig or mapping, "
                f"got {type(self.masktune).__name__}"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


STAGES: tuple[str, ...] = ("teacher", "distill", "adapt", "light")
"""Training stages whose settings may differ (``stages:`` mapping of a profile); ``light`` is
PRE-Net-Light's distillation from the adapted PRE-Net."""


def load_training_config(
    profile: str, stage: str | None = None, **overrides: Any
) -> TrainingConfig:
    """The ``training`` settings of ``profile``, optionally for one stage.

    Parameters
    ----------
    profile : str
        ``"tiny"``, ``"demo"`` or ``"paper"``.
    stage : str, optional
        ``"teacher"``, ``"distill"``, ``"adapt"`` or ``"light"``: the profile's
        ``stages.<stage>`` entries replace the common ones (a nested ``masktune`` mapping is
        merged key by key).
    **overrides
        Field values that win over both; ``None`` values are ignored (optional CLI flags).
    """
    values = dict(profile_section("training", profile))
    stages = values.pop("stages", None) or {}
    if stage is not None:
        if stage not in STAGES:
            raise ValueError(f"unknown training stage {stage!r}; choose one of {list(STAGES)}")
        for key, value in (stages.get(stage) or {}).items():
            if key == "masktune" and isinstance(value, dict):
                values["masktune"] = {**values.get("masktune", {}), **value}
            else:
                values[key] = value
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "masktune" and isinstance(value, dict):
            values["masktune"] = {**values.get("masktune", {}), **value}
        else:
            values[key] = value
    return TrainingConfig.from_dict(values)


@dataclasses.dataclass(frozen=True)
class StageTrainingConfigs(Config):
    """The :class:`TrainingConfig` of each stage of one profile (``cfg.training.<stage>``)."""

    teacher: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)
    distill: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)
    adapt: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)
    light: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)

    def __post_init__(self) -> None:
        for name in STAGES:
            value = getattr(self, name)
            if isinstance(value, dict):
                object.__setattr__(self, name, TrainingConfig.from_dict(value))
        super().__post_init__()

    def validate(self) -> None:
        for name in STAGES:
            if not isinstance(getattr(self, name), TrainingConfig):
                raise ValueError(f"StageTrainingConfigs.{name} must be a TrainingConfig")

    def stage(self, name: str) -> TrainingConfig:
        """The configuration of stage ``name`` (``teacher``, ``distill``, ``adapt``, ``light``)."""
        if name not in STAGES:
            raise ValueError(f"unknown training stage {name!r}; choose one of {list(STAGES)}")
        return getattr(self, name)


def load_stage_training_configs(profile: str, **overrides: Any) -> StageTrainingConfigs:
    """Every stage's settings of ``profile``.

    ``overrides`` are :class:`TrainingConfig` fields applied to every stage, plus optional
    mappings under the stage names (``teacher={"lr": 1e-3}``) applied to that stage only.
    """
    per_stage = {name: dict(overrides.pop(name, None) or {}) for name in STAGES}
    return StageTrainingConfigs(
        **{
            name: load_training_config(profile, name, **{**overrides, **per_stage[name]})
            for name in STAGES
        }
    )

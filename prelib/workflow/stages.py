"""Trained networks of a run: load them when finished, resume them when interrupted, else train.

Each ``ensure_*`` function owns one run folder of :class:`~prelib.workflow.artefacts.RunLayout`
and returns a :class:`StageRun` with the network loaded (eval mode, frozen). A run folder is keyed
by a hash of the configuration that defines its network (the stage's model sections, the training
settings except those a resumption may change, the task and variant, and the key of the network
it starts from), written to ``run_key.json``. Asking for a different configuration in a folder
that holds another one is an error rather than a silent overwrite or a stale load. In a keyed
:class:`~prelib.workflow.artefacts.RunLayout` the hash is also part of the folder's name, so runs
of different configurations sit side by side and :func:`run_folder` tells where a run goes
without training anything.

Upstream networks are ensured first: a student needs its teacher, a Stage-II variant its Stage-I
student; so ``ensure_adapted(cfg, layout, "selfmask", "reg")`` alone trains the whole chain on a
fresh run and only loads on a finished one.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Protocol

from torch import nn

from prelib.atomic import write_json
from prelib.config import RunConfig, config_hash
from prelib.conventions import MODALITIES
from prelib.models import get_model
from prelib.runtime import seed_everything
from prelib.training import stages
from prelib.training.checkpoint import load_checkpoint, load_model_weights
from prelib.training.config import TrainingConfig
from prelib.training.trainer import RESUMABLE_CHANGES, Trainer
from prelib.workflow import networks
from prelib.workflow.artefacts import RunLayout, find_checkpoint
from prelib.workflow.benchmarks import BenchmarkData

RUN_KEY_FILE = "run_key.json"
WEIGHTS: tuple[str, ...] = ("last", "best")


class StageData(Protocol):
    """What a stage needs from its data: training and validation loaders of a ``kind``."""

    def loaders(self, kind: str, config: TrainingConfig) -> tuple[Any, Any]: ...


@dataclasses.dataclass
class StageRun:
    """A trained network of a run.

    Attributes
    ----------
    name : str
        The run folder's model name, e.g. ``"student-comwe"``.
    task : str
        ``"reg"`` or ``"cls"``.
    run_dir : Path
    checkpoint : Path
        The file the weights were loaded from (``last.pt`` or ``best.pt``).
    network : torch.nn.Module
        Eval mode, without gradients.
    history : list of dict
        The epoch rows of ``metrics.jsonl`` (empty for a run without training).
    key : str
        The configuration hash of the run folder.
    trained : bool
        Whether this call trained (or resumed) the network rather than only loading it.
    """

    name: str
    task: str
    run_dir: Path
    checkpoint: Path
    network: nn.Module
    history: list[dict[str, Any]]
    key: str
    trained: bool


def _check_weights(weights: str) -> None:
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {list(WEIGHTS)}, got {weights!r}")


def _training_part(config: TrainingConfig) -> dict[str, Any]:
    return {k: v for k, v in config.to_dict().items() if k not in RESUMABLE_CHANGES}


def _claim(run_dir: Path, record: dict[str, Any]) -> str:
    """Write or check the run folder's key; returns the hash."""
    key = config_hash(record)
    path = run_dir / RUN_KEY_FILE
    if path.is_file():
        found = json.loads(path.read_text()).get("key")
        if found != key:
            raise ValueError(
                f"{run_dir} holds a {record['stage']} run of another configuration (key {found}, "
                f"this configuration {key}); use another run folder, or remove that one to retrain"
            )
    else:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json(path, {"key": key, **record})
    return key


def _finished(run_dir: Path, epochs: int) -> bool:
    last = run_dir / "last.pt"
    if not last.is_file():
        return False
    return int(load_checkpoint(last)["header"].get("epoch", 0)) >= epochs


def _history(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _weights_path(run_dir: Path, weights: str) -> Path:
    return find_checkpoint(run_dir, prefer=weights)


def _data(cfg: RunConfig, layout: RunLayout, data: StageData | None) -> StageData:
    return data if data is not None else BenchmarkData(cfg, layout)


def _full_set(modalities: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if modalities is None or tuple(modalities) == tuple(MODALITIES):
        return None
    return tuple(modalities)


def _teacher_record(cfg: RunConfig, task: str, mods: tuple[str, ...] | None) -> dict[str, Any]:
    return {
        "stage": "teacher",
        "task": task,
        "modalities": list(mods or MODALITIES),
        "models": {"teacher": cfg.models.teacher.to_dict()},
        "training": _training_part(cfg.training.teacher),
    }


def _student_record(
    cfg: RunConfig, distiller: str, task: str, student: nn.Module, teacher_key: str | None
) -> dict[str, Any]:
    return {
        "stage": "student",
        "task": task,
        "distiller": distiller,
        "student": student.config.to_dict(),
        "distill": cfg.models.distill.to_dict(),
        "teacher": teacher_key,
        "training": _training_part(cfg.training.distill),
    }


def _adapted_record(
    cfg: RunConfig, variant: str, task: str, source_key: str | None, reset_decoder: bool
) -> dict[str, Any]:
    return {
        "stage": "adapted",
        "task": task,
        "variant": variant,
        "stage1": source_key,
        "prenet": cfg.models.prenet.to_dict() if variant == "scratch" else None,
        "lora": cfg.models.lora.to_dict(),
        "reset_decoder": reset_decoder,
        "training": _training_part(cfg.training.adapt),
    }


def _fulldisc_unet_record(cfg: RunConfig, task: str) -> dict[str, Any]:
    n_classes = 1 if task == "reg" else 2
    return {
        "stage": "fulldisc-unet",
        "task": task,
        "unet": cfg.models.unet.replace(n_classes=n_classes).to_dict(),
        "training": _training_part(cfg.training.adapt),
    }


def _stage1_distiller(variant: str) -> str:
    return "kd" if variant == "kd_nonmask" else "comwe"


def _teacher_key(cfg: RunConfig, task: str) -> str:
    return config_hash(_teacher_record(cfg, task, None))


def _student_key(
    cfg: RunConfig, distiller: str, task: str, overrides: dict[str, Any] | None = None
) -> str:
    pair = stages.build_distillation(cfg.models, task, distiller, **dict(overrides or {}))
    teacher = _teacher_key(cfg, task) if pair.distiller.needs_teacher else None
    return config_hash(_student_record(cfg, distiller, task, pair.student, teacher))


def run_folder(
    cfg: RunConfig,
    layout: RunLayout,
    stage: str,
    task: str,
    name: str | None = None,
    *,
    modalities: tuple[str, ...] | None = None,
    student_overrides: dict[str, Any] | None = None,
) -> Path:
    """The folder the ``ensure_*`` function of ``stage`` uses for this configuration.

    Nothing is trained or written. Upstream runs are assumed to be the run's own (no
    ``teacher_checkpoint`` / ``stage1_checkpoint``, no ``reset_decoder``).

    Parameters
    ----------
    stage : {"teacher", "student", "adapted", "fulldisc-unet"}
    task : {"reg", "cls"}
    name : str, optional
        The distiller (``student``) or the variant (``adapted``).
    modalities, student_overrides
        As :func:`ensure_teacher` / :func:`ensure_student`.
    """
    if stage == "teacher":
        mods = _full_set(modalities)
        record = _teacher_record(cfg, task, mods)
        return layout.keyed_dir(layout.teacher_dir(task, mods), config_hash(record))
    if stage == "student":
        overrides = dict(student_overrides or {})
        variant = "-".join(f"{k}={v}" for k, v in sorted(overrides.items()))
        key = _student_key(cfg, name, task, overrides)
        return layout.keyed_dir(layout.student_dir(name, task, variant), key)
    if stage == "adapted":
        source = None if name == "scratch" else _student_key(cfg, _stage1_distiller(name), task)
        record = _adapted_record(cfg, name, task, source, False)
        return layout.keyed_dir(layout.adapted_dir(name, task), config_hash(record))
    if stage == "fulldisc-unet":
        record = _fulldisc_unet_record(cfg, task)
        return layout.keyed_dir(layout.fulldisc_unet_dir(task), config_hash(record))
    raise ValueError(f"stage must be teacher, student, adapted or fulldisc-unet, got {stage!r}")


def ensure_teacher(
    cfg: RunConfig,
    layout: RunLayout,
    task: str,
    modalities: tuple[str, ...] | None = None,
    *,
    data: StageData | None = None,
    weights: str = "last",
    show_progress: bool = False,
) -> StageRun:
    """Stage 0: the teacher of ``task`` on ``modalities`` (default all), loaded or trained.

    Parameters
    ----------
    cfg : RunConfig
        ``cfg.models.teacher`` and ``cfg.training.teacher`` define the run.
    layout : RunLayout
        The run's folders (``models/teacher[-<modalities>]/<task>``).
    task : {"reg", "cls"}
    modalities : tuple of str, optional
        A subset of ``("ir", "pmw", "pr")`` (Table 8 ablation).
    data : object with ``loaders(kind, config)``, optional
        Default: :class:`~prelib.workflow.benchmarks.BenchmarkData` (builds missing stores).
    weights : {"last", "best"}
        Load ``last.pt`` or ``best.pt`` (the best validation epoch; ``last.pt`` if absent).
    show_progress : bool
        tqdm bars while training.
    """
    _check_weights(weights)
    mods = _full_set(modalities)
    config = cfg.training.teacher
    record = _teacher_record(cfg, task, mods)
    run_dir = layout.keyed_dir(layout.teacher_dir(task, mods), config_hash(record))
    key = _claim(run_dir, record)
    trained = not _finished(run_dir, config.epochs)
    if trained:
        train, val = _data(cfg, layout, data).loaders("swath", config)
        stages.train_teacher(
            train, val, run_dir, cfg.models, task, mods, config, show_progress, cfg.to_dict()
        )
    path = _weights_path(run_dir, weights)
    net = networks.load_teacher(path, task=task, modalities=mods, models=cfg.models)
    return StageRun("teacher", task, run_dir, path, net, _history(run_dir), key, trained)


def ensure_student(
    cfg: RunConfig,
    layout: RunLayout,
    distiller: str,
    task: str,
    *,
    data: StageData | None = None,
    weights: str = "last",
    show_progress: bool = False,
    student_overrides: dict[str, Any] | None = None,
    teacher_checkpoint: str | Path | None = None,
) -> StageRun:
    """Stage I: the IR-only student of ``distiller`` for ``task``, loaded or trained.

    Distillers that need a teacher ensure it first (all modalities, same ``weights``), unless
    ``teacher_checkpoint`` names one. ``student_overrides`` change the student's config (e.g.
    ``{"dawe_mode": "off"}``) and get a run folder of their own. Other parameters as in
    :func:`ensure_teacher`.
    """
    _check_weights(weights)
    overrides = dict(student_overrides or {})
    variant = "-".join(f"{k}={v}" for k, v in sorted(overrides.items()))
    config = cfg.training.distill
    pair = stages.build_distillation(cfg.models, task, distiller, **overrides)
    teacher_path, teacher_key = None, None
    if pair.distiller.needs_teacher and teacher_checkpoint is not None:
        teacher_path = Path(teacher_checkpoint)
        if not teacher_path.is_file():
            raise FileNotFoundError(f"no teacher checkpoint at {teacher_path}")
        teacher_key = f"file:{teacher_path.resolve()}"
    elif pair.distiller.needs_teacher:
        teacher = ensure_teacher(
            cfg, layout, task, data=data, weights=weights, show_progress=show_progress
        )
        teacher_path, teacher_key = teacher.checkpoint, teacher.key
    record = _student_record(cfg, distiller, task, pair.student, teacher_key)
    run_dir = layout.keyed_dir(layout.student_dir(distiller, task, variant), config_hash(record))
    key = _claim(run_dir, record)
    trained = not _finished(run_dir, config.epochs)
    if trained:
        train, val = _data(cfg, layout, data).loaders("swath", config)
        stages.train_swath_distilling(
            train,
            val,
            run_dir,
            teacher_path,
            cfg.models,
            task,
            distiller,
            None,
            config,
            show_progress,
            cfg.to_dict(),
            student_overrides=overrides,
        )
    path = _weights_path(run_dir, weights)
    net = networks.load_student(
        path, task=task, distiller=distiller, models=cfg.models, **overrides
    ).requires_grad_(False)
    name = f"student-{distiller}" + (f"-{variant}" if variant else "")
    return StageRun(name, task, run_dir, path, net, _history(run_dir), key, trained)


def ensure_adapted(
    cfg: RunConfig,
    layout: RunLayout,
    variant: str,
    task: str,
    *,
    data: StageData | None = None,
    weights: str = "last",
    show_progress: bool = False,
    reset_decoder: bool = False,
    stage1_checkpoint: str | Path | None = None,
) -> StageRun:
    """Stage II: the full-disc network of Table 4's ``variant`` for ``task``, loaded or trained.

    ``scratch`` trains PRE-Net on Full-IPR only; ``kd_nonmask`` starts from the Stage-I KD UNet;
    every other variant from the Stage-I CoMWE PRE-Net (ensured first). ``comwe_noadapt`` is
    not trained: the Stage-I weights are saved as its ``last.pt``. Other parameters as in
    :func:`ensure_teacher`; ``reset_decoder`` re-initialises the decoder as the reference code
    does; ``stage1_checkpoint`` names the Stage-I checkpoint to start from instead of the run's.
    """
    _check_weights(weights)
    if variant not in stages.ADAPT_VARIANTS:
        raise ValueError(f"variant must be one of {list(stages.ADAPT_VARIANTS)}, got {variant!r}")
    config = cfg.training.adapt
    source_path, source_key = None, None
    if variant != "scratch" and stage1_checkpoint is not None:
        source_path = Path(stage1_checkpoint)
        if not source_path.is_file():
            raise FileNotFoundError(f"no Stage-I checkpoint at {source_path}")
        source_key = f"file:{source_path.resolve()}"
    elif variant != "scratch":
        source = ensure_student(
            cfg,
            layout,
            _stage1_distiller(variant),
            task,
            data=data,
            weights=weights,
            show_progress=show_progress,
        )
        source_path, source_key = source.checkpoint, source.key
    record = _adapted_record(cfg, variant, task, source_key, reset_decoder)
    run_dir = layout.keyed_dir(layout.adapted_dir(variant, task), config_hash(record))
    key = _claim(run_dir, record)
    epochs = 0 if variant == "comwe_noadapt" else config.epochs
    trained = not _finished(run_dir, epochs)
    if trained:
        train, val = (None, None)
        if variant != "comwe_noadapt":
            train, val = _data(cfg, layout, data).loaders("fulldisc", config)
        stages.train_full_disc_adaptation(
            train,
            val,
            run_dir,
            source_path,
            cfg.models,
            task,
            variant,
            config,
            reset_decoder,
            show_progress,
            cfg.to_dict(),
        )
    path = _weights_path(run_dir, weights)
    net = networks.load_adapted(path, task=task, variant=variant, models=cfg.models)
    net.requires_grad_(False)
    return StageRun(f"adapted-{variant}", task, run_dir, path, net, _history(run_dir), key, trained)


def ensure_light(
    cfg: RunConfig,
    layout: RunLayout,
    task: str,
    *,
    teacher_variant: str = "selfmask",
    data: StageData | None = None,
    weights: str = "last",
    teacher_weights: str = "last",
    training: dict[str, Any] | None = None,
    show_progress: bool = False,
) -> StageRun:
    """PRE-Net-Light for ``task``, distilled from the adapted PRE-Net, loaded or trained.

    The teacher (Table 4's ``teacher_variant``, Self-MaskTune by default) is ensured first with
    ``teacher_weights``, which trains the whole chain on a fresh run. The student is trained on
    the Full-IPR training split with validation for ``best.pt``
    (:func:`~prelib.training.light.train_light_distillation`: task loss + response + feature
    distillation), with the settings ``cfg.training.light`` changed by ``training``
    (e.g. ``{"max_steps_per_epoch": 24, "best_metric": "val_task_loss"}``).

    Parameters
    ----------
    cfg : RunConfig
        ``cfg.models.prenet_light`` (the student), ``cfg.models.light_distill`` (the loss and
        its balance) and ``cfg.training.light`` (the schedule) define the run.
    layout : RunLayout
        The run's folders (``models/prenet-light-<teacher_variant>/<task>``; with the config
        hash in a keyed layout, so that recipes live side by side).
    task : {"reg", "cls"}
    teacher_variant : str
        A variant of :data:`prelib.training.stages.ADAPT_VARIANTS`.
    weights, teacher_weights : {"last", "best"}
        Which checkpoint of the student and of its teacher to load.
    training : dict, optional
        :class:`~prelib.training.config.TrainingConfig` field overrides of this stage.
    data, show_progress
        As in :func:`ensure_teacher`.
    """
    from prelib.training.light import load_light, train_light_distillation

    _check_weights(weights)
    config = cfg.training.light.replace(**dict(training or {}))
    teacher = ensure_adapted(
        cfg,
        layout,
        teacher_variant,
        task,
        data=data,
        weights=teacher_weights,
        show_progress=show_progress,
    )
    record = {
        "stage": "light",
        "task": task,
        "teacher_variant": teacher_variant,
        "teacher": f"{teacher.key}:{teacher.checkpoint.name}",
        "prenet_light": cfg.models.prenet_light.to_dict(),
        "light_distill": cfg.models.light_distill.to_dict(),
        "training": _training_part(config),
    }
    run_dir = layout.keyed_dir(layout.light_dir(task, teacher_variant), config_hash(record))
    key = _claim(run_dir, record)
    trained = not _finished(run_dir, config.epochs)
    if trained:
        train, val = _data(cfg, layout, data).loaders("fulldisc", config)
        train_light_distillation(
            train,
            val,
            run_dir,
            teacher.checkpoint,
            cfg.models,
            task,
            teacher_variant,
            config,
            show_progress,
            cfg.to_dict(),
        )
    path = _weights_path(run_dir, weights)
    net = load_light(path, cfg.models, task).requires_grad_(False)
    return StageRun(
        f"prenet-light-{teacher_variant}", task, run_dir, path, net, _history(run_dir), key, trained
    )


def ensure_fulldisc_unet(
    cfg: RunConfig,
    layout: RunLayout,
    task: str,
    *,
    data: StageData | None = None,
    weights: str = "last",
    show_progress: bool = False,
) -> StageRun:
    """The plain UNet trained on Full-IPR IR only (Table 5's "UNet" row), loaded or trained.

    Trained with the Stage-II settings (``cfg.training.adapt``) and the task loss alone.
    """
    _check_weights(weights)
    config = cfg.training.adapt
    n_classes = 1 if task == "reg" else 2
    record = _fulldisc_unet_record(cfg, task)
    run_dir = layout.keyed_dir(layout.fulldisc_unet_dir(task), config_hash(record))
    key = _claim(run_dir, record)
    name = f"fulldisc:unet:{task}"
    trained = not _finished(run_dir, config.epochs)
    if trained:
        seed_everything(config.seed)  # the run's one seeding, before the network exists
        model = get_model("unet", cfg.models, n_classes=n_classes)
        train, val = _data(cfg, layout, data).loaders("fulldisc", config)
        Trainer(
            model,
            stages.adaptation_step_fn(task),
            train,
            config,
            run_dir,
            val_loader=val,
            model_name=name,
            profile=cfg.profile,
            show_progress=show_progress,
            run_config=cfg.to_dict(),
        ).fit()
    path = _weights_path(run_dir, weights)
    model = get_model("unet", cfg.models, n_classes=n_classes)
    load_model_weights(model, path, model_name=name)
    model.eval().requires_grad_(False)
    return StageRun("fulldisc-unet", task, run_dir, path, model, _history(run_dir), key, trained)

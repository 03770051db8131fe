"""Trained networks loaded from their checkpoints: what inference and evaluation use.

Every checkpoint written through :mod:`prelib.workflow.stages` stores the resolved run
configuration (``header["run_config"]``), so a network is rebuilt from its file alone; older
files need the model configuration (``models=cfg.models``).

>>> net = load_adapted("outputs/demo/models/adapted-selfmask/reg/best.pt",
...                    task="reg", variant="selfmask")                     # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from prelib.config import RunConfig, deprecated_profile_name
from prelib.models.config import ModelConfigs
from prelib.training import stages
from prelib.training.checkpoint import load_checkpoint
from prelib.workflow.artefacts import RunLayout, find_checkpoint

TASKS: tuple[str, ...] = stages.TASKS
ADAPT_VARIANTS: tuple[str, ...] = stages.ADAPT_VARIANTS


def checkpoint_models(path: str | Path) -> ModelConfigs:
    """The model configuration stored in a checkpoint's header.

    Raises
    ------
    ValueError
        The checkpoint predates stored run configurations; pass ``models=`` explicitly.
    """
    header = load_checkpoint(path)["header"]
    run_config = header.get("run_config")
    if not isinstance(run_config, dict) or "models" not in run_config:
        raise ValueError(
            f"checkpoint {path} stores no run configuration (written by an older prelib); pass "
            "models=prelib.config.resolve(<its profile>).models"
        )
    return ModelConfigs(**run_config["models"])


def _models(path: str | Path, models: ModelConfigs | None) -> ModelConfigs:
    return models if models is not None else checkpoint_models(path)


def load_teacher(
    path: str | Path,
    *,
    task: str,
    modalities: tuple[str, ...] | None = None,
    models: ModelConfigs | None = None,
) -> nn.Module:
    """A Stage-0 teacher (eval mode, frozen); modalities default to the checkpoint's."""
    if modalities is None:
        name = load_checkpoint(path)["header"].get("model_name", "")
        parts = name.split(":")
        modalities = tuple(parts[2].split("+")) if len(parts) == 3 else None
    return stages.load_teacher(path, _models(path, models), task, modalities)


def load_student(
    path: str | Path,
    *,
    task: str,
    distiller: str,
    models: ModelConfigs | None = None,
    **student_overrides,
) -> nn.Module:
    """The student network of a Stage-I checkpoint (eval mode)."""
    net = stages.load_student(path, _models(path, models), task, distiller, **student_overrides)
    return net.eval()


def load_adapted(
    path: str | Path, *, task: str, variant: str, models: ModelConfigs | None = None
) -> nn.Module:
    """A Stage-II network of ``variant`` (eval mode)."""
    return stages.load_adapted(path, _models(path, models), task, variant)


def load_adapted_pair(
    layout: RunLayout, variant: str, prefer: str = "best", models: ModelConfigs | None = None
) -> dict[str, nn.Module]:
    """The classifier and regressor of Stage-II ``variant`` in a run: ``{"cls": …, "reg": …}``.

    Raises
    ------
    FileNotFoundError
        The run has no checkpoint of that variant; the message names the folder and the command
        that trains it.
    """
    nets = {}
    for task in ("cls", "reg"):
        run_dir = layout.adapted_dir(variant, task)
        try:
            path = find_checkpoint(run_dir, prefer)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"no {task} checkpoint of Stage-II variant {variant!r} in {run_dir}; train it "
                f"with `prelib train adapt --variant {variant} --run-dir {layout.root}` or the "
                "notebook pipeline (`prelib pipeline run`)"
            ) from None
        nets[task] = load_adapted(path, task=task, variant=variant, models=models)
    return nets


def load_retrieval_networks(
    run_dir: str | Path,
    variant: str,
    config: RunConfig | str | None = None,
    checkpoints: dict[str, str | Path | None] | None = None,
) -> dict[str, nn.Module]:
    """The classifier and regressor of a retrieval: explicit checkpoints, else the run folder's.

    Parameters
    ----------
    run_dir : path-like
        Run folder (:class:`~prelib.workflow.artefacts.RunLayout`) holding
        ``models/adapted-<variant>/<task>/best.pt`` (else ``last.pt``).
    variant : str
        Full-Disc Adaptation variant.
    config : RunConfig, optional
        The run (:func:`prelib.config.resolve`): its profile is named in the messages, and its
        model configuration rebuilds checkpoints written before run configurations were stored
        in them (newer checkpoints rebuild themselves). A profile name is deprecated.
    checkpoints : dict, optional
        ``{"cls": path, "reg": path}``; a ``None`` entry is looked up in the run folder.

    Returns
    -------
    dict
        ``{"cls": classifier, "reg": regressor}`` in eval mode.

    Raises
    ------
    FileNotFoundError
        No checkpoint given or found; the message names the folder and how to train it.
    """
    if isinstance(config, str):
        from prelib.config import resolve

        deprecated_profile_name(config, "load_retrieval_networks(...)")
        config = resolve(config)
    profile = f" --profile {config.profile}" if config is not None else ""
    layout = RunLayout(run_dir)
    checkpoints = checkpoints or {}
    nets = {}
    for task in ("cls", "reg"):
        path = checkpoints.get(task)
        if path is None:
            folder = layout.adapted_dir(variant, task)
            try:
                path = find_checkpoint(folder, "best")
            except FileNotFoundError:
                raise FileNotFoundError(
                    f"no {task} checkpoint in {folder}; run `prelib train adapt{profile} "
                    f"--variant {variant}` (or the notebook pipeline), point "
                    f"--run-dir at the run folder, or pass --{task}-checkpoint"
                ) from None
        try:
            models = checkpoint_models(path)
        except ValueError:  # an older checkpoint: the run's model configuration
            if config is None:
                raise
            models = config.models
        nets[task] = load_adapted(path, task=task, variant=variant, models=models)
    return nets

"""The downscaling experiment: data → trained models → evaluation table.

``prelib downscale train|evaluate`` and the notebooks call :func:`build_pairs`,
:func:`train_models` and :func:`evaluate_models` (or :func:`run_methods`, which keeps the
fields for maps). Methods compared (all start from the coarse
biased product and end on the fine grid):

* ``bilinear``, ``bicubic`` — interpolation of the raw product;
* ``qm+bilinear`` — quantile mapping of the product to the block-mean truth, then bilinear;
* ``rainfarm`` — RainFARM ensemble on the quantile-mapped product;
* ``maunet``, ``maunet-light``, ``maunet-light-kr`` — teacher and students (standard and
  knowledge-refinement distillation);
* ``regression-mean`` — CorrDiff's first stage (two regression U-Nets, correction then
  downscaling of the residual);
* ``precipdiff`` — the two residual diffusion stages, ``n_members`` ensemble.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from prelib.atomic import write_json
from prelib.baselines.quantile_mapping import QuantileMapping
from prelib.baselines.rainfarm import rainfarm_downscale
from prelib.data.precip_grids import upsample
from prelib.downscaling.config import DATA_SOURCES, DownscalingConfig
from prelib.downscaling.data import (
    DownscalingPairs,
    extract_patches,
    make_pairs,
    mrms_pairs,
    synthetic_fine_fields,
)
from prelib.downscaling.evaluation import MethodOutput, evaluation_table, measure
from prelib.models.maunet import MAUNet, count_parameters
from prelib.models.precip_transform import PrecipTransform
from prelib.models.precipdiff import PrecipDiff
from prelib.models.registry import get_model
from prelib.training.checkpoint import (
    load_checkpoint,
    load_state_checked,
    make_header,
    save_checkpoint,
    to_plain,
)
from prelib.training.downscaling import (
    distil_maunet_light,
    losses,
    train_maunet,
    train_precipdiff,
)
from prelib.training.trainer import TrainingResult

CHECKPOINT_PROFILE: str = "downscaling"
"""The ``profile`` label of downscaling checkpoint headers (their configuration is the resolved
:class:`DownscalingConfig`, stored in full in the header)."""

TRAINING_DIR: str = "training"
"""Sub-folder of a model directory with each network's Trainer metrics log."""

MODEL_NAMES: tuple[str, ...] = (
    "maunet",
    "maunet-light",
    "maunet-light-kr",
    "regression-mean",
    "precipdiff",
)
BASELINE_NAMES: tuple[str, ...] = ("bilinear", "bicubic", "qm+bilinear", "rainfarm")
METHOD_NAMES: tuple[str, ...] = BASELINE_NAMES + MODEL_NAMES
"""Every method of the table, in its order."""


def parse_methods(methods: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Validate a method selection (comma-separated or a sequence; ``None``: all).

    Raises
    ------
    ValueError
        Unknown names, or a MAUNet-Light student without its ``maunet`` teacher.
    """
    if methods is None:
        return METHOD_NAMES
    names = [m.strip() for m in methods.split(",")] if isinstance(methods, str) else list(methods)
    names = [n for n in names if n]
    unknown = sorted(set(names) - set(METHOD_NAMES))
    if unknown or not names:
        raise ValueError(f"unknown method(s) {unknown or names}; choose from {list(METHOD_NAMES)}")
    if any(n.startswith("maunet-light") for n in names) and "maunet" not in names:
        raise ValueError("MAUNet-Light is distilled from MAUNet: add 'maunet' to the methods")
    return tuple(n for n in METHOD_NAMES if n in names)


def build_pairs(
    config: DownscalingConfig, source: str, path: str | Path | None = None
) -> tuple[DownscalingPairs, DownscalingPairs]:
    """Train and test pairs from the synthetic world or from MRMS (split by time).

    ``path`` is the MRMS-like radar file for ``source="mrms"`` (default: the sample file);
    any other field goes through :func:`prelib.downscaling.user_data.build_user_pairs`.
    """
    if source not in DATA_SOURCES:
        raise ValueError(f"data source must be one of {list(DATA_SOURCES)}, got {source!r}")
    bias = config.bias_model()
    if source == "mrms":
        return mrms_pairs(
            config.factor,
            config.patch,
            config.mrms_lat,
            config.mrms_lon,
            slice(*config.mrms_train_frames),
            slice(*config.mrms_test_frames),
            bias,
            max_patches=(config.n_train, config.n_test),
            min_wet_fraction=config.min_wet_fraction,
            seed=config.seed,
            path=path,
        )
    splits = []
    for offset, n_patches in enumerate((config.n_train, config.n_test)):
        per_scene = (config.scene_px // config.patch) ** 2
        n_scenes = -(-n_patches * 2 // per_scene)  # twice as many as needed: dry tiles are dropped
        scenes = synthetic_fine_fields(n_scenes, config.scene_px, seed=config.seed * 10 + offset)
        tiles = extract_patches(
            scenes,
            config.patch,
            config.factor,
            config.min_wet_fraction,
            n_patches,
            config.seed + offset,
        )
        splits.append(make_pairs(tiles, config.factor, bias, config.seed + offset))
    return splits[0], splits[1]


def new_models(
    config: DownscalingConfig, methods: tuple[str, ...] | None = None
) -> dict[str, torch.nn.Module]:
    """Untrained models of :data:`MODEL_NAMES` (those in ``methods``) at the config's sizes."""
    unet, edm = config.unet_config(), config.edm_config()
    builders = {
        "maunet": lambda: get_model("maunet", config.maunet_config()),
        "maunet-light": lambda: get_model("maunet", config.maunet_config(light=True)),
        "maunet-light-kr": lambda: get_model("maunet", config.maunet_config(light=True)),
        "regression-mean": lambda: PrecipDiff(config.factor, unet, edm, kind="regression"),
        "precipdiff": lambda: PrecipDiff(config.factor, unet, edm, kind="diffusion"),
    }
    selected = parse_methods(methods)
    return {name: build() for name, build in builders.items() if name in selected}


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


@contextlib.contextmanager
def _training_root(directory: str | Path | None) -> Iterator[Path]:
    """``directory/training``, or a temporary folder removed afterwards."""
    if directory is not None:
        yield Path(directory) / TRAINING_DIR
        return
    with tempfile.TemporaryDirectory(prefix="prelib-downscaling-") as tmp:
        yield Path(tmp)


def train_models(
    config: DownscalingConfig,
    train: DownscalingPairs,
    directory: str | Path | None = None,
    methods: tuple[str, ...] | None = None,
    validation: DownscalingPairs | None = None,
) -> tuple[dict[str, torch.nn.Module], dict[str, Any]]:
    """Train the selected models (teacher before students); save checkpoints to ``directory``.

    Every network trains through :class:`~prelib.training.trainer.Trainer`
    (:mod:`prelib.training.downscaling`); its metrics log (``metrics.csv``, ``metrics.jsonl``)
    stays in ``directory/training/<name>/`` (a temporary folder without ``directory``). The
    trained models are saved as ``directory/<name>.pt``: checkpoints with the resolved
    configuration and a SHA-256 of the weights in their header, read back by
    :func:`load_models`.

    ``validation`` pairs (default: none) select each MAUNet's best epoch and fit PrecipDiff's
    wet/dry threshold (``config.calibrate_wet``; on the training pairs when no validation
    pairs are given; stored in the model's ``wet_threshold``). Returns the models and the
    per-epoch loss histories.
    """
    from prelib.runtime import seed_everything

    seed_everything(config.seed)
    models = new_models(config, methods)
    history: dict[str, Any] = {}
    transform = PrecipTransform()
    run_config = {"downscaling": config.to_dict()}
    schedule = {"transform": transform, "schedule": config.lr_schedule, "run_config": run_config}

    def tensors(model: MAUNet):
        val = maunet_tensors(model, validation, transform) if validation is not None else None
        return (*maunet_tensors(model, train, transform), val)

    runs: list[TrainingResult] = []
    with _training_root(directory) as root:
        if "maunet" in models:
            inputs, targets, val = tensors(models["maunet"])
            result = train_maunet(
                models["maunet"],
                inputs,
                targets,
                config.training_config("maunet"),
                root / "maunet",
                loss=config.maunet_loss,
                validation=val,
                **schedule,
            )
            history["maunet"] = losses(result)
            runs.append(result)
        for name, mode in (("maunet-light", "standard"), ("maunet-light-kr", "refine")):
            if name not in models:
                continue
            inputs, targets, val = tensors(models[name])
            result = distil_maunet_light(
                models["maunet"],
                models[name],
                inputs,
                targets,
                config.training_config("student"),
                root / name,
                alpha=config.kd_alpha,
                beta=config.kd_beta,
                kd_mode=mode,
                validation=val,
                **schedule,
            )
            history[name] = losses(result)
            runs.append(result)
        for name in ("regression-mean", "precipdiff"):
            if name not in models:
                continue
            results = train_precipdiff(
                models[name],
                train.satellite,
                train.coarse_truth,
                train.fine,
                config.training_config("diffusion"),
                root / name,
                teacher_forcing=config.teacher_forcing,
                run_config=run_config,
            )
            history[name] = {stage: losses(result) for stage, result in results.items()}
            runs.extend(results.values())
    if "precipdiff" in models and config.calibrate_wet:
        pairs = validation if validation is not None else train
        models["precipdiff"].calibrate_wet_fraction(
            pairs.satellite, pairs.fine, min(config.n_members, 4), config.seed
        )
    if directory is not None:
        directory = Path(directory)
        for name, model in models.items():
            save_model(model, name, config, directory / f"{name}.pt")
        write_json(directory / "history.json", history)
        _drop_trainer_checkpoints(runs)
    return models, history


def _drop_trainer_checkpoints(runs: list[TrainingResult]) -> None:
    """Remove the Trainer's ``last.pt`` / ``best.pt`` once the models are saved.

    They hold the optimiser state (and, for a distillation, the teacher) and would only serve a
    resumption, which these runs do not do (their data are not part of a run's key); the
    metrics logs stay. Only the files each run reports it wrote are removed.
    """
    for result in runs:
        for path in (result.last_checkpoint, result.best_checkpoint):
            if path is not None:
                Path(path).unlink(missing_ok=True)


def save_model(
    model: torch.nn.Module, name: str, config: DownscalingConfig, path: str | Path
) -> Path:
    """Write a trained model as a checkpoint of :mod:`prelib.training.checkpoint`.

    The header holds ``name``, the configuration and a SHA-256 of the weights; the file is
    written atomically.
    """
    network = {"maunet": "maunet", "regression-mean": "diffusion", "precipdiff": "diffusion"}
    epochs = config.training_config(network.get(name, "student")).epochs
    header = make_header(name, CHECKPOINT_PROFILE, config.to_dict(), epochs)
    return save_checkpoint(path, {"header": header, "model": model.state_dict()})


def _read_model(path: Path, name: str) -> dict[str, Any]:
    try:
        return load_checkpoint(path, model_name=name)
    except ValueError as err:
        if _is_legacy_checkpoint(path):
            raise ValueError(
                f"{path} was written by an older prelib (a downscaling checkpoint without the "
                "integrity header of today's checkpoints); retrain the models: "
                "`prelib downscale train` (or `evaluate --retrain`) with the same --output"
            ) from err
        raise


def _is_legacy_checkpoint(path: Path) -> bool:
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        return False
    return isinstance(payload, dict) and set(payload) == {"state_dict", "meta"}


def load_models(
    config: DownscalingConfig, directory: str | Path, methods: tuple[str, ...] | None = None
) -> dict[str, torch.nn.Module]:
    """Models from the checkpoints of :func:`train_models`.

    Raises
    ------
    FileNotFoundError
        If a checkpoint is missing.
    ValueError
        If a checkpoint was trained with another configuration, belongs to another model, was
        written by an older prelib (retrain), or its weights do not fit.
    prelib.errors.InvalidDataError
        If a checkpoint's weights do not match the SHA-256 in its header (corrupted file).
    """
    models = new_models(config, methods)
    expected = to_plain(config.to_dict())
    for name, model in models.items():
        path = Path(directory) / f"{name}.pt"
        checkpoint = _read_model(path, name)
        if checkpoint["header"].get("config") != expected:
            raise ValueError(f"checkpoint {name}.pt was trained with a different configuration")
        load_state_checked(model, checkpoint["model"], str(path))
        model.eval()
    return models


def evaluate_models(
    config: DownscalingConfig,
    models: dict[str, torch.nn.Module],
    train: DownscalingPairs,
    test: DownscalingPairs,
    methods: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Run the selected methods on ``test`` and return the evaluation table."""
    outputs = run_methods(config, models, train, test, methods)
    return evaluation_table(outputs, test.fine, config.factor)


def run_methods(
    config: DownscalingConfig,
    models: dict[str, torch.nn.Module],
    train: DownscalingPairs,
    test: DownscalingPairs,
    methods: tuple[str, ...] | None = None,
) -> list[MethodOutput]:
    """Run the selected methods (default: all) on ``test``; keep what each produced (for maps).

    Parameters
    ----------
    config : DownscalingConfig
    models : dict of str to Module
        The trained models of :func:`train_models` or :func:`load_models`.
    train : DownscalingPairs
        Fits the quantile mapping (product → block-mean truth).
    test : DownscalingPairs
        The coarse products that every method downscales.
    methods : tuple of str, optional
        Names from :data:`METHOD_NAMES` (see :func:`parse_methods`); learned ones must be in
        ``models``.

    Returns
    -------
    list of MethodOutput
        In the order of the evaluation table: ``bilinear``, ``bicubic``, ``qm+bilinear``,
        ``rainfarm`` (``n_members``), the three MAUNets, ``regression-mean`` and
        ``precipdiff`` (``n_members``); ``members`` are ``(member, sample, H, W)`` in mm h-1
        on the fine grid. Score them with
        :func:`~prelib.downscaling.evaluation.evaluation_table`.
    """
    factor, satellite, n_members = config.factor, test.satellite, config.n_members
    selected = parse_methods(methods)
    missing = [m for m in selected if m in MODEL_NAMES and m not in models]
    if missing:
        raise ValueError(f"no trained model for {missing}; train them first")
    transform = PrecipTransform()
    outputs = []
    for method in ("bilinear", "bicubic"):
        if method not in selected:
            continue
        field, seconds, _ = measure(lambda m=method: upsample(satellite, factor, m), False)
        outputs.append(MethodOutput(method, field[None], 0, None, seconds))
    mapping = QuantileMapping().fit(train.satellite, train.coarse_truth_mean)
    if "qm+bilinear" in selected:
        field, seconds, _ = measure(
            lambda: upsample(mapping.transform(satellite), factor, "bilinear"), False
        )
        outputs.append(MethodOutput("qm+bilinear", field[None], 0, None, seconds))
    if "rainfarm" in selected:
        corrected = mapping.transform(satellite)
        members, seconds, _ = measure(
            lambda: np.stack(
                [
                    rainfarm_downscale(c, factor, n_members=n_members, seed=config.seed + i)
                    for i, c in enumerate(corrected)
                ],
                axis=1,
            ),
            False,
        )
        outputs.append(MethodOutput("rainfarm", members, 0, None, seconds / n_members))
    inputs = transform.forward(satellite).unsqueeze(1)
    for name in ("maunet", "maunet-light", "maunet-light-kr"):
        if name not in selected:
            continue
        model = models[name].eval()
        with torch.no_grad():
            out, seconds, flops = measure(lambda m=model: m(inputs))
        field = transform.inverse(out).squeeze(1).numpy()
        outputs.append(MethodOutput(name, field[None], count_parameters(model), flops, seconds))
    for name in ("regression-mean", "precipdiff"):
        if name not in selected:
            continue
        model = models[name].eval()
        size = 1 if name == "regression-mean" else n_members
        members, seconds, _ = measure(lambda m=model, s=size: m.predict(satellite, s, config.seed))
        _, _, flops = measure(lambda m=model: m.predict(satellite, 1, config.seed))
        outputs.append(MethodOutput(name, members, count_parameters(model), flops, seconds / size))
    return outputs


def describe_data(train: DownscalingPairs, test: DownscalingPairs) -> dict[str, Any]:
    """Sizes and simple statistics of the pairs, for the run's summary."""
    return {
        "source": train.source,
        "factor": train.factor,
        "n_train": len(train),
        "n_test": len(test),
        "fine_shape": list(train.fine.shape[1:]),
        "coarse_shape": list(train.satellite.shape[1:]),
        "train_wet_fraction": float((train.fine >= 0.1).mean()),
        "test_mean_rate": float(test.fine.mean()),
        "test_satellite_mean_rate": float(test.satellite.mean()),
    }

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

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from prelib.atomic import write_json
from prelib.downscaling.checkpoint import load_checkpoint, save_checkpoint
from prelib.downscaling.config import DATA_SOURCES, DownscalingConfig
from prelib.downscaling.data import (
    DownscalingPairs,
    extract_patches,
    make_pairs,
    mrms_pairs,
    synthetic_fine_fields,
)
from prelib.downscaling.distillation import distil
from prelib.downscaling.evaluation import MethodOutput, evaluation_table, measure
from prelib.downscaling.fields import upsample
from prelib.downscaling.maunet import MAUNet, count_parameters
from prelib.downscaling.precipdiff import PrecipDiff
from prelib.downscaling.quantile_mapping import QuantileMapping
from prelib.downscaling.rainfarm import rainfarm_downscale
from prelib.downscaling.training import train_maunet, train_precipdiff
from prelib.downscaling.transform import PrecipTransform

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
        "maunet": lambda: MAUNet(config.maunet_config()),
        "maunet-light": lambda: MAUNet(config.maunet_config(light=True)),
        "maunet-light-kr": lambda: MAUNet(config.maunet_config(light=True)),
        "regression-mean": lambda: PrecipDiff(config.factor, unet, edm, kind="regression"),
        "precipdiff": lambda: PrecipDiff(config.factor, unet, edm, kind="diffusion"),
    }
    selected = parse_methods(methods)
    return {name: build() for name, build in builders.items() if name in selected}


def train_models(
    config: DownscalingConfig,
    train: DownscalingPairs,
    directory: str | Path | None = None,
    methods: tuple[str, ...] | None = None,
    validation: DownscalingPairs | None = None,
) -> tuple[dict[str, torch.nn.Module], dict[str, Any]]:
    """Train the selected models (teacher before students); save checkpoints to ``directory``.

    ``validation`` pairs (default: none) select each MAUNet's best epoch and fit PrecipDiff's
    wet/dry threshold (``config.calibrate_wet``; on the training pairs when no validation
    pairs are given; stored in the model's ``wet_threshold``). Returns the models and the
    per-epoch loss histories.
    """
    from prelib.runtime import seed_everything

    seed_everything(config.seed)
    models = new_models(config, methods)
    history: dict[str, Any] = {}
    common = {"batch_size": config.batch_size, "lr": config.lr, "seed": config.seed}
    schedule = {"schedule": config.lr_schedule, "validation": validation}
    if "maunet" in models:
        history["maunet"] = train_maunet(
            models["maunet"],
            train,
            config.epochs_maunet,
            loss=config.maunet_loss,
            **common,
            **schedule,
        )
    for name, mode in (("maunet-light", "standard"), ("maunet-light-kr", "refine")):
        if name not in models:
            continue
        history[name] = distil(
            models["maunet"],
            models[name],
            train,
            config.epochs_student,
            alpha=config.kd_alpha,
            beta=config.kd_beta,
            kd_mode=mode,
            **common,
            **schedule,
        )
    for name in ("regression-mean", "precipdiff"):
        if name not in models:
            continue
        history[name] = train_precipdiff(
            models[name],
            train,
            config.epochs_diffusion,
            teacher_forcing=config.teacher_forcing,
            **common,
        )
    if "precipdiff" in models and config.calibrate_wet:
        pairs = validation if validation is not None else train
        models["precipdiff"].calibrate_wet_fraction(
            pairs.satellite, pairs.fine, min(config.n_members, 4), config.seed
        )
    if directory is not None:
        directory = Path(directory)
        meta = {"config": json.dumps(config.to_dict(), sort_keys=True)}
        for name, model in models.items():
            save_checkpoint(model, directory / f"{name}.pt", meta)
        write_json(directory / "history.json", history)
    return models, history


def load_models(
    config: DownscalingConfig, directory: str | Path, methods: tuple[str, ...] | None = None
) -> dict[str, torch.nn.Module]:
    """Models from the checkpoints of :func:`train_models`.

    Raises
    ------
    FileNotFoundError
        If a checkpoint is missing.
    ValueError
        If a checkpoint was trained with another configuration.
    """
    models = new_models(config, methods)
    expected = json.dumps(config.to_dict(), sort_keys=True)
    for name, model in models.items():
        checkpoint = load_checkpoint(Path(directory) / f"{name}.pt")
        if checkpoint["meta"].get("config") != expected:
            raise ValueError(f"checkpoint {name}.pt was trained with a different configuration")
        model.load_state_dict(checkpoint["state_dict"])
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

"""``prelib downscale``: train downscalers on any precipitation field, evaluate them, apply them.

::

    # your own radar field: hours 0-15 train, 16-17 validation, 18-23 test, x10 block means
    prelib downscale train --fine radar.nc --var rain --units mm --accumulation 1h \\
        --region 40,48,-90,-82 --train-times 0:16 --val-times 16:18 --factor 10 --bias none \\
        --methods maunet,precipdiff --output models/radar
    prelib downscale evaluate --fine radar.nc --var rain --units mm --accumulation 1h \\
        --region 40,48,-90,-82 --train-times 0:16 --val-times 16:18 --test-times 18:24 \\
        --factor 10 --bias none --methods maunet,precipdiff --output models/radar
    prelib downscale apply --model models/radar --input coarse.nc --output fine.nc

    # a real coarse product against the radar (conservatively regridded onto the radar's blocks)
    prelib downscale train --fine radar.nc --bias paired --coarse imerg.nc --coarse-var precip …

    # the built-in data: the synthetic PRE world, or the MRMS sample (semi-synthetic)
    prelib downscale evaluate --profile demo --data synthetic

Times are frame indices ``i:j`` (stop excluded) or ``START/END`` ISO times (both included).
``--bias none`` pairs each fine patch with its block mean (pure downscaling), ``synthetic`` with
the documented bias model, ``paired`` with the real ``--coarse`` product. Accumulations
(``mm``, ``kg m-2``) are converted to rates with a printed note; unknown units are refused.

Outputs in ``--output`` (default ``<output>/<profile>/downscaling/<data>/``): one checkpoint per
model, ``downscaler.json`` (what ``apply`` needs), ``history.json`` (losses per epoch),
``evaluation.csv`` / ``evaluation.md`` (the table) and ``summary_<action>.json``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from prelib.config import PROFILES

ACTIONS: tuple[str, ...] = ("train", "evaluate", "apply")
MANIFEST: str = "downscaler.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``prelib downscale``."""
    parser.add_argument("action", choices=ACTIONS, help="train, evaluate, or apply a model")
    parser.add_argument(
        "--profile", default="demo", choices=PROFILES, help="size profile (default demo)"
    )
    parser.add_argument(
        "--data",
        default="synthetic",
        choices=("synthetic", "mrms"),
        help="built-in data when --fine is not given: synthetic PRE world or the MRMS sample",
    )
    parser.add_argument("--fine", default=None, help="fine field file(s), comma-separated")
    parser.add_argument("--var", default=None, help="variable of --fine (default: the only one)")
    parser.add_argument("--units", default=None, help="units of --fine if not in the file")
    parser.add_argument(
        "--accumulation", default=None, help="accumulation period of --fine (10min, 1h …)"
    )
    parser.add_argument("--region", default=None, help="LAT_MIN,LAT_MAX,LON_MIN,LON_MAX")
    parser.add_argument("--train-times", default=None, help="training frames: i:j or START/END")
    parser.add_argument("--val-times", default=None, help="validation frames")
    parser.add_argument("--test-times", default=None, help="test frames (evaluate)")
    parser.add_argument("--factor", type=int, default=None, help="coarse-to-fine factor")
    parser.add_argument(
        "--bias",
        default="none",
        choices=("none", "synthetic", "paired"),
        help="coarse input: block mean, simulated product errors, or the real --coarse product",
    )
    parser.add_argument("--coarse", default=None, help="coarse product file(s) for --bias paired")
    parser.add_argument("--coarse-var", default=None, help="variable of --coarse")
    parser.add_argument("--coarse-units", default=None, help="units of --coarse")
    parser.add_argument("--coarse-accumulation", default=None, help="period of --coarse")
    parser.add_argument(
        "--methods", default=None, help="comma-separated methods (default all): maunet,precipdiff…"
    )
    parser.add_argument("--patch", type=int, default=None, help="patch side in fine pixels")
    parser.add_argument("--max-train", type=int, default=None, help="cap on training patches")
    parser.add_argument("--max-test", type=int, default=None, help="cap on test/val patches")
    parser.add_argument("--output", type=Path, default=None, help="model / output directory")
    parser.add_argument("--model", type=Path, default=None, help="model directory (apply)")
    parser.add_argument("--input", type=Path, default=None, help="coarse field to downscale")
    parser.add_argument("--method", default=None, help="model used by apply (default maunet)")
    parser.add_argument("--seed", type=int, default=None, help="override the profile's seed")
    parser.add_argument("--epochs", type=int, default=None, help="epochs for every model")
    parser.add_argument("--members", type=int, default=None, help="ensemble size")
    parser.add_argument("--retrain", action="store_true", help="ignore existing checkpoints")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")


def run(args: argparse.Namespace) -> int:
    """Run the action; returns the exit status."""
    from prelib.runtime import setup

    setup(args.seed or 0, "cpu", args.threads)
    if args.action == "apply":
        return _apply(args)
    return _train_or_evaluate(args)


def _config(args: argparse.Namespace):
    """The run's downscaling configuration, resolved once here (the entry point)."""
    from prelib.config import resolve

    epochs = args.epochs
    overrides: dict[str, Any] = {
        "seed": args.seed,
        "n_members": args.members,
        "epochs_maunet": epochs,
        "epochs_student": epochs,
        "epochs_diffusion": epochs,
        "factor": args.factor,
        "patch": args.patch,
        "n_train": args.max_train,
        "n_test": args.max_test,
    }
    if args.fine is not None and args.bias == "none":
        # the input is the truth's block mean: make MAUNet's output conserve it exactly
        overrides["maunet_output"] = "conservative"
    # "seed": None (no --seed) keeps the downscaling profile's own seed; resolve() would give
    # a missing key the training profile's seed instead (2023 for paper, 0 in downscaling.yaml)
    config = resolve(args.profile, downscaling=overrides).downscaling
    if args.patch is not None and args.patch % config.factor:
        raise ValueError(f"--patch {args.patch} must be a multiple of --factor {config.factor}")
    return config


def _user_splits(args: argparse.Namespace, config, notes: list[str]):
    from prelib.downscaling.user_data import PairRequest, build_user_pairs, parse_region
    from prelib.downscaling.user_fields import FieldSource

    times = {
        split: value
        for split, value in (
            ("train", args.train_times),
            ("val", args.val_times),
            ("test", args.test_times),
        )
        if value is not None
    }
    if "train" not in times:
        raise ValueError("--fine needs --train-times (frames i:j or START/END)")
    if args.action == "evaluate" and "test" not in times:
        raise ValueError("evaluate needs --test-times (frames i:j or START/END)")
    fine = FieldSource.from_option(
        args.fine, variable=args.var, units=args.units, accumulation=args.accumulation
    )
    coarse = None
    if args.coarse is not None:
        coarse = FieldSource.from_option(
            args.coarse,
            variable=args.coarse_var,
            units=args.coarse_units,
            accumulation=args.coarse_accumulation,
        )
    request = PairRequest(fine, times, parse_region(args.region), args.bias, coarse)
    caps = {"train": config.n_train, "val": config.n_test, "test": config.n_test}
    return build_user_pairs(
        request,
        config.factor,
        config.patch,
        config.bias_model(),
        config.min_wet_fraction,
        caps,
        config.seed,
        notes,
    )


def _train_or_evaluate(args: argparse.Namespace) -> int:
    from prelib.atomic import write_json
    from prelib.downscaling.evaluation import to_markdown, write_table
    from prelib.downscaling.experiment import (
        build_pairs,
        describe_data,
        evaluate_models,
        load_models,
        parse_methods,
        train_models,
    )
    from prelib.paths import profile_output_dir

    config = _config(args)
    methods = parse_methods(args.methods)
    start = time.perf_counter()
    notes: list[str] = []
    if args.fine is not None:
        splits = _user_splits(args, config, notes)
        label = f"{args.fine} (bias {args.bias})"
        default_dir = Path(args.fine.split(",")[0]).stem
    else:
        train, test = build_pairs(config, args.data)
        splits = {"train": train, "test": test}
        label = "semi-synthetic MRMS" if args.data == "mrms" else "synthetic PRE world"
        default_dir = args.data
    for note in notes:
        print(f"note: {note}")
    train, test, validation = splits["train"], splits.get("test"), splits.get("val")
    for name, pairs in splits.items():
        print(f"{name}: {len(pairs)} patches of {pairs.fine.shape[1]} x {pairs.fine.shape[2]} px")
    root = args.output or Path(profile_output_dir(args.profile)) / "downscaling" / default_dir
    directory = Path(root)
    models = None
    if args.action == "evaluate" and not args.retrain:
        try:
            models = load_models(config, directory, methods)
            print(f"loaded checkpoints from {directory}")
        except (FileNotFoundError, ValueError, KeyError) as err:
            print(f"training ({err})")
    if models is None:
        train_start = time.perf_counter()
        models, _ = train_models(config, train, directory, methods, validation)
        print(f"trained in {time.perf_counter() - train_start:.0f} s; checkpoints in {directory}")
        write_json(
            directory / MANIFEST,
            {
                "config": config.to_dict(),
                "methods": list(methods),
                "models": sorted(models),
                "bias": args.bias if args.fine is not None else "synthetic",
                "notes": notes,
            },
        )
    summary: dict[str, Any] = {"profile": args.profile, "data": label, "notes": notes}
    summary["config"] = config.to_dict()
    summary["splits"] = {name: len(pairs) for name, pairs in splits.items()}
    if args.action == "evaluate":
        summary["data_description"] = describe_data(train, test)
        table = evaluate_models(config, models, train, test, methods)
        title = f"Downscaling x{config.factor}, {label}, profile {args.profile}"
        paths = write_table(table, directory, "evaluation", title)
        print(to_markdown(table, title))
        print(f"table: {paths['csv']} and {paths['md']}")
    summary["seconds"] = time.perf_counter() - start
    write_json(directory / f"summary_{args.action}.json", summary)
    return 0


def _apply(args: argparse.Namespace) -> int:
    import json

    import numpy as np
    import xarray as xr

    from prelib.atomic import atomic_path
    from prelib.downscaling.config import DownscalingConfig
    from prelib.downscaling.experiment import load_models
    from prelib.downscaling.inference import downscale_field
    from prelib.downscaling.user_data import parse_region
    from prelib.downscaling.user_fields import FieldSource, read_precip_field

    if args.model is None or args.input is None or args.output is None:
        raise ValueError("apply needs --model DIR, --input FILE and --output FILE")
    manifest_path = Path(args.model) / MANIFEST
    if not manifest_path.is_file():
        raise FileNotFoundError(
            f"{manifest_path} not found: train a model into {args.model} first "
            "(prelib downscale train --output DIR)"
        )
    from prelib.atomic import check_output

    check_output(args.output)  # a file prelib did not write is kept unless --overwrite
    manifest = json.loads(manifest_path.read_text())
    config = DownscalingConfig.from_dict(manifest["config"])
    available = manifest["models"]
    method = args.method or next((m for m in ("maunet", "precipdiff") if m in available), None)
    if method not in available:
        raise ValueError(f"--method {method!r} is not in {args.model}; trained: {available}")
    teacher = ("maunet",) if method.startswith("maunet-light") else ()
    model = load_models(config, args.model, (*teacher, method))[method]
    source = FieldSource.from_option(
        [args.input], variable=args.var, units=args.units, accumulation=args.accumulation
    )
    notes: list[str] = []
    region = parse_region(args.region)
    field = read_precip_field(
        source, region[:2] if region else None, region[2:] if region else None, notes
    )
    for note in notes:
        print(f"note: {note}")
    frames = []
    for index in range(field.sizes["time"]):
        frame = field.isel(time=index).drop_vars("time")
        frame = frame.assign_coords(lat=("y", frame["lat"].values), lon=("x", frame["lon"].values))
        frames.append(
            downscale_field(
                model,
                frame,
                config.factor,
                n_members=args.members or config.n_members,
                seed=config.seed,
                fill_nan=True,
            )
        )
    out = xr.concat(frames, dim="time").assign_coords(time=field["time"].values)
    out = out.astype(np.float32).rename("precip").to_dataset()
    out.attrs.update(
        {"downscaling_method": method, "source_file": str(args.input), "model": str(args.model)}
    )
    with atomic_path(args.output) as tmp:
        out.to_netcdf(tmp)
    print(f"wrote {args.output}: {dict(out.sizes)} with {method} x{config.factor}")
    return 0

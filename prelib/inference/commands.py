"""``prelib infer``: tiled precipitation retrieval over a region, written as CF NetCDF.

Examples::

    prelib infer --profile demo --case convective                 # Stage-II selfmask models
    prelib infer --profile demo --region 20,35,105,125 --time 2023-07-01T06:00
    prelib infer --input scene.nc --cls-checkpoint c.pt --reg-checkpoint r.pt --variant nonmask
    prelib infer --case frontal --baseline ae                     # a classical baseline

The input is a scene with ``ir`` (ir_channel, y, x) in K and ``lat``/``lon`` (a file, a named
case study or any lat/lon box of the synthetic world). Networks: the classifier and regressor
of a Full-Disc Adaptation variant, by default ``best.pt`` (else ``last.pt``) in the run folder
(``--run-dir``, default ``PRELIB_OUTPUT_DIR/<profile>``) that ``prelib train adapt`` and the
notebook pipeline share: ``<run>/models/adapted-<variant>/<task>/``. The networks are rebuilt from
the configuration stored in their checkpoints (``--profile`` is used for older files without one).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from prelib import conventions as cv
from prelib.config import PROFILES
from prelib.paths import profile_output_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``prelib infer``."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=Path, help="NetCDF/Zarr scene with ir, lat, lon")
    source.add_argument("--case", choices=cv.CASE_STUDIES, help="a named synthetic case study")
    source.add_argument("--region", help="synthetic box lat_min,lat_max,lon_min,lon_max (deg)")
    parser.add_argument("--time", default=None, help="valid time of --region (UTC)")
    parser.add_argument("--seed", type=int, default=0, help="world seed of --region")
    parser.add_argument("--profile", choices=PROFILES, default="demo", help="model profile")
    parser.add_argument("--variant", default="selfmask", help="Full-Disc Adaptation variant")
    parser.add_argument(
        "--run-dir",
        type=Path,
        default=None,
        help="run folder holding models/ (default PRELIB_OUTPUT_DIR/<profile>, e.g. outputs/demo)",
    )
    parser.add_argument(
        "--cls-checkpoint",
        type=Path,
        default=None,
        help="rain/no-rain classifier checkpoint (default: the profile's adapted model)",
    )
    parser.add_argument(
        "--reg-checkpoint",
        type=Path,
        default=None,
        help="rain-rate regressor checkpoint (default: the profile's adapted model)",
    )
    parser.add_argument(
        "--baseline",
        default=None,
        help="use a classical baseline instead: gpi, ae, or a saved baseline file",
    )
    parser.add_argument("--output", type=Path, default=None, help="output NetCDF path")
    parser.add_argument("--tile", type=int, default=256, help="tile side in pixels (256)")
    parser.add_argument(
        "--overlap", type=int, default=32, help="pixels shared by neighbouring tiles, blended (32)"
    )
    parser.add_argument(
        "--margin", type=int, default=8, help="tile-edge pixels discarded before blending (8)"
    )
    parser.add_argument("--batch-size", type=int, default=4, help="tiles per forward pass (4)")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:1 …")
    parser.add_argument(
        "--no-clamp",
        action="store_true",
        help="keep negative regression values (the reference code's behaviour)",
    )


def _scene(args: argparse.Namespace):
    import xarray as xr

    if args.input is not None:
        if not args.input.exists():
            raise FileNotFoundError(f"no input scene at {args.input}")
        opener = xr.open_zarr if args.input.suffix == ".zarr" else xr.open_dataset
        return opener(args.input).load(), args.input.stem
    from prelib.data.regions import simulate_case, simulate_region

    if args.case is not None:
        return simulate_case(args.case), args.case
    try:
        lat0, lat1, lon0, lon1 = (float(v) for v in args.region.split(","))
    except ValueError:
        raise ValueError(
            f"--region must be lat_min,lat_max,lon_min,lon_max, got {args.region!r}"
        ) from None
    if args.time is None:
        raise ValueError("--region needs --time")
    scene = simulate_region((lat0, lat1), (lon0, lon1), args.time, seed=args.seed)
    return scene, f"region_{lat0:g}_{lat1:g}_{lon0:g}_{lon1:g}"


def _networks(args: argparse.Namespace) -> dict:
    """The classifier and regressor: explicit checkpoints, else the run folder's."""
    from prelib.workflow.artefacts import RunLayout, find_checkpoint
    from prelib.workflow.networks import checkpoint_models, load_adapted

    layout = RunLayout(args.run_dir or profile_output_dir(args.profile))
    nets = {}
    for task in ("cls", "reg"):
        path = getattr(args, f"{task}_checkpoint")
        if path is None:
            run_dir = layout.adapted_dir(args.variant, task)
            try:
                path = find_checkpoint(run_dir, "best")
            except FileNotFoundError:
                raise FileNotFoundError(
                    f"no {task} checkpoint in {run_dir}; run `prelib train adapt --profile "
                    f"{args.profile} --variant {args.variant}` (or the notebook pipeline), point "
                    f"--run-dir at the run folder, or pass --{task}-checkpoint"
                ) from None
        try:
            models = checkpoint_models(path)
        except ValueError:  # an older checkpoint: the profile's model configuration
            from prelib.config import resolve

            models = resolve(args.profile).models
        nets[task] = load_adapted(path, task=task, variant=args.variant, models=models)
    return nets


def run(args: argparse.Namespace) -> int:
    """Retrieve and write; returns 0."""
    from prelib.inference.retrieval import (
        precipitation_dataset,
        retrieve_precipitation,
        write_precipitation_netcdf,
    )

    scene, name = _scene(args)
    ir = scene[cv.VAR_IR].transpose(cv.DIM_IR_CHANNEL, *cv.GRID_DIMS).values
    lat, lon = scene[cv.VAR_LAT].values, scene[cv.VAR_LON].values
    time = scene[cv.VAR_TIME].values if cv.VAR_TIME in scene.coords else None
    time = time.reshape(-1)[0] if time is not None and np.size(time) else None
    if args.baseline is not None:
        from prelib.baselines import get_baseline, load_baseline

        model = (
            get_baseline(args.baseline)
            if args.baseline in ("gpi", "ae")
            else load_baseline(args.baseline)
        )
        precip = model.predict(ir[None])[0]
        ds = precipitation_dataset(precip, lat, lon, time, {"method": f"baseline {args.baseline}"})
        label = f"{name}_{Path(args.baseline).stem}"
    else:
        from prelib.inference.composition import TwoNetworkRetrieval
        from prelib.runtime import select_device

        device = select_device(args.device)
        nets = _networks(args)
        model = TwoNetworkRetrieval(nets["cls"], nets["reg"], clamp_negative=not args.no_clamp)
        ds = retrieve_precipitation(
            model.to(device),
            ir,
            lat,
            lon,
            time,
            tile=args.tile,
            overlap=args.overlap,
            margin=args.margin,
            batch_size=args.batch_size,
            device=device,
            show_progress=True,
        )
        ds.attrs["method"] = f"PRE-Net {args.variant} ({args.profile})"
        label = f"{name}_{args.variant}"
    run_dir = args.run_dir or profile_output_dir(args.profile)
    output = args.output or Path(run_dir) / "inference" / f"{label}.nc"
    write_precipitation_netcdf(ds, output)
    values = ds[cv.VAR_PRECIP].values
    print(
        f"wrote {output}: {values.shape[-2]}×{values.shape[-1]} pixels, "
        f"{np.nanmean(values >= cv.RAIN_THRESHOLD):.1%} raining, max {np.nanmax(values):.2f} mm h-1"
    )
    return 0

"""``prelib infer``: tiled precipitation retrieval over a region, written as CF NetCDF.

Examples::

    prelib infer --profile demo --case convective                 # Stage-II selfmask models
    prelib infer --profile demo --region 20,35,105,125 --time 2023-07-01T06:00
    prelib infer --input scene.nc --cls-checkpoint c.pt --reg-checkpoint r.pt --variant nonmask
    prelib infer --case frontal --baseline ae                     # a classical baseline

The input is a scene with ``ir`` (ir_channel, y, x) in K and ``lat``/``lon`` (a file, a named
case study or any lat/lon box of the synthetic world). Networks: the classifier and regressor
of a Full-Disc Adaptation variant, by default ``best.pt`` (else ``last.pt``) of
``prelib train adapt`` for the profile.
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


def _checkpoint(explicit: Path | None, profile: str, variant: str, task: str) -> Path:
    if explicit is not None:
        return explicit
    from prelib.training.commands import default_run_dir

    run_dir = default_run_dir(profile, "adapt", variant, task)
    for name in ("best.pt", "last.pt"):
        if (run_dir / name).is_file():
            return run_dir / name
    raise FileNotFoundError(
        f"no {task} checkpoint in {run_dir}; run `prelib train adapt --profile {profile} "
        f"--variant {variant}` or pass --{task}-checkpoint"
    )


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
        from prelib.training.stages import load_adapted

        device = select_device(args.device)
        nets = {
            task: load_adapted(
                _checkpoint(getattr(args, f"{task}_checkpoint"), args.profile, args.variant, task),
                args.profile,
                task,
                args.variant,
            )
            for task in ("cls", "reg")
        }
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
    output = args.output or profile_output_dir(args.profile) / "inference" / f"{label}.nc"
    write_precipitation_netcdf(ds, output)
    values = ds[cv.VAR_PRECIP].values
    print(
        f"wrote {output}: {values.shape[-2]}×{values.shape[-1]} pixels, "
        f"{np.nanmean(values >= cv.RAIN_THRESHOLD):.1%} raining, max {np.nanmax(values):.2f} mm h-1"
    )
    return 0

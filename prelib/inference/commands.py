"""``prelib infer``: tiled precipitation retrieval over any region up to the full disc.

Examples::

    prelib infer --profile demo --case convective                 # Stage-II selfmask models
    prelib infer --profile demo --region 20,35,105,125 --time 2023-07-01T06:00
    prelib infer --input FY4A-_AGRI--_N_DISK_…_4000M_V0001.HDF --region fulldisc --format zarr
    prelib infer --input scene.nc --cls-checkpoint c.pt --reg-checkpoint r.pt --variant nonmask
    prelib infer --case frontal --baseline ae                     # a classical baseline
    prelib infer --case frontal --baseline persiann_ccs           # after prelib baseline fit
    prelib infer --region 20,35,105,125 --times 2023-07-01T00 2023-07-01T06 --cluster local

The input is an AGRI L1 FDI file (FY-4A/4B, full disc or regional), a scene with ``ir``
(ir_channel, y, x) in K and ``lat``/``lon`` (NetCDF/Zarr), a named case study or any lat/lon box
of the synthetic world; ``--region fulldisc`` without ``--input`` retrieves a synthetic full-disc
scan. Networks: the classifier and regressor of a Full-Disc Adaptation variant, by default
``best.pt`` (else ``last.pt``) of ``prelib train adapt`` for the profile. Both run in one pass
of the streaming engine (:mod:`prelib.inference.engine`): one normalisation, one tile extraction,
LoRA merged, output written chunk-wise to CF NetCDF or Zarr.

By default the networks are ``best.pt`` (else ``last.pt``) in the run folder (``--run-dir``,
default ``PRELIB_OUTPUT_DIR/<profile>``) that ``prelib train adapt`` and the notebook pipeline
share: ``<run>/models/adapted-<variant>/<task>/``. They are rebuilt from the configuration stored
in their checkpoints (``--profile`` is used for older files without one).
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
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--input", type=Path, help="AGRI L1 FDI .HDF file, or a NetCDF/Zarr scene with ir, lat, lon"
    )
    source.add_argument("--case", choices=cv.CASE_STUDIES, help="a named synthetic case study")
    parser.add_argument(
        "--satpy-reader",
        default=None,
        choices=("agri_fy4a_l1", "agri_fy4b_l1"),
        help="read the --input AGRI L1 file through satpy with this reader instead of prelib's "
        "own (needs satpy: pip install 'prelib[real]')",
    )
    parser.add_argument(
        "--region",
        help="'fulldisc' (the whole --input file, or a synthetic full disc without --input), or "
        "a synthetic box lat_min,lat_max,lon_min,lon_max (deg)",
    )
    parser.add_argument("--time", default=None, help="valid time of --region (UTC)")
    parser.add_argument(
        "--times",
        nargs="+",
        default=None,
        metavar="TIME",
        help="several valid times of --region (UTC): one output file per time, named "
        "<label>_<time>.nc (--output is then a folder)",
    )
    parser.add_argument(
        "--cluster",
        default=None,
        metavar="ADDRESS",
        help="retrieve the --times on a dask.distributed cluster: 'local' (a LocalCluster of "
        "--workers processes) or a scheduler address such as tcp://host:8786 whose workers see "
        "the run and output folders at the same paths",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes retrieving the --times: of --cluster local, or of a local process pool "
        "without --cluster (default 1: one after another)",
    )
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
        help="use a classical baseline instead: a name (gpi, ae, persiann_ccs, gbm: the run's "
        "file from 'prelib baseline fit' when there is one; gpi and ae otherwise use the "
        "published parameters) or a saved baseline .npz file",
    )
    parser.add_argument("--output", type=Path, default=None, help="output NetCDF/Zarr path")
    parser.add_argument(
        "--format",
        choices=("netcdf", "zarr"),
        default=None,
        help="output format (default: from the --output suffix, else netcdf)",
    )
    parser.add_argument("--tile", type=int, default=256, help="tile size (pixels)")
    parser.add_argument(
        "--overlap", type=int, default=28, help="smallest overlap of neighbouring tiles (pixels)"
    )
    parser.add_argument("--margin", type=int, default=8, help="zero-weight pixels at tile edges")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="tiles per forward (default: per model size)"
    )
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:1 …")
    parser.add_argument(
        "--dtype",
        choices=("auto", "float32", "bfloat16", "float16"),
        default="auto",
        help="autocast dtype (auto: bfloat16 on CUDA, float32 on CPU)",
    )
    parser.add_argument(
        "--compile", action="store_true", help="torch.compile the networks (slow first call)"
    )
    parser.add_argument(
        "--no-clamp",
        action="store_true",
        help="keep negative regression values (the reference code's behaviour)",
    )


def _source(args: argparse.Namespace):
    """The scene source and a label for output names."""
    from prelib.inference.sources import ArraySource, open_source

    region = args.region
    if args.input is not None:
        if region not in (None, "fulldisc"):
            raise ValueError(
                f"--region {region!r} with --input: only 'fulldisc' (the whole file) applies"
            )
        source = open_source(args.input, satpy_reader=getattr(args, "satpy_reader", None))
        return source, source.name
    if getattr(args, "satpy_reader", None) is not None:
        raise ValueError("--satpy-reader reads an --input file; give --input")
    if args.case is not None:
        from prelib.data.regions import simulate_case

        return ArraySource.from_dataset(simulate_case(args.case), args.case), args.case
    if region is None:
        raise ValueError("give --input, --case or --region")
    if region == "fulldisc":
        from prelib.writers.synthetic_disc import synthetic_disc_bt

        bt, lat, lon = synthetic_disc_bt(seed=args.seed)
        time = args.time or "2023-07-01T06:00"
        return ArraySource(bt, lat, lon, time, "synthetic_fulldisc"), "synthetic_fulldisc"
    try:
        lat0, lat1, lon0, lon1 = (float(v) for v in region.split(","))
    except ValueError:
        raise ValueError(
            f"--region must be 'fulldisc' or lat_min,lat_max,lon_min,lon_max, got {region!r}"
        ) from None
    if args.time is None:
        raise ValueError("--region needs --time")
    from prelib.data.regions import simulate_region

    scene = simulate_region((lat0, lat1), (lon0, lon1), args.time, seed=args.seed)
    name = f"region_{lat0:g}_{lat1:g}_{lon0:g}_{lon1:g}"
    return ArraySource.from_dataset(scene, name), name


def _networks(args: argparse.Namespace) -> dict:
    """The classifier and regressor: explicit checkpoints, else the run folder's."""
    from prelib.config import resolve
    from prelib.workflow.networks import load_retrieval_networks

    return load_retrieval_networks(
        args.run_dir or profile_output_dir(args.profile),
        args.variant,
        resolve(args.profile),
        {task: getattr(args, f"{task}_checkpoint") for task in ("cls", "reg")},
    )


def _baseline(args: argparse.Namespace):
    """The baseline of ``--baseline``: a name (the run's fitted file, else the published gpi/ae)
    or a saved ``.npz``."""
    from prelib.baselines import BASELINES, get_baseline, load_baseline
    from prelib.baselines.commands import fitted_baseline_path

    value = args.baseline
    if value in BASELINES:
        run_dir = args.run_dir or profile_output_dir(args.profile)
        fitted = fitted_baseline_path(run_dir, value)
        if fitted.is_file():
            return load_baseline(fitted)
        if value in ("gpi", "ae"):
            return get_baseline(value)  # the published thresholds / coefficients
        where = f"--run-dir {args.run_dir}" if args.run_dir else f"--profile {args.profile}"
        raise ValueError(
            f"--baseline {value}: no fitted {value} at {fitted}; run "
            f"'prelib baseline fit {value} {where}' first, or pass a saved .npz"
        )
    path = Path(value)
    if not path.exists():
        raise ValueError(
            f"--baseline {value!r}: neither a baseline name ({', '.join(sorted(BASELINES))}) "
            "nor an existing .npz file"
        )
    return load_baseline(path)  # refuses anything but a pickle-free .npz


def _label(args: argparse.Namespace, name: str) -> str:
    method = Path(args.baseline).stem if args.baseline is not None else args.variant
    label = f"{name}_{method}"
    if getattr(args, "time_in_name", False):
        label += "_" + "".join(c if c.isalnum() else "-" for c in str(args.time))
    return label


def run(args: argparse.Namespace) -> int:
    """Retrieve and write (one file, or one per ``--times`` entry); returns 0."""
    if args.times is None:
        if args.cluster is not None:
            raise ValueError("--cluster distributes --times; give several times with --times")
        print(retrieve_one(args))
        return 0
    if args.time is not None or args.input is not None or args.case is not None:
        raise ValueError("--times applies to --region without --time, --input or --case")
    if args.region is None:
        raise ValueError("--times needs --region (a synthetic box or 'fulldisc')")
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    from prelib.data.build.execution import cluster_runner

    jobs = [
        argparse.Namespace(
            **{**vars(args), "time": time, "times": None, "cluster": None, "output": None},
            output_dir=args.output,
            time_in_name=True,
        )
        for time in dict.fromkeys(args.times)  # a repeated time once
    ]
    with cluster_runner(args.cluster, args.workers) as runner:  # connects before any work
        for line in runner.map(retrieve_one, jobs, name="infer"):
            print(line)
    return 0


def retrieve_one(args: argparse.Namespace) -> str:
    """Retrieve one scene as ``args`` say and write it; returns the summary line.

    Module-level so that a dask worker can run it (``prelib infer --times … --cluster``).
    """
    from prelib.atomic import check_output

    source, name = _source(args)
    label = _label(args, name)
    output = _output_path(args, label)
    check_output(output)  # refuse a foreign target before minutes of retrieval, not after
    lines = []
    if args.baseline is not None:
        from prelib.inference.retrieval import (
            precipitation_dataset,
            write_precipitation_netcdf,
        )

        model = _baseline(args)
        height, _ = source.shape
        ir = source.read(0, height)
        lat, lon = source.latlon(0, height)
        precip = model.predict(ir[None])[0]
        precip[~np.isfinite(ir).all(axis=0)] = np.nan
        ds = precipitation_dataset(
            precip,
            lat,
            lon,
            source.time,
            {
                "title": f"Precipitation from geostationary IR by the {model.name} baseline",
                "method": f"baseline {model.name}",
            },
        )
        write_precipitation_netcdf(ds, output)
        values = ds[cv.VAR_PRECIP].values
    else:
        from prelib.inference.composition import TwoNetworkRetrieval
        from prelib.inference.engine import InferenceSettings, infer
        from prelib.inference.writers import writer_for
        from prelib.models.preparation import prepare_for_inference
        from prelib.runtime import select_device

        device = select_device(args.device)
        nets = _networks(args)
        retrieval = TwoNetworkRetrieval(nets["cls"], nets["reg"], clamp_negative=not args.no_clamp)
        model = prepare_for_inference(retrieval, device, copy_model=False)
        settings = InferenceSettings(
            tile=args.tile,
            overlap=args.overlap,
            margin=args.margin,
            batch_size=args.batch_size,
            dtype=args.dtype,
            compile=args.compile,
            show_progress=not getattr(args, "time_in_name", False),
        )
        attrs = {
            "title": f"Precipitation retrieved from geostationary IR by PRE-Net "
            f"({args.variant}, Full-Disc Adaptation; classifier x regressor)",
            "method": f"PRE-Net {args.variant} ({args.profile})",
        }
        report, _ = infer(model, source, writer_for(output, args.format), settings, attrs)
        values = _written_values(output)
        lines.append(
            f"{report.tiles_run} of {report.tiles_total} tiles run "
            f"({report.tiles_skipped} without valid input skipped) in {report.wall_s:.1f} s "
            f"on {report.device}"
        )
    lines.append(
        f"wrote {output}: {values.shape[-2]}×{values.shape[-1]} pixels, "
        f"{np.nanmean(values >= cv.RAIN_THRESHOLD):.1%} raining, max {np.nanmax(values):.2f} mm h-1"
    )
    return "\n".join(lines)


def _output_path(args: argparse.Namespace, label: str) -> Path:
    if args.output is not None:
        return args.output
    suffix = ".zarr" if args.format == "zarr" else ".nc"
    folder = getattr(args, "output_dir", None)  # --output of --times is a folder
    if folder is None:
        folder = Path(args.run_dir or profile_output_dir(args.profile)) / "inference"
    return Path(folder) / f"{label}{suffix}"


def _written_values(path: Path) -> np.ndarray:
    import xarray as xr

    opener = xr.open_zarr if path.suffix == ".zarr" or path.is_dir() else xr.open_dataset
    with opener(path) as ds:
        return ds[cv.VAR_PRECIP].values

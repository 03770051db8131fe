"""``prelib simulate``: build benchmarks, simulate scenes and case studies, calibrate the world.

Examples
--------
::

    prelib simulate build --kind swath --profile tiny                # all three splits
    prelib simulate build --kind fulldisc --profile demo --split test --workers 2
    prelib simulate build --kind swath --profile demo --cluster tcp://scheduler:8786
    prelib simulate scene --lat 26 36 --lon 108 122 --time 2021-06-28T06 --out scene.nc
    prelib simulate case orographic --out orographic.nc
    prelib simulate calibrate --n-train 8 --n-test 4
"""

from __future__ import annotations

import argparse
from pathlib import Path

from prelib.config import PROFILES
from prelib.conventions import CASE_STUDIES, REGIMES, SPLITS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``build``, ``scene``, ``case`` and ``calibrate`` actions."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    build = actions.add_parser("build", help="materialise Swath-MPR / Full-IPR to Zarr")
    build.add_argument(
        "--kind", required=True, choices=("swath", "fulldisc"), help="Swath-MPR or Full-IPR"
    )
    build.add_argument(
        "--profile", default="tiny", choices=PROFILES, help="split sizes (default tiny)"
    )
    build.add_argument("--split", choices=SPLITS, help="one split (default: all three)")
    build.add_argument("--seed", type=int, help="benchmark seed (default: the profile's)")
    build.add_argument("--n-samples", type=int, help="override the profile's split size")
    build.add_argument(
        "--workers",
        type=int,
        help="worker processes (default: the profile's; with --cluster local: the cluster's)",
    )
    build.add_argument(
        "--cluster",
        default=None,
        metavar="ADDRESS",
        help="simulate the samples on a dask.distributed cluster: 'local' (a LocalCluster of "
        "--workers processes) or a scheduler address such as tcp://host:8786 whose workers see "
        "the output folder at the same path",
    )
    build.add_argument(
        "--out",
        type=Path,
        help="store path for one --split, or a directory for all splits "
        "(default: $PRELIB_DATA_DIR/synthetic/<profile>/seed<seed>/)",
    )
    build.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    scene = actions.add_parser("scene", help="simulate one lat/lon box to NetCDF")
    scene.add_argument(
        "--lat", type=float, nargs=2, required=True, metavar=("MIN", "MAX"), help="degrees N"
    )
    scene.add_argument(
        "--lon", type=float, nargs=2, required=True, metavar=("MIN", "MAX"), help="degrees E"
    )
    scene.add_argument("--time", required=True, help="end of the label hour, ISO UTC")
    scene.add_argument("--seed", type=int, default=0, help="world seed (0)")
    scene.add_argument("--regime", choices=REGIMES, help="force a regime (default: climatology)")
    scene.add_argument("--resolution-km", type=float, default=4.0, help="grid spacing in km (4)")
    scene.add_argument(
        "--sensors", nargs="+", default=["ir"], choices=("ir", "pmw", "pr"), help="default: ir"
    )
    scene.add_argument("--out", type=Path, required=True, help="output .nc file")

    case = actions.add_parser("case", help="simulate a named case study to NetCDF")
    case.add_argument("name", choices=CASE_STUDIES, help="the named case study")
    case.add_argument("--resolution-km", type=float, default=4.0, help="grid spacing in km (4)")
    case.add_argument(
        "--sensors", nargs="+", default=["ir"], choices=("ir", "pmw", "pr"), help="default: ir"
    )
    case.add_argument(
        "--out",
        type=Path,
        help="output .nc file (default: the catalog's location, "
        "$PRELIB_DATA_DIR/synthetic/cases/<name>.nc)",
    )

    calibrate = actions.add_parser(
        "calibrate",
        help="measure the world's difficulty with baselines: what IR / PMW / PR know per pixel "
        "(paper Table 8), the instant-vs-hourly ceiling and the swath -> disc shift of an IR "
        "U-Net (paper Table 4)",
    )
    calibrate.add_argument("--n-train", type=int, default=24, help="training swath scenes")
    calibrate.add_argument("--n-test", type=int, default=12, help="test swath scenes")
    calibrate.add_argument("--seed", type=int, default=0, help="world seed (0)")
    calibrate.add_argument(
        "--n-scans", type=int, default=128, help="along-track scans per scene (128)"
    )
    calibrate.add_argument(
        "--n-shift-train", type=int, default=96, help="wet scenes per domain to train U-Nets on"
    )
    calibrate.add_argument(
        "--n-shift-test", type=int, default=32, help="wet scenes per domain to test U-Nets on"
    )
    calibrate.add_argument("--shift-steps", type=int, default=300, help="U-Net training steps")


def _build(args: argparse.Namespace) -> int:
    from prelib.config import resolve
    from prelib.data.build.execution import cluster_runner

    cfg = resolve(args.profile, data={"seed": args.seed, "workers": args.workers})
    if args.cluster is None:
        return _build_splits(args, cfg, None)  # the data section's workers, local processes
    with cluster_runner(args.cluster, args.workers or 1) as runner:  # connects before any work
        return _build_splits(args, cfg, runner)


def _build_splits(args: argparse.Namespace, cfg, runner) -> int:
    from prelib.data.build.synthetic import build_benchmark

    splits = [args.split] if args.split else list(SPLITS)
    for split in splits:
        if args.out is None:
            out = None
        elif args.split:
            out = args.out
        else:
            out = args.out / f"{args.kind}_{split}.zarr"
        path = build_benchmark(
            args.kind,
            split,
            cfg,
            out=out,
            n_samples=args.n_samples,
            progress=not args.no_progress,
            runner=runner,
        )
        print(f"wrote {path}")
    return 0


def _scene(args: argparse.Namespace) -> int:
    from prelib.data.regions import simulate_region, write_scene

    scene = simulate_region(
        tuple(args.lat),
        tuple(args.lon),
        args.time,
        seed=args.seed,
        regime=args.regime,
        resolution_km=args.resolution_km,
        sensors=tuple(args.sensors),
    )
    print(
        f"wrote {write_scene(scene, args.out)} ({dict(scene.sizes)}, "
        f"regime {scene.attrs['regime']})"
    )
    return 0


def _case(args: argparse.Namespace) -> int:
    from prelib.data.regions import case_path, simulate_case, write_scene

    scene = simulate_case(args.name, args.resolution_km, tuple(args.sensors))
    out = args.out if args.out is not None else case_path(args.name)
    print(f"wrote {write_scene(scene, out)}: {scene.attrs['description']}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    # The study trains U-Nets, so it lives above the world (prelib.evaluation); imported lazily
    # so that the simulator itself never imports the model or training layers.
    try:
        from prelib.evaluation.world_calibration import calibrate_world, format_report
    except ImportError as err:  # the calibration study is optional for the rest of the CLI
        raise ValueError(f"the calibration study is not available: {err}") from None
    for name in ("n_train", "n_test", "n_scans", "n_shift_train", "n_shift_test", "shift_steps"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    results = calibrate_world(
        seed=args.seed,
        n_train=args.n_train,
        n_test=args.n_test,
        n_scans=args.n_scans,
        n_shift_train=args.n_shift_train,
        n_shift_test=args.n_shift_test,
        shift_steps=args.shift_steps,
    )
    print(format_report(results))
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the chosen action; returns the exit status."""
    actions = {"build": _build, "scene": _scene, "case": _case, "calibrate": _calibrate}
    return actions[args.action](args)

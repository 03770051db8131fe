"""``prelib build swath|fulldisc``: build Swath-MPR / Full-IPR benchmarks from real files.

Examples
--------
::

    prelib build swath --agri-dir /data/fy4a --gpm-dir /data/gpm --cldas-dir /data/cldas \\
        --out data/real/swath_2021.zarr --profile paper --workers 8
    prelib build fulldisc --agri-dir /data/fy4a --cldas-dir /data/cldas \\
        --out data/real/fulldisc_2022.zarr --cluster tcp://scheduler.example.org:8786

With ``--workers N`` (N > 1) the units run on a ``dask.distributed`` LocalCluster of N
single-threaded processes started for the build; ``--cluster ADDRESS`` runs them on a running
cluster instead (its workers must see the same folders); ``--scheduler processes|threads``
selects dask's local schedulers. Reruns resume: units already recorded in ``<out>.parts`` (same
file, same settings) are skipped. A granule that cannot be read is recorded as failed and the
build goes on; the command then exits with status 1 and a summary (``--fail-fast``: stop at the
first). The manifest ``<out>.manifest.json`` lists every input used, every rejection and failure
with its reason, and file names found in several folders.
"""

from __future__ import annotations

import argparse
import sys

from prelib.config import PROFILES
from prelib.data.build.execution import SCHEDULERS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``swath`` and ``fulldisc`` with their options."""
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    for kind, help_text in (
        ("swath", "Swath-MPR: AGRI + GMI 1C + DPR 2A + CLDAS on the DPR swath (256 x 49)"),
        ("fulldisc", "Full-IPR: AGRI + CLDAS on the 0.04 deg grid (256 x 256)"),
    ):
        sub = kinds.add_parser(kind, help=help_text, description=help_text)
        sub.add_argument("--agri-dir", required=True, help="folder with AGRI L1 FDI HDF files")
        if kind == "swath":
            sub.add_argument("--gpm-dir", required=True, help="folder with 2A-DPR granules")
            sub.add_argument(
                "--gmi-dir", default=None, help="folder with 1C-GMI granules (default: --gpm-dir)"
            )
        sub.add_argument("--cldas-dir", required=True, help="folder with CLDAS hourly files")
        sub.add_argument("--out", required=True, help="Zarr store to write (*.zarr)")
        sub.add_argument(
            "--profile",
            default="tiny",
            choices=PROFILES,
            help="data profile giving the dry-patch thresholds",
        )
        sub.add_argument(
            "--workers",
            type=int,
            default=1,
            help="parallel workers over the units and for the Zarr write",
        )
        sub.add_argument(
            "--scheduler",
            default=None,
            choices=SCHEDULERS,
            help="where the units run (default: distributed when --workers > 1 "
            "or --cluster is given, else synchronous)",
        )
        sub.add_argument(
            "--cluster",
            default=None,
            metavar="ADDRESS",
            help="address of a running dask.distributed scheduler, "
            "e.g. tcp://host:8786 (default: a LocalCluster of --workers)",
        )
        sub.add_argument(
            "--min-wet-fraction",
            type=float,
            default=None,
            help="drop patches with fewer rainy label pixels (default: the profile's)",
        )
        sub.add_argument(
            "--min-valid-fraction",
            type=float,
            default=None,
            help="drop patches with fewer valid label pixels (default: the profile's)",
        )
        sub.add_argument(
            "--fail-fast",
            action="store_true",
            help="stop at the first granule that cannot be processed (default: record it as "
            "failed in the manifest, go on, and exit with status 1 at the end)",
        )
        sub.add_argument("--no-progress", action="store_true", help="hide progress bars")


def run(args: argparse.Namespace) -> int:
    """Run the build; prints the store, sample and rejection counts and the manifest path."""
    from prelib.config import resolve
    from prelib.data.build.real import build_fulldisc_benchmark, build_swath_benchmark

    common = {
        "config": resolve(args.profile),
        "workers": args.workers,
        "scheduler": args.scheduler,
        "cluster": args.cluster,
        "progress": not args.no_progress,
        "min_wet_fraction": args.min_wet_fraction,
        "min_valid_fraction": args.min_valid_fraction,
        "fail_fast": args.fail_fast,
    }
    if args.kind == "swath":
        result = build_swath_benchmark(
            args.agri_dir, args.gpm_dir, args.cldas_dir, args.out, gmi_dir=args.gmi_dir, **common
        )
    else:
        result = build_fulldisc_benchmark(args.agri_dir, args.cldas_dir, args.out, **common)
    store = result.store if result.store is not None else "nothing written (no patch kept)"
    print(f"{args.kind}: {result.n_samples} samples, {result.n_rejections} rejections -> {store}")
    print(f"manifest: {result.manifest}")
    if result.n_failed:
        print(f"prelib build: {result.failure_summary()}", file=sys.stderr)
        return 1
    return 0 if result.n_samples else 1

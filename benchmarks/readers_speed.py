"""Read time per product file, and the real-data builder's throughput (granules per second).

Files are written first in the real layouts (prelib.writers) at full size where
the machine allows: AGRI FY-4A full disc 2748 x 2748 (14 channels), GMI 1C full granule
(2959 scans x 221 pixels), DPR 2A V07 FS with ``--dpr-scans`` scans (a full granule has 7925;
its two 176-bin float32 profiles hold ~1 GB), CLDAS Asia grid 1040 x 1600, IMERG global
1800 x 3600, PERSIANN-CCS 3000 x 9000. Each file is read ``--repeat`` times; the best and the
median wall times are printed. Then ``--granules`` synthetic overpasses are built into a
Swath-MPR store, in this process (``scheduler="synchronous"``) and on a ``dask.distributed``
LocalCluster of each of ``--workers`` worker counts, and the builder's granules/s is printed
(wall time of the whole build: cluster start-up, units and the Zarr write; each build starts
from an empty ``.parts`` folder). ``--builder-only`` skips the product reads.

Usage::

    python benchmarks/readers_speed.py [--dpr-scans 1000] [--repeat 3] [--granules 8]
                                       [--workers 1 2] [--builder-only]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def _time(function, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def write_files(root: Path, dpr_scans: int) -> dict[str, Path]:
    from prelib.writers.agri import write_agri_l1
    from prelib.writers.gpm import write_dpr_2a, write_gmi_1c, write_imerg
    from prelib.writers.grids import write_chrs_hourly, write_cldas

    rng = np.random.default_rng(0)
    files = {}
    disc = 2748
    bt = {f"C{k:02d}": (220 + 60 * rng.random((disc, disc), dtype=np.float32)) for k in (12, 13)}
    files["agri_l1 (full disc, 8 channels)"] = write_agri_l1(
        root, bt, np.datetime64("2021-07-20T06")
    )
    n, p = 2959, 221
    lat = np.linspace(-65, 65, n)[:, None] + np.zeros((1, p))
    lon = np.linspace(0, 300, n)[:, None] + np.linspace(0, 8, p)[None, :]
    times = np.datetime64("2021-07-20T06") + np.arange(n) * np.timedelta64(1875, "ms")
    files["gmi_1c (2959 x 221 x 13)"] = write_gmi_1c(
        root, lat, lon % 360 - 180, 200 + 80 * rng.random((n, p, 13)), times
    )
    lat = np.linspace(-20, 20, dpr_scans)[:, None] + np.zeros((1, 49))
    lon = 110 + np.linspace(0, 2, 49)[None, :] + np.zeros((dpr_scans, 1))
    z = np.where(rng.random((dpr_scans, 49, 176)) < 0.1, 30.0, np.nan).astype(np.float32)
    times = np.datetime64("2021-07-20T06") + np.arange(dpr_scans) * np.timedelta64(700, "ms")
    files[f"dpr_2a (V07 FS, {dpr_scans} x 49 x 176)"] = write_dpr_2a(root, lat, lon, z, times)
    glat = 0.03125 + 0.0625 * np.arange(1040)
    glon = 60.03125 + 0.0625 * np.arange(1600)
    files["cldas (1040 x 1600)"] = write_cldas(
        root, glat, glon, rng.gamma(0.3, 1.0, (1040, 1600)), np.datetime64("2021-07-20T07")
    )
    files["imerg (1800 x 3600)"] = write_imerg(
        root,
        -89.95 + 0.1 * np.arange(1800),
        -179.95 + 0.1 * np.arange(3600),
        rng.gamma(0.3, 1.0, (1800, 3600)),
        np.datetime64("2021-07-20T06:30"),
    )
    files["persiann_ccs (3000 x 9000)"] = write_chrs_hourly(
        root, rng.gamma(0.2, 1.0, (3000, 9000)).astype(np.float32), np.datetime64("2021-07-20T06")
    )
    return files


def _timed_build(inputs: Path, out: Path, **options) -> tuple[int, float]:
    from prelib.data.build.real import build_swath_benchmark

    start = time.perf_counter()
    result = build_swath_benchmark(
        inputs / "agri", inputs / "gpm", inputs / "cldas", out, progress=False, **options
    )
    return result.n_samples, time.perf_counter() - start


def time_builder(inputs: Path, out_dir: Path, n_granules: int, workers: list[int]) -> None:
    """Time the builder on the overpasses under ``inputs``: in this process, and for each worker
    count on a LocalCluster, both "cold" (the builder starts and stops its own cluster, whose
    workers import prelib and set up the DEM) and "warm" (a running cluster given by address,
    already used by one build). Every build starts from an empty ``.parts`` folder."""
    from distributed import LocalCluster

    print(f"{'builder':<28} {'workers':>7} {'samples':>7} {'wall s':>8} {'granules/s':>11}")

    def report(label: str, n: int, samples: int, elapsed: float) -> None:
        print(f"{label:<28} {n:>7} {samples:>7} {elapsed:8.2f} {n_granules / elapsed:11.2f}")

    report("synchronous", 1, *_timed_build(inputs, out_dir / "serial.zarr", workers=1))
    for n in workers:
        cold = _timed_build(inputs, out_dir / f"cold_{n}.zarr", workers=n, scheduler="distributed")
        report("distributed, own cluster", n, *cold)
        with LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            address = cluster.scheduler_address
            _timed_build(inputs, out_dir / f"warmup_{n}.zarr", workers=n, cluster=address)
            warm = _timed_build(inputs, out_dir / f"warm_{n}.zarr", workers=n, cluster=address)
        report("distributed, warm cluster", n, *warm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dpr-scans", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--granules", type=int, default=8)
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2],
        help="LocalCluster sizes to time the builder with",
    )
    parser.add_argument("--builder-only", action="store_true", help="skip the product reads")
    args = parser.parse_args()

    from prelib.readers import open_product

    with tempfile.TemporaryDirectory(prefix="prelib-readers-speed-") as tmp:
        root = Path(tmp)
        if not args.builder_only:
            print(f"{'product file':<40} {'size MB':>8} {'best s':>8} {'median s':>9}")
            for label, path in write_files(root / "files", args.dpr_scans).items():
                best, median = _time(lambda p=path: open_product(p), args.repeat)
                size = path.stat().st_size / 1e6
                print(f"{label:<40} {size:8.1f} {best:8.3f} {median:9.3f}")

        from prelib.writers.scenario import write_overpass

        inputs = root / "overpasses"
        for g in range(args.granules):
            start = np.datetime64("2021-07-20T00:04") + np.timedelta64(2 * g, "h")
            centre = (22.0 + 2 * (g % 6), 100.0 + 3 * (g % 8))  # inside the domain box
            write_overpass(inputs, start, centre=centre, granule=g + 1)
        print(f"builder input: {args.granules} synthetic overpasses (260 scans each)")
        time_builder(inputs, root, args.granules, args.workers)


if __name__ == "__main__":
    main()

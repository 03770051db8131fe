"""How fast the synthetic benchmarks build and stream, and how big their Zarr stores are.

Prints, per benchmark kind:

* build throughput (patches/s) of :func:`prelib.data.build.synthetic.build_benchmark` with 1 and 2
  worker processes (after a warm-up that loads the world's static data, which every build pays
  once: ≈ 5–15 s for the 1 GB land mask and the DEM);
* the store size per patch and per 1000 patches (extrapolated linearly from the patches built:
  one sample per compressed chunk, so size grows linearly with the count);
* ``DataLoader`` throughput from the Zarr store (items/s, no workers);
* on-the-fly ``DataLoader`` throughput (items/s) with 0 and 2 workers, and the number of
  workers needed to feed a GPU step budget (``--gpu-items-per-s``), extrapolated from the
  per-worker rate (on-the-fly generation is embarrassingly parallel across workers).

Usage::

    python benchmarks/data_build_speed.py --profile tiny
    python benchmarks/data_build_speed.py --profile demo --n-samples 32 --workers 1 2

Timings on a shared machine are noisy: run it on an idle one for numbers you report.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

from prelib.config import resolve
from prelib.data.build.synthetic import build_benchmark
from prelib.data.datasets import BenchmarkDataset, make_dataloader
from prelib.data.samples import generate_sample


def _size_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _loader_rate(dataset: BenchmarkDataset, workers: int) -> float:
    loader = make_dataloader(dataset, batch_size=1, num_workers=workers)
    start = time.perf_counter()
    count = sum(int(batch["index"].numel()) for batch in loader)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="tiny", choices=("tiny", "demo", "paper"))
    parser.add_argument("--kinds", nargs="+", default=["swath", "fulldisc"])
    parser.add_argument("--n-samples", type=int, help="patches per build (default: train size)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--loader-samples", type=int, default=8)
    parser.add_argument(
        "--gpu-items-per-s",
        type=float,
        default=64.0,
        help="items/s a GPU training step consumes (e.g. batch 32 at 2 it/s)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="prelib-bench-") as tmp:
        for kind in args.kinds:
            cfg = resolve(args.profile)
            config = cfg.data
            n = args.n_samples or config.size(kind, "train")
            start = time.perf_counter()
            generate_sample(kind, "train", 0, config)  # warm-up: static world data
            print(
                f"[{kind}] warm-up (first sample in a fresh process): "
                f"{time.perf_counter() - start:.1f} s"
            )
            for workers in args.workers:
                out = Path(tmp) / f"{kind}_w{workers}.zarr"
                start = time.perf_counter()
                build_benchmark(
                    kind,
                    "train",
                    cfg,
                    out=out,
                    n_samples=n,
                    workers=workers,
                    progress=False,
                )
                elapsed = time.perf_counter() - start
                size = _size_bytes(out)
                print(
                    f"[{kind}] build {n} patches, {workers} worker(s): {elapsed:.1f} s, "
                    f"{n / elapsed:.2f} patches/s; store {size / 1e6:.2f} MB = "
                    f"{size / n / 1e6:.2f} MB/patch -> {size / n * 1000 / 1e9:.2f} GB per 1000 "
                    "patches (extrapolated)"
                )
            stored = BenchmarkDataset.from_zarr(Path(tmp) / f"{kind}_w{args.workers[0]}.zarr")
            print(f"[{kind}] Zarr DataLoader, 0 workers: {_loader_rate(stored, 0):.1f} items/s")
            live = BenchmarkDataset.simulated(kind, "train", config, args.loader_samples)
            rates = {}
            for workers in (0, 2):
                rates[workers] = _loader_rate(live, workers)
                print(
                    f"[{kind}] on-the-fly DataLoader, {workers} worker(s): "
                    f"{rates[workers]:.2f} items/s"
                )
            per_worker = rates[0]
            needed = math.ceil(args.gpu_items_per_s / per_worker) if per_worker > 0 else -1
            print(
                f"[{kind}] per-worker rate {per_worker:.2f} items/s -> about {needed} workers "
                f"to feed {args.gpu_items_per_s:.0f} items/s (extrapolated, 1 core each)"
            )


if __name__ == "__main__":
    main()

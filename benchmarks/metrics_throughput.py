"""Throughput of the streaming metrics on paper-sized batches (32 patches of 256 × 256).

Prints, per metric (and for the paper's collection), the time of one ``update`` on a batch and
the pixels scored per second. CPU numbers; on a shared machine they are noisy.

Usage::

    python benchmarks/metrics_throughput.py [--batch 32] [--size 256] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from prelib.metrics import CRPS, PAPER_METRICS, MetricCollection, get_metric


def _rain(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    rain = rng.gamma(0.6, 2.0, size=shape).astype(np.float32)
    return np.where(rng.random(shape) < 0.3, rain, np.float32(0.0))


def _best_time(update, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        update()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--members", type=int, default=8, help="ensemble size for CRPS")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    shape = (args.batch, args.size, args.size)
    truth = _rain(rng, shape)
    truth[:, :8, :] = np.nan  # a missing strip, as over the sea in CLDAS
    pred = np.clip(truth * rng.lognormal(0, 0.4, shape).astype(np.float32), 0, None)
    members = np.clip(
        truth[:, None] + rng.normal(0, 1, (args.batch, args.members, *shape[1:])), 0, None
    )
    n_pixels = truth.size
    print(f"batch {shape}, float32 input, best of {args.repeats}")
    print(f"{'metric':<28}{'s / update':>12}{'Mpixel/s':>12}")

    cases = {name: get_metric(name) for name in (*PAPER_METRICS, "hss", "fss")}
    cases["collection(paper)"] = MetricCollection(PAPER_METRICS)
    cases["crps(members)"] = CRPS(member_axis=1)
    for name, metric in cases.items():
        inputs = (members if name == "crps(members)" else pred, truth)
        seconds = _best_time(lambda m=metric, i=inputs: m.update(*i), args.repeats)
        print(f"{name:<28}{seconds:>12.4f}{n_pixels / seconds / 1e6:>12.1f}")


if __name__ == "__main__":
    main()

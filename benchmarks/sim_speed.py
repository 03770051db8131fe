"""Speed of the synthetic world: scenes per second and the cost of each sensor.

Prints, for 256 x 49 swath scenes (ir + pmw + pr, i.e. 176 radar bins) and 256 x 256 grid
scenes (ir), the mean time per scene on one core, the time added by each sensor, and the
throughput with 1 and 2 worker processes. The static fields (land mask, terrain) are loaded once
per process before timing. Timings on a shared machine are noisy: run it on an idle one.

Usage::

    python benchmarks/sim_speed.py [--n 12] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

TIME = "2021-07-01T06"


def _swath(index: int, sensors=("ir", "pmw", "pr")) -> None:
    from prelib.sim import simulate_swath_scene

    simulate_swath_scene(TIME, seed=index, n_scans=256, sensors=sensors)


def _grid(index: int) -> None:
    from prelib.sim import simulate_grid_scene

    lat0 = 5.0 + (index % 40)
    simulate_grid_scene((lat0, lat0 + 10.24), (100.0, 110.24), TIME, seed=index, sensors=("ir",))


def _warm(_: int = 0) -> None:
    _swath(10_000)
    _grid(10_000)


def _mean_time(function, n: int, **kwargs) -> float:
    start = time.perf_counter()
    for i in range(n):
        function(i, **kwargs) if kwargs else function(i)
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=12, help="scenes per measurement")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    _warm()
    base = _mean_time(_swath, args.n, sensors=())
    print(f"swath 256x49, truth only         : {1000 * base:7.1f} ms/scene")
    for sensor in ("ir", "pmw", "pr"):
        cost = _mean_time(_swath, args.n, sensors=(sensor,)) - base
        print(f"  + {sensor:3s}                          : {1000 * cost:7.1f} ms")
    full = _mean_time(_swath, args.n)
    print(f"swath 256x49, ir+pmw+pr          : {1000 * full:7.1f} ms/scene (one core)")
    grid = _mean_time(_grid, args.n)
    print(f"grid 256x256, ir                 : {1000 * grid:7.1f} ms/scene (one core)")
    for workers in args.workers:
        with mp.get_context("spawn").Pool(workers) as pool:
            pool.map(_warm, range(workers))
            start = time.perf_counter()
            pool.map(_swath, range(args.n * workers))
            rate = args.n * workers / (time.perf_counter() - start)
        print(f"swath ir+pmw+pr, {workers} worker(s)       : {rate:7.2f} scenes/s")


if __name__ == "__main__":
    main()

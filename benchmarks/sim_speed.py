"""Speed of the synthetic world: scenes per second, the cost of each sensor and where time goes.

Prints, for 256 x 49 swath scenes (ir + pmw + pr, i.e. 176 radar bins) and 256 x 256 grid
scenes (ir), the mean time per scene on one core against the goals (swath <= 100 ms, grid <=
250 ms), the time added by each sensor (all as CPU time of the process, which waiting for a
core on a loaded machine does not inflate), a profile split (cumulative ms per scene of the world's
stages, from cProfile) and the throughput with 1 and 2 worker processes. The static fields
(land mask, terrain) are loaded once per process before timing. Timings on a shared machine are
noisy: run it on an idle one.

Usage::

    python benchmarks/sim_speed.py [--n 12] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing as mp
import os
import pstats
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


SWATH_GOAL_MS = 100.0
GRID_GOAL_MS = 250.0

STAGES = (
    ("weather (rain + hour)", "weather.py", "simulate_precipitation"),
    ("  noise fields (all)", "noise.py", "power_law_noise"),
    ("clouds", "clouds.py", "simulate_clouds"),
    ("IR (AGRI)", "ir.py", "agri_brightness_temperature"),
    ("PMW (GMI)", "pmw.py", "gmi_brightness_temperature"),
    ("PR (DPR)", "radar.py", "dpr_reflectivity_profile"),
    ("label (CLDAS)", "label.py", "cldas_label"),
    ("dataset assembly", "scene.py", "_dataset"),
)
"""(name, file, function) of the stages whose cumulative time the profile split prints."""


def _profile_split(function, n: int) -> dict[str, float]:
    """Cumulative ms per scene of each stage of :data:`STAGES` over ``n`` scenes."""
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for i in range(n):
        function(i)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    split = {}
    for name, filename, func in STAGES:
        total = sum(
            entry[3]
            for (path, _, fname), entry in stats.items()
            if fname == func and path.endswith(filename)
        )
        split[name] = 1000.0 * total / n
    return split


def _mean_time(function, n: int, **kwargs) -> float:
    """Mean seconds of CPU time per call (this process): on a shared, loaded machine the wall
    clock also counts the time spent waiting for a core, CPU time does not."""
    start = time.process_time()
    for i in range(n):
        function(i, **kwargs) if kwargs else function(i)
    return (time.process_time() - start) / n


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
    verdict = "meets" if 1000 * full <= SWATH_GOAL_MS else "misses"
    print(
        f"swath 256x49, ir+pmw+pr          : {1000 * full:7.1f} ms/scene (one core; "
        f"{verdict} the {SWATH_GOAL_MS:.0f} ms goal)"
    )
    grid = _mean_time(_grid, args.n)
    verdict = "meets" if 1000 * grid <= GRID_GOAL_MS else "misses"
    print(
        f"grid 256x256, ir                 : {1000 * grid:7.1f} ms/scene (one core; "
        f"{verdict} the {GRID_GOAL_MS:.0f} ms goal)"
    )
    print("profile split, cumulative CPU ms/scene (cProfile adds overhead):")
    swath_split = _profile_split(_swath, args.n)
    grid_split = _profile_split(_grid, args.n)
    print(f"  {'stage':24s} {'swath':>8s} {'grid':>8s}")
    for name, _, _ in STAGES:
        print(f"  {name:24s} {swath_split[name]:8.1f} {grid_split[name]:8.1f}")
    for workers in args.workers:
        with mp.get_context("spawn").Pool(workers) as pool:
            pool.map(_warm, range(workers))
            start = time.perf_counter()
            pool.map(_swath, range(args.n * workers))
            rate = args.n * workers / (time.perf_counter() - start)
        print(f"swath ir+pmw+pr, {workers} worker(s)       : {rate:7.2f} scenes/s")


if __name__ == "__main__":
    main()

"""Wall and CPU time of the ``tiny`` notebook pipeline, per notebook and in total.

Runs ``prelib pipeline run --profile tiny`` (every notebook of ``run_order.yaml``, through the
runner as the notebook tests and CI do) into a fresh temporary run folder and data folder, in a
child process, and prints for each notebook:

* the wall time (what the ≤ 60 s target of the ``tiny`` profile is about);
* the CPU time (user + sys) of the runner and of the kernels it started and reaped. CPU time is
  not inflated by waiting for a core, so on a shared machine it is the steadier number;
* the load average (``/proc/loadavg``, 1 min) when the notebook started.

Several variants can be compared in one run (``--tree A --tree B@1``: a source tree, and
optionally how many notebooks run at once, ``prelib pipeline run --jobs``; without ``@N`` the
tree's default): their runs are interleaved (A B A B …) so that all see the same machine load.
With several notebooks at once the per-notebook CPU column is not meaningful (a kernel's CPU
time is counted when it exits, whichever notebook was then running); the totals are.

The persistent caches of the synthetic world (land mask, terrain under ``PRELIB_DATA_DIR``) are
warm after the first run; the benchmark stores are always built afresh, as in CI.

Usage::

    python benchmarks/tiny_pipeline.py [--repeat 2] [--tree PATH[@JOBS] ...] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def _loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def _cpu() -> float:
    """CPU seconds (user + sys) of this process and of its reaped children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _child(root: Path, only: list[str] | None, jobs: int | None) -> None:
    """Run the pipeline in this process and print one JSON line of per-notebook timings."""
    from prelib.pipeline.runner import run_pipeline

    rows: dict[str, dict[str, float]] = {}
    marks: dict[str, tuple[float, float, float]] = {}

    def log(line: str) -> None:
        if ": running -> " in line:
            name = line.split("] ", 1)[1].split(":", 1)[0]
            marks[name] = (time.perf_counter(), _cpu(), _loadavg())
        elif ": ok in " in line:
            name = line.split("] ", 1)[1].split(":", 1)[0]
            wall0, cpu0, load = marks[name]
            rows[name] = {
                "wall": time.perf_counter() - wall0,
                "cpu": _cpu() - cpu0,
                "load": load,
            }

    t0, c0, load0 = time.perf_counter(), _cpu(), _loadavg()
    extra = {} if jobs is None else {"jobs": jobs}  # older trees have no jobs argument
    run_pipeline("tiny", only=only, output_root=root, log=log, data_root=root / "data", **extra)
    total = {"wall": time.perf_counter() - t0, "cpu": _cpu() - c0, "load": load0}
    result = {"rows": rows, "total": total}
    if jobs == 1:
        result["idle_estimate"] = _idle_estimate({k: v["cpu"] for k, v in rows.items()})
    print("RESULT " + json.dumps(result))


def _idle_estimate(cpu: dict[str, float], cores: int = 2) -> float | None:
    """Wall time of the run on an idle machine with ``cores`` cores, estimated by scheduling the
    notebooks' CPU times (measured one at a time) as the runner does with ``--jobs cores``: a
    notebook starts when what it needs has finished, the longest chain first. A model, not a
    measurement: it leaves out kernel start-up latency and the gain of extra threads."""
    try:
        from prelib.pipeline.runner import load_run_order, step_needs
    except ImportError:  # a tree whose runner runs one notebook at a time
        return None
    steps = [s for s in load_run_order() if s.name in cpu]
    needs = {s.name: step_needs(s, steps) & set(cpu) for s in steps}

    def chain(name: str) -> int:
        return 1 + max((chain(n) for n in needs if name in needs[n]), default=0)

    pending = sorted(cpu, key=lambda n: (-chain(n), [s.name for s in steps].index(n)))
    now, running, done = 0.0, {}, set()
    while pending or running:
        for name in list(pending):
            if len(running) < cores and needs[name] <= done:
                running[name] = now + cpu[name]
                pending.remove(name)
        name = min(running, key=running.get)
        now = running.pop(name)
        done.add(name)
    return now


def _run(tree: Path, jobs: int | None, only: list[str] | None) -> dict:
    """One pipeline run of ``tree`` in a child process (fresh imports, fresh folders)."""
    with tempfile.TemporaryDirectory(prefix="tiny_bench_") as tmp:
        env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="1")
        command = [sys.executable, str(Path(__file__).resolve()), "--child", tmp]
        for name in only or []:
            command += ["--only", name]
        if jobs is not None:
            command += ["--jobs", str(jobs)]
        load = _loadavg()
        t0 = time.perf_counter()
        done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
            raise SystemExit(f"pipeline of {tree} failed")
        line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")][-1]
        result = json.loads(line[len("RESULT ") :])
        result["process"] = {"wall": wall, "load": load}
        return result


def _print(label: str, result: dict) -> None:
    print(f"\n{label}")
    print(f"  {'notebook':32s} {'wall s':>7s} {'cpu s':>7s} {'load':>5s}")
    for name, row in result["rows"].items():
        print(f"  {name:32s} {row['wall']:7.1f} {row['cpu']:7.1f} {row['load']:5.1f}")
    total = result["total"]
    print(
        f"  {'pipeline (run_pipeline)':32s} {total['wall']:7.1f} {total['cpu']:7.1f} "
        f"{total['load']:5.1f}"
    )
    proc = result["process"]
    print(f"  {'process incl. imports':32s} {proc['wall']:7.1f} {'':>7s} {proc['load']:5.1f}")
    if result.get("idle_estimate") is not None:
        print(f"  {'estimate: idle, 2 at a time':32s} {result['idle_estimate']:7.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tree", action="append", help="source tree, optionally @JOBS (repeatable)"
    )
    parser.add_argument("--jobs", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=2, help="runs per tree, interleaved (2)")
    parser.add_argument("--only", action="append", help="run only these notebooks")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(Path(args.child), args.only, args.jobs)
        return
    variants = []
    for text in args.tree or [str(HERE)]:
        path, _, jobs = text.partition("@")
        variants.append((Path(path).resolve(), int(jobs) if jobs else None))
    print(f"tiny pipeline on {os.cpu_count()} CPUs (shared machine: see the load column)")
    for repeat in range(args.repeat):
        for tree, jobs in variants:
            result = _run(tree, jobs, args.only)
            label = f"jobs={jobs}" if jobs is not None else "default jobs"
            _print(f"run {repeat + 1}: {tree} ({label})", result)


if __name__ == "__main__":
    main()

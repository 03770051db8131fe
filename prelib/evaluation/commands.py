"""``prelib evaluate``: train what the paper's tables need, score them, write CSV + Markdown.

Examples::

    prelib evaluate --profile demo --tables 3 4 5 --seeds 0
    prelib evaluate --profile demo --tables 2 3 4 5 7 8 --seeds 0 1 2 --out outputs/eval
    prelib evaluate --profile demo --quick                # one comparison per table (demo)
    prelib evaluate --profile tiny --tables 4 --rows selfmask comwe_noadapt --epochs 1

Re-running the same command resumes: finished training runs (``last.pt`` at the last epoch)
and finished rows (cached scores) are skipped, an interrupted run resumes from its checkpoint.
Networks are shared between tables within one invocation and across invocations with the same
``--out``. Model selection uses the validation split only.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from prelib.config import PROFILES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``prelib evaluate``."""
    from prelib.evaluation.tables import TABLES

    parser.add_argument("--profile", choices=PROFILES, default="demo", help="size profile")
    parser.add_argument(
        "--tables",
        nargs="+",
        choices=TABLES,
        default=list(TABLES),
        help="paper tables to run (default: all)",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], help="training seeds")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default PRELIB_OUTPUT_DIR/<profile>/evaluation)",
    )
    parser.add_argument(
        "--rows",
        nargs="+",
        default=None,
        help="only these row keys (applies to every selected table)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one quick comparison per table (prelib.evaluation.tables.QUICK_ROWS)",
    )
    parser.add_argument(
        "--data",
        default="auto",
        help="'auto' (store if built, else on the fly), 'simulated', or a folder "
        "with <kind>_<split>.zarr",
    )
    for name, kind in (
        ("epochs", int),
        ("max-steps-per-epoch", int),
        ("batch-size", int),
        ("n-train", int),
        ("n-val", int),
        ("n-test", int),
    ):
        parser.add_argument(f"--{name}", type=kind, default=None, help="override the profile")
    parser.add_argument("--device", default=None, help="auto (default), cpu, cuda …")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument(
        "--cluster",
        default=None,
        metavar="ADDRESS",
        help="score the --seeds in parallel on a dask.distributed cluster, one task per seed "
        "(its training runs and rows; seeds share nothing): 'local' (a LocalCluster of "
        "--workers processes) or a scheduler address such as tcp://host:8786 whose workers see "
        "--out at the same path",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="processes of --cluster local (default 1)"
    )


def run(args: argparse.Namespace) -> int:
    """Run the selected tables; prints each table as Markdown. Returns 0 on success."""
    from prelib.config import resolve
    from prelib.evaluation.report import to_markdown
    from prelib.evaluation.tables import TABLE_TITLES, run_table
    from prelib.paths import profile_output_dir

    overrides = {
        k: v
        for k, v in (
            ("epochs", args.epochs),
            ("device", args.device),
            ("max_steps_per_epoch", args.max_steps_per_epoch),
            ("batch_size", args.batch_size),
        )
        if v is not None
    }
    cfg = resolve(
        args.profile,
        training=overrides,
        evaluation={"n_train": args.n_train, "n_val": args.n_val, "n_test": args.n_test},
    )
    out = args.out or profile_output_dir(args.profile) / "evaluation"
    if args.cluster is not None:
        _score_seeds_on_cluster(args, out)  # the pass below then reads the cached scores
    sessions: dict = {}
    for table in args.tables:
        started = time.perf_counter()
        summary = run_table(
            table,
            cfg,
            args.seeds,
            out,
            rows="quick" if args.quick else args.rows,
            data=args.data,
            sessions=sessions,
            show_progress=not args.no_progress,
        )
        if getattr(args, "quiet", False):
            continue
        metrics = [c for c in summary.columns if not c.endswith("_std") and c != "n_seeds"]
        print(to_markdown(summary, metrics, TABLE_TITLES[table]))
        print(
            f"(table {table}: {time.perf_counter() - started:.0f} s; files: "
            f"{summary.attrs['paths']['csv']}, {summary.attrs['paths']['markdown']})\n"
        )
    return 0


def _score_seeds_on_cluster(args: argparse.Namespace, out: Path) -> None:
    """Run every selected table for each seed as one task of ``--cluster``: each seed trains
    and scores in its own ``<out>/runs/seed-<seed>`` folder and caches its row scores there."""
    from prelib.data.build.execution import cluster_runner

    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    jobs = [
        argparse.Namespace(**{**vars(args), "seeds": [seed], "cluster": None, "out": out})
        for seed in dict.fromkeys(args.seeds)
    ]
    with cluster_runner(args.cluster, args.workers) as runner:  # connects before any work
        runner.map(_score_one_seed, jobs, name="evaluate")


def _score_one_seed(args: argparse.Namespace) -> int:
    """``prelib evaluate`` for one seed, its tables not printed (a dask task)."""
    return run(argparse.Namespace(**vars(args), quiet=True))

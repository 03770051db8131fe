"""``prelib study``: the settling study of PRE-Net's recipe (:mod:`prelib.evaluation.study`).

Examples::

    prelib study --out outputs/study                              # whole grid, seeds 0 1 2
    prelib study --out outputs/study --groups balance --seeds 0   # one group, one seed
    prelib study --out outputs/study --groups balance table4 --workers 12 --device cuda
    prelib study --profile tiny --out /tmp/s --groups balance --epochs 1 --max-steps-per-epoch 1

Re-running the same command resumes: trained networks (run folders named by the hash of their
configuration, which the settings are part of) and scored rows are skipped. Defaults of the
non-balance groups are picked on the validation split from the balance group
(``--default WEIGHTING:CLIP`` fixes them instead).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from prelib.config import PROFILES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``prelib study``."""
    from prelib.evaluation.study import GROUPS

    parser.add_argument("--out", type=Path, required=True, help="output folder (resumable)")
    parser.add_argument("--profile", choices=PROFILES, default="study", help="size profile")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="training seeds")
    parser.add_argument(
        "--groups", nargs="+", choices=GROUPS, default=list(GROUPS), help="study groups"
    )
    parser.add_argument("--rows", nargs="+", default=None, help="only these row keys")
    parser.add_argument(
        "--default",
        default=None,
        metavar="WEIGHTING:CLIP",
        help="Stage-I default of the non-balance rows, e.g. code:0 (default: picked on "
        "validation from the balance rows)",
    )
    parser.add_argument(
        "--data",
        default="auto",
        help="'auto' (store if built, else on the fly), 'simulated', or a folder "
        "with <kind>_<split>.zarr",
    )
    for name in ("epochs", "max-steps-per-epoch", "batch-size", "workers"):
        parser.add_argument(f"--{name}", type=int, default=None, help="override the profile")
    for name in ("n-train", "n-val", "n-test"):
        parser.add_argument(f"--{name}", type=int, default=None, help="split size override")
    parser.add_argument("--device", default=None, help="auto (default), cpu, cuda …")
    parser.add_argument(
        "--materialise",
        type=int,
        default=0,
        metavar="N",
        help="generate every split once with N processes and keep it in memory (GPU machines)",
    )
    parser.add_argument(
        "--data-cache",
        type=Path,
        default=None,
        help="with --materialise: keep the generated splits as .npy files here (shared by "
        "parallel processes)",
    )
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="only generate the splits (with --materialise / --data-cache) and exit",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="write the report from the scores already cached under --out; train nothing",
    )
    parser.add_argument("--progress", action="store_true", help="show progress bars")


def _default(text: str | None):
    from prelib.evaluation.study import StudySetting
    from prelib.models.config import WEIGHTINGS

    if text is None:
        return None
    try:
        weighting, clip = text.split(":")
        setting = StudySetting(weighting=weighting, grad_clip=float(clip))
    except ValueError as err:
        raise SystemExit(f"--default must look like paper:1 or code:0, got {text!r}") from err
    if weighting not in WEIGHTINGS or setting.grad_clip < 0:
        raise SystemExit(f"--default: weighting one of {list(WEIGHTINGS)}, clip >= 0; got {text!r}")
    return setting


def run(args: argparse.Namespace) -> int:
    """Run the study; prints progress lines and the report's path. Returns 0 on success."""
    from prelib.evaluation.study import report_cached, run_study

    if args.report_only:
        result = report_cached(args.out, _default(args.default))
        print(f"report: {result['paths']['markdown']} ({len(result['records'])} records)")
        return 0

    training = {
        k: v
        for k, v in (
            ("epochs", args.epochs),
            ("max_steps_per_epoch", args.max_steps_per_epoch),
            ("batch_size", args.batch_size),
            ("num_workers", args.workers),
            ("device", args.device),
        )
        if v is not None
    }
    evaluation = {
        k: v
        for k, v in (("n_train", args.n_train), ("n_val", args.n_val), ("n_test", args.n_test))
        if v is not None
    }
    started = time.perf_counter()
    result = run_study(
        args.out,
        profile=args.profile,
        seeds=args.seeds,
        groups=args.groups,
        rows=args.rows,
        data=args.data,
        training_overrides=training,
        evaluation_overrides=evaluation,
        default=_default(args.default),
        show_progress=args.progress,
        materialise_workers=args.materialise,
        data_cache=args.data_cache,
        prepare_only=args.prepare_only,
        log=lambda line: print(f"[{time.perf_counter() - started:7.1f} s] {line}", flush=True),
    )
    if args.prepare_only:
        return 0
    print(f"report: {result['paths']['markdown']} ({time.perf_counter() - started:.0f} s)")
    return 0

"""``prelib train teacher|distill|adapt``: the three training stages from the command line.

Examples::

    prelib train teacher --profile demo                       # Stage 0, reg and cls
    prelib train distill --profile demo --variant comwe       # Stage I (students: none, kd, mgd,
                                                              #   mkd, rmkd, comwe)
    prelib train adapt --profile demo --variant selfmask      # Stage II (scratch, kd_nonmask,
                                                              #   comwe_noadapt, nonmask,
                                                              #   randmask, selfmask)

Data: the profile's synthetic benchmark store under ``PRELIB_DATA_DIR`` when it exists (``prelib
simulate``), otherwise samples generated on the fly (``--data simulated``), or a directory holding
``<kind>_train.zarr`` / ``<kind>_val.zarr``. Runs write into the run folder (``--run-dir``, default
``PRELIB_OUTPUT_DIR/<profile>``, the folder the notebook pipeline uses) at
``models/<teacher|student-<variant>|adapted-<variant>>/<task>/`` (:mod:`prelib.workflow.artefacts`);
a finished run is loaded, an interrupted one resumes, and the networks a stage starts from
(the teacher of a student, the Stage-I student of an adaptation) are trained first when missing.
Multi-GPU: ``torchrun --nproc_per_node=4 -m prelib train adapt ...`` (no other change).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from prelib.config import PROFILES
from prelib.paths import profile_output_dir
from prelib.training.stages import ADAPT_VARIANTS, TASKS

STUDENTS: tuple[str, ...] = ("none", "kd", "mgd", "mkd", "rmkd", "comwe")
DEFAULT_VARIANT = {"teacher": None, "distill": "comwe", "adapt": "selfmask"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``prelib train``."""
    parser.add_argument("stage", choices=("teacher", "distill", "adapt"), help="training stage")
    parser.add_argument("--profile", choices=PROFILES, default="demo", help="size profile")
    parser.add_argument(
        "--task",
        choices=(*TASKS, "both"),
        default="both",
        help="regression (reg), rain/no-rain classification (cls) or both",
    )
    parser.add_argument(
        "--variant",
        default=None,
        help=f"distill: one of {list(STUDENTS)} (default comwe); adapt: one of "
        f"{list(ADAPT_VARIANTS)} (default selfmask)",
    )
    parser.add_argument(
        "--modalities",
        default=None,
        help="teacher modality subset, e.g. ir,pmw (default: ir,pmw,pr)",
    )
    parser.add_argument(
        "--data",
        default="auto",
        help="'auto' (store if built, else on the fly), 'simulated', or a folder "
        "with <kind>_train.zarr and <kind>_val.zarr",
    )
    parser.add_argument(
        "--run-dir",
        type=Path,
        default=None,
        help="run folder (default PRELIB_OUTPUT_DIR/<profile>, as the notebook pipeline)",
    )
    parser.add_argument(
        "--teacher",
        type=Path,
        default=None,
        help="distill: Stage-0 checkpoint to distil from (default: the run's teacher, trained "
        "first when missing)",
    )
    parser.add_argument(
        "--stage1",
        type=Path,
        default=None,
        help="adapt: Stage-I checkpoint to start from (default: the run's student)",
    )
    for name, kind in (
        ("epochs", int),
        ("lr", float),
        ("batch-size", int),
        ("num-workers", int),
        ("seed", int),
        ("max-steps-per-epoch", int),
    ):
        parser.add_argument(f"--{name}", type=kind, default=None, help="override the profile")
    parser.add_argument("--device", default=None, help="auto (default), cpu, cuda, cuda:1 …")
    parser.add_argument(
        "--reset-decoder",
        action="store_true",
        help="adapt: re-initialise the decoder as the reference code does",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument(
        "--no-validation",
        action="store_true",
        help="train without a validation split: best.pt is then selected on the training "
        "metrics (by default an empty validation split is an error)",
    )


def _variant(stage: str, variant: str | None) -> str | None:
    variant = variant or DEFAULT_VARIANT[stage]
    allowed = {"distill": STUDENTS, "adapt": ADAPT_VARIANTS}.get(stage)
    if stage == "teacher" and variant is not None:
        raise ValueError("--variant does not apply to the teacher stage")
    if allowed is not None and variant not in allowed:
        raise ValueError(f"--variant for {stage} must be one of {list(allowed)}, got {variant!r}")
    return variant


def default_run_dir(profile: str) -> Path:
    """The run folder of ``profile``: ``PRELIB_OUTPUT_DIR/<profile>`` (see
    :mod:`prelib.workflow.artefacts` for what lies inside)."""
    return profile_output_dir(profile)


def run(args: argparse.Namespace) -> int:
    """Run one stage for one or both tasks; returns 0 on success."""
    from prelib.config import resolve
    from prelib.training import distributed
    from prelib.workflow import (
        BenchmarkData,
        RunLayout,
        ensure_adapted,
        ensure_student,
        ensure_teacher,
    )

    variant = _variant(args.stage, args.variant)
    cfg = resolve(
        args.profile,
        seed=args.seed,
        device=args.device,
        training={
            "epochs": args.epochs,
            "lr": args.lr,
            "batch_size": args.batch_size,
            "num_workers": args.num_workers,
            "max_steps_per_epoch": args.max_steps_per_epoch,
        },
    )
    modalities = tuple(args.modalities.split(",")) if args.modalities else None
    layout = RunLayout(args.run_dir or default_run_dir(args.profile))
    data = BenchmarkData(
        cfg, layout, args.data, validation=not getattr(args, "no_validation", False)
    )
    progress = not args.no_progress
    common = {"data": data, "show_progress": progress}
    for task in TASKS if args.task == "both" else (args.task,):
        if args.stage == "teacher":
            result = ensure_teacher(cfg, layout, task, modalities, **common)
        elif args.stage == "distill":
            result = ensure_student(
                cfg, layout, variant, task, teacher_checkpoint=args.teacher, **common
            )
        else:
            result = ensure_adapted(
                cfg,
                layout,
                variant,
                task,
                reset_decoder=args.reset_decoder,
                stage1_checkpoint=args.stage1,
                **common,
            )
        if not distributed.is_main_process():
            continue  # under torchrun the summary is rank 0's alone
        label = " ".join(p for p in (args.stage, variant, task) if p)
        config = cfg.training.stage(args.stage)
        if not result.history:
            print(f"{label}: saved un-adapted weights to {result.checkpoint}")
            continue
        best = min(
            (row for row in result.history if config.best_metric in row),
            key=lambda row: row[config.best_metric] * (1 if config.best_mode == "min" else -1),
            default=None,
        )
        what = "trained" if result.trained else "already trained"
        if best is None:
            print(f"{label}: {what}; checkpoints in {result.run_dir}")
        else:
            print(
                f"{label}: {what}; best {config.best_metric} = {best[config.best_metric]} at "
                f"epoch {best['epoch']}; checkpoints in {result.run_dir}"
            )
    return 0

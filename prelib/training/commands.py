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
``<kind>_train.zarr`` / ``<kind>_val.zarr``. Runs write to
``PRELIB_OUTPUT_DIR/<profile>/training/<stage>-<variant>-<task>/`` and resume when re-run.
Multi-GPU: ``torchrun --nproc_per_node=4 -m prelib train adapt ...`` (no other change).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from prelib.config import PROFILES
from prelib.paths import profile_output_dir
from prelib.training.config import load_training_config
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
    parser.add_argument("--run-dir", type=Path, default=None, help="output folder (per task)")
    parser.add_argument("--teacher", type=Path, default=None, help="Stage-0 checkpoint (distill)")
    parser.add_argument("--stage1", type=Path, default=None, help="Stage-I checkpoint (adapt)")
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


def _variant(stage: str, variant: str | None) -> str | None:
    variant = variant or DEFAULT_VARIANT[stage]
    allowed = {"distill": STUDENTS, "adapt": ADAPT_VARIANTS}.get(stage)
    if stage == "teacher" and variant is not None:
        raise ValueError("--variant does not apply to the teacher stage")
    if allowed is not None and variant not in allowed:
        raise ValueError(f"--variant for {stage} must be one of {list(allowed)}, got {variant!r}")
    return variant


def default_run_dir(
    profile: str, stage: str, variant: str | None, task: str, mods: str = ""
) -> Path:
    """``<outputs>/<profile>/training/<stage>[-<variant>][-<modalities>]-<task>``."""
    parts = [stage, *([variant] if variant else []), *([mods] if mods else []), task]
    return profile_output_dir(profile) / "training" / "-".join(parts)


def _datasets(kind: str, profile: str, data: str):
    from prelib.data.datasets import BenchmarkDataset
    from prelib.data.store import benchmark_path

    out = []
    for split in ("train", "val"):
        if data == "simulated":
            out.append(BenchmarkDataset.simulated(kind, split, profile))
            continue
        path = (
            benchmark_path(kind, split, profile)
            if data == "auto"
            else Path(data) / f"{kind}_{split}.zarr"
        )
        if path.exists():
            out.append(BenchmarkDataset.from_zarr(path, kind))
        elif data == "auto":
            out.append(BenchmarkDataset.simulated(kind, split, profile))
        else:
            raise FileNotFoundError(f"no {kind} {split} store at {path}")
    return out


def run(args: argparse.Namespace) -> int:
    """Run one stage for one or both tasks; returns 0 on success."""
    from prelib.data.datasets import make_dataloader
    from prelib.training import distributed, stages

    variant = _variant(args.stage, args.variant)
    config = load_training_config(
        args.profile,
        args.stage,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        seed=args.seed,
        device=args.device,
        max_steps_per_epoch=args.max_steps_per_epoch,
    )
    modalities = tuple(args.modalities.split(",")) if args.modalities else None
    mods = "+".join(modalities) if modalities else ""
    kind = "fulldisc" if args.stage == "adapt" else "swath"
    train_set, val_set = _datasets(kind, args.profile, args.data)
    train = make_dataloader(
        train_set, config.batch_size, shuffle=True, num_workers=config.num_workers, seed=config.seed
    )
    val = make_dataloader(val_set, config.batch_size, num_workers=config.num_workers)
    progress = not args.no_progress
    for task in TASKS if args.task == "both" else (args.task,):
        run_dir = (
            args.run_dir / task
            if args.run_dir
            else default_run_dir(args.profile, args.stage, variant, task, mods)
        )
        if args.stage == "teacher":
            result = stages.train_teacher(
                train, val, run_dir, args.profile, task, modalities, config, progress
            )
        elif args.stage == "distill":
            teacher = (
                args.teacher
                or default_run_dir(args.profile, "teacher", None, task, mods) / "last.pt"
            )
            result = stages.train_swath_distilling(
                train,
                val,
                run_dir,
                teacher if variant != "none" else None,
                args.profile,
                task,
                variant,
                modalities,
                config,
                progress,
            )
        else:
            source = "kd" if variant == "kd_nonmask" else "comwe"
            stage1 = (
                args.stage1 or default_run_dir(args.profile, "distill", source, task) / "last.pt"
            )
            result = stages.train_full_disc_adaptation(
                train,
                val,
                run_dir,
                None if variant == "scratch" else stage1,
                args.profile,
                task,
                variant,
                config,
                reset_decoder=args.reset_decoder,
                show_progress=progress,
            )
        if not distributed.is_main_process():
            continue  # under torchrun the summary is rank 0's alone
        if result is None:
            print(f"{args.stage} {variant} {task}: saved un-adapted weights to {run_dir}/last.pt")
        else:
            label = " ".join(p for p in (args.stage, variant, task) if p)
            print(
                f"{label}: best {config.best_metric} = "
                f"{result.best_value} at epoch {result.best_epoch}; checkpoints in {run_dir}"
            )
    return 0

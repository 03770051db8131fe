"""``prelib downscale``: train the bias-correction / downscaling models and write the table.

::

    prelib downscale train    --profile demo --data synthetic
    prelib downscale evaluate --profile demo --data mrms      # trains first if needed

Outputs go to ``<output>/<profile>/downscaling/<data>/``: one checkpoint per model,
``history.json`` (losses per epoch), ``evaluation.csv`` / ``evaluation.md`` (the table) and
``summary.json`` (data sizes and settings). MRMS results are semi-synthetic (real radar truth,
simulated satellite errors).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from prelib.config import PROFILES

ACTIONS: tuple[str, ...] = ("train", "evaluate")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``prelib downscale``."""
    parser.add_argument("action", choices=ACTIONS, help="train the models, or evaluate them")
    parser.add_argument(
        "--profile", default="demo", choices=PROFILES, help="size profile (default demo)"
    )
    parser.add_argument(
        "--data",
        default="synthetic",
        choices=("synthetic", "mrms"),
        help="synthetic PRE world or MRMS radar (semi-synthetic)",
    )
    parser.add_argument("--output", type=Path, default=None, help="output root directory")
    parser.add_argument("--seed", type=int, default=None, help="override the profile's seed")
    parser.add_argument("--epochs", type=int, default=None, help="epochs for every model")
    parser.add_argument("--members", type=int, default=None, help="ensemble size")
    parser.add_argument("--retrain", action="store_true", help="ignore existing checkpoints")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")


def run(args: argparse.Namespace) -> int:
    """Run the action; returns the exit status."""
    from prelib.atomic import write_json
    from prelib.downscaling.config import load_downscaling_config
    from prelib.downscaling.evaluation import to_markdown, write_table
    from prelib.downscaling.experiment import (
        build_pairs,
        describe_data,
        evaluate_models,
        load_models,
        train_models,
    )
    from prelib.paths import profile_output_dir
    from prelib.runtime import setup

    epochs = args.epochs
    config = load_downscaling_config(
        args.profile,
        seed=args.seed,
        n_members=args.members,
        epochs_maunet=epochs,
        epochs_student=epochs,
        epochs_diffusion=epochs,
    )
    setup(config.seed, "cpu", args.threads)
    root = args.output or profile_output_dir(args.profile)
    directory = Path(root) / "downscaling" / args.data
    start = time.perf_counter()
    train, test = build_pairs(config, args.data)
    print(f"data: {describe_data(train, test)}")
    models = None
    if args.action == "evaluate" and not args.retrain:
        try:
            models = load_models(config, directory)
            print(f"loaded checkpoints from {directory}")
        except (FileNotFoundError, ValueError) as err:
            print(f"training ({err})")
    if models is None:
        train_start = time.perf_counter()
        models, _ = train_models(config, train, directory)
        print(f"trained in {time.perf_counter() - train_start:.0f} s; checkpoints in {directory}")
    summary = {"profile": args.profile, "data": describe_data(train, test)}
    summary["config"] = config.to_dict()
    if args.action == "evaluate":
        table = evaluate_models(config, models, train, test)
        label = "semi-synthetic MRMS" if args.data == "mrms" else "synthetic PRE world"
        title = f"Downscaling x{config.factor}, {label}, profile {args.profile}"
        paths = write_table(table, directory, "evaluation", title)
        print(to_markdown(table, title))
        print(f"table: {paths['csv']} and {paths['md']}")
    summary["seconds"] = time.perf_counter() - start
    write_json(directory / f"summary_{args.action}.json", summary)
    return 0

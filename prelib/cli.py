"""The ``prelib`` command line (console script and ``python -m prelib``).

Each subcommand lives with the concept it serves: the module named in :data:`SUBCOMMANDS`
exposes ``add_arguments(parser)`` and ``run(args) -> int``. The module is imported only when its
subcommand runs (or ``--help`` is asked of it), so ``prelib --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from prelib import __version__

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "simulate": (
        "prelib.sim.commands",
        "generate the synthetic PRE world: scenes, benchmarks, calibration",
    ),
    "build": ("prelib.readers.commands", "build Swath-MPR / Full-IPR from real product files"),
    "train": (
        "prelib.training.commands",
        "train the teacher, distil the student, adapt to the full disc",
    ),
    "evaluate": (
        "prelib.evaluation.commands",
        "score models and baselines; write the paper's tables",
    ),
    "study": (
        "prelib.evaluation.study_commands",
        "the settling study: loss balance, KD methods, adaptation (seeded, resumable)",
    ),
    "infer": ("prelib.inference.commands", "tiled precipitation retrieval over a region and time"),
    "downscale": (
        "prelib.downscaling.commands",
        "bias correction and downscaling (MAUNet, PrecipDiff)",
    ),
    "pipeline": ("prelib.pipeline.commands", "run the papermill notebook pipeline"),
}


def _load(name: str):
    module_name, _ = SUBCOMMANDS[name]
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and module_name.startswith(err.name):
            return None
        raise


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser; only the ``selected`` subcommand's module is imported."""
    parser = argparse.ArgumentParser(
        prog="prelib",
        description="Precipitation Retrieval Expansion (PRE-Net) and satellite-precipitation "
        "bias correction / downscaling.",
    )
    parser.add_argument("--version", action="version", version=f"prelib {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == selected:
            module = _load(name)
            if module is not None:
                module.add_arguments(sub_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    selected = next((a for a in argv if not a.startswith("-")), None)
    selected = selected if selected in SUBCOMMANDS else None
    parser = build_parser(selected)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    module = _load(args.command)
    if module is None:
        print(f"prelib {args.command}: not available in this version yet", file=sys.stderr)
        return 2
    try:
        return int(module.run(args) or 0)
    except (ValueError, FileNotFoundError) as err:
        print(f"prelib {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

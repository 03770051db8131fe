"""The ``prelib`` command line (console script and ``python -m prelib``).

Each subcommand lives with the concept it serves: the module named in :data:`SUBCOMMANDS`
exposes ``add_arguments(parser)`` and ``run(args) -> int``. The module is imported only when its
subcommand runs (or ``--help`` is asked of it), so ``prelib --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

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
    "baseline": (
        "prelib.baselines.commands",
        "fit a classical IR baseline (gpi, ae, persiann_ccs, gbm) and save it as .npz",
    ),
    "study": (
        "prelib.evaluation.study_commands",
        "the settling study: loss balance, KD methods, adaptation (seeded, resumable)",
    ),
    "infer": ("prelib.inference.commands", "tiled precipitation retrieval over a region and time"),
    "export": ("prelib.inference.export", "export the composed retrieval (ONNX) for deployment"),
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
        _add_common_flags(sub_parser)
        if name == selected:
            module = _load(name)
            if module is not None:
                module.add_arguments(sub_parser)
    return parser


def _add_common_flags(parser: argparse.ArgumentParser) -> None:
    """``--overwrite`` and ``--debug``, accepted by every subcommand."""
    group = parser.add_argument_group("safety and diagnostics")
    group.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing outputs that prelib did not write (by default they are kept "
        "and the command stops with an error)",
    )
    group.add_argument("--debug", action="store_true", help="show the full traceback of an error")


def _negative_numbers_as_values(argv: list[str]) -> list[str]:
    """Join ``--option -40,-30,0,10`` into ``--option=-40,-30,0,10``: argparse would otherwise
    read a value starting with ``-`` and containing a comma as an unknown option."""
    joined: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        following = argv[i + 1] if i + 1 < len(argv) else None
        if (
            arg.startswith("--")
            and "=" not in arg
            and following is not None
            and following.startswith("-")
            and "," in following
            and following.lstrip("-")[:1].isdigit()
        ):
            joined.append(f"{arg}={following}")
            i += 2
            continue
        joined.append(arg)
        i += 1
    return joined


def _one_line(command: str, err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return f"prelib {command}: error: {text} (rerun with --debug for the traceback)"


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status.

    Every error prelib raises (and any ``OSError``, ``ValueError`` or ``KeyError``) becomes one
    line on stderr and exit status 2 (1 for an unexpected error); ``--debug`` shows the
    traceback instead. ``--overwrite`` lets the command replace outputs prelib did not write.
    """
    from prelib.atomic import overwrite_allowed
    from prelib.errors import PrelibError

    argv = _negative_numbers_as_values(list(sys.argv[1:] if argv is None else argv))
    # the common flags are accepted anywhere, also after a nested subcommand (build swath ...)
    debug = "--debug" in argv
    overwrite = "--overwrite" in argv
    argv = [a for a in argv if a not in ("--debug", "--overwrite")]
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
        with overwrite_allowed(overwrite):
            return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print(f"prelib {args.command}: interrupted", file=sys.stderr)
        return 130
    except (PrelibError, OSError, ValueError, KeyError, MemoryError) as err:
        if debug:
            traceback.print_exc()
        print(_one_line(args.command, err), file=sys.stderr)
        return 2
    except Exception as err:  # an unexpected error: still one line, but say it is a bug
        if debug:
            traceback.print_exc()
        print(
            _one_line(args.command, err).replace(
                "error:", f"unexpected {type(err).__name__} (please report it):", 1
            ),
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

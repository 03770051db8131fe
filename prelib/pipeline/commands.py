"""``prelib pipeline run|list|figures``: the notebook pipeline from the command line."""

from __future__ import annotations

import argparse
import ast
import sys

from prelib.config import PROFILES


def _parse_override(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-actions ``run``, ``list`` and ``figures``."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    run = actions.add_parser("run", help="execute the notebooks with papermill")
    run.add_argument(
        "--profile", default="demo", choices=PROFILES, help="size profile (default demo)"
    )
    run.add_argument("--only", nargs="+", metavar="NAME", help="run only these notebooks")
    run.add_argument("--seed", type=int, default=0, help="seed passed to every notebook (0)")
    run.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 …")
    run.add_argument("--output-root", help="the run folder (default: $PRELIB_OUTPUT_DIR/<profile>)")
    run.add_argument(
        "--data-dir", help="folder of the benchmark stores (default: $PRELIB_DATA_DIR or ./data)"
    )
    run.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="notebooks run at once, each when the notebooks it needs have finished "
        "(run_order.yaml); default 2 for tiny on two or more cores, else 1",
    )
    run.add_argument(
        "-p",
        "--parameter",
        action="append",
        type=_parse_override,
        default=[],
        metavar="KEY=VALUE",
        help="override a notebook parameter (repeatable)",
    )
    actions.add_parser("list", help="show the run order")
    figures = actions.add_parser("figures", help="copy curated figures into figures/")
    figures.add_argument(
        "--profile", default="demo", choices=PROFILES, help="profile of the finished run"
    )
    figures.add_argument("--output-root", help="run folder (default: $PRELIB_OUTPUT_DIR/<profile>)")


def run(args: argparse.Namespace) -> int:
    """Dispatch the sub-action; pipeline errors print a message and exit 1."""
    from prelib.pipeline.runner import PipelineError, curate_figures, load_run_order, run_pipeline

    try:
        if args.action == "list":
            for step in load_run_order():
                print(f"{step.name:32s} {step.purpose}")
            return 0
        if args.action == "figures":
            for path in curate_figures(args.profile, args.output_root):
                print(path)
            return 0
        summary = run_pipeline(
            args.profile,
            only=args.only,
            output_root=args.output_root,
            seed=args.seed,
            device=args.device,
            overrides=dict(args.parameter),
            data_root=args.data_dir,
            jobs=args.jobs,
        )
    except PipelineError as err:
        print(f"prelib pipeline: {err}", file=sys.stderr)
        return 1
    print(f"\npipeline '{summary['profile']}' finished in {summary['seconds']} s:")
    for name, record in summary["notebooks"].items():
        print(f"  {name:32s} {record['seconds']:7.1f} s  -> {record['output']}")
    return 0

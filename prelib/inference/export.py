"""``prelib export --format onnx``: the composed retrieval as one ONNX graph, for operational use.

The exported graph maps normalised IR tiles ``ir`` (batch, 8, tile, tile) — (BT − 100 K) / 400 K,
missing pixels filled — to ``precip`` (batch, 1, tile, tile) in mm h-1: both networks with LoRA
merged and BatchNorm folded (:func:`prelib.models.preparation.prepare_for_inference`), and
the rain-mask × rate composition. The batch dimension is dynamic; the tile size is fixed at
export (the AE's positional ramp is resized to the token grid of that size). Run it with
ONNX Runtime::

    import onnxruntime as ort
    session = ort.InferenceSession("prenet.onnx", providers=["CPUExecutionProvider"])
    precip = session.run(None, {"ir": tiles})[0]

Tiling, blending and masking stay outside the graph (:mod:`prelib.inference.engine`); the
graph is what runs per tile. Examples::

    prelib export --format onnx --profile demo --variant selfmask --output prenet.onnx
"""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

import torch

from prelib.atomic import atomic_path

EXPORT_FORMATS: tuple[str, ...] = ("onnx",)
ONNX_OPSET = 17


def export_onnx(
    retrieval: torch.nn.Module,
    path: str | os.PathLike,
    tile: int = 256,
    opset: int = ONNX_OPSET,
) -> Path:
    """Export a (prepared) retrieval ``x (B, 8, tile, tile) -> precip (B, 1, tile, tile)``.

    Parameters
    ----------
    retrieval : nn.Module
        E.g. :class:`~prelib.inference.composition.TwoNetworkRetrieval`; it is prepared for
        inference on a copy (CPU, contiguous layout) before export.
    path : path
        Output ``.onnx`` file, written atomically.
    tile : int
        Tile size fixed in the graph.
    opset : int
        ONNX opset.

    Returns
    -------
    Path
    """
    from prelib.conventions import N_IR
    from prelib.models.preparation import prepare_for_inference

    model = prepare_for_inference(retrieval, "cpu", channels_last=False)
    example = torch.zeros(1, N_IR, tile, tile)
    path = Path(path)
    with atomic_path(path) as tmp, warnings.catch_warnings():
        # The tracer warns about the Python shape checks; they are constant for a fixed tile.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (example,),
            str(tmp),
            dynamo=False,
            input_names=["ir"],
            output_names=["precip"],
            dynamic_axes={"ir": {0: "batch"}, "precip": {0: "batch"}},
            opset_version=opset,
        )
    return path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``prelib export``."""
    from prelib.config import PROFILES

    parser.add_argument(
        "--format", choices=EXPORT_FORMATS, default="onnx", help="export format (onnx)"
    )
    parser.add_argument("--profile", choices=PROFILES, default="demo", help="model profile")
    parser.add_argument("--variant", default="selfmask", help="Full-Disc Adaptation variant")
    parser.add_argument(
        "--run-dir",
        type=Path,
        default=None,
        help="run folder holding models/ (default PRELIB_OUTPUT_DIR/<profile>, e.g. outputs/demo)",
    )
    parser.add_argument(
        "--cls-checkpoint",
        type=Path,
        default=None,
        help="rain/no-rain classifier checkpoint (default: the run folder's adapted model)",
    )
    parser.add_argument(
        "--reg-checkpoint",
        type=Path,
        default=None,
        help="rain-rate regressor checkpoint (default: the run folder's adapted model)",
    )
    parser.add_argument("--tile", type=int, default=256, help="tile size fixed in the graph")
    parser.add_argument("--no-clamp", action="store_true", help="keep negative regression values")
    parser.add_argument("--output", type=Path, required=True, help="output .onnx path")


def run(args: argparse.Namespace) -> int:
    """Load the adapted networks, export, and check the graph with ONNX Runtime if present."""
    from prelib.config import resolve
    from prelib.inference.composition import TwoNetworkRetrieval
    from prelib.paths import profile_output_dir
    from prelib.workflow.networks import load_retrieval_networks

    nets = load_retrieval_networks(
        args.run_dir or profile_output_dir(args.profile),
        args.variant,
        resolve(args.profile),
        {task: getattr(args, f"{task}_checkpoint") for task in ("cls", "reg")},
    )
    retrieval = TwoNetworkRetrieval(nets["cls"], nets["reg"], clamp_negative=not args.no_clamp)
    path = export_onnx(retrieval, args.output, tile=args.tile)
    size_mb = path.stat().st_size / 2**20
    print(f"wrote {path} ({size_mb:.1f} MB): ir (batch, 8, {args.tile}, {args.tile}) -> precip")
    return 0

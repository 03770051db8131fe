"""Inference: the paper's classification × regression composition, the streaming full-disc
engine, tiled prediction with smooth blending, CF NetCDF / Zarr output and ONNX export.

Modules: :mod:`~prelib.inference.engine` (one fused, bounded-memory pass over any region up to
the full disc), :mod:`~prelib.inference.sources` (in-memory scenes, AGRI L1 files by bands),
:mod:`~prelib.inference.writers` (chunk-wise NetCDF / Zarr), :mod:`~prelib.inference.tiling`
(tile layout and blend windows), :mod:`~prelib.models.preparation` (LoRA merge, BatchNorm
folding, channels-last), :mod:`~prelib.inference.composition`,
:mod:`~prelib.inference.retrieval` (arrays → xarray), :mod:`~prelib.inference.export` (ONNX).
Import the sub-modules directly (``from prelib.inference.engine import infer``).
"""

"""Inference: the paper's classification × regression composition, tiled prediction over any
region with smooth blending, and CF-annotated precipitation output (xarray / NetCDF).

Import the sub-modules directly (``from prelib.inference.tiling import predict_tiled``).
"""

"""Checks and grid operations on precipitation fields: validation, coarsening, interpolation.

Every bias-correction and downscaling method (the networks of :mod:`prelib.models.maunet` and
:mod:`prelib.models.precipdiff`, the baselines :mod:`prelib.baselines.quantile_mapping` and
:mod:`prelib.baselines.rainfarm`, the pairs of :mod:`prelib.downscaling.data`) moves fields
between a coarse grid (``(…, h, w)``, e.g. 0.1° ≈ 10 km) and a fine grid
``(…, h·factor, w·factor)`` (≈ 1 km). The helpers here are the single place where the inputs
are checked (non-negative, finite, integer factors that divide the fine grid) and where fields
are coarsened (block max or mean) and interpolated (nearest, bilinear, bicubic). The
interpolations double as the simplest baselines of the evaluation table.

Arrays are numpy ``float32`` in mm h-1 unless stated; the last two axes are ``(y, x)``.
"""

from __future__ import annotations

import numpy as np

COARSEN_METHODS: tuple[str, ...] = ("max", "mean")
INTERPOLATIONS: tuple[str, ...] = ("nearest", "bilinear", "bicubic")


def check_precip(field: np.ndarray, name: str = "precip", allow_nan: bool = False) -> np.ndarray:
    """Return ``field`` as float32 after checking it is a non-negative precipitation array.

    Parameters
    ----------
    field : array-like, shape ``(..., y, x)``
        Precipitation rate in mm h-1.
    name : str
        Used in the error message.
    allow_nan : bool
        Whether NaN (missing) pixels are accepted; infinities never are.

    Raises
    ------
    ValueError
        If the array has fewer than two dimensions, holds negative values, or holds NaN
        (unless ``allow_nan``) or infinite values.
    """
    array = np.asarray(field, dtype=np.float32)
    if array.ndim < 2:
        raise ValueError(f"{name} must have at least 2 dims (..., y, x), got shape {array.shape}")
    if np.isinf(array).any():
        raise ValueError(f"{name} holds infinite values; expected finite mm h-1")
    nan = np.isnan(array)
    if nan.any() and not allow_nan:
        raise ValueError(
            f"{name} holds {int(nan.sum())} NaN value(s); expected a complete field "
            "(mask or fill missing pixels first)"
        )
    if (array[~nan] < 0).any():
        raise ValueError(
            f"{name} holds negative precipitation (min {float(np.nanmin(array)):.3g} mm h-1); "
            "expected values >= 0"
        )
    return array


def check_factor(factor: int, fine_shape: tuple[int, ...] | None = None) -> int:
    """Return ``factor`` if it is a positive integer that divides the fine grid's last two dims.

    Raises
    ------
    ValueError
        If ``factor`` is not a positive integer or does not divide ``fine_shape[-2:]``.
    """
    if isinstance(factor, bool) or not isinstance(factor, int | np.integer) or factor < 1:
        raise ValueError(f"resolution factor must be a positive integer, got {factor!r}")
    if fine_shape is not None:
        y, x = fine_shape[-2:]
        if y % factor or x % factor:
            raise ValueError(
                f"resolution factor {factor} does not divide the fine grid {y} x {x}; "
                f"expected both sizes to be multiples of {factor}"
            )
    return int(factor)


def check_grids(coarse_shape: tuple[int, ...], fine_shape: tuple[int, ...], factor: int) -> None:
    """Raise ``ValueError`` unless ``fine_shape[-2:] == factor * coarse_shape[-2:]``."""
    expected = (coarse_shape[-2] * factor, coarse_shape[-1] * factor)
    if tuple(fine_shape[-2:]) != expected:
        raise ValueError(
            f"grids do not match: coarse {tuple(coarse_shape[-2:])} x factor {factor} "
            f"= {expected}, but the fine grid is {tuple(fine_shape[-2:])}"
        )


def coarsen(field: np.ndarray, factor: int, method: str = "mean") -> np.ndarray:
    """Aggregate non-overlapping ``factor × factor`` blocks.

    Parameters
    ----------
    field : np.ndarray, shape ``(..., H, W)``
        Fine field; ``H`` and ``W`` must be multiples of ``factor``. NaN propagates to the block
        (a block with a missing pixel is missing), so coverage gaps never count as dry.
    factor : int
        Block side in pixels.
    method : {"mean", "max"}
        ``"max"`` is PrecipDiff's pre-processing (max-value pooling keeps the peaks, Dai &
        Ushijima-Mwesigwa 2025); ``"mean"`` conserves the area-average rate.

    Returns
    -------
    np.ndarray, shape ``(..., H / factor, W / factor)``
    """
    if method not in COARSEN_METHODS:
        raise ValueError(f"coarsen method must be one of {list(COARSEN_METHODS)}, got {method!r}")
    array = np.asarray(field, dtype=np.float32)
    factor = check_factor(factor, array.shape)
    *lead, height, width = array.shape
    blocks = array.reshape(*lead, height // factor, factor, width // factor, factor)
    reduce = np.max if method == "max" else np.mean
    return reduce(blocks, axis=(-3, -1)).astype(np.float32)


def upsample(field: np.ndarray, factor: int, method: str = "bilinear") -> np.ndarray:
    """Interpolate a coarse field onto the grid ``factor`` times finer (cell-centre aligned).

    Bicubic overshoot is clipped at 0 so that the result stays a precipitation rate.

    Parameters
    ----------
    field : np.ndarray, shape ``(..., h, w)``
        Coarse field in mm h-1 (finite).
    factor : int
        Resolution factor.
    method : {"nearest", "bilinear", "bicubic"}

    Returns
    -------
    np.ndarray, shape ``(..., h·factor, w·factor)``, float32
    """
    import torch
    import torch.nn.functional as F

    if method not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {list(INTERPOLATIONS)}, got {method!r}")
    factor = check_factor(factor)
    array = np.asarray(field, dtype=np.float32)
    *lead, height, width = array.shape
    tensor = torch.from_numpy(np.ascontiguousarray(array.reshape(-1, 1, height, width)))
    out = upsample_tensor(tensor, factor, method)
    if method == "bicubic":
        out = F.relu(out)
    return out.numpy().reshape(*lead, height * factor, width * factor)


def upsample_tensor(tensor, factor: int, method: str = "bilinear"):
    """Torch version of :func:`upsample` on ``(B, C, h, w)`` tensors (no clipping)."""
    import torch.nn.functional as F

    if factor == 1:
        return tensor
    if method == "nearest":
        return F.interpolate(tensor, scale_factor=factor, mode="nearest")
    return F.interpolate(tensor, scale_factor=factor, mode=method, align_corners=False)

"""Turning what callers pass to a metric (numpy, xarray, torch) into checked float64 arrays.

Every accumulator in :mod:`prelib.metrics` goes through :func:`prepare_pair` (or
:func:`prepare_ensemble` for CRPS), so the rules are the same everywhere:

* ``pred`` and ``truth`` must have the same shape (after aligning xarray dimension order);
* ``valid`` is ``None`` or a boolean mask of exactly that shape;
* the effective mask is ``valid & isfinite(pred) & isfinite(truth)``: a NaN or infinite value in
  either field removes the pixel from every count, it is never counted as dry;
* values are returned as float64 so that the sums behind every score are accumulated in double
  precision whatever the input dtype (float16/bfloat16 torch tensors included).

torch is never imported here: a tensor is recognised by its ``detach`` / ``cpu`` methods.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

ArrayLike = Any
"""A numpy array, an ``xarray.DataArray``, a ``torch.Tensor`` or anything ``np.asarray`` takes."""


def is_torch_tensor(value: Any) -> bool:
    """Whether ``value`` is a ``torch.Tensor`` (checked without importing torch)."""
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def is_dataarray(value: Any) -> bool:
    """Whether ``value`` is an ``xarray.DataArray`` (checked without importing xarray)."""
    return type(value).__name__ == "DataArray" and hasattr(value, "dims")


def to_numpy(value: ArrayLike, name: str) -> np.ndarray:
    """Return ``value`` as a numpy array without copying numpy input.

    Parameters
    ----------
    value : array-like
        numpy array, ``xarray.DataArray`` (dask-backed ones are computed), ``torch.Tensor`` (moved
        to the CPU with ``.detach().cpu()``; half and bfloat16 are widened to float32 first) or a
        nested sequence.
    name : str
        Argument name used in error messages.

    Raises
    ------
    ValueError
        If ``value`` is ``None``, an ``xarray.Dataset`` or cannot be converted to a numeric or
        boolean array.
    """
    if value is None:
        raise ValueError(f"{name}: expected an array, got None")
    if type(value).__name__ == "Dataset" and hasattr(value, "data_vars"):
        raise ValueError(f"{name}: expected an xarray.DataArray, got an xarray.Dataset")
    if is_torch_tensor(value):
        tensor = value.detach().cpu()
        if tensor.is_floating_point() and tensor.element_size() < 4:
            tensor = tensor.float()  # numpy has no bfloat16
        return tensor.numpy()
    if is_dataarray(value):
        return np.asarray(value.values)
    array = np.asarray(value)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ):
        raise ValueError(f"{name}: expected a numeric array, got dtype {array.dtype}")
    return array


def _align_dataarrays(pred: ArrayLike, truth: ArrayLike) -> tuple[ArrayLike, ArrayLike]:
    """Transpose an ``xarray`` ``truth`` to ``pred``'s dimension order when both are DataArrays."""
    if is_dataarray(pred) and is_dataarray(truth) and pred.dims != truth.dims:
        if set(pred.dims) != set(truth.dims):
            raise ValueError(
                f"pred and truth have different dimensions: pred {pred.dims}, truth {truth.dims}"
            )
        truth = truth.transpose(*pred.dims)
    return pred, truth


def as_float64(array: np.ndarray, name: str) -> np.ndarray:
    """``array`` as float64, raising ``ValueError`` for boolean, complex or non-numeric data."""
    if array.dtype == np.bool_:
        raise ValueError(
            f"{name}: expected numeric values (e.g. mm h-1), got a boolean array; pass "
            "0/1 values with .astype(float) if these are events"
        )
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{name}: expected a numeric array, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise ValueError(f"{name}: expected a real-valued array, got dtype {array.dtype}")
    return np.asarray(array, dtype=np.float64)


def prepare_valid(
    valid: ArrayLike | None, shape: tuple[int, ...], reference: ArrayLike | None = None
) -> np.ndarray:
    """Check a caller's validity mask and return it as a boolean array of ``shape``.

    Parameters
    ----------
    valid : array-like of bool or None
        ``True`` where a pixel is to be scored. ``None`` means all pixels.
    shape : tuple of int
        The shape of the truth field the mask belongs to.
    reference : DataArray, optional
        When both ``valid`` and ``reference`` are DataArrays, ``valid`` is transposed to the
        reference's dimension order first.

    Raises
    ------
    ValueError
        If the mask is not boolean or its shape differs from ``shape``.
    """
    if valid is None:
        return np.ones(shape, dtype=bool)
    if reference is not None and is_dataarray(valid) and is_dataarray(reference):
        if set(valid.dims) == set(reference.dims):
            valid = valid.transpose(*reference.dims)
    mask = to_numpy(valid, "valid")
    if mask.dtype != np.bool_:
        raise ValueError(
            f"valid: expected a boolean mask (True = score this pixel), got dtype {mask.dtype}"
        )
    if mask.shape != tuple(shape):
        raise ValueError(f"valid: expected shape {tuple(shape)} (the truth's), got {mask.shape}")
    return mask


def prepare_pair(
    pred: ArrayLike, truth: ArrayLike, valid: ArrayLike | None = None, min_ndim: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check and convert one batch of a deterministic prediction and its truth.

    Parameters
    ----------
    pred, truth : array-like, same shape ``(sample, ...)``
        Prediction and reference, e.g. precipitation in mm h-1.
    valid : array-like of bool, same shape, optional
        Extra mask of pixels to score.
    min_ndim : int
        Fewest dimensions the metric needs (2 for spatial metrics, which work on the last two).

    Returns
    -------
    pred, truth : np.ndarray of float64
    valid : np.ndarray of bool
        ``valid & isfinite(pred) & isfinite(truth)``.

    Raises
    ------
    ValueError
        On mismatched shapes, too few dimensions, non-numeric data or a bad mask.
    """
    pred, truth = _align_dataarrays(pred, truth)
    reference = truth
    pred_array = as_float64(to_numpy(pred, "pred"), "pred")
    truth_array = as_float64(to_numpy(truth, "truth"), "truth")
    if pred_array.shape != truth_array.shape:
        raise ValueError(
            f"pred and truth must have the same shape, got pred {pred_array.shape} "
            f"and truth {truth_array.shape}"
        )
    if pred_array.ndim < min_ndim:
        raise ValueError(
            f"expected arrays with at least {min_ndim} dimension(s), got shape {pred_array.shape}"
        )
    mask = prepare_valid(valid, truth_array.shape, reference)
    mask = mask & np.isfinite(pred_array) & np.isfinite(truth_array)
    return pred_array, truth_array, mask


def check_threshold(threshold: float, name: str = "threshold") -> float:
    """Return ``threshold`` as a float, raising ``ValueError`` unless it is a finite number."""
    if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.number):
        raise ValueError(f"{name} must be a finite number, got {threshold!r}")
    value = float(threshold)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {threshold!r}")
    return value


def check_window(size: int, name: str) -> int:
    """Return ``size`` as an int, raising ``ValueError`` unless it is a positive integer."""
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise ValueError(f"{name} must be a positive integer, got {size!r}")
    return int(size)


def check_spatial_samples(shape: tuple[int, ...], per_sample: bool) -> None:
    """Spatial metrics score the last two dims; per-sample ones also need a leading sample axis.

    Raises
    ------
    ValueError
        If ``per_sample`` and the arrays are not at least ``(sample, y, x)``.
    """
    if per_sample and len(shape) < 3:
        raise ValueError(
            "per-sample aggregation of a spatial metric needs arrays shaped (sample, ..., y, x), "
            f"got shape {tuple(shape)}"
        )


def group_rows(array: np.ndarray, per_sample: bool) -> np.ndarray:
    """Reshape to ``(group, -1)``: one group (pooled) or one per leading-axis sample."""
    if per_sample:
        if array.ndim < 2:
            raise ValueError(
                "per-sample aggregation needs arrays shaped (sample, ...) with at least 2 "
                f"dimensions, got shape {array.shape}"
            )
        return array.reshape(array.shape[0], -1)
    return array.reshape(1, -1)

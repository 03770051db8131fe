"""The benchmark schema check shared by the synthetic and the real-data paths.

:func:`validate_benchmark` checks a stacked benchmark (a ``sample`` dimension first) against
the layout of :mod:`prelib.conventions`: variable names, dimension order and sizes, dtypes,
``units`` attributes, and the ``time`` coordinate. It raises ``ValueError`` naming the first
missing or wrong variable, dimension or unit, so a builder that drifts from the schema fails
loudly instead of training on something else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from prelib.conventions import (
    DIM_BIN,
    DIM_IR_CHANNEL,
    DIM_PMW_CHANNEL,
    DIM_RAY,
    DIM_SAMPLE,
    DIM_SCAN,
    DIM_X,
    DIM_Y,
    DOMAIN_LAT,
    DOMAIN_LON,
    FULL_DISC_PATCH_SHAPE,
    N_IR,
    N_PMW,
    N_PR,
    SWATH_PATCH_SHAPE,
    UNITS_BT,
    UNITS_ELEVATION,
    UNITS_LAT,
    UNITS_LON,
    UNITS_PRECIP,
    UNITS_REFLECTIVITY,
    VAR_ELEVATION,
    VAR_IR,
    VAR_LAT,
    VAR_LON,
    VAR_PMW,
    VAR_PR,
    VAR_PRECIP,
    VAR_TIME,
)
from prelib.data.benchmark_config import check_kind


@dataclass(frozen=True)
class VariableSpec:
    """Expected layout of one schema variable (dims after ``sample``; units; float32 or not)."""

    dims: tuple[str, ...]
    units: str
    float32: bool = True


def _spatial(kind: str) -> tuple[tuple[str, str], tuple[int, int]]:
    if kind == "swath":
        return (DIM_SCAN, DIM_RAY), SWATH_PATCH_SHAPE
    return (DIM_Y, DIM_X), FULL_DISC_PATCH_SHAPE


def schema_variables(kind: str) -> dict[str, VariableSpec]:
    """The required variables (data or coordinate) of a benchmark kind, without ``time``."""
    (a, b), _ = _spatial(check_kind(kind))
    spec = {VAR_IR: VariableSpec((DIM_IR_CHANNEL, a, b), UNITS_BT)}
    if kind == "swath":
        spec[VAR_PMW] = VariableSpec((DIM_PMW_CHANNEL, a, b), UNITS_BT)
        spec[VAR_PR] = VariableSpec((DIM_BIN, a, b), UNITS_REFLECTIVITY)
    spec[VAR_PRECIP] = VariableSpec((a, b), UNITS_PRECIP)
    spec[VAR_ELEVATION] = VariableSpec((a, b), UNITS_ELEVATION)
    spec[VAR_LAT] = VariableSpec((a, b), UNITS_LAT)
    spec[VAR_LON] = VariableSpec((a, b), UNITS_LON)
    return spec


def expected_sizes(kind: str) -> dict[str, int]:
    """Required dimension sizes of a benchmark kind (all dims but ``sample``)."""
    (a, b), (na, nb) = _spatial(check_kind(kind))
    sizes = {a: na, b: nb, DIM_IR_CHANNEL: N_IR}
    if kind == "swath":
        sizes.update({DIM_PMW_CHANNEL: N_PMW, DIM_BIN: N_PR})
    return sizes


def validate_benchmark(ds: xr.Dataset, kind: str, check_values: bool = False) -> xr.Dataset:
    """Check that ``ds`` is a Swath-MPR (``kind="swath"``) or Full-IPR (``"fulldisc"``) benchmark.

    Parameters
    ----------
    ds : xarray.Dataset
        Stacked samples, e.g. from :func:`prelib.data.store.open_benchmark`; may be lazy.
    kind : {"swath", "fulldisc"}
    check_values : bool
        Also load the first sample and check physical ranges: finite IR in [100, 400] K where
        present, non-negative labels, coordinates inside 0–65°N, 60–160°E, and at least one
        valid label pixel. Off by default so that validating a paper-size store stays cheap.

    Returns
    -------
    xarray.Dataset
        ``ds`` itself, so the call can be chained.

    Raises
    ------
    ValueError
        Naming the missing/wrong variable, dimension, size, dtype or unit.
    """
    check_kind(kind)
    if not isinstance(ds, xr.Dataset):
        raise ValueError(f"expected an xarray.Dataset, got {type(ds).__name__}")
    if DIM_SAMPLE not in ds.dims:
        raise ValueError(
            f"{kind} benchmark: missing dimension {DIM_SAMPLE!r}; dims are {dict(ds.sizes)}"
        )
    if ds.sizes[DIM_SAMPLE] < 1:
        raise ValueError(f"{kind} benchmark: dimension {DIM_SAMPLE!r} is empty")
    for dim, size in expected_sizes(kind).items():
        if dim not in ds.dims:
            raise ValueError(
                f"{kind} benchmark: missing dimension {dim!r}; dims are {dict(ds.sizes)}"
            )
        if ds.sizes[dim] != size:
            raise ValueError(
                f"{kind} benchmark: dimension {dim!r} must have size {size}, got {ds.sizes[dim]}"
            )
    for name, spec in schema_variables(kind).items():
        if name not in ds.variables:
            raise ValueError(f"{kind} benchmark: missing variable {name!r}")
        var = ds.variables[name]
        dims = (DIM_SAMPLE, *spec.dims)
        if tuple(var.dims) != dims:
            raise ValueError(
                f"{kind} benchmark: variable {name!r} must have dims {dims}, got {var.dims}"
            )
        if spec.float32 and var.dtype != np.float32:
            raise ValueError(
                f"{kind} benchmark: variable {name!r} must be float32, got {var.dtype}"
            )
        units = var.attrs.get("units")
        if units != spec.units:
            raise ValueError(
                f"{kind} benchmark: variable {name!r} must have units {spec.units!r}, got {units!r}"
            )
    if VAR_TIME not in ds.variables:
        raise ValueError(f"{kind} benchmark: missing variable {VAR_TIME!r}")
    time = ds.variables[VAR_TIME]
    if tuple(time.dims) != (DIM_SAMPLE,) or not np.issubdtype(time.dtype, np.datetime64):
        raise ValueError(
            f"{kind} benchmark: variable {VAR_TIME!r} must be datetime64 with dims ('sample',), "
            f"got {time.dtype} with dims {time.dims}"
        )
    if check_values:
        _check_first_sample(ds.isel({DIM_SAMPLE: 0}).load(), kind)
    return ds


def _check_first_sample(sample: xr.Dataset, kind: str) -> None:
    ir = sample[VAR_IR].values
    finite_ir = ir[np.isfinite(ir)]
    if finite_ir.size and (finite_ir.min() < 100.0 or finite_ir.max() > 400.0):
        raise ValueError(
            f"{kind} benchmark: variable 'ir' must be brightness temperature in [100, 400] K, "
            f"got [{finite_ir.min():.1f}, {finite_ir.max():.1f}] (counts or radiances?)"
        )
    precip = sample[VAR_PRECIP].values
    if not np.isfinite(precip).any():
        raise ValueError(f"{kind} benchmark: variable 'precip' of sample 0 has no valid pixel")
    if np.nanmin(precip) < 0:
        raise ValueError(
            f"{kind} benchmark: variable 'precip' has negative rates ({np.nanmin(precip)})"
        )
    for name, (low, high) in ((VAR_LAT, DOMAIN_LAT), (VAR_LON, DOMAIN_LON)):
        values = sample[name].values
        if not np.isfinite(values).all() or values.min() < low or values.max() > high:
            raise ValueError(
                f"{kind} benchmark: variable {name!r} must lie in [{low}, {high}] degrees, got "
                f"[{np.nanmin(values):.2f}, {np.nanmax(values):.2f}]"
            )

"""Validation at the door: units, fill values, physical ranges, valid fractions, network inputs.

Every value that enters prelib from a file passes through here once, so that garbage is either
converted, masked with a word, or refused with a message naming the file and the variable —
never silently carried into a benchmark or a trained model.

* :func:`to_canonical_units` converts known units (``degC`` → K with a warning, ``kg m-2 s-1`` →
  mm h-1) and refuses unknown ones;
* :func:`mask_fill` turns the products' fill codes (:data:`prelib.conventions.FILL_VALUES`,
  ±inf, |x| ≥ 1e30) into NaN;
* :func:`clean_field` does both, then masks values outside the physical range
  (:data:`prelib.conventions.VALID_RANGES`) and refuses a field that is mostly outside it (wrong
  units or scaling), or (``require_valid=True``) one that is all fill
  (:class:`~prelib.readers.errors.AllFillError`);
* :func:`sample_problems` lists why a benchmark sample must not be used (a modality under its
  minimum valid fraction, values out of range);
* :func:`check_network_inputs` refuses a batch whose normalised inputs are non-finite or absurdly
  large where the input-valid mask does not cover them, naming the sample.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

from prelib.conventions import (
    FILL_VALUES,
    MIN_VALID_FRACTION,
    UNITS_BT,
    UNITS_PRECIP,
    UNITS_REFLECTIVITY,
    VALID_RANGES,
    VAR_IR,
    VAR_PMW,
    VAR_PR,
    VAR_PRECIP,
)
from prelib.errors import AllFillError, InvalidDataError

HUGE_AS_FILL = 1e29
"""Magnitudes at or above this are fill codes (1e30 and the like), never data."""

MAX_OUT_OF_RANGE_FRACTION = 0.5
"""A field with more than this fraction of its non-fill values outside the physical range is
refused (wrong units or scaling) instead of masked."""

MAX_NORMALISED_MAGNITUDE = 1e3
"""Largest |value| a normalised network input may have where it is flagged valid (physical
inputs normalise to about [-1, 3])."""

_QUANTITY = {VAR_IR: "temperature", VAR_PMW: "temperature", VAR_PR: "reflectivity"}
_QUANTITY[VAR_PRECIP] = "rate"

_IDENTITY = {
    "temperature": {"k", "kelvin", "kelvins", "degk", "deg_k"},
    "rate": {"mm h-1", "mm/h", "mm/hr", "mm hr-1", "mm h^-1", "mm h**-1", "mmh-1", "mm per hour"},
    "reflectivity": {"dbz", "dbz_e", "db"},
}
_CANONICAL = {"temperature": UNITS_BT, "rate": UNITS_PRECIP, "reflectivity": UNITS_REFLECTIVITY}
_CELSIUS = {"degc", "deg_c", "c", "°c", "celsius", "degree_celsius", "degrees_celsius"}
_FLUX = {"kg m-2 s-1", "kg/m2/s", "kg m^-2 s^-1", "kg m**-2 s**-1", "mm s-1", "mm/s"}


def _norm_units(units: str) -> str:
    return " ".join(str(units).strip().lower().split())


def to_canonical_units(
    values: np.ndarray, units: str | None, variable: str, *, source: str = "<input>"
) -> np.ndarray:
    """``values`` converted to the canonical units of ``variable`` (K, mm h-1, dBZ).

    Parameters
    ----------
    values : numpy.ndarray
        Any shape.
    units : str or None
        The file's unit string; ``None`` or ``""`` means "as documented" (canonical).
    variable : {"ir", "pmw", "pr", "precip"}
    source : str
        File (and dataset) named in messages.

    Returns
    -------
    numpy.ndarray
        float32, a new array when converted.

    Raises
    ------
    prelib.errors.InvalidDataError
        An unknown unit: the value cannot be trusted.
    """
    quantity = _QUANTITY[variable]
    values = np.asarray(values, dtype=np.float32)
    if units is None or not str(units).strip():
        return values
    unit = _norm_units(units)
    if unit in _IDENTITY[quantity]:
        return values
    if quantity == "temperature" and unit in _CELSIUS:
        warnings.warn(
            f"{source}: {variable} is in {units!r}; converted to K (+273.15)", stacklevel=2
        )
        return values + np.float32(273.15)
    if quantity == "rate" and unit in _FLUX:
        warnings.warn(
            f"{source}: {variable} is in {units!r}; converted to mm h-1 (x 3600)", stacklevel=2
        )
        return values * np.float32(3600.0)
    raise InvalidDataError(
        f"{source}: {variable} has unknown units {units!r}; expected {_CANONICAL[quantity]!r}"
        + (" (or degC)" if quantity == "temperature" else "")
        + (" (or kg m-2 s-1)" if quantity == "rate" else "")
    )


def mask_fill(values: np.ndarray) -> np.ndarray:
    """``values`` as float32 with the fill codes, ±inf and |x| ≥ 1e30 set to NaN (a copy)."""
    out = np.array(values, dtype=np.float32, copy=True)
    with np.errstate(invalid="ignore", over="ignore"):
        fill = ~np.isfinite(out) | (np.abs(out) >= HUGE_AS_FILL)
        for code in FILL_VALUES:
            fill |= out == np.float32(code)
    out[fill] = np.nan
    return out


def physical_or_nan(values: np.ndarray, variable: str) -> np.ndarray:
    """``values`` (canonical units) as float32 with fill codes and physically impossible values
    set to NaN, silently: for data already past the door (benchmark stores), so that such pixels
    are flagged invalid rather than fed to a network."""
    out = mask_fill(values)
    low, high = VALID_RANGES[variable]
    with np.errstate(invalid="ignore"):
        out[(out < low) | (out > high)] = np.nan
    return out


def clean_field(
    values: np.ndarray,
    variable: str,
    units: str | None = None,
    *,
    source: str = "<input>",
    require_valid: bool = False,
) -> np.ndarray:
    """Units converted, fill masked, out-of-range values masked; a float32 copy.

    Parameters
    ----------
    values : numpy.ndarray
        A field of ``variable`` (any shape).
    variable : {"ir", "pmw", "pr", "precip"}
    units : str, optional
        The file's unit string (see :func:`to_canonical_units`).
    source : str
        File (and dataset) named in messages.
    require_valid : bool
        Raise :class:`~prelib.readers.errors.AllFillError` when nothing valid is left.

    Raises
    ------
    prelib.errors.InvalidDataError
        Unknown units, or more than :data:`MAX_OUT_OF_RANGE_FRACTION` of the values outside the
        physical range (the message gives the observed range: wrong units or scaling?).
    prelib.readers.errors.AllFillError
        ``require_valid`` and every value is fill or out of range.
    """
    out = mask_fill(to_canonical_units(values, units, variable, source=source))
    low, high = VALID_RANGES[variable]
    finite = np.isfinite(out)
    n = int(finite.sum())
    if n:
        with np.errstate(invalid="ignore"):
            outside = finite & ((out < low) | (out > high))
        n_out = int(outside.sum())
        if n_out > MAX_OUT_OF_RANGE_FRACTION * n:
            unit = _CANONICAL[_QUANTITY[variable]]
            raise InvalidDataError(
                f"{source}: {variable} values span [{np.nanmin(out):.4g}, {np.nanmax(out):.4g}] "
                f"{unit}; {n_out / n:.0%} lie outside the physical range [{low:g}, {high:g}] "
                f"{unit} (wrong units or scaling?)"
            )
        if n_out:
            warnings.warn(
                f"{source}: {n_out} {variable} value(s) outside [{low:g}, {high:g}] masked",
                stacklevel=2,
            )
            out[outside] = np.nan
    if require_valid and not np.isfinite(out).any():
        raise AllFillError(source, f"every {variable} value is fill or out of range")
    return out


def valid_fraction(values: np.ndarray, channel_axis: int | None = 0) -> float:
    """Fraction of pixels whose every channel is finite (``channel_axis=None``: per value)."""
    finite = np.isfinite(np.asarray(values))
    if channel_axis is not None and finite.ndim > 2:
        finite = finite.all(axis=channel_axis)
    return float(finite.mean()) if finite.size else 0.0


def sample_problems(fields: Mapping[str, np.ndarray]) -> list[str]:
    """Why a sample must not be used (empty list: it may be used).

    Checks every modality with a minimum valid fraction
    (:data:`prelib.conventions.MIN_VALID_FRACTION`) and that finite values lie in their
    physical range (:data:`prelib.conventions.VALID_RANGES`).

    Parameters
    ----------
    fields : mapping of str to numpy.ndarray
        Schema variables of one sample, e.g. ``ir`` (8, H, W), ``pmw`` (13, H, W),
        ``pr`` (176, H, W), ``precip`` (H, W), in canonical units.
    """
    problems = []
    for name, minimum in MIN_VALID_FRACTION.items():
        if name in fields:
            fraction = valid_fraction(fields[name])
            if fraction < minimum:
                problems.append(f"{name} valid fraction {fraction:.3f} < {minimum}")
    for name, (low, high) in VALID_RANGES.items():
        if name not in fields:
            continue
        values = np.asarray(fields[name])
        finite = values[np.isfinite(values)]
        if finite.size and (finite.min() < low or finite.max() > high):
            problems.append(
                f"{name} values [{finite.min():.4g}, {finite.max():.4g}] outside the physical "
                f"range [{low:g}, {high:g}]"
            )
    return problems


def check_network_inputs(
    batch: Mapping[str, object], keys: tuple[str, ...], mask_key: str = "input_valid"
) -> None:
    """Refuse normalised inputs that are non-finite or huge where they are flagged valid.

    Parameters
    ----------
    batch : mapping
        A batch dict of tensors: each of ``keys`` (B, C, H, W); ``mask_key`` (B, H, W) bool
        (optional: without it every pixel counts); ``index`` (B,) sample indices (optional).
    keys : tuple of str
        Input tensors to check.
    mask_key : str
        Pixels where it is ``False`` are known invalid and not checked.

    Raises
    ------
    prelib.errors.InvalidDataError
        Naming the input, the sample index and the bad value.
    """
    import torch

    mask = batch.get(mask_key)
    for key in keys:
        x = batch.get(key)
        if not torch.is_tensor(x) or not x.is_floating_point():
            continue
        bad = ~torch.isfinite(x) | (x.abs() > MAX_NORMALISED_MAGNITUDE)
        if torch.is_tensor(mask) and mask.shape == x.shape[:1] + x.shape[2:] and x.ndim == 4:
            bad &= mask.to(torch.bool)[:, None]
        if not bool(bad.any()):
            continue
        position = int(bad.reshape(bad.shape[0], -1).any(dim=1).nonzero()[0, 0])
        index = batch.get("index")
        sample = int(index[position]) if torch.is_tensor(index) else position
        value = float(x[position][bad[position]].reshape(-1)[0])
        raise InvalidDataError(
            f"network input {key!r} of sample {sample} is {value:g} after normalisation where "
            "it is flagged valid (non-finite or absurd input: fill values or wrong units in "
            "the benchmark?); fix the data or mark those pixels invalid"
        )


__all__ = [
    "HUGE_AS_FILL",
    "MAX_NORMALISED_MAGNITUDE",
    "MAX_OUT_OF_RANGE_FRACTION",
    "check_network_inputs",
    "clean_field",
    "mask_fill",
    "physical_or_nan",
    "sample_problems",
    "to_canonical_units",
    "valid_fraction",
]

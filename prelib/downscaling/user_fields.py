"""Read a user's precipitation field (radar, gauge analysis, satellite product) from NetCDF.

``prelib downscale`` and :func:`~prelib.downscaling.data.read_mrms` use :func:`read_precip_field`
on any gridded file: any variable name, latitude/longitude under their usual names, a time axis
(or none, for a single field), and the units of rates or accumulations:

* rates — ``mm h-1`` (``mm/h``, ``mm hr-1``, ``mm h**-1``), ``mm s-1``, ``kg m-2 s-1``,
  ``m s-1`` are converted to mm h-1;
* accumulations — ``mm``, ``kg m-2``, ``m`` are divided by the accumulation period
  (``accumulation="10min"``, ``"1h"``, …; default: the file's time step) and reported in a note;
* anything else is refused with the file and the units in the message.

Selections (region, times) that select nothing raise a ``ValueError`` naming the selection, the
file and what the file holds, so a user sees *which* option to change.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from prelib.conventions import UNITS_PRECIP, cf_attrs

RATE_UNITS: dict[str, float] = {
    "mm h-1": 1.0,
    "mm/h": 1.0,
    "mm hr-1": 1.0,
    "mm/hr": 1.0,
    "mm h**-1": 1.0,
    "mm h^-1": 1.0,
    "kg m-2 h-1": 1.0,
    "mm s-1": 3600.0,
    "mm/s": 3600.0,
    "kg m-2 s-1": 3600.0,
    "kg m**-2 s**-1": 3600.0,
    "m s-1": 3.6e6,
}
"""Rate units and their factor to mm h-1 (1 kg m-2 of water is 1 mm)."""

ACCUMULATION_UNITS: dict[str, float] = {"mm": 1.0, "kg m-2": 1.0, "kg m**-2": 1.0, "m": 1000.0}
"""Accumulation units and their factor to mm."""

LAT_NAMES: tuple[str, ...] = ("lat", "latitude", "y", "nlat", "rlat")
LON_NAMES: tuple[str, ...] = ("lon", "longitude", "x", "nlon", "rlon")
TIME_NAMES: tuple[str, ...] = ("time", "t", "valid_time")


@dataclasses.dataclass(frozen=True)
class FieldSource:
    """Where and how to read a user's field.

    Attributes
    ----------
    paths : tuple of Path
        One or more NetCDF files, concatenated along time.
    variable : str, optional
        Variable name; default: the only 2-D or 3-D data variable.
    units : str, optional
        Overrides the variable's ``units`` attribute.
    accumulation : str, optional
        Accumulation period of accumulation units (pandas offset: ``"10min"``, ``"1h"``).
    """

    paths: tuple[Path, ...]
    variable: str | None = None
    units: str | None = None
    accumulation: str | None = None

    @classmethod
    def from_option(cls, value: str | Sequence[str | os.PathLike], **kwargs) -> FieldSource:
        """From a comma-separated ``--fine`` value or a list of paths."""
        if isinstance(value, str):
            items = [v.strip() for v in value.split(",") if v.strip()]
        else:
            items = [os.fspath(v) for v in value]
        if not items:
            raise ValueError("no input file given")
        return cls(tuple(Path(v) for v in items), **kwargs)

    @property
    def label(self) -> str:
        """File name(s) for messages."""
        return ", ".join(str(p) for p in self.paths)


def parse_period_hours(accumulation: str) -> float:
    """``"10min"`` → 1/6, ``"1h"`` → 1.0; ``ValueError`` for anything that is not a duration."""
    try:
        hours = pd.Timedelta(accumulation).total_seconds() / 3600.0
    except (ValueError, TypeError):
        raise ValueError(
            f"accumulation {accumulation!r} is not a duration; use e.g. '10min', '1h', '3h'"
        ) from None
    if hours <= 0:
        raise ValueError(f"accumulation must be a positive duration, got {accumulation!r}")
    return hours


def rate_factor(
    units: str | None, accumulation: str | None, time_step_hours: float | None, where: str
) -> tuple[float, str | None]:
    """The factor from the file's values to mm h-1, and a note for accumulations.

    Raises
    ------
    ValueError
        Unknown or missing units, or accumulation units without a period.
    """
    if units is None:
        raise ValueError(
            f"{where}: the variable has no 'units' attribute; pass units (e.g. 'mm h-1' or 'mm' "
            "with an accumulation period)"
        )
    key = " ".join(str(units).strip().split())
    if key in RATE_UNITS:
        if accumulation is not None:
            raise ValueError(
                f"{where}: units {units!r} are a rate; an accumulation period "
                f"({accumulation!r}) applies only to accumulations (mm, kg m-2, m)"
            )
        return RATE_UNITS[key], None
    if key in ACCUMULATION_UNITS:
        if accumulation is not None:
            hours, origin = parse_period_hours(accumulation), f"accumulation={accumulation}"
        elif time_step_hours is not None:
            hours, origin = time_step_hours, "the file's time step"
        else:
            raise ValueError(
                f"{where}: units {units!r} are an accumulation; pass its period "
                "(accumulation='1h', '10min', …): the file has no regular time step to take it from"
            )
        note = (
            f"{where}: accumulations in {units!r} over {hours:g} h (from {origin}) converted to "
            f"rates in {UNITS_PRECIP}"
        )
        return ACCUMULATION_UNITS[key] / hours, note
    known = sorted(RATE_UNITS) + sorted(ACCUMULATION_UNITS)
    raise ValueError(
        f"{where}: unknown precipitation units {units!r}; known rates and accumulations: {known}"
    )


def _find(names: Sequence[str], candidates: Sequence[str]) -> str | None:
    lower = {n.lower(): n for n in names}
    for candidate in candidates:
        if candidate in lower:
            return lower[candidate]
    return None


def pick_variable(dataset: xr.Dataset, variable: str | None, where: str) -> str:
    """The requested variable, or the only data variable with 2 or 3 dimensions."""
    if variable is not None:
        if variable not in dataset.data_vars:
            raise ValueError(
                f"{where} has no variable {variable!r}; variables: {sorted(dataset.data_vars)}"
            )
        return variable
    fields = [n for n, v in dataset.data_vars.items() if v.ndim in (2, 3)]
    if len(fields) != 1:
        raise ValueError(
            f"{where}: pass the variable name; candidates (2-D or 3-D): {sorted(fields)}"
        )
    return fields[0]


def parse_time_selection(text: str | None, name: str) -> slice | tuple[str, str] | None:
    """``"0:24"`` (frame indices, stop excluded) or ``"START/END"`` (times, both included)."""
    if text is None or text == "":
        return None
    text = str(text).strip()
    if "/" in text:
        start, _, end = text.partition("/")
        for value in (start, end):
            try:
                pd.Timestamp(value)
            except ValueError:
                raise ValueError(
                    f"{name} {text!r}: {value!r} is not a time; use 'START/END' "
                    "(ISO times, both included) or 'i:j' (frame indices)"
                ) from None
        return (start, end)
    start, sep, stop = text.partition(":")
    if not sep:
        raise ValueError(f"{name} {text!r}: use 'i:j' (frame indices) or 'START/END' (ISO times)")
    try:
        return slice(int(start) if start else None, int(stop) if stop else None)
    except ValueError:
        raise ValueError(f"{name} {text!r}: frame indices must be integers") from None


def select_times(
    field: xr.DataArray, selection: slice | tuple[str, str] | None, name: str, where: str
) -> xr.DataArray:
    """Frames of ``field`` (dims ``(time, y, x)``) chosen by ``selection``.

    Raises
    ------
    ValueError
        Naming ``name`` when the selection is empty.
    """
    if selection is None:
        return field
    n = field.sizes["time"]
    if isinstance(selection, slice):
        chosen = field.isel(time=selection)
        described = f"frames {selection.start}:{selection.stop}"
    else:
        times = pd.DatetimeIndex(field["time"].values)
        keep = (times >= pd.Timestamp(selection[0])) & (times <= pd.Timestamp(selection[1]))
        chosen = field.isel(time=np.flatnonzero(keep))
        described = f"times {selection[0]} to {selection[1]}"
    if chosen.sizes["time"] == 0:
        span = ""
        if np.issubdtype(field["time"].dtype, np.datetime64) and n:
            span = f" from {field['time'].values[0]} to {field['time'].values[-1]}"
        raise ValueError(f"{name} ({described}) selects no frame of {where}: it has {n}{span}")
    return chosen


def read_precip_field(
    source: FieldSource,
    lat_bounds: tuple[float, float] | None = None,
    lon_bounds: tuple[float, float] | None = None,
    notes: list[str] | None = None,
) -> xr.DataArray:
    """Read a precipitation field as ``(time, y, x)`` float32 mm h-1, NaN for missing.

    Parameters
    ----------
    source : FieldSource
    lat_bounds, lon_bounds : (float, float), optional
        Region in degrees north / east (the file's longitude convention).
    notes : list of str, optional
        Receives a note when accumulations are converted to rates.

    Notes
    -----
    Every frame of the region is loaded (as float32 after decoding) before times are selected:
    for a continental file (e.g. 36 frames of 3500 × 7000) pass a region.

    Returns
    -------
    xr.DataArray, dims ``(time, y, x)``
        ``lat`` (y) and ``lon`` (x) coordinates as stored (ascending or descending), ``time``.
        Negative values and fill become NaN (missing, never dry).

    Raises
    ------
    FileNotFoundError
        A path does not exist.
    ValueError
        Unreadable file, missing or ambiguous variable, a grid that is not latitude/longitude,
        unknown units, or a region that selects nothing (the message names the file).
    """
    pieces = []
    step_hours = None
    for path in source.paths:
        if not Path(path).is_file():
            raise FileNotFoundError(f"precipitation file {path} does not exist")
        pieces.append(_read_one(Path(path), source, lat_bounds, lon_bounds))
    field = pieces[0] if len(pieces) == 1 else xr.concat(pieces, dim="time")
    if field.sizes["time"] > 1 and np.issubdtype(field["time"].dtype, np.datetime64):
        field = field.sortby("time")
        steps = np.diff(field["time"].values).astype("timedelta64[s]").astype(float)
        if steps.size and np.all(steps == steps[0]) and steps[0] > 0:
            step_hours = steps[0] / 3600.0
    units = source.units if source.units is not None else field.attrs.get("units")
    factor, note = rate_factor(units, source.accumulation, step_hours, source.label)
    if note and notes is not None:
        notes.append(note)
    values = field.values.astype(np.float32) * np.float32(factor)
    values[~np.isfinite(values) | (values < 0)] = np.nan
    out = xr.DataArray(values, dims=("time", "y", "x"), coords=field.coords, name="precip")
    out.attrs.update(cf_attrs("precip"))
    out.attrs["source_file"] = source.label
    out.attrs["source_variable"] = field.attrs.get("source_variable", "")
    return out


def _read_one(
    path: Path,
    source: FieldSource,
    lat_bounds: tuple[float, float] | None,
    lon_bounds: tuple[float, float] | None,
) -> xr.DataArray:
    try:
        dataset = xr.open_dataset(path)
    except Exception as err:
        raise ValueError(f"cannot open {path} as NetCDF: {err}") from None
    with dataset:
        name = pick_variable(dataset, source.variable, str(path))
        data = dataset[name]
        lat = _find(data.dims, LAT_NAMES)
        lon = _find(data.dims, LON_NAMES)
        if lat is None or lon is None:
            raise ValueError(
                f"{path}: variable {name!r} has dims {data.dims}; expected latitude and "
                f"longitude dims named one of {LAT_NAMES} / {LON_NAMES}"
            )
        others = [d for d in data.dims if d not in (lat, lon)]
        if len(others) > 1:
            raise ValueError(f"{path}: variable {name!r} has extra dims {others}; expected time")
        time = others[0] if others else None
        if lat_bounds is not None:
            data = _select_range(data, lat, lat_bounds, path, "latitude")
        if lon_bounds is not None:
            data = _select_range(data, lon, lon_bounds, path, "longitude")
        if time is None:
            data = data.expand_dims("time")
            time = "time"
        data = data.transpose(time, lat, lon)
        coords = {
            "time": data[time].values if time in data.coords else np.arange(data.sizes[time]),
            "lat": ("y", np.asarray(data[lat].values, dtype=np.float64)),
            "lon": ("x", np.asarray(data[lon].values, dtype=np.float64)),
        }
        values = data.values
        attrs = dict(data.attrs, source_variable=name)
    return xr.DataArray(values, dims=("time", "y", "x"), coords=coords, attrs=attrs)


def _select_range(
    data: xr.DataArray, dim: str, bounds: tuple[float, float], path: Path, what: str
) -> xr.DataArray:
    low, high = sorted(float(b) for b in bounds)
    coord = np.asarray(data[dim].values, dtype=np.float64)
    keep = np.flatnonzero((coord >= low) & (coord <= high))
    if keep.size == 0:
        raise ValueError(
            f"the region's {what} range [{low:g}, {high:g}] selects no pixel of {path}: its "
            f"{what} runs from {coord.min():g} to {coord.max():g}"
        )
    return data.isel({dim: keep})

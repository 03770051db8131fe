"""FY-4A / FY-4B AGRI Level-1 FDI reader: counts → brightness temperature, geolocation, regions.

File layout (data_formats.md §1): FY-4A keeps ``NOMChannelXX`` (uint16 counts) and
``CALChannelXX`` (float32 look-up tables) at the root; FY-4B keeps them in ``Data/`` and
``Calibration/``. Brightness temperature is ``LUT[count]`` with 0-based indexing; the fill count
(``FillValue`` attribute, no underscore) and counts beyond the table are missing (NaN).

The output follows prelib's grid convention: dims ``(ir_channel, y, x)`` with ``y`` = image line
(row 0 = north) and ``x`` = image column (column 0 = west). The coordinates ``line`` and
``column`` hold the 0-based **full-disc** indices, so a regional (REGC) file sits where it belongs
in the disc (its ``Begin Line Number`` / ``Begin Pixel Number``); :func:`place_in_disc` pastes it
into a NaN full disc.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np
import xarray as xr

from prelib.conventions import CONVENTIONS_ATTR, DIM_IR_CHANNEL, DIM_X, DIM_Y, VAR_IR, cf_attrs
from prelib.readers import agri_channels
from prelib.readers.errors import AllFillError, ProductError
from prelib.readers.geostationary import GeosProjection, line_column_to_latlon
from prelib.readers.hdf5_file import decode_attr, open_hdf5
from prelib.validation import clean_field

_NAME = re.compile(
    r"^(?P<sat>FY4[ABC])-_AGRI--_N_(?P<obs>\w{4})_(?P<sslon>\d{4})(?P<hemi>[EW])_.*_"
    r"(?P<res>0500|1000|2000|4000)M_"
)
_PRENET_MAX_COUNT = {"default": 4096, "C07": 65534}
"""PRE-Net's upper count bound before it zeroes counts (data_formats.md §1.4)."""


def read_agri_l1(
    path: str | os.PathLike,
    channels: Sequence[str] | None = None,
    *,
    prenet_compat: bool = False,
    geolocation: bool = True,
) -> xr.Dataset:
    """Read an AGRI L1 FDI file as calibrated brightness temperatures.

    Parameters
    ----------
    path : str or os.PathLike
        ``FY4A-_AGRI--_N_{DISK|REGC}_…_L1-_FDI-_MULT_NOM_…_{res}M_V0001.HDF`` (FY-4B alike).
    channels : sequence of str, optional
        Thermal channel names (``"C07"`` … ``"C14"``; ``"C15"`` on FY-4B). Default: the eight
        channels carrying PRE-Net's IR wavelengths (:func:`agri_channels.default_ir_channels`).
    prenet_compat : bool
        Reproduce PRE-Net's reference calibration for parity experiments: ``BT = LUT[count-1]``
        (a 0 prepended to the table) and invalid counts → 0 K instead of NaN. Off by default
        because it is wrong: it shifts every temperature by one table step.
    geolocation : bool
        Add ``lat``/``lon`` (y, x) coordinates from the normalised geostationary projection.

    Returns
    -------
    xarray.Dataset
        ``ir`` (ir_channel, y, x) float32 K; coordinates ``ir_channel``, ``wavelength``
        (ir_channel, µm), ``line`` (y), ``column`` (x), ``time`` (scan start, datetime64[ns]
        UTC), optionally ``lat``/``lon`` (y, x) float32 degrees. Attributes name the satellite,
        the scan start/end, the sub-satellite longitude and the PROJ string.

    Raises
    ------
    ProductError
        Unreadable file, missing channel or table, inconsistent region numbers.
    """
    path = Path(path)
    with open_hdf5(path) as handle:
        meta = _metadata(handle, path)
        chosen = tuple(
            channels
            or agri_channels.default_ir_channels(meta["satellite"], prenet_compat=prenet_compat)
        )
        known = agri_channels.channel_names(meta["satellite"])
        for name in chosen:
            if name not in known or not agri_channels.is_thermal(name):
                raise ProductError(
                    path,
                    f"channel {name!r} is not a thermal channel of {meta['satellite']} "
                    f"(choose from {[c for c in known if agri_channels.is_thermal(c)]})",
                )
        planes = [_calibrated(handle, path, name, prenet_compat) for name in chosen]
    ir = np.stack(planes)
    n_lines, n_cols = ir.shape[1:]
    line = meta["begin_line"] + np.arange(n_lines)
    column = meta["begin_column"] + np.arange(n_cols)
    if meta["n_lines"] != n_lines or meta["n_cols"] != n_cols:
        raise ProductError(
            path,
            f"line/pixel numbers in the attributes give {meta['n_lines']} x {meta['n_cols']} "
            f"pixels but the channel arrays are {n_lines} x {n_cols}",
        )
    if np.all(np.isnan(ir)):
        raise AllFillError(path, f"every pixel of channels {list(chosen)} is fill")
    if not prenet_compat:
        ir = clean_field(ir, VAR_IR, source=f"{path}:calibrated {list(chosen)}")
    wavelengths = [agri_channels.CENTRAL_WAVELENGTH_UM[meta["satellite"]][c] for c in chosen]
    coords: dict[str, object] = {
        DIM_IR_CHANNEL: (DIM_IR_CHANNEL, list(chosen)),
        "wavelength": (DIM_IR_CHANNEL, np.asarray(wavelengths), {"units": "um"}),
        "line": (DIM_Y, line.astype(np.int32), {"long_name": "0-based full-disc line (north=0)"}),
        "column": (
            DIM_X,
            column.astype(np.int32),
            {"long_name": "0-based full-disc column (west=0)"},
        ),
        "time": ((), meta["start"], {"long_name": "scan start (UTC)"}),
    }
    if geolocation:
        lat, lon = disc_latlon(
            meta["projection"], meta["begin_line"], meta["begin_column"], n_lines, n_cols
        )
        coords["lat"] = ((DIM_Y, DIM_X), lat, cf_attrs("lat"))
        coords["lon"] = ((DIM_Y, DIM_X), lon, cf_attrs("lon"))
    attrs = {
        **cf_attrs(VAR_IR),
        "long_name": f"{meta['satellite']} AGRI brightness temperature",
    }
    if prenet_compat:
        attrs["comment"] = "PRE-Net compatibility calibration: LUT[count-1], invalid counts = 0 K"
    ds = xr.Dataset(
        {VAR_IR: ((DIM_IR_CHANNEL, DIM_Y, DIM_X), ir, attrs)},
        coords=coords,
        attrs={
            "Conventions": CONVENTIONS_ATTR,
            "source": "real",
            "product": "agri_l1",
            "satellite": meta["satellite"],
            "observation_type": meta["obs"],
            "resolution_m": meta["projection"].resolution_m,
            "sub_satellite_lon": meta["projection"].sub_lon,
            "proj4": meta["projection"].proj4(),
            "start_time": str(meta["start"]),
            "end_time": str(meta["end"]),
            "filename": path.name,
        },
    )
    return ds


def place_in_disc(ds: xr.Dataset) -> xr.Dataset:
    """Paste a regional AGRI dataset into the full disc (NaN outside), by ``line``/``column``.

    ``lat``/``lon`` are recomputed for the whole disc when present.
    """
    projection = projection_of(ds)
    size = projection.disc_size
    lines, cols = ds["line"].values, ds["column"].values
    if lines.min() < 0 or cols.min() < 0 or lines.max() >= size or cols.max() >= size:
        raise ValueError(f"line/column numbers lie outside the {size} x {size} disc")
    ir = np.full((ds.sizes[DIM_IR_CHANNEL], size, size), np.nan, dtype=np.float32)
    ir[:, lines[0] : lines[-1] + 1, cols[0] : cols[-1] + 1] = ds[VAR_IR].values
    out = xr.Dataset(
        {VAR_IR: (ds[VAR_IR].dims, ir, ds[VAR_IR].attrs)},
        coords={
            DIM_IR_CHANNEL: ds[DIM_IR_CHANNEL],
            "wavelength": ds["wavelength"],
            "line": (DIM_Y, np.arange(size, dtype=np.int32), ds["line"].attrs),
            "column": (DIM_X, np.arange(size, dtype=np.int32), ds["column"].attrs),
            "time": ds["time"],
        },
        attrs={**ds.attrs, "observation_type": "DISK"},
    )
    if "lat" in ds.coords:
        lat, lon = disc_latlon(projection, 0, 0, size, size)
        out = out.assign_coords(
            lat=((DIM_Y, DIM_X), lat, ds["lat"].attrs), lon=((DIM_Y, DIM_X), lon, ds["lon"].attrs)
        )
    return out


@functools.lru_cache(maxsize=4)
def _cached_latlon(
    projection: GeosProjection, line0: int, col0: int, n_lines: int, n_cols: int
) -> tuple[np.ndarray, np.ndarray]:
    lines = (line0 + np.arange(n_lines, dtype=np.float64))[:, None]
    cols = (col0 + np.arange(n_cols, dtype=np.float64))[None, :]
    lat, lon = line_column_to_latlon(lines, cols, projection)
    lat, lon = lat.astype(np.float32), lon.astype(np.float32)
    lat.setflags(write=False)
    lon.setflags(write=False)
    return lat, lon


def disc_latlon(
    projection: GeosProjection, line0: int, col0: int, n_lines: int, n_cols: int
) -> tuple[np.ndarray, np.ndarray]:
    """Latitude/longitude (float32 degrees, NaN in space) of a block of the disc.

    Successive scans of one satellite share their geometry, so the last few blocks are cached
    (the returned arrays are read-only copies of the cache).
    """
    lat, lon = _cached_latlon(projection, int(line0), int(col0), int(n_lines), int(n_cols))
    return lat.copy(), lon.copy()


# ------------------------------------------------------------------------------------------
# Calibration
# ------------------------------------------------------------------------------------------
def _channel_datasets(handle: h5py.File, path: Path, name: str) -> tuple[h5py.Dataset, ...]:
    number = name[1:]
    for data_key, lut_key in (
        (f"NOMChannel{number}", f"CALChannel{number}"),
        (f"Data/NOMChannel{number}", f"Calibration/CALChannel{number}"),
    ):
        if data_key in handle:
            if lut_key not in handle:
                raise ProductError(path, f"calibration table {lut_key!r} missing for {name}")
            return handle[data_key], handle[lut_key]
    raise ProductError(
        path, f"channel {name} missing (no NOMChannel{number} at the root or in Data/)"
    )


def counts_to_bt(
    counts: np.ndarray,
    lut: np.ndarray,
    fill_count: int | None = 65535,
    lut_valid_range: tuple[float, float] | None = None,
) -> np.ndarray:
    """Correct AGRI calibration: ``BT = LUT[count]`` (0-based), invalid → NaN.

    Invalid: the fill count, counts ``>= len(LUT)``, and table values outside the table's
    ``valid_range``. A table that contains the fill index (C07: 65536 entries, fill 65535) is
    cut before it, as satpy does.

    Parameters
    ----------
    counts : numpy.ndarray of unsigned int
        Raw counts (DN), any shape.
    lut : numpy.ndarray, shape (n,)
        Count → brightness temperature (K).
    """
    table = np.asarray(lut, dtype=np.float32)
    if fill_count is not None and fill_count <= table.size - 1:
        table = table[:fill_count]
    if lut_valid_range is not None:
        low, high = lut_valid_range
        table = np.where((table >= low) & (table <= high), table, np.nan).astype(np.float32)
    table = np.append(table, np.float32(np.nan))
    index = np.minimum(counts.astype(np.int64), table.size - 1)
    return table[index]


def counts_to_bt_prenet(counts: np.ndarray, lut: np.ndarray, max_count: int) -> np.ndarray:
    """PRE-Net's reference calibration (for parity only): ``LUT[count-1]``, invalid → 0 K.

    A zero is prepended to the table and the raw count used as index; counts above
    ``max_count`` are set to 0 first, so they read 0 K (data_formats.md §1.4).
    """
    table = np.concatenate([[0.0], np.asarray(lut, dtype=np.float32)]).astype(np.float32)
    index = counts.astype(np.int64)
    index[index > max_count] = 0
    index = np.minimum(index, table.size - 1)
    return table[index]


def _calibrated(handle: h5py.File, path: Path, name: str, prenet_compat: bool) -> np.ndarray:
    data, lut_ds = _channel_datasets(handle, path, name)
    counts = data[()]
    lut = lut_ds[()]
    if prenet_compat:
        max_count = _PRENET_MAX_COUNT.get(name, _PRENET_MAX_COUNT["default"])
        return counts_to_bt_prenet(counts, lut, max_count)
    fill = decode_attr(data.attrs["FillValue"]) if "FillValue" in data.attrs else 65535
    valid = lut_ds.attrs.get("valid_range")
    valid_range = (float(valid[0]), float(valid[1])) if valid is not None else None
    return counts_to_bt(counts, lut, int(fill), valid_range)


# ------------------------------------------------------------------------------------------
# Metadata: satellite, region, times, projection constants from the file
# ------------------------------------------------------------------------------------------
def _first(handle: h5py.File, names: Sequence[str], default=None):
    for name in names:
        if name in handle.attrs:
            return decode_attr(handle.attrs[name])
    return default


def _parse_time(date: str | None, clock: str | None) -> np.datetime64 | None:
    if not date or not clock:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return np.datetime64(dt.datetime.strptime(f"{date} {clock}", fmt), "ns")
        except ValueError:
            continue
    return None


def _metadata(handle: h5py.File, path: Path) -> dict:
    match = _NAME.match(path.name)
    satellite = _first(handle, ["Satellite Name"]) or (match["sat"] if match else None)
    if satellite is None:
        raise ProductError(path, "cannot tell FY-4A from FY-4B: no 'Satellite Name' attribute")
    try:
        satellite = agri_channels.satellite_key(str(satellite))
    except ValueError as err:
        raise ProductError(path, str(err)) from None
    sub_lon = _first(handle, ["NOMCenterLon", "NOMSubSatLon"])
    if sub_lon is None:
        if match is None:
            raise ProductError(path, "no NOMCenterLon/NOMSubSatLon and no longitude in the name")
        sub_lon = int(match["sslon"]) / 10.0 * (1 if match["hemi"] == "E" else -1)
    resolution = int(match["res"]) if match else 4000
    a = _first(handle, ["Semimajor axis of ellipsoid", "Semi_major_axis", "dEA"], 6378.137)
    a = float(a) * (1000.0 if float(a) < 10000 else 1.0)  # dEA is in km
    b = _first(handle, ["Semiminor axis of ellipsoid", "Semi_minor_axis"])
    if b is not None:
        b = float(b) * (1000.0 if float(b) < 10000 else 1.0)
    else:
        flattening = float(_first(handle, ["dObRecFlat"], 298.257223563))
        b = a * (1.0 - 1.0 / flattening)
    height = float(_first(handle, ["NOMSatHeight"], 42164000.0))
    if height < 1.0e6:  # kilometres
        height *= 1000.0
    if height < 4.2e7:  # altitude above the surface rather than distance from the centre
        height += a
    try:
        projection = GeosProjection(float(sub_lon), resolution, a, b, height)
    except ValueError as err:
        raise ProductError(path, f"bad projection attributes: {err}") from None
    begin_line = int(_first(handle, ["Begin Line Number"], 0))
    end_line = _first(handle, ["End Line Number"])
    begin_col = int(_first(handle, ["Begin Pixel Number"], 0))
    end_col = _first(handle, ["End Pixel Number"])
    start = _parse_time(
        _first(handle, ["Observing Beginning Date"]), _first(handle, ["Observing Beginning Time"])
    )
    end = _parse_time(
        _first(handle, ["Observing Ending Date"]), _first(handle, ["Observing Ending Time"])
    )
    if start is None and match is not None:
        from prelib.readers.names import identify_product

        named = identify_product(path)
        start, end = named.start, named.end
    if start is None:
        raise ProductError(
            path, "no 'Observing Beginning Date/Time' attributes and no time in name"
        )
    reg_length = int(_first(handle, ["RegLength"], 0))
    reg_width = int(_first(handle, ["RegWidth"], 0))
    n_lines = int(end_line) - begin_line + 1 if end_line is not None else reg_length
    n_cols = int(end_col) - begin_col + 1 if end_col is not None else reg_width
    return {
        "satellite": satellite,
        "obs": str(_first(handle, ["OBIType"], match["obs"] if match else "DISK")),
        "projection": projection,
        "begin_line": begin_line,
        "begin_column": begin_col,
        "n_lines": n_lines,
        "n_cols": n_cols,
        "start": start,
        "end": end if end is not None else start,
    }


def projection_of(ds: xr.Dataset) -> GeosProjection:
    """The :class:`GeosProjection` of a dataset from :func:`read_agri_l1` (its ``proj4`` and
    ``resolution_m`` attributes)."""
    text = ds.attrs["proj4"]
    values = dict(
        item[1:].split("=", 1) for item in text.split() if "=" in item and item.startswith("+")
    )
    a = float(values["a"])
    return GeosProjection(
        float(values["lon_0"]),
        int(ds.attrs["resolution_m"]),
        a,
        float(values["b"]),
        float(values["h"]) + a,
    )


__all__ = [
    "counts_to_bt",
    "counts_to_bt_prenet",
    "disc_latlon",
    "place_in_disc",
    "projection_of",
    "read_agri_l1",
]

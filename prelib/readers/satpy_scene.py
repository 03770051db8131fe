"""A satpy ``Scene`` of FY-4A/4B AGRI L1 channels as prelib's IR input.

Users who already read AGRI with satpy (readers ``agri_fy4a_l1`` / ``agri_fy4b_l1``, datasets
``C01`` … ``C14``/``C15``) can hand the loaded :class:`satpy.Scene` to prelib instead of a file
path. :func:`agri_from_satpy` returns the schema of :func:`prelib.readers.agri.read_agri_l1`:
``ir`` (ir_channel, y, x) float32 K with ``wavelength``, ``time`` and ``lat``/``lon``; for a scene
still on its geostationary grid also the full-disc ``line``/``column`` numbers and the ``proj4`` /
``resolution_m`` attributes, so :func:`~prelib.readers.agri.place_in_disc` works on it too.

What is checked: every channel is present (the message lists the missing ones and the
``scene.load`` call that adds them), calibrated to brightness temperature (not counts or
radiance), in a temperature unit (K, or °C converted to K), on one common grid. satpy is needed
only to build the scene; this module imports nothing from it.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from prelib.conventions import CONVENTIONS_ATTR, DIM_IR_CHANNEL, DIM_X, DIM_Y, VAR_IR, cf_attrs
from prelib.errors import InvalidDataError
from prelib.readers import agri_channels
from prelib.readers.geostationary import GeosProjection, latlon_to_line_column
from prelib.validation import clean_field

SATPY_READERS: dict[str, str] = {"FY4A": "agri_fy4a_l1", "FY4B": "agri_fy4b_l1"}
"""satpy reader name per satellite."""

_BT_CALIBRATION = "brightness_temperature"
_LINE_COLUMN_TOLERANCE = 0.05
"""Largest distance (pixels) of a geolocated pixel from its integer full-disc line/column for
the scene to count as lying on the CGMS disc grid."""


def agri_from_satpy(
    scene: Any,
    channels: Sequence[str] | None = None,
    *,
    satellite: str | None = None,
) -> xr.Dataset:
    """Convert a satpy ``Scene`` holding AGRI L1 thermal channels into prelib's IR schema.

    Parameters
    ----------
    scene : satpy.Scene
        Loaded with brightness temperatures, e.g.
        ``Scene(files, reader="agri_fy4a_l1"); scene.load(["C07", …, "C14"])``. Any object
        indexable by channel name whose items are :class:`xarray.DataArray` (y, x) with satpy's
        ``area``, ``calibration``, ``units`` and ``start_time`` attributes works.
    channels : sequence of str, optional
        Thermal channels to take, in order. Default: the eight carrying PRE-Net's IR
        wavelengths (:func:`prelib.readers.agri_channels.default_ir_channels`: C07–C14 on
        FY-4A; C07–C10, C12–C15 on FY-4B).
    satellite : str, optional
        ``"FY4A"`` or ``"FY4B"``; default: the channels' ``platform_name`` attribute (satpy
        writes ``"FY-4A"``/``"FY-4B"``).

    Returns
    -------
    xarray.Dataset
        ``ir`` (ir_channel, y, x) float32 K, NaN = missing; coordinates ``ir_channel``,
        ``wavelength`` (µm), ``time`` (scan start, datetime64[ns] UTC), ``lat``/``lon`` (y, x)
        float32 degrees (NaN off the Earth disc) from the scene's area; on the native
        geostationary grid also ``line``/``column`` (0-based full-disc numbers) and the
        ``proj4``/``resolution_m``/``sub_satellite_lon`` attributes of
        :func:`~prelib.readers.agri.read_agri_l1`.

    Raises
    ------
    prelib.errors.InvalidDataError
        A channel missing from the scene or not thermal, a calibration other than brightness
        temperature, a unit that is no temperature, channels on different grids, no area, or
        more than half the values outside 50–400 K.
    """
    label = _scene_label(scene)
    names = _available_names(scene)
    sat = _satellite(scene, names, satellite, label)
    chosen = tuple(channels or agri_channels.default_ir_channels(sat))
    thermal = [c for c in agri_channels.channel_names(sat) if agri_channels.is_thermal(c)]
    wrong = [c for c in chosen if c not in thermal]
    if wrong:
        raise InvalidDataError(
            f"{label}: {wrong} are not thermal channels of {sat} (choose from {thermal})"
        )
    missing = [c for c in chosen if c not in names]
    if missing:
        raise InvalidDataError(
            f"{label}: channels {missing} are not loaded (the scene holds {sorted(names)}); "
            f"load them first: scene.load({list(chosen)!r})"
        )
    arrays = [scene[c] for c in chosen]
    planes = []
    for name, array in zip(chosen, arrays):
        calibration = array.attrs.get("calibration")
        units = array.attrs.get("units")
        if calibration is not None and str(calibration) != _BT_CALIBRATION:
            raise InvalidDataError(
                f"{label}: {name} is calibrated as {str(calibration)!r}; prelib needs "
                f"brightness temperature: scene.load({list(chosen)!r}, "
                f"calibration={_BT_CALIBRATION!r})"
            )
        if calibration is None and not units:
            raise InvalidDataError(
                f"{label}: {name} has neither a 'calibration' nor a 'units' attribute, so it "
                "cannot be told from counts or radiances; set units='K' if it holds brightness "
                "temperatures"
            )
        if array.dims != (DIM_Y, DIM_X):
            raise InvalidDataError(
                f"{label}: {name} has dims {array.dims}; expected ('y', 'x') (one time, one "
                "band per dataset)"
            )
        planes.append(
            clean_field(np.asarray(array.values), VAR_IR, units, source=f"{label}:{name}")
        )
    shapes = {plane.shape for plane in planes}
    if len(shapes) != 1:
        raise InvalidDataError(
            f"{label}: channels {list(chosen)} have different shapes "
            f"{[p.shape for p in planes]}; resample the scene to one grid first "
            "(scene.resample(scene.coarsest_area()))"
        )
    area = arrays[0].attrs.get("area")
    if area is None or not hasattr(area, "get_lonlats"):
        raise InvalidDataError(f"{label}: {chosen[0]} has no pyresample 'area' attribute")
    for name, array in zip(chosen[1:], arrays[1:]):
        other = array.attrs.get("area")
        if other is not None and other is not area and other != area:
            raise InvalidDataError(
                f"{label}: {name} lies on another area than {chosen[0]}; resample the scene "
                "to one grid first (scene.resample(scene.coarsest_area()))"
            )
    ir = np.stack(planes)
    if not np.isfinite(ir).any():
        raise InvalidDataError(f"{label}: every value of channels {list(chosen)} is missing")
    lon64, lat64 = (np.asarray(v, dtype=np.float64) for v in area.get_lonlats())
    if lat64.shape != ir.shape[1:]:
        raise InvalidDataError(
            f"{label}: the area of {chosen[0]} is {lat64.shape} pixels but the data {ir.shape[1:]}"
        )
    with np.errstate(invalid="ignore"):
        off_disc = ~(np.isfinite(lat64) & np.isfinite(lon64)) | (np.abs(lat64) > 90.0)
    lat64 = np.where(off_disc, np.nan, lat64)
    lon64 = np.where(off_disc, np.nan, (lon64 + 180.0) % 360.0 - 180.0)
    lat, lon = lat64.astype(np.float32), lon64.astype(np.float32)
    start = _time(arrays[0].attrs.get("start_time"))
    end = _time(arrays[0].attrs.get("end_time"))
    wavelengths = [agri_channels.CENTRAL_WAVELENGTH_UM[sat][c] for c in chosen]
    coords: dict[str, object] = {
        DIM_IR_CHANNEL: (DIM_IR_CHANNEL, list(chosen)),
        "wavelength": (DIM_IR_CHANNEL, np.asarray(wavelengths), {"units": "um"}),
        "lat": ((DIM_Y, DIM_X), lat, cf_attrs("lat")),
        "lon": ((DIM_Y, DIM_X), lon, cf_attrs("lon")),
    }
    if start is not None:
        coords["time"] = ((), start, {"long_name": "scan start (UTC)"})
    attrs: dict[str, object] = {
        "Conventions": CONVENTIONS_ATTR,
        "source": "real",
        "product": "agri_l1",
        "satellite": sat,
        "converted_from": f"satpy Scene ({arrays[0].attrs.get('reader', 'unknown reader')})",
    }
    if start is not None:
        attrs["start_time"] = str(start)
        attrs["end_time"] = str(end if end is not None else start)
    disc = _disc_placement(area, lat64, lon64, arrays[0].attrs.get("resolution"))
    if disc is not None:
        projection, line0, col0 = disc
        n_lines, n_cols = ir.shape[1:]
        coords["line"] = (
            DIM_Y,
            (line0 + np.arange(n_lines)).astype(np.int32),
            {"long_name": "0-based full-disc line (north=0)"},
        )
        coords["column"] = (
            DIM_X,
            (col0 + np.arange(n_cols)).astype(np.int32),
            {"long_name": "0-based full-disc column (west=0)"},
        )
        attrs.update(
            {
                "resolution_m": projection.resolution_m,
                "sub_satellite_lon": projection.sub_lon,
                "proj4": projection.proj4(),
            }
        )
    ir_attrs = {**cf_attrs(VAR_IR), "long_name": f"{sat} AGRI brightness temperature"}
    return xr.Dataset(
        {VAR_IR: ((DIM_IR_CHANNEL, DIM_Y, DIM_X), ir, ir_attrs)}, coords=coords, attrs=attrs
    )


def _available_names(scene: Any) -> set[str]:
    """Names of the datasets a scene holds (satpy ``Scene.keys()`` gives DataIDs)."""
    try:
        keys = list(scene.keys())
    except AttributeError:
        raise InvalidDataError(
            f"expected a satpy Scene (or a mapping of channel name to DataArray), got "
            f"{type(scene).__name__}"
        ) from None
    return {str(key.get("name") if hasattr(key, "get") else key) for key in keys}


def _scene_label(scene: Any) -> str:
    """How error messages name the scene: satpy's reader and start time where known."""
    parts = []
    start = getattr(scene, "start_time", None)
    if start is not None:
        parts.append(str(start))
    return "satpy Scene" + (f" ({', '.join(parts)})" if parts else "")


def _satellite(scene: Any, names: set[str], satellite: str | None, label: str) -> str:
    if satellite is not None:
        try:
            return agri_channels.satellite_key(satellite)
        except ValueError as err:
            raise InvalidDataError(f"{label}: {err}") from None
    platforms = set()
    for name in names:
        platform = scene[name].attrs.get("platform_name")
        if platform:
            platforms.add(str(platform))
    if len(platforms) != 1:
        raise InvalidDataError(
            f"{label}: cannot tell FY-4A from FY-4B (platform_name attributes: "
            f"{sorted(platforms) or 'none'}); pass satellite='FY4A' or 'FY4B'"
        )
    try:
        return agri_channels.satellite_key(platforms.pop())
    except ValueError as err:
        raise InvalidDataError(f"{label}: {err}") from None


def _time(value: Any) -> np.datetime64 | None:
    """satpy's ``start_time`` (a naive UTC ``datetime``; an aware one is converted to UTC)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return np.datetime64(value, "ns")


def _disc_placement(
    area: Any, lat: np.ndarray, lon: np.ndarray, resolution: Any
) -> tuple[GeosProjection, int, int] | None:
    """The CGMS projection and the full-disc line/column of pixel (0, 0), for a scene on its
    native geostationary grid; ``None`` for any other grid (a resampled scene)."""
    crs = getattr(area, "crs", None)
    if crs is None or resolution is None:
        return None
    with warnings.catch_warnings():  # pyproj: "lose projection information" (PROJ string)
        warnings.simplefilter("ignore", UserWarning)
        params = crs.to_dict()
    if params.get("proj") != "geos":
        return None
    ellipsoid = crs.ellipsoid
    a, b = float(ellipsoid.semi_major_metre), float(ellipsoid.semi_minor_metre)
    try:
        projection = GeosProjection(
            float(params.get("lon_0", 0.0)), int(resolution), a, b, float(params["h"]) + a
        )
    except (KeyError, ValueError, TypeError):
        return None
    # a sparse sample of geolocated pixels: each must sit on an integer line/column of the disc
    rows = np.unique(np.linspace(0, lat.shape[0] - 1, min(lat.shape[0], 16)).astype(int))
    cols = np.unique(np.linspace(0, lat.shape[1] - 1, min(lat.shape[1], 16)).astype(int))
    sub_lat, sub_lon = lat[np.ix_(rows, cols)], lon[np.ix_(rows, cols)]
    ok = np.isfinite(sub_lat) & np.isfinite(sub_lon)
    if not ok.any():
        return None
    line, column = latlon_to_line_column(sub_lat, sub_lon, projection)
    line0 = line - rows[:, None]
    col0 = column - cols[None, :]
    line0, col0 = line0[ok & np.isfinite(line0)], col0[ok & np.isfinite(col0)]
    if not line0.size:
        return None
    first_line, first_col = np.round(np.median(line0)), np.round(np.median(col0))
    if (
        np.abs(line0 - first_line).max() > _LINE_COLUMN_TOLERANCE
        or np.abs(col0 - first_col).max() > _LINE_COLUMN_TOLERANCE
    ):
        return None
    return projection, int(first_line), int(first_col)


__all__ = ["SATPY_READERS", "agri_from_satpy"]

"""GPM swaths opened by gpm-api (``pip install gpm-api``, imported as ``gpm``) in prelib's schema.

gpm-api (``gpm.open_granule_dataset(path, scan_mode=…)``) returns one scan mode of a granule as
an :class:`xarray.Dataset` with its own conventions, which these converters undo so the result
equals what prelib's own readers return for the same file:

* dims ``(cross_track, along_track, …)`` (cross-track first) → prelib's ``(scan, ray|pixel, …)``
  (``scan`` = along track);
* HDF5 group prefixes dropped (``precipRateNearSurface``, ``zFactorFinal``, ``Tc``), the
  frequency axes labelled (``radar_frequency`` = ``["Ku", "Ka"]``, ``pmw_frequency`` =
  ``["10V", …, "89H"]`` on S1 and ``["165V", "165H", "183V3", "183V7"]`` on S2);
* fill decoded to NaN; reflectivity flags (< −80 dBZ) NaN; range-bin variables
  (``binClutterFreeBottom``, ``binRealSurface``) kept **1-based** as in the file with
  non-positive values NaN, and a ``range`` coordinate 1 … nbin (prelib: 0-based bin indices);
* ``lon``/``lat`` (cross_track, along_track) and ``time`` (along_track), scan times to the
  second (prelib keeps the milliseconds);
* units as in the file (``mm/hr``, ``K``, ``dBZ``).

Converters:

* :func:`dpr_from_gpm_api`: 2A-DPR, 2A-Ku, 2A-Ka → :func:`~prelib.readers.dpr.read_dpr_2a`;
* :func:`gmi_from_gpm_api`: 1C-GMI S1 + S2 → :func:`~prelib.readers.gmi.read_gmi_1c`;
* :func:`cmb_from_gpm_api`: 2B-GPM-CORRA → :func:`~prelib.readers.cmb.read_cmb_2b`.

2A-GMI (GPROF) has no prelib reader: PRE-Net uses GMI brightness temperatures, not GPROF rain.
The converters take datasets in memory or opened lazily (dask); they import nothing from
gpm-api.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from prelib.conventions import (
    CONVENTIONS_ATTR,
    DIM_BIN,
    DIM_PMW_CHANNEL,
    DIM_RAY,
    DIM_SCAN,
    DPR_BIN_SPACING_M,
    GMI_CHANNELS,
    GMI_FREQUENCIES_GHZ,
    UNITS_LAT,
    UNITS_LON,
    UNITS_PRECIP,
    UNITS_REFLECTIVITY,
    VAR_PMW,
    VAR_PRECIP,
    cf_attrs,
)
from prelib.errors import InvalidDataError
from prelib.readers.dpr import NO_ECHO_BELOW_DBZ
from prelib.readers.gmi import DIM_ACROSS, collocate_nearest
from prelib.validation import clean_field, mask_fill, to_canonical_units

ALONG, ACROSS, RANGE = "along_track", "cross_track", "range"
"""gpm-api's swath dimensions (nscan → along_track, nray/npixel → cross_track, nbin → range)."""
RADAR_FREQUENCY, PMW_FREQUENCY = "radar_frequency", "pmw_frequency"

GMI_LABELS: dict[str, str] = {
    "10V": "10.65V",
    "10H": "10.65H",
    "19V": "18.7V",
    "19H": "18.7H",
    "23V": "23.8V",
    "37V": "36.64V",
    "37H": "36.64H",
    "89V": "89.0V",
    "89H": "89.0H",
    "165V": "166V",
    "165H": "166H",
    "183V3": "183.31+-3V",
    "183V7": "183.31+-7V",
}
"""gpm-api ``pmw_frequency`` label → prelib GMI channel name (:data:`GMI_CHANNELS`)."""

_S1_CHANNELS, _S2_CHANNELS = GMI_CHANNELS[:9], GMI_CHANNELS[9:]
_KEEP_ATTRS = (
    "DOI",
    "AlgorithmID",
    "AlgorithmVersion",
    "ProductVersion",
    "GranuleNumber",
    "StartGranuleDateTime",
    "StopGranuleDateTime",
    "SatelliteName",
    "InstrumentName",
)


def dpr_from_gpm_api(
    ds: xr.Dataset, *, band: str = "Ku", mask_clutter: bool = True, corrected: bool = True
) -> xr.Dataset:
    """A gpm-api 2A-DPR / 2A-Ku / 2A-Ka dataset in the schema of
    :func:`~prelib.readers.dpr.read_dpr_2a`.

    Parameters
    ----------
    ds : xarray.Dataset
        ``gpm.open_granule_dataset(path, scan_mode="FS")`` (V07; ``"NS"``/``"MS"``/``"HS"``
        for V06), holding at least ``zFactorMeasured``, ``zFactorFinal`` (V07) or
        ``zFactorCorrected`` (V06), ``binClutterFreeBottom``, ``binRealSurface`` and
        ``precipRateNearSurface`` with dims (cross_track, along_track[, range[,
        radar_frequency]]), and the ``lon``/``lat``/``time`` coordinates. The whole ``range``
        axis must be there (bin variables index into it).
    band : {"Ku", "Ka"}
        Frequency taken from two-frequency (``radar_frequency``) arrays.
    mask_clutter, corrected
        As in :func:`~prelib.readers.dpr.read_dpr_2a`.

    Returns
    -------
    xarray.Dataset
        Dims ``(scan, ray, bin)``: ``reflectivity``, ``reflectivity_corrected`` (dBZ, NaN = no
        echo), ``clutter_free_bottom`` and ``real_surface_bin`` (0-based bin index, float),
        ``precip_near_surface`` (mm h-1); coordinates ``lat``, ``lon`` (scan, ray), ``time``.

    Raises
    ------
    prelib.errors.InvalidDataError
        A variable or coordinate missing, a cut ``range`` axis, unknown units.
    """
    if band not in ("Ku", "Ka"):
        raise ValueError(f"band must be 'Ku' or 'Ka', got {band!r}")
    label = _label(ds)
    corrected_name = "zFactorFinal" if "zFactorFinal" in ds else "zFactorCorrected"
    needed = ["zFactorMeasured", "binClutterFreeBottom", "binRealSurface", "precipRateNearSurface"]
    _require(ds, needed + ([corrected_name] if corrected else []), label)
    if RANGE in ds.coords and ds.sizes.get(RANGE):
        first = int(ds[RANGE].values[0])
        if first != 1 or not np.array_equal(ds[RANGE].values, np.arange(1, ds.sizes[RANGE] + 1)):
            raise InvalidDataError(
                f"{label}: the range axis is cut (range = {first} … "
                f"{int(ds[RANGE].values[-1])}); convert the whole profile, the bin variables "
                "index into it"
            )
    used_band = band if RADAR_FREQUENCY in ds["zFactorMeasured"].dims else _single_band(ds)
    measured = _swath_array(ds, "zFactorMeasured", band, label, profile=True)
    corrected_values = (
        _swath_array(ds, corrected_name, band, label, profile=True) if corrected else None
    )
    clutter_free = _bin_index(_swath_array(ds, "binClutterFreeBottom", band, label))
    surface = _bin_index(_swath_array(ds, "binRealSurface", band, label))
    rain_units = ds["precipRateNearSurface"].attrs.get("units")
    rain = mask_fill(
        to_canonical_units(
            _swath_array(ds, "precipRateNearSurface", band, label),
            rain_units,
            VAR_PRECIP,
            source=f"{label}:precipRateNearSurface",
        )
    )
    n_bins = measured.shape[2]
    profiles = [measured] + ([corrected_values] if corrected_values is not None else [])
    below = np.arange(n_bins)[None, None, :] > clutter_free[..., None]
    below |= ~np.isfinite(clutter_free)[..., None]
    for profile in profiles:
        with np.errstate(invalid="ignore"):
            profile[profile < NO_ECHO_BELOW_DBZ] = np.nan
        if mask_clutter:
            profile[below] = np.nan
    profile_dims, ray_dims = (DIM_SCAN, DIM_RAY, DIM_BIN), (DIM_SCAN, DIM_RAY)
    bin_note = "0-based index into bin (bin 0 = top); the file stores 1-based bin numbers"
    data_vars = {
        "reflectivity": (
            profile_dims,
            measured,
            {
                "standard_name": "equivalent_reflectivity_factor",
                "units": UNITS_REFLECTIVITY,
                "long_name": f"DPR {used_band} measured reflectivity (PRE/zFactorMeasured)",
            },
        ),
        "clutter_free_bottom": (
            ray_dims,
            clutter_free,
            {"long_name": "lowest clutter-free range bin", "comment": bin_note, "units": "1"},
        ),
        "real_surface_bin": (
            ray_dims,
            surface,
            {"long_name": "range bin of the surface echo", "comment": bin_note, "units": "1"},
        ),
        "precip_near_surface": (
            ray_dims,
            rain,
            {
                "standard_name": "lwe_precipitation_rate",
                "units": UNITS_PRECIP,
                "long_name": "near-surface precipitation rate (SLV/precipRateNearSurface)",
            },
        ),
    }
    if corrected_values is not None:
        group = "SLV/zFactorFinal" if corrected_name == "zFactorFinal" else "SLV/zFactorCorrected"
        data_vars["reflectivity_corrected"] = (
            profile_dims,
            corrected_values,
            {
                "standard_name": "equivalent_reflectivity_factor",
                "units": UNITS_REFLECTIVITY,
                "long_name": f"DPR {used_band} attenuation-corrected reflectivity ({group})",
            },
        )
    attrs = _granule_attrs(ds, "dpr_2a")
    attrs.update(
        {
            "scan_mode": str(ds.attrs.get("ScanMode", "")),
            "band": used_band,
            "version": "V07" if corrected_name == "zFactorFinal" else "V06",
            "bin_spacing_m": DPR_BIN_SPACING_M if n_bins == 176 else 250.0,
            "clutter_masked": int(mask_clutter),
        }
    )
    return xr.Dataset(
        data_vars,
        coords=_swath_coords(ds, DIM_RAY, label),
        attrs={"Conventions": CONVENTIONS_ATTR, **attrs},
    )


def gmi_from_gpm_api(
    s1: xr.Dataset, s2: xr.Dataset | None = None, *, radius_m: float = 15000.0
) -> xr.Dataset:
    """gpm-api 1C-GMI scan modes in the schema of :func:`~prelib.readers.gmi.read_gmi_1c`.

    Parameters
    ----------
    s1 : xarray.Dataset
        ``gpm.open_granule_dataset(path, scan_mode="S1")``: ``Tc`` (cross_track, along_track,
        pmw_frequency=9) in K.
    s2 : xarray.Dataset, optional
        ``scan_mode="S2"``: the four 166/183 GHz channels on their own footprints, collocated
        onto S1 by nearest neighbour within ``radius_m`` (as prelib's reader does). Without it
        those channels are NaN.
    radius_m : float
        Largest S2→S1 footprint distance (m).

    Returns
    -------
    xarray.Dataset
        ``pmw`` (scan, pixel, pmw_channel=13) float32 K in :data:`GMI_CHANNELS` order;
        coordinates ``lat``, ``lon`` (scan, pixel), ``time`` (scan), ``pmw_channel`` and
        ``frequency`` (GHz).

    Raises
    ------
    prelib.errors.InvalidDataError
        ``Tc`` missing, channels that are not GMI's S1 (or S2) channels, unknown units.
    """
    label = _label(s1)
    tc1 = _gmi_tc(s1, _S1_CHANNELS, label)
    coords = _swath_coords(s1, DIM_ACROSS, label)
    lat1, lon1 = coords["lat"][1], coords["lon"][1]
    if s2 is not None:
        label2 = _label(s2)
        tc2 = _gmi_tc(s2, _S2_CHANNELS, label2)
        s2_coords = _swath_coords(s2, DIM_ACROSS, label2)
        tc2_on_s1 = collocate_nearest(
            s2_coords["lat"][1], s2_coords["lon"][1], tc2, lat1, lon1, radius_m
        )
    else:
        tc2_on_s1 = np.full((*tc1.shape[:2], len(_S2_CHANNELS)), np.nan, dtype=np.float32)
    pmw = np.concatenate([tc1, tc2_on_s1], axis=2).astype(np.float32)
    coords[DIM_PMW_CHANNEL] = (DIM_PMW_CHANNEL, list(GMI_CHANNELS))
    coords["frequency"] = (DIM_PMW_CHANNEL, np.asarray(GMI_FREQUENCIES_GHZ), {"units": "GHz"})
    attrs = _granule_attrs(s1, "gmi_1c")
    attrs["all_fill"] = int(not np.isfinite(pmw).any())
    return xr.Dataset(
        {VAR_PMW: ((DIM_SCAN, DIM_ACROSS, DIM_PMW_CHANNEL), pmw, cf_attrs(VAR_PMW))},
        coords=coords,
        attrs={"Conventions": CONVENTIONS_ATTR, **attrs},
    )


def cmb_from_gpm_api(ds: xr.Dataset) -> xr.Dataset:
    """A gpm-api 2B-GPM-CORRA dataset in the schema of :func:`~prelib.readers.cmb.read_cmb_2b`.

    Parameters
    ----------
    ds : xarray.Dataset
        ``gpm.open_granule_dataset(path, scan_mode="KuGMI")`` (V07; ``"NS"`` for V06) with
        ``nearSurfPrecipTotRate`` (V07) or ``surfPrecipTotRate`` (V06), and for V07 also
        ``estimSurfPrecipTotRate``.

    Returns
    -------
    xarray.Dataset
        ``precip_surface`` (scan, ray) mm h-1 and, for V07, ``precip_estimated_surface``;
        coordinates ``lat``, ``lon`` (scan, ray), ``time`` (scan).
    """
    label = _label(ds)
    version = "V07" if "nearSurfPrecipTotRate" in ds else "V06"
    names = {"precip_surface": "surfPrecipTotRate"}
    if version == "V07":
        names = {
            "precip_surface": "nearSurfPrecipTotRate",
            "precip_estimated_surface": "estimSurfPrecipTotRate",
        }
    _require(ds, list(names.values()), label)
    data_vars = {}
    for var, name in names.items():
        values = clean_field(
            _swath_array(ds, name, "Ku", label),
            VAR_PRECIP,
            ds[name].attrs.get("units"),
            source=f"{label}:{name}",
        )
        data_vars[var] = (
            (DIM_SCAN, DIM_RAY),
            values,
            {
                "standard_name": "lwe_precipitation_rate",
                "units": UNITS_PRECIP,
                "long_name": f"combined DPR+GMI surface precipitation rate ({name})",
            },
        )
    attrs = _granule_attrs(ds, "cmb_2b")
    attrs["all_fill"] = int(not np.isfinite(data_vars["precip_surface"][1]).any())
    attrs.update({"scan_mode": str(ds.attrs.get("ScanMode", "")), "version": version})
    return xr.Dataset(
        data_vars,
        coords=_swath_coords(ds, DIM_RAY, label),
        attrs={"Conventions": CONVENTIONS_ATTR, **attrs},
    )


# ------------------------------------------------------------------------------------------
def _label(ds: xr.Dataset) -> str:
    """How messages name the dataset: gpm-api's product and file name where known."""
    product = ds.attrs.get("gpm_api_product", "gpm-api dataset")
    name = ds.attrs.get("FileName")
    return f"{product} ({name})" if name else str(product)


def _require(ds: xr.Dataset, names, label: str) -> None:
    missing = [n for n in names if n not in ds]
    if missing:
        raise InvalidDataError(
            f"{label}: variables {missing} missing (the dataset has {sorted(ds.data_vars)}); "
            "open the granule with them, e.g. gpm.open_granule_dataset(path, scan_mode=…)"
        )
    for coord in ("lat", "lon", "time"):
        if coord not in ds.coords and coord not in ds:
            raise InvalidDataError(f"{label}: coordinate {coord!r} missing")


def _swath_array(
    ds: xr.Dataset, name: str, band: str, label: str, *, profile: bool = False
) -> np.ndarray:
    """``ds[name]`` as (along, across[, range]) float32, the band picked from a frequency axis."""
    da = ds[name]
    if RADAR_FREQUENCY in da.dims:
        labels = (
            [str(v) for v in da[RADAR_FREQUENCY].values] if RADAR_FREQUENCY in da.coords else []
        )
        if band in labels:
            da = da.sel({RADAR_FREQUENCY: da[RADAR_FREQUENCY].values[labels.index(band)]})
        else:  # unlabelled: the file's order, Ku first
            da = da.isel({RADAR_FREQUENCY: 0 if band == "Ku" else 1})
    order = (ALONG, ACROSS, RANGE) if profile else (ALONG, ACROSS)
    if set(da.dims) != set(order):
        raise InvalidDataError(f"{label}: {name} has dims {da.dims}; expected {order}")
    return np.asarray(da.transpose(*order).values, dtype=np.float32)


def _bin_index(values: np.ndarray) -> np.ndarray:
    """gpm-api's 1-based bin numbers (non-positive = fill) → 0-based float indices, NaN fill."""
    with np.errstate(invalid="ignore"):
        return np.where(values > 0, values - 1.0, np.nan).astype(np.float32)


def _single_band(ds: xr.Dataset) -> str:
    product = str(ds.attrs.get("gpm_api_product", ""))
    mode = str(ds.attrs.get("ScanMode", ""))
    return "Ka" if product.endswith("Ka") or mode in ("MS", "HS") else "Ku"


def _swath_coords(ds: xr.Dataset, across_dim: str, label: str) -> dict:
    lat = np.asarray(ds["lat"].transpose(ALONG, ACROSS).values, dtype=np.float32)
    lon = np.asarray(ds["lon"].transpose(ALONG, ACROSS).values, dtype=np.float32)
    with np.errstate(invalid="ignore"):  # undecoded fill (-9999.9) where decode_cf=False
        bad = ~(np.abs(lat) <= 90.0) | ~(np.abs(lon) <= 360.0)
    lat, lon = np.where(bad, np.nan, lat), np.where(bad, np.nan, lon)
    if not np.isfinite(lat).any():
        raise InvalidDataError(f"{label}: every latitude is missing (empty granule)")
    times = np.asarray(ds["time"].values).astype("datetime64[ns]")
    if ds["time"].dims != (ALONG,):
        raise InvalidDataError(f"{label}: time has dims {ds['time'].dims}; expected ('{ALONG}',)")
    return {
        "lat": ((DIM_SCAN, across_dim), lat, {"standard_name": "latitude", "units": UNITS_LAT}),
        "lon": ((DIM_SCAN, across_dim), lon, {"standard_name": "longitude", "units": UNITS_LON}),
        "time": ((DIM_SCAN,), times, {"long_name": "scan time (UTC)"}),
    }


def _gmi_tc(ds: xr.Dataset, expected: tuple[str, ...], label: str) -> np.ndarray:
    """``Tc`` (along, across, channel) in K with the channels in ``expected`` order."""
    _require(ds, ["Tc"], label)
    da = ds["Tc"]
    if PMW_FREQUENCY not in da.dims:
        raise InvalidDataError(f"{label}: Tc has dims {da.dims}; expected a pmw_frequency axis")
    if PMW_FREQUENCY in da.coords:
        labels = [GMI_LABELS.get(str(v), str(v)) for v in da[PMW_FREQUENCY].values]
    else:
        labels = list(expected) if da.sizes[PMW_FREQUENCY] == len(expected) else []
    if sorted(labels) != sorted(expected):
        raise InvalidDataError(
            f"{label}: Tc channels {labels or da.sizes[PMW_FREQUENCY]} are not GMI's "
            f"{list(expected)} (S1 has the 9 channels 10-89 GHz, S2 the 4 at 166-183 GHz)"
        )
    da = da.isel({PMW_FREQUENCY: [labels.index(c) for c in expected]})
    values = np.asarray(da.transpose(ALONG, ACROSS, PMW_FREQUENCY).values, dtype=np.float32)
    return clean_field(values, VAR_PMW, da.attrs.get("units"), source=f"{label}:Tc")


def _granule_attrs(ds: xr.Dataset, product: str) -> dict:
    attrs = {k: ds.attrs[k] for k in _KEEP_ATTRS if k in ds.attrs}
    if "GranuleNumber" not in attrs and "gpm_granule_id" in ds.coords and ds["gpm_granule_id"].size:
        attrs["GranuleNumber"] = f"{int(np.asarray(ds['gpm_granule_id'].values).flat[0]):06d}"
    attrs.update(
        {
            "source": "real",
            "product": product,
            "filename": str(ds.attrs.get("FileName", "")),
            "converted_from": f"gpm-api dataset ({ds.attrs.get('gpm_api_product', 'unknown')})",
        }
    )
    return attrs


__all__ = ["GMI_LABELS", "cmb_from_gpm_api", "dpr_from_gpm_api", "gmi_from_gpm_api"]

"""The units of work of the real-data benchmark builders: one DPR granule (Swath-MPR) or one
CLDAS hour (Full-IPR) → patches in the benchmark schema, the inputs used and the rejections.

Swath-MPR: the DPR Ku footprints (49 rays, ~5 km along track) are the 5 km swath grid; runs of
scans wholly inside 0–65°N, 60–160°E are cut into 256-scan patches; each patch gets the GMI 1C
granule of the same orbit (13 channels, nearest footprint), the nearest AGRI scan within 10
minutes, the CLDAS hour containing the overpass, and the DEM elevation
(:mod:`prelib.data.build.collocation`). Full-IPR: the nearest AGRI scan within 10 minutes of the
hour's end is sampled with CLDAS onto the 0.04° (4 km) grid of the domain (latitude ascending
along ``y``, as the synthetic builder), tiled into 256 × 256 patches. Dry or invalid patches are
dropped with the synthetic builder's rule (:func:`prelib.data.sample_plan.is_kept`).

A unit whose main granule (DPR, GMI; CLDAS, AGRI for Full-IPR) cannot be read raises its
:class:`~prelib.readers.errors.ProductError`, and the builder records the unit as failed; an
all-fill granule is recorded as a rejection with a warning (it never gives a sample).
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from prelib.conventions import (
    AGRI_IR_CHANNELS,
    CONVENTIONS_ATTR,
    DIM_BIN,
    DIM_IR_CHANNEL,
    DIM_PMW_CHANNEL,
    DIM_RAY,
    DIM_SCAN,
    DIM_X,
    DIM_Y,
    DOMAIN_LAT,
    DOMAIN_LON,
    DPR_N_BINS,
    DPR_N_RAYS,
    FULL_DISC_PATCH_SHAPE,
    FULL_DISC_RESOLUTION_KM,
    GMI_CHANNELS,
    SWATH_PATCH_SHAPE,
    VAR_ELEVATION,
    VAR_IR,
    VAR_LAT,
    VAR_LON,
    VAR_PMW,
    VAR_PR,
    VAR_PRECIP,
    VAR_TIME,
    cf_attrs,
)
from prelib.data.build.collocation import (
    AGRI_TOLERANCE,
    IndexedFile,
    in_domain,
    label_hour,
    nearest_in_time,
    sample_agri,
    sample_regular_grid,
    swath_windows,
)
from prelib.readers.errors import AllFillError, ProductError
from prelib.validation import clean_field, sample_problems

GMI_RADIUS_M = 15000.0
"""Largest GMI-footprint-to-DPR-pixel distance accepted (the 10 GHz footprint is ~12 × 13 km)."""


@dataclasses.dataclass(frozen=True)
class BuildSettings:
    """Thresholds shared by the units of one build (picklable, sent to the workers)."""

    min_wet_fraction: float
    min_valid_fraction: float
    agri_tolerance_s: int = int(AGRI_TOLERANCE / np.timedelta64(1, "s"))


# ------------------------------------------------------------------------------------------
# Samples in the benchmark schema
# ------------------------------------------------------------------------------------------
def _elevation(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    from prelib.sim.terrain import surface_elevation

    return surface_elevation(lat, lon)


def _sample(
    fields: dict[str, np.ndarray], dims: tuple[str, str], lat, lon, time, meta
) -> xr.Dataset:
    data_vars = {}
    for name, value in fields.items():
        lead = {VAR_IR: (DIM_IR_CHANNEL,), VAR_PMW: (DIM_PMW_CHANNEL,), VAR_PR: (DIM_BIN,)}
        var_dims = lead.get(name, ()) + dims
        data_vars[name] = xr.Variable(
            var_dims, np.ascontiguousarray(value, np.float32), cf_attrs(name)
        )
    for name, (value, attrs) in meta.items():
        data_vars[name] = xr.Variable((), value, attrs)
    coords = {
        VAR_LAT: xr.Variable(dims, np.asarray(lat, np.float32), cf_attrs(VAR_LAT)),
        VAR_LON: xr.Variable(dims, np.asarray(lon, np.float32), cf_attrs(VAR_LON)),
        VAR_TIME: xr.Variable(
            (),
            np.datetime64(time, "ns"),
            {"long_name": "end of the label hour", "standard_name": "time"},
        ),
        DIM_IR_CHANNEL: list(AGRI_IR_CHANNELS),
    }
    if VAR_PMW in fields:
        coords[DIM_PMW_CHANNEL] = list(GMI_CHANNELS)
    if VAR_PR in fields:
        coords[DIM_BIN] = np.arange(DPR_N_BINS, dtype=np.int16)
    return xr.Dataset(
        data_vars, coords=coords, attrs={"Conventions": CONVENTIONS_ATTR, "source": "real"}
    )


def _offset_meta(agri_offset: np.timedelta64, obs_time, label_time) -> dict:
    seconds = np.timedelta64(1, "s")
    return {
        "observation_offset_s": (
            np.float32((np.datetime64(obs_time, "ns") - label_time) / seconds),
            {"units": "s", "long_name": "satellite observation time minus label-hour end"},
        ),
        "agri_offset_s": (
            np.float32(agri_offset / seconds),
            {"units": "s", "long_name": "AGRI scan start minus observation time"},
        ),
    }


def _keep(precip, settings: BuildSettings) -> tuple[bool, str]:
    from prelib.data.sample_plan import is_kept, wet_and_valid_fraction

    wet, valid = wet_and_valid_fraction(precip)
    if is_kept(precip, settings.min_wet_fraction, settings.min_valid_fraction):
        return True, ""
    if valid < settings.min_valid_fraction or valid == 0:
        return False, f"label valid fraction {valid:.3f} < {settings.min_valid_fraction}"
    return False, f"dry: wet fraction {wet:.4f} < {settings.min_wet_fraction}"


def _reject(rejections: list, unit: str, reason: str, **details) -> None:
    rejections.append({"unit": unit, "reason": reason, **{k: str(v) for k, v in details.items()}})


def _all_fill(rejections: list, unit: str, err: AllFillError | str) -> None:
    """An all-fill granule is not an error of the build but never a sample: warn and record."""
    warnings.warn(f"{unit}: {err}", stacklevel=3)
    _reject(rejections, unit, "all-fill granule", error=err)


def _read_cldas(path: Path, cache: dict):
    from prelib.readers.cldas import read_cldas

    if path not in cache:
        label = read_cldas(path)
        if label.attrs.get("all_fill"):
            raise AllFillError(path, "every precipitation value is missing (an all-fill file)")
        cache[path] = label["precip"]
    return cache[path]


def _read_agri(path: Path, cache: dict):
    from prelib.readers.agri import read_agri_l1

    if path not in cache:
        cache[path] = read_agri_l1(path, geolocation=False)
    return cache[path]


# ------------------------------------------------------------------------------------------
# Units of work
# ------------------------------------------------------------------------------------------
def process_swath_granule(
    dpr: IndexedFile,
    gmi_files: list[IndexedFile],
    agri_files: list[IndexedFile],
    cldas_files: list[IndexedFile],
    settings: BuildSettings,
) -> tuple[list[xr.Dataset], list[str], list[dict]]:
    """Patches of one DPR granule: (samples, input files used, rejections)."""
    from prelib.readers.dpr import read_dpr_2a
    from prelib.readers.gmi import collocate_nearest, read_gmi_1c

    unit = dpr.path.name
    samples, used, rejections = [], [], []
    try:
        radar = read_dpr_2a(
            dpr.path, "FS" if dpr.name.version.startswith("V07") else "NS", corrected=False
        )
    except AllFillError as err:
        _all_fill(rejections, unit, err)
        return samples, used, rejections
    if not np.isfinite(radar["precip_near_surface"].values).any():
        _all_fill(rejections, unit, "every precipRateNearSurface value is fill")
        return samples, used, rejections
    radar["reflectivity"].values = clean_field(
        radar["reflectivity"].values, VAR_PR, source=f"{dpr.path}:reflectivity"
    )
    lat, lon = radar[VAR_LAT].values, radar[VAR_LON].values
    if lat.shape[1] != DPR_N_RAYS:
        _reject(rejections, unit, f"DPR swath has {lat.shape[1]} rays, expected {DPR_N_RAYS}")
        return samples, used, rejections
    inside = in_domain(lat, lon).all(axis=1)
    windows = swath_windows(inside, SWATH_PATCH_SHAPE[0])
    if not inside.any():
        _reject(rejections, unit, "swath misses the region (0-65N, 60-160E)")
        return samples, used, rejections
    if not windows:
        _reject(
            rejections,
            unit,
            f"in-region segments shorter than {SWATH_PATCH_SHAPE[0]} scans",
            scans_inside=int(inside.sum()),
        )
        return samples, used, rejections
    granule = dpr.name.fields.get("granule")
    gmi = next((f for f in gmi_files if f.name.fields.get("granule") == granule), None)
    if gmi is None:
        _reject(rejections, unit, f"no GMI 1C granule {granule}")
        return samples, used, rejections
    try:
        gmi_ds = read_gmi_1c(gmi.path)
    except AllFillError as err:
        _all_fill(rejections, unit, err)
        return samples, used, rejections
    if gmi_ds.attrs.get("all_fill"):
        _all_fill(rejections, f"{unit} (GMI {gmi.path.name})", "every Tc value is fill")
        return samples, used, rejections
    used += [str(dpr.path), str(gmi.path)]
    agri_cache, cldas_cache = {}, {}
    tolerance = np.timedelta64(settings.agri_tolerance_s, "s")
    for first, stop in windows:
        patch = f"{unit}[{first}:{stop}]"
        times = radar[VAR_TIME].values[first:stop]
        obs_time = times[~np.isnat(times)][len(times[~np.isnat(times)]) // 2]
        agri, offset = nearest_in_time(obs_time, agri_files, tolerance)
        if agri is None:
            gap = "none indexed" if offset is None else f"{offset / np.timedelta64(1, 's'):+.0f} s"
            _reject(rejections, patch, "no AGRI scan within 10 min", nearest_offset=gap)
            continue
        hour = label_hour(obs_time)
        cldas = next((f for f in cldas_files if f.name.end == hour), None)
        if cldas is None:
            _reject(rejections, patch, "no CLDAS file for the label hour", hour=hour)
            continue
        plat, plon = lat[first:stop], lon[first:stop]
        try:
            ir = sample_agri(_read_agri(agri.path, agri_cache), plat, plon)
            precip = sample_regular_grid(_read_cldas(cldas.path, cldas_cache), plat, plon)
        except ProductError as err:
            _reject(rejections, patch, "unreadable AGRI or CLDAS file", error=err)
            continue
        ir_valid = float(np.isfinite(ir).all(axis=0).mean())
        if ir_valid < settings.min_valid_fraction:
            _reject(
                rejections,
                patch,
                f"AGRI covers {ir_valid:.3f} of the patch (no overlap)",
                agri=agri.path.name,
            )
            continue
        keep, why = _keep(precip, settings)
        if not keep:
            _reject(rejections, patch, why)
            continue
        pmw = collocate_nearest(
            gmi_ds[VAR_LAT].values,
            gmi_ds[VAR_LON].values,
            gmi_ds[VAR_PMW].values,
            plat,
            plon,
            GMI_RADIUS_M,
        )
        fields = {
            VAR_IR: ir,
            VAR_PMW: np.moveaxis(pmw, -1, 0),
            VAR_PR: np.moveaxis(radar["reflectivity"].values[first:stop], -1, 0),
            VAR_PRECIP: precip,
        }
        problems = sample_problems(fields)
        if problems:
            _reject(rejections, patch, "; ".join(problems))
            continue
        fields[VAR_ELEVATION] = _elevation(plat, plon)
        meta = _offset_meta(offset, obs_time, hour)
        meta["granule"] = (
            np.asarray(f"{granule}:{first}", dtype="<U32"),
            {"long_name": "GPM granule number and first DPR scan"},
        )
        samples.append(_sample(fields, (DIM_SCAN, DIM_RAY), plat, plon, hour, meta))
        used += [str(agri.path), str(cldas.path)]
    return samples, sorted(set(used)), rejections


def fulldisc_grid() -> tuple[np.ndarray, np.ndarray]:
    """Cell centres (lat ascending, lon ascending; degrees) of the 0.04° domain grid."""
    step = FULL_DISC_RESOLUTION_KM / 100.0
    n_lat = round((DOMAIN_LAT[1] - DOMAIN_LAT[0]) / step)
    n_lon = round((DOMAIN_LON[1] - DOMAIN_LON[0]) / step)
    return (
        DOMAIN_LAT[0] + (np.arange(n_lat) + 0.5) * step,
        DOMAIN_LON[0] + (np.arange(n_lon) + 0.5) * step,
    )


def _agri_footprint(agri: xr.Dataset) -> tuple[float, float, float, float] | None:
    """(lat_min, lat_max, lon_min, lon_max) of the scan's border pixels on the Earth, padded by
    one 4 km pixel; ``None`` when the border is in space (a full disc: it may cover anything).
    A cheap test that spares sampling the scan onto tiles it cannot reach."""
    from prelib.readers.agri import disc_latlon, projection_of

    lines, cols = agri["line"].values, agri["column"].values
    lat, lon = disc_latlon(projection_of(agri), lines[0], cols[0], lines.size, cols.size)
    border = np.concatenate([lat[0], lat[-1], lat[:, 0], lat[:, -1]])
    border_lon = np.concatenate([lon[0], lon[-1], lon[:, 0], lon[:, -1]])
    if not np.isfinite(border).all():
        return None
    pad = 0.05
    return (border.min() - pad, border.max() + pad, border_lon.min() - pad, border_lon.max() + pad)


def _overlaps(footprint, tile_lat: np.ndarray, tile_lon: np.ndarray) -> bool:
    if footprint is None:
        return True
    lat_min, lat_max, lon_min, lon_max = footprint
    return not (
        tile_lat.max() < lat_min
        or tile_lat.min() > lat_max
        or tile_lon.max() < lon_min
        or tile_lon.min() > lon_max
    )


def process_label_hour(
    cldas: IndexedFile, agri_files: list[IndexedFile], settings: BuildSettings
) -> tuple[list[xr.Dataset], list[str], list[dict]]:
    """Full-IPR patches of one CLDAS hour: (samples, input files used, rejections)."""
    unit = cldas.path.name
    samples, used, rejections = [], [], []
    hour = cldas.name.end
    agri, offset = nearest_in_time(hour, agri_files, np.timedelta64(settings.agri_tolerance_s, "s"))
    if agri is None:
        gap = "none indexed" if offset is None else f"{offset / np.timedelta64(1, 's'):+.0f} s"
        _reject(
            rejections, unit, "no AGRI scan within 10 min of the label hour", nearest_offset=gap
        )
        return samples, used, rejections
    try:
        agri_ds = _read_agri(agri.path, {})
        label = _read_cldas(cldas.path, {})
    except AllFillError as err:
        _all_fill(rejections, unit, err)
        return samples, used, rejections
    lat1, lon1 = fulldisc_grid()
    ny, nx = FULL_DISC_PATCH_SHAPE
    footprint = _agri_footprint(agri_ds)
    for i in range(lat1.size // ny):
        for j in range(lon1.size // nx):
            patch = f"{unit}[y{i * ny}:x{j * nx}]"
            tile_lat, tile_lon = lat1[i * ny : (i + 1) * ny], lon1[j * nx : (j + 1) * nx]
            if not _overlaps(footprint, tile_lat, tile_lon):
                _reject(rejections, patch, "AGRI covers 0.000 of the patch (no overlap)")
                continue
            lon2, lat2 = np.meshgrid(tile_lon, tile_lat)
            ir = sample_agri(agri_ds, lat2, lon2)
            ir_valid = float(np.isfinite(ir).all(axis=0).mean())
            if ir_valid < settings.min_valid_fraction:
                _reject(rejections, patch, f"AGRI covers {ir_valid:.3f} of the patch (no overlap)")
                continue
            precip = sample_regular_grid(label, lat2, lon2)
            keep, why = _keep(precip, settings)
            if not keep:
                _reject(rejections, patch, why)
                continue
            problems = sample_problems({VAR_IR: ir, VAR_PRECIP: precip})
            if problems:
                _reject(rejections, patch, "; ".join(problems))
                continue
            fields = {VAR_IR: ir, VAR_PRECIP: precip, VAR_ELEVATION: _elevation(lat2, lon2)}
            meta = _offset_meta(offset, agri.name.start, hour)
            samples.append(_sample(fields, (DIM_Y, DIM_X), lat2, lon2, hour, meta))
    if samples:
        used = [str(agri.path), str(cldas.path)]
    return samples, used, rejections

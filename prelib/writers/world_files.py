"""The synthetic world written as raw product files: one GPM overpass, its AGRI scan and CLDAS
hour, all sampled from one :func:`prelib.sim.scene.simulate_grid_scene` scene.

This closes the loop between the two data paths: the real-data builder
(:mod:`prelib.data.build.real`) can run end-to-end on files that carry the synthetic
world's physically grounded fields (cloud-top temperatures, microwave brightness temperatures,
radar profiles, hourly labels) in exactly the layouts of FY-4A AGRI L1, GPM 1C-GMI, 2A-DPR and
CLDAS-V2.0. The scene is simulated on a 5 km lat/lon grid covering the swath; every file samples
it by nearest grid cell (so the files agree with each other and with the scene).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import xarray as xr

from prelib.conventions import DOMAIN_LAT, DOMAIN_LON, SWATH_RESOLUTION_KM
from prelib.readers.geostationary import (
    GeosProjection,
    latlon_to_line_column,
    line_column_to_latlon,
)
from prelib.writers.agri import write_agri_l1
from prelib.writers.gpm import write_dpr_2a, write_gmi_1c
from prelib.writers.grids import write_cldas
from prelib.writers.scenario import DEFAULT_AGRI_OFFSET, swath_geometry


@dataclasses.dataclass(frozen=True)
class WorldOverpass:
    """Files written and the scene they were sampled from."""

    dpr: Path
    gmi: Path
    agri: Path
    cldas: Path
    scene: xr.Dataset
    lat: np.ndarray
    lon: np.ndarray


def _nearest_cells(
    scene: xr.Dataset, lat: np.ndarray, lon: np.ndarray, allow_outside: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, column of the nearest scene cell (regular grid, ``y`` northward) and a mask of the
    targets inside the scene (clipped indices elsewhere)."""
    lat1 = scene["lat"].values[:, 0].astype(np.float64)
    lon1 = scene["lon"].values[0, :].astype(np.float64)
    i = np.rint((np.asarray(lat) - lat1[0]) / (lat1[1] - lat1[0])).astype(np.int64)
    j = np.rint((np.asarray(lon) - lon1[0]) / (lon1[1] - lon1[0])).astype(np.int64)
    inside = (i >= 0) & (j >= 0) & (i < lat1.size) & (j < lon1.size)
    if not allow_outside and not inside.all():
        raise ValueError("target points fall outside the simulated scene")
    return np.clip(i, 0, lat1.size - 1), np.clip(j, 0, lon1.size - 1), inside


def write_world_overpass(
    directory: str | os.PathLike,
    label_time: np.datetime64,
    *,
    seed: int = 0,
    centre: tuple[float, float] = (30.0, 110.0),
    n_scans: int = 260,
    granule: int = 1,
    agri_offset: np.timedelta64 = DEFAULT_AGRI_OFFSET,
    regime: str | None = None,
) -> WorldOverpass:
    """Simulate one scene and write it as DPR, GMI, AGRI and CLDAS files.

    Parameters
    ----------
    label_time : numpy.datetime64
        End of the label hour (a whole hour); the overpass's middle scan is 30 minutes earlier.
    seed, regime : int, str
        Passed to the synthetic world.
    centre : (float, float)
        Swath centre (lat, lon), inside 0–65°N, 60–160°E with room for the swath.
    agri_offset : numpy.timedelta64
        AGRI scan start minus the middle scan of the first 256-scan patch.
    """
    from prelib.sim.scene import simulate_grid_scene

    root = Path(directory)
    label_time = np.datetime64(label_time, "ns")
    middle = label_time - np.timedelta64(30, "m")
    first_scan = middle - 128 * np.timedelta64(700, "ms")
    lat, lon, times = swath_geometry(centre, n_scans, first_scan)
    pad = 0.5
    box_lat = (
        max(DOMAIN_LAT[0], float(lat.min()) - pad),
        min(DOMAIN_LAT[1], float(lat.max()) + pad),
    )
    box_lon = (
        max(DOMAIN_LON[0], float(lon.min()) - pad),
        min(DOMAIN_LON[1], float(lon.max()) + pad),
    )
    scene = simulate_grid_scene(
        box_lat,
        box_lon,
        label_time,
        seed=seed,
        regime=regime,
        resolution_km=SWATH_RESOLUTION_KM,
        sensors=("ir", "pmw", "pr"),
    )
    i, j, _ = _nearest_cells(scene, lat, lon)
    reflectivity = np.moveaxis(scene["pr"].values[:, i, j], 0, -1)  # (scan, ray, bin)
    tc = np.moveaxis(scene["pmw"].values[:, i, j], 0, -1)
    rain_now = scene["precip_instant"].values[i, j]
    dpr = write_dpr_2a(
        root / "gpm", lat, lon, reflectivity, times, precip_near_surface=rain_now, granule=granule
    )
    gmi = write_gmi_1c(root / "gpm", lat, lon, tc, times, granule=granule)

    projection = GeosProjection(104.7)
    line, col = latlon_to_line_column(lat, lon, projection)
    line0, col0 = int(np.nanmin(line)) - 3, int(np.nanmin(col)) - 3
    n_lines, n_cols = int(np.nanmax(line)) + 4 - line0, int(np.nanmax(col)) + 4 - col0
    plat, plon = line_column_to_latlon(
        line0 + np.arange(n_lines)[:, None], col0 + np.arange(n_cols)[None, :], projection
    )
    # the AGRI line/column rectangle reaches beyond the scene box at its corners: fill there
    ai, aj, seen = _nearest_cells(scene, np.nan_to_num(plat), np.nan_to_num(plon), True)
    ir = scene["ir"]
    bt = {
        str(name): np.where(seen, ir.sel(ir_channel=name).values[ai, aj], np.nan)
        for name in ir["ir_channel"].values
    }
    agri_start = (times[128] + agri_offset).astype("datetime64[s]")
    agri = write_agri_l1(root / "agri", bt, agri_start, begin_line=line0, begin_column=col0)

    step = 0.0625
    glat = np.arange(np.ceil(box_lat[0] / step) * step, box_lat[1] - step, step) + step / 2
    glon = np.arange(np.ceil(box_lon[0] / step) * step, box_lon[1] - step, step) + step / 2
    gi, gj, _ = _nearest_cells(scene, glat[:, None] + 0 * glon[None, :], 0 * glat[:, None] + glon)
    cldas = write_cldas(root / "cldas", glat, glon, scene["precip"].values[gi, gj], label_time)
    return WorldOverpass(dpr, gmi, agri, cldas, scene, lat, lon)

"""A small, consistent set of raw files in the real layouts for end-to-end tests and benchmarks.

:func:`write_overpass` writes one GPM overpass (2A-DPR + 1C-GMI granules of the same orbit
number), the AGRI regional scan nearest to it and the CLDAS hour containing it, all seeing the
same analytic rain blob, so the whole real path — readers, collocation, builder — can run offline.
The fields are deliberately simple (a Gaussian rain area; colder cloud tops, warmer/colder
microwave and radar echoes where it rains): they test plumbing and geometry, not physics; the
synthetic world (:mod:`prelib.sim`) is where physically grounded fields come from.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from prelib.readers.geostationary import (
    GeosProjection,
    latlon_to_line_column,
    line_column_to_latlon,
)
from prelib.writers.agri import write_agri_l1
from prelib.writers.gpm import write_dpr_2a, write_gmi_1c
from prelib.writers.grids import write_cldas

DPR_SCAN_INTERVAL = np.timedelta64(700, "ms")
_SCAN_STEP_DEG, _RAY_STEP_DEG = 0.045, 0.05  # ≈ 5 km along and across track
DEFAULT_AGRI_OFFSET = np.timedelta64(-4, "m")


@dataclasses.dataclass(frozen=True)
class Overpass:
    """Paths and geometry of a written overpass."""

    dpr: Path
    gmi: Path
    agri: Path | None
    cldas: Path | None
    lat: np.ndarray
    lon: np.ndarray
    times: np.ndarray


def rain_rate(lat: np.ndarray, lon: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    """The scenario's rain field (mm h-1): a 1.5°-wide Gaussian of 8 mm h-1 peak, 0 below 0.05."""
    d2 = (np.asarray(lat) - centre[0]) ** 2 + (np.asarray(lon) - centre[1]) ** 2
    rain = 8.0 * np.exp(-d2 / (2 * 1.5**2))
    return np.where(rain < 0.05, 0.0, rain)


def swath_geometry(
    centre: tuple[float, float], n_scans: int, start: np.datetime64
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A northbound 49-ray swath centred on ``centre``: lat, lon (n_scans, 49) and scan times."""
    scan = np.arange(n_scans)[:, None] - (n_scans - 1) / 2
    ray = np.arange(49)[None, :] - 24
    lat = centre[0] + _SCAN_STEP_DEG * scan + 0.0 * ray
    lon = centre[1] + _RAY_STEP_DEG * ray + 0.002 * scan  # slight drift, like an inclined orbit
    times = np.datetime64(start, "ms") + np.arange(n_scans) * DPR_SCAN_INTERVAL
    return lat, lon, times


def write_overpass(
    directory: str | os.PathLike,
    start: np.datetime64,
    *,
    centre: tuple[float, float] = (30.0, 110.0),
    n_scans: int = 270,
    granule: int = 1,
    agri_offset: np.timedelta64 | None = DEFAULT_AGRI_OFFSET,
    write_label: bool = True,
) -> Overpass:
    """Write a DPR + GMI overpass, an AGRI REGC scan and a CLDAS hour under ``directory``.

    Parameters
    ----------
    start : numpy.datetime64
        Time of the first DPR scan.
    centre : (float, float)
        Swath centre (lat, lon) in degrees; also the rain centre.
    agri_offset : numpy.timedelta64 or None
        AGRI scan start minus the time of the middle scan of the first 256-scan patch; ``None``
        writes no AGRI file.
    write_label : bool
        Write the CLDAS file of the hour containing the overpass.
    """
    root = Path(directory)
    lat, lon, times = swath_geometry(centre, n_scans, start)
    rain = rain_rate(lat, lon, centre)
    tc = 260.0 - 4.0 * rain[..., None] + np.linspace(0, 20, 13)[None, None, :]
    z = np.full((n_scans, 49, 176), np.nan, dtype=np.float32)
    wet = rain >= 0.1
    z[wet, 140:168] = (25.0 + 2.0 * rain[wet])[:, None]
    dpr = write_dpr_2a(root / "gpm", lat, lon, z, times, precip_near_surface=rain, granule=granule)
    gmi = write_gmi_1c(root / "gpm", lat, lon, tc, times, granule=granule)
    agri_path = None
    if agri_offset is not None:
        middle = times[min(128, n_scans - 1)]
        agri_start = (middle + agri_offset).astype("datetime64[s]")
        projection = GeosProjection(104.7)
        line, col = latlon_to_line_column(lat, lon, projection)
        line0, col0 = int(np.nanmin(line)) - 3, int(np.nanmin(col)) - 3
        n_lines, n_cols = int(np.nanmax(line)) + 4 - line0, int(np.nanmax(col)) + 4 - col0
        plat, plon = line_column_to_latlon(
            line0 + np.arange(n_lines)[:, None], col0 + np.arange(n_cols)[None, :], projection
        )
        cloud = rain_rate(plat, plon, centre)
        bt = {
            f"C{k:02d}": (290.0 - 8.0 * cloud - 3.0 * (k - 7)).astype(np.float32)
            for k in range(7, 15)
        }
        agri_path = write_agri_l1(
            root / "agri", bt, agri_start, begin_line=line0, begin_column=col0
        )
    cldas_path = None
    if write_label:
        from prelib.data.build.collocation import label_hour

        hour = label_hour(times[min(128, n_scans - 1)])
        glat = np.arange(np.floor(lat.min()) - 1, np.ceil(lat.max()) + 1, 0.0625) + 0.03125
        glon = np.arange(np.floor(lon.min()) - 1, np.ceil(lon.max()) + 1, 0.0625) + 0.03125
        field = rain_rate(glat[:, None], glon[None, :], centre)
        cldas_path = write_cldas(root / "cldas", glat, glon, field, hour)
    return Overpass(dpr, gmi, agri_path, cldas_path, lat, lon, times)


def write_label_hour(
    directory: str | os.PathLike,
    hour: np.datetime64,
    box: tuple[float, float, float, float],
    *,
    agri_offset: np.timedelta64 | None = DEFAULT_AGRI_OFFSET,
) -> tuple[Path | None, Path]:
    """Write a CLDAS hour and an AGRI REGC scan covering ``box`` = (lat0, lat1, lon0, lon1).

    The AGRI scan starts at ``hour + agri_offset`` (``None``: no AGRI file). Rain is the
    scenario's Gaussian centred in the box. Returns (agri path or None, CLDAS path).
    """
    root = Path(directory)
    lat0, lat1, lon0, lon1 = box
    centre = ((lat0 + lat1) / 2, (lon0 + lon1) / 2)
    glat = np.arange(lat0 - 0.5, lat1 + 0.5, 0.0625) + 0.03125
    glon = np.arange(lon0 - 0.5, lon1 + 0.5, 0.0625) + 0.03125
    cldas = write_cldas(
        root / "cldas", glat, glon, rain_rate(glat[:, None], glon[None, :], centre), hour
    )
    agri_path = None
    if agri_offset is not None:
        projection = GeosProjection(104.7)
        edge_lat = np.concatenate(
            [
                np.linspace(lat0, lat1, 50),
                np.linspace(lat0, lat1, 50),
                np.full(50, lat0),
                np.full(50, lat1),
            ]
        )
        edge_lon = np.concatenate(
            [
                np.full(50, lon0),
                np.full(50, lon1),
                np.linspace(lon0, lon1, 50),
                np.linspace(lon0, lon1, 50),
            ]
        )
        line, col = latlon_to_line_column(edge_lat, edge_lon, projection)
        line0, col0 = int(np.nanmin(line)) - 3, int(np.nanmin(col)) - 3
        n_lines, n_cols = int(np.nanmax(line)) + 4 - line0, int(np.nanmax(col)) + 4 - col0
        plat, plon = line_column_to_latlon(
            line0 + np.arange(n_lines)[:, None], col0 + np.arange(n_cols)[None, :], projection
        )
        cloud = rain_rate(plat, plon, centre)
        bt = {
            f"C{k:02d}": (290.0 - 8.0 * cloud - 3.0 * (k - 7)).astype(np.float32)
            for k in range(7, 15)
        }
        start = (np.datetime64(hour, "s") + agri_offset).astype("datetime64[s]")
        agri_path = write_agri_l1(root / "agri", bt, start, begin_line=line0, begin_column=col0)
    return agri_path, cldas

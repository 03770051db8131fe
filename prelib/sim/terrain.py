"""Terrain: a DEM reader for ETOPO 20′ and a built-in East-Asian orography.

The synthetic world needs surface elevation for three things: the geo input channel, the
orographic precipitation (upslope flow, Smith & Barstad 2004) and the surface temperature and
radar ground clutter. Two sources behind one :class:`Dem` interface:

* :func:`read_etopo20` — NOAA ETOPO global relief at 20 arc-minutes in its gzipped whitespace
  ASCII distribution (``etopo20data.gz`` 540 × 1081 m, ``etopo20lats.gz``,
  ``etopo20lons.gz`` with a wrapped duplicate column);
* :func:`builtin_dem` — no file needed: the region's major orography (Tibetan Plateau
  ≈ 4.5–5 km, Himalaya, Karakoram, Kunlun, Tianshan, Altai, Hengduan, Yunnan–Guizhou and Loess
  plateaus, Qinling, the Korean, Japanese and Taiwanese ranges …) as smooth plateaus and ridges
  from published approximate positions and heights, plus fractal detail (power-law noise with the
  ``β ≈ 2.2`` of terrain spectra, amplitude proportional to relief so plains stay smooth).

:func:`default_dem` uses the file named by the ``PRELIB_DEM`` environment variable (a directory
holding the three ETOPO 20′ files) when set, else the built-in orography.
"""

from __future__ import annotations

import gzip
import itertools
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from scipy import ndimage

from prelib.sim import noise
from prelib.sim.cache import cached_arrays, fingerprint
from prelib.sim.geography import KM_PER_DEGREE
from prelib.sim.noise import power_law_noise

ETOPO20_FILES = ("etopo20data.gz", "etopo20lats.gz", "etopo20lons.gz")


@dataclass(frozen=True)
class Dem:
    """Elevation on a regular, ascending lat/lon grid.

    Attributes
    ----------
    lat : numpy.ndarray
        (nlat,) ascending pixel-centre latitudes, degrees north.
    lon : numpy.ndarray
        (nlon,) ascending pixel-centre longitudes, degrees east.
    elevation : numpy.ndarray
        (nlat, nlon) metres above mean sea level (negative = bathymetry).
    source : str
        Human-readable provenance.
    """

    lat: np.ndarray
    lon: np.ndarray
    elevation: np.ndarray
    source: str
    extrapolate: bool = False
    """Regional DEMs only: continue edge values outside the grid instead of raising."""

    def sample(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Bilinear elevation (m) at the points ``(lat, lon)`` (degrees), any shape.

        Longitudes are wrapped into the DEM's range when it is global. Points outside a regional
        DEM raise ``ValueError``.
        """
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        lat_step = self.lat[1] - self.lat[0]
        lon_step = self.lon[1] - self.lon[0]
        is_global = lon_step * self.lon.size >= 359.0
        if is_global:
            lon = (lon - self.lon[0]) % 360.0 + self.lon[0]
        fy = (lat - self.lat[0]) / lat_step
        fx = (lon - self.lon[0]) / lon_step
        if (
            not is_global
            and not self.extrapolate
            and (
                fy.min() < -0.5
                or fy.max() > self.lat.size - 0.5
                or fx.min() < -0.5
                or fx.max() > self.lon.size - 0.5
            )
        ):
            raise ValueError(
                f"points lat {lat.min():.2f}..{lat.max():.2f}, "
                f"lon {lon.min():.2f}..{lon.max():.2f} "
                f"lie outside the DEM ({self.source}: lat {self.lat[0]:.2f}..{self.lat[-1]:.2f}, "
                f"lon {self.lon[0]:.2f}..{self.lon[-1]:.2f})"
            )
        mode = "grid-wrap" if is_global else "nearest"
        return ndimage.map_coordinates(
            self.elevation, [fy.ravel(), fx.ravel()], order=1, mode=mode
        ).reshape(lat.shape)


def _read_gz_numbers(path: Path) -> np.ndarray:
    try:
        with gzip.open(path, "rb") as handle:
            text = handle.read()
        return np.array(text.split(), dtype=np.float64)
    except (OSError, EOFError, ValueError) as err:
        raise ValueError(f"malformed ETOPO 20' file {path}: {err}") from None


def read_etopo20(directory: str | os.PathLike) -> Dem:
    """Read NOAA ETOPO 20′ relief (gzipped ASCII as distributed with basemap).

    Parameters
    ----------
    directory : path
        Folder with ``etopo20data.gz`` (540 rows × 1081 columns, m, rows from the south),
        ``etopo20lats.gz`` (540 values, −89.83…89.83) and ``etopo20lons.gz`` (1081 values,
        20.17…380.17; the last column duplicates the first and is dropped).

    Returns
    -------
    Dem
        Global grid with longitudes 20.17…379.83 (sampling wraps any longitude).

    Raises
    ------
    FileNotFoundError
        If the folder or a file is missing.
    ValueError
        If a file cannot be parsed or the sizes do not match.
    """
    directory = Path(directory)
    missing = [name for name in ETOPO20_FILES if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(f"ETOPO 20' DEM folder {directory} lacks {missing}")
    data, lats, lons = (_read_gz_numbers(directory / name) for name in ETOPO20_FILES)
    if data.size != lats.size * lons.size:
        raise ValueError(
            f"malformed ETOPO 20' DEM in {directory}: {data.size} values, expected "
            f"{lats.size} lats x {lons.size} lons = {lats.size * lons.size}"
        )
    if lats.size < 2 or lons.size < 3 or np.any(np.diff(lats) <= 0) or np.any(np.diff(lons) <= 0):
        raise ValueError(f"malformed ETOPO 20' DEM in {directory}: axes must be ascending")
    grid = data.reshape(lats.size, lons.size)
    if np.isclose(lons[-1] - lons[0], 360.0, atol=1e-3):
        grid, lons = grid[:, :-1], lons[:-1]
    # Provenance names the folder only: no absolute paths end up in written files.
    return Dem(lats, lons, grid.astype(np.float32), f"ETOPO 20' ({directory.name})")


# ---------------------------------------------------------------------------------------------
# Built-in orography. Positions and heights are approximate crest/plateau values smoothed to
# ~20 km, read from standard physical atlases; they make the world's orographic rain land where
# it does in reality (Himalayan foothills, SE Tibetan flank, Taiwan, Japan) without a data file.
# ---------------------------------------------------------------------------------------------
# (lat, lon, semi-axis lat °, semi-axis lon °, height m, super-Gaussian exponent)
_PLATEAUS: tuple[tuple[float, float, float, float, float, float], ...] = (
    (32.6, 86.0, 4.2, 12.0, 4800.0, 4.0),  # Tibetan Plateau (Changtang, central)
    (34.3, 97.5, 3.8, 6.0, 4300.0, 4.0),  # Qinghai / eastern Tibet
    (40.0, 83.0, 2.0, 6.5, 1100.0, 4.0),  # Tarim basin floor
    (38.3, 73.5, 1.4, 2.2, 4000.0, 3.0),  # Pamir
    (31.5, 62.0, 4.5, 4.0, 1100.0, 2.0),  # eastern Iranian / Afghan plateau
    (47.0, 103.0, 4.5, 12.0, 1400.0, 2.0),  # Mongolian plateau
    (25.8, 104.0, 2.0, 4.0, 1700.0, 2.0),  # Yunnan–Guizhou plateau
    (36.8, 108.0, 2.0, 3.5, 1200.0, 2.0),  # Loess plateau
    (18.0, 77.0, 5.0, 4.0, 600.0, 2.0),  # Deccan plateau
    (62.0, 102.0, 4.0, 12.0, 600.0, 2.0),  # Central Siberian plateau
    (30.5, 105.5, 1.6, 2.2, 400.0, 2.0),  # Sichuan basin floor
    (26.0, 113.5, 4.0, 6.0, 350.0, 2.0),  # South China hills (Nanling, Wuyi)
)

# (polyline of (lat, lon), Gaussian half-width km, crest height above the plateaus m)
_RIDGES: tuple[tuple[tuple[tuple[float, float], ...], float, float], ...] = (
    (
        (
            (35.5, 74.5),
            (33.5, 76.5),
            (30.5, 80.0),
            (28.6, 84.0),
            (27.9, 88.0),
            (27.8, 92.0),
            (28.6, 95.5),
        ),
        50.0,
        3600.0,
    ),  # Himalaya
    (((36.6, 74.0), (35.6, 77.5)), 45.0, 3000.0),  # Karakoram
    (((35.2, 69.5), (36.5, 72.5)), 50.0, 3300.0),  # Hindu Kush
    (((36.6, 78.0), (36.1, 84.0), (36.0, 90.0), (35.6, 96.0)), 45.0, 1200.0),  # Kunlun
    (
        ((41.0, 70.0), (42.0, 76.0), (42.5, 80.0), (43.0, 86.0), (43.2, 90.0), (43.0, 94.0)),
        55.0,
        3500.0,
    ),  # Tianshan
    (((50.0, 86.0), (48.5, 89.0), (46.6, 93.0), (45.2, 96.0)), 60.0, 2600.0),  # Altai
    (((52.0, 92.0), (52.0, 100.0)), 60.0, 2000.0),  # Sayan
    (((39.5, 95.0), (38.5, 99.0), (37.5, 102.0)), 45.0, 1300.0),  # Qilian
    (((32.0, 99.0), (30.0, 100.5), (27.0, 99.8), (25.0, 99.2)), 55.0, 1800.0),  # Hengduan
    (((34.0, 104.0), (33.8, 108.0), (33.5, 111.0)), 40.0, 1700.0),  # Qinling
    (((53.0, 122.0), (48.0, 120.5), (44.0, 118.0)), 70.0, 1000.0),  # Greater Khingan
    (((41.8, 127.5), (42.2, 128.8), (43.0, 129.5)), 40.0, 1500.0),  # Changbai
    (((38.6, 128.3), (36.6, 128.8), (35.3, 128.0)), 25.0, 1100.0),  # Taebaek (Korea)
    (
        (
            (33.2, 131.0),
            (34.2, 132.5),
            (35.2, 134.5),
            (36.0, 137.0),
            (37.5, 139.8),
            (40.0, 140.8),
            (41.3, 140.8),
        ),
        30.0,
        1100.0,
    ),  # Honshu backbone
    (((35.5, 137.6), (36.7, 137.7)), 18.0, 1900.0),  # Japanese (Hida/Kiso) Alps
    (((42.5, 142.6), (43.9, 142.9)), 30.0, 1200.0),  # Hokkaido (Hidaka)
    (((22.2, 120.8), (24.9, 121.4)), 17.0, 2900.0),  # Taiwan Central Range
    (((15.5, 120.9), (18.3, 121.0)), 25.0, 1500.0),  # Luzon Cordillera
    (((20.0, 104.0), (17.0, 106.0), (14.0, 108.0), (12.0, 108.3)), 45.0, 1300.0),  # Annamite
    (((25.0, 94.4), (22.0, 93.6), (18.0, 94.6)), 40.0, 1500.0),  # Arakan Yoma / Chin Hills
    (((21.0, 73.7), (16.0, 74.0), (12.0, 75.6), (8.6, 77.2)), 30.0, 1000.0),  # Western Ghats
    (((4.6, 115.6), (6.2, 116.6)), 30.0, 1800.0),  # Crocker Range (Kinabalu)
    (((5.2, 95.6), (2.0, 98.6), (0.0, 100.3)), 35.0, 1500.0),  # Barisan (Sumatra)
    (((56.0, 121.0), (55.5, 130.0)), 80.0, 1300.0),  # Stanovoy
    (((43.0, 133.0), (47.0, 137.0), (50.0, 140.0)), 50.0, 1000.0),  # Sikhote-Alin
    (((51.0, 156.8), (56.0, 159.0), (60.0, 162.0)), 50.0, 1500.0),  # Kamchatka
)

_BUILTIN_STEP_DEG = 1.0 / 24.0
_BUILTIN_LAT = (-2.0, 67.0)
_BUILTIN_LON = (58.0, 162.0)
_BUILTIN_SEED = 20250807  # fixed: the built-in world has one orography


def _ridge_height(
    lat: np.ndarray, lon: np.ndarray, polyline, width_km: float, height: float
) -> np.ndarray:
    """Gaussian ridge along a polyline: ``h = H exp(−(d / w)²)``, ``d`` the distance in km.

    ``lat`` (nlat, 1) and ``lon`` (1, nlon) are the axes of a regular grid; only a box of
    ±3 widths around each segment is evaluated.
    """
    out = np.zeros((lat.shape[0], lon.shape[1]))
    margin = 3.0 * width_km / KM_PER_DEGREE
    for (lat_a, lon_a), (lat_b, lon_b) in itertools.pairwise(polyline):
        rows = np.flatnonzero(
            (lat[:, 0] >= min(lat_a, lat_b) - margin) & (lat[:, 0] <= max(lat_a, lat_b) + margin)
        )
        lon_margin = margin / np.cos(np.deg2rad(max(abs(lat_a), abs(lat_b)) + margin))
        cols = np.flatnonzero(
            (lon[0] >= min(lon_a, lon_b) - lon_margin) & (lon[0] <= max(lon_a, lon_b) + lon_margin)
        )
        if rows.size == 0 or cols.size == 0:
            continue
        box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        sub_lat, sub_lon = lat[box[0], :], lon[:, box[1]]
        coslat = np.cos(np.deg2rad(sub_lat))
        py, px = sub_lat * KM_PER_DEGREE, sub_lon * KM_PER_DEGREE * coslat
        ay, ax = lat_a * KM_PER_DEGREE, lon_a * KM_PER_DEGREE * coslat
        by, bx = lat_b * KM_PER_DEGREE, lon_b * KM_PER_DEGREE * coslat
        vy, vx = by - ay, bx - ax
        t = np.clip(((py - ay) * vy + (px - ax) * vx) / (vy**2 + vx**2), 0.0, 1.0)
        d2 = (py - ay - t * vy) ** 2 + (px - ax - t * vx) ** 2
        out[box] = np.maximum(out[box], height * np.exp(-d2 / width_km**2))
    return out


@cache
def builtin_dem() -> Dem:
    """The built-in orography of 2°S–67°N, 58–162°E at 1/24° (≈ 4.6 km), in metres.

    Smooth plateaus (super-Gaussian ellipses) and ridges (Gaussian cross-sections along
    polylines) give the large-scale relief; power-law detail (β = 2.2; terrain spectra follow
    β ≈ 2–2.5, e.g. Gagnon et al. 2006) with an amplitude of 15 % of the local relief adds
    valleys and peaks. The field is built once (a few seconds) and cached on disk
    (:mod:`prelib.sim.cache`, keyed by this module's and the noise generator's source) and in
    memory. It is land relief
    only: the scenes set water pixels (from the land mask) to 0 m.
    """
    # Keyed by this module's source and the noise generator's: a change to either changes the
    # field, and a stale cache must never be served.
    source = Path(__file__).read_bytes() + Path(noise.__file__).read_bytes()
    arrays = cached_arrays("builtin_dem", fingerprint(source), _build_builtin_elevation)
    return Dem(arrays["lat"], arrays["lon"], arrays["elevation"], "prelib built-in orography", True)


def _build_builtin_elevation() -> dict[str, np.ndarray]:
    lat1 = np.arange(_BUILTIN_LAT[0], _BUILTIN_LAT[1], _BUILTIN_STEP_DEG) + _BUILTIN_STEP_DEG / 2
    lon1 = np.arange(_BUILTIN_LON[0], _BUILTIN_LON[1], _BUILTIN_STEP_DEG) + _BUILTIN_STEP_DEG / 2
    lat2, lon2 = lat1[:, None], lon1[None, :]
    relief = np.zeros((lat1.size, lon1.size))
    for lat0, lon0, a_lat, a_lon, height, power in _PLATEAUS:
        # Evaluate each plateau inside ±2.5 semi-axes (exp(-2.5^p) is negligible beyond).
        rows = np.flatnonzero(np.abs(lat1 - lat0) <= 2.5 * a_lat)
        cols = np.flatnonzero(np.abs(lon1 - lon0) <= 2.5 * a_lon)
        box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        r2 = ((lat2[box[0]] - lat0) / a_lat) ** 2 + ((lon2[:, box[1]] - lon0) / a_lon) ** 2
        relief[box] = np.maximum(relief[box], height * np.exp(-(r2 ** (power / 2.0))))
    ridges = np.zeros_like(relief)
    for polyline, width, height in _RIDGES:
        ridges = np.maximum(ridges, _ridge_height(lat2, lon2, polyline, width, height))
    relief = relief + ridges
    rng = np.random.default_rng(_BUILTIN_SEED)
    spacing = (_BUILTIN_STEP_DEG * KM_PER_DEGREE, _BUILTIN_STEP_DEG * KM_PER_DEGREE * 0.8)
    # float64 on the exact size: the static relief predates the float32 world and stays as it was.
    exact = dict(dtype=np.float64, fast_size=False)
    detail = power_law_noise(rng, relief.shape, 2.2, spacing, max_wavelength_km=400.0, **exact)
    hills = power_law_noise(rng, relief.shape, 2.2, spacing, max_wavelength_km=300.0, **exact)
    # Relief-proportional roughness plus gentle hills (≈ 80 m) everywhere on land.
    elevation = relief * (1.0 + 0.15 * detail) + 80.0 * (1.0 + hills)
    elevation = np.maximum(elevation, 0.0)
    return {"lat": lat1, "lon": lon1, "elevation": elevation.astype(np.float32)}


def default_dem() -> Dem:
    """The DEM the synthetic world uses: ``$PRELIB_DEM`` (ETOPO 20′ folder) or the built-in one.

    Raises
    ------
    FileNotFoundError, ValueError
        If ``PRELIB_DEM`` is set but names a missing or malformed DEM.
    """
    path = os.environ.get("PRELIB_DEM")
    if path:
        return _cached_etopo(str(Path(path).expanduser().resolve()))
    return builtin_dem()


@cache
def _cached_etopo(path: str) -> Dem:
    return read_etopo20(path)


def surface_elevation(
    lat: np.ndarray, lon: np.ndarray, land: np.ndarray | None = None, dem: Dem | None = None
) -> np.ndarray:
    """Surface elevation (m, float32) at ``(lat, lon)``: the DEM, with water set to 0 m.

    Parameters
    ----------
    lat, lon : numpy.ndarray
        Coordinates in degrees (same shape).
    land : numpy.ndarray of bool, optional
        Land mask of the same shape; water pixels get 0 m (the sea surface), land pixels at
        least 0 m. Without it, negative DEM values (bathymetry) are clipped to 0.
    dem : Dem, optional
        Defaults to :func:`default_dem`.
    """
    dem = default_dem() if dem is None else dem
    height = np.maximum(dem.sample(lat, lon), 0.0)
    if land is not None:
        height = np.where(land, height, 0.0)
    return height.astype(np.float32)

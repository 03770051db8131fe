"""Scene grids, the study domain and the land/sea mask.

Two grid families are used by the synthetic world:

* **regular latitude/longitude grids** (Full-IPR, downscaling truth): spacing
  ``resolution_km / 100`` degrees, i.e. the usual 0.04° ≈ 4 km and 0.01° ≈ 1 km grids of
  IR products (PERSIANN-CCS, MRMS); ``y`` increases northward, ``x`` eastward;
* **swath grids** (Swath-MPR): scan × ray at 5 km, built by :mod:`prelib.sim.orbit`.

Both are described by :class:`SceneGrid`, which also carries a margin of ``pad`` pixels on each
side: the weather is simulated on the padded grid so that advection over the label hour and
microwave footprint blurring never read outside the simulated area; the margin is cropped at the
end.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from prelib.conventions import DOMAIN_LAT, DOMAIN_LON
from prelib.sim.cache import cached_arrays, fingerprint

KM_PER_DEGREE = 111.195
"""Length of one degree of latitude (km) on the mean sphere (R = 6371 km)."""


@dataclass(frozen=True)
class SceneGrid:
    """Geometry of a scene's padded simulation grid.

    Attributes
    ----------
    lat, lon : numpy.ndarray
        (ny, nx) pixel-centre coordinates in degrees, including the margin.
    dy_km, dx_km : float
        Pixel spacing along ``y`` and ``x`` in km (locally Cartesian approximation).
    heading_deg : float
        Azimuth of the +y axis, degrees clockwise from north (0 for lat/lon grids, the
        ground-track heading for swaths). +x always points 90° clockwise from +y.
    pad : int
        Margin (pixels) on each side that is simulated and then cropped.
    """

    lat: np.ndarray
    lon: np.ndarray
    dy_km: float
    dx_km: float
    heading_deg: float
    pad: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.lat.shape

    @property
    def interior(self) -> tuple[slice, slice]:
        """Index that crops the margin: ``field[grid.interior]``."""
        p = self.pad
        return (slice(p, self.lat.shape[0] - p), slice(p, self.lat.shape[1] - p))

    def to_grid_components(self, north: float, east: float) -> tuple[float, float]:
        """Rotate a (north, east) vector into (along +y, along +x) components."""
        h = np.deg2rad(self.heading_deg)
        return (north * np.cos(h) + east * np.sin(h), -north * np.sin(h) + east * np.cos(h))


def check_box(lat_bounds: tuple[float, float], lon_bounds: tuple[float, float]) -> None:
    """Raise ``ValueError`` unless the box is non-empty and inside the study domain.

    The domain is the paper's 0–65°N, 60–160°E (:data:`prelib.conventions.DOMAIN_LAT`, ``_LON``).
    """
    for name, bounds, (low, high) in (
        ("lat_bounds", lat_bounds, DOMAIN_LAT),
        ("lon_bounds", lon_bounds, DOMAIN_LON),
    ):
        try:
            a, b = (float(v) for v in bounds)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must be a pair of numbers (min, max), got {bounds!r}"
            ) from None
        if not (np.isfinite(a) and np.isfinite(b)) or b <= a:
            raise ValueError(f"{name} must satisfy min < max (a positive size), got {bounds!r}")
        if a < low or b > high:
            raise ValueError(
                f"{name} {bounds!r} leaves the study domain [{low}, {high}] (0–65°N, 60–160°E)"
            )


def grid_spacing_deg(resolution_km: float) -> float:
    """Grid spacing in degrees for a nominal resolution (0.04° for 4 km, 0.01° for 1 km)."""
    if not (isinstance(resolution_km, int | float) and np.isfinite(resolution_km)):
        raise ValueError(f"resolution_km must be a finite number, got {resolution_km!r}")
    if not 0.25 <= resolution_km <= 50:
        raise ValueError(f"resolution_km must lie in [0.25, 50] km, got {resolution_km!r}")
    return float(resolution_km) / 100.0


def latlon_grid(
    lat_bounds: tuple[float, float],
    lon_bounds: tuple[float, float],
    resolution_km: float,
    pad_km: float = 0.0,
) -> SceneGrid:
    """A regular lat/lon :class:`SceneGrid` covering the box, with a margin of ``pad_km``.

    Pixel centres lie at ``bound + (i + 0.5) * spacing``; the number of pixels along each axis is
    ``round(extent / spacing)`` (at least 1).
    """
    check_box(lat_bounds, lon_bounds)
    step = grid_spacing_deg(resolution_km)
    ny = max(1, round((lat_bounds[1] - lat_bounds[0]) / step))
    nx = max(1, round((lon_bounds[1] - lon_bounds[0]) / step))
    lat_mid = 0.5 * (lat_bounds[0] + lat_bounds[1])
    dy_km = step * KM_PER_DEGREE
    dx_km = step * KM_PER_DEGREE * np.cos(np.deg2rad(lat_mid))
    pad = int(np.ceil(pad_km / min(dy_km, dx_km))) if pad_km > 0 else 0
    lat1 = lat_bounds[0] + (np.arange(-pad, ny + pad) + 0.5) * step
    lon1 = lon_bounds[0] + (np.arange(-pad, nx + pad) + 0.5) * step
    lon2, lat2 = np.meshgrid(lon1, lat1)
    return SceneGrid(lat2, lon2, float(dy_km), float(dx_km), 0.0, pad)


_LAND_CACHE: OrderedDict[str, np.ndarray] = OrderedDict()
_LAND_CACHE_SIZE = 64

LAND_MASK_BOX = ((-10.0, 75.0), (50.0, 170.0))
"""(lat, lon) box of the land mask kept at full 1/120° resolution (the domain plus margins)."""


def _global_land_mask_file() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("global_land_mask")
    if spec is None or spec.origin is None:
        raise ValueError("the land mask needs the 'global-land-mask' package (pip install it)")
    return Path(spec.origin).parent / "globe_combined_mask_compressed.npz"


def _extract_box(path: Path) -> dict[str, np.ndarray]:
    """Stream the global mask out of its npz and keep the box, bit-packed along longitude.

    Reading row blocks from the compressed stream avoids holding the 1 GB global array.
    """
    (lat_lo, lat_hi), (lon_lo, lon_hi) = LAND_MASK_BOX
    with zipfile.ZipFile(path) as archive:
        lat = np.load(io.BytesIO(archive.read("lat.npy")))
        lon = np.load(io.BytesIO(archive.read("lon.npy")))
        rows = np.flatnonzero((lat >= lat_lo) & (lat <= lat_hi))
        cols = np.flatnonzero((lon >= lon_lo) & (lon <= lon_hi))
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        packed = np.empty((r1 - r0, (c1 - c0 + 7) // 8), dtype=np.uint8)
        with archive.open("mask.npy") as stream:
            version = np.lib.format.read_magic(stream)
            reader = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = reader(stream)
            if fortran or shape != (lat.size, lon.size) or np.dtype(dtype) != np.bool_:
                raise ValueError(f"unexpected global land mask layout {shape}, {dtype}")
            row = 0
            while row < r1:
                n = min(512, r1 - row)
                block = np.frombuffer(stream.read(n * lon.size), np.bool_).reshape(n, lon.size)
                lo, hi = max(row, r0), row + n
                if hi > lo:
                    packed[lo - r0 : hi - r0] = np.packbits(block[lo - row :, c0:c1], axis=1)
                row += n
    return {"packed": packed, "lat": lat[r0:r1], "lon": lon[c0:c1]}


@cache
def _box_land_mask() -> dict[str, np.ndarray]:
    path = _global_land_mask_file()
    stat = path.stat()
    key = fingerprint(stat.st_size, int(stat.st_mtime), LAND_MASK_BOX)
    return cached_arrays("land_mask", key, lambda: _extract_box(path))


def land_mask(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Land (True) / water (False) from ``global-land-mask`` (1 km GLOBE-based mask).

    Inside :data:`LAND_MASK_BOX` (the domain plus margins) the mask is read from a bit-packed
    copy of the box, extracted once from the package's data file and cached on disk
    (:mod:`prelib.sim.cache`); elsewhere ``global_land_mask`` itself is imported (lazily: it
    holds a ~1 GB array). Results are also cached per grid in memory.

    Parameters
    ----------
    lat, lon : numpy.ndarray
        Same-shaped coordinates in degrees (any longitude convention).
    """
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    if lat.shape != lon.shape:
        raise ValueError(f"lat and lon must have the same shape, got {lat.shape} and {lon.shape}")
    key = hashlib.blake2b(lat.tobytes() + lon.tobytes() + str(lat.shape).encode()).hexdigest()
    if key in _LAND_CACHE:
        _LAND_CACHE.move_to_end(key)
        return _LAND_CACHE[key].copy()
    wrapped = (lon + 180.0) % 360.0 - 180.0
    (lat_lo, lat_hi), (lon_lo, lon_hi) = LAND_MASK_BOX
    if (
        lat.size
        and lat.min() >= lat_lo
        and lat.max() <= lat_hi
        and wrapped.min() >= lon_lo
        and wrapped.max() <= lon_hi
    ):
        box = _box_land_mask()
        step_lat = box["lat"][1] - box["lat"][0]
        step_lon = box["lon"][1] - box["lon"][0]
        # Same indexing as global_land_mask.lat_to_index / lon_to_index (truncation).
        rows = np.clip(((lat - box["lat"][0]) / step_lat).astype(int), 0, box["lat"].size - 1)
        cols = np.clip(((wrapped - box["lon"][0]) / step_lon).astype(int), 0, box["lon"].size - 1)
        # The package stores an *ocean* mask (its is_land is the negation).
        mask = ((box["packed"][rows, cols >> 3] >> (7 - (cols & 7))) & 1) == 0
    else:
        from global_land_mask import globe  # heavy: lazy on purpose

        mask = np.asarray(globe.is_land(np.clip(lat, -90, 90), wrapped), dtype=bool)
    _LAND_CACHE[key] = mask
    if len(_LAND_CACHE) > _LAND_CACHE_SIZE:
        _LAND_CACHE.popitem(last=False)
    return mask.copy()

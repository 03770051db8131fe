"""The CGMS normalised geostationary projection of FY-4 AGRI: line/column ↔ latitude/longitude.

Formulas of the CGMS LRIT/HRIT Global Specification (§4.4.3.2), as used by NSMC for FY-4A/4B
(data_formats.md §1.5). Lines and columns are **0-based full-disc indices**: line 0 is the
northernmost line, column 0 the westernmost. Pixels off the Earth disc get NaN.

The projection constants (sub-satellite longitude, ellipsoid, satellite distance) are arguments:
the AGRI reader takes them from the file's attributes, never from a hard-coded satellite table.
"""

from __future__ import annotations

import dataclasses

import numpy as np

# Column/line offsets and scaling factors per nominal resolution (metres), CGMS/NSMC values
# (data_formats.md §1.5). Offsets are 0-based-centre values of the 2748-line 4 km disc etc.
_OFFSETS_AND_FACTORS: dict[int, tuple[float, float]] = {
    250: (21983.5, 163730199.0),
    500: (10991.5, 81865099.0),
    1000: (5495.5, 40932549.0),
    2000: (2747.5, 20466274.0),
    4000: (1373.5, 10233137.0),
}


@dataclasses.dataclass(frozen=True)
class GeosProjection:
    """Parameters of a normalised geostationary projection.

    Attributes
    ----------
    sub_lon : float
        Sub-satellite longitude λD (degrees east).
    resolution_m : int
        Nominal resolution at the sub-satellite point (250, 500, 1000, 2000, 4000).
    semi_major_m, semi_minor_m : float
        Ellipsoid axes (m). Defaults: WGS-84-like values of the CGMS specification.
    satellite_distance_m : float
        Distance of the satellite from the Earth's centre (m), H.
    """

    sub_lon: float
    resolution_m: int = 4000
    semi_major_m: float = 6378137.0
    semi_minor_m: float = 6356752.3
    satellite_distance_m: float = 42164000.0

    def __post_init__(self) -> None:
        if self.resolution_m not in _OFFSETS_AND_FACTORS:
            raise ValueError(
                f"resolution_m must be one of {sorted(_OFFSETS_AND_FACTORS)}, "
                f"got {self.resolution_m!r}"
            )
        if not -180.0 <= self.sub_lon <= 360.0:
            raise ValueError(f"sub_lon must be a longitude in degrees, got {self.sub_lon!r}")
        if not self.satellite_distance_m > self.semi_major_m > 0:
            raise ValueError(
                "satellite_distance_m must exceed semi_major_m (distance from the Earth's "
                f"centre), got {self.satellite_distance_m!r} and {self.semi_major_m!r}"
            )

    @property
    def offset(self) -> float:
        """COFF = LOFF (0-based pixel index of the disc centre)."""
        return _OFFSETS_AND_FACTORS[self.resolution_m][0]

    @property
    def factor(self) -> float:
        """CFAC = LFAC."""
        return _OFFSETS_AND_FACTORS[self.resolution_m][1]

    @property
    def disc_size(self) -> int:
        """Lines (= columns) of the full disc at this resolution (2748 at 4 km)."""
        return round(2 * self.offset + 1)

    def proj4(self) -> str:
        """The equivalent PROJ string (``+proj=geos +sweep=y``) for pyproj / pyresample."""
        height = self.satellite_distance_m - self.semi_major_m
        return (
            f"+proj=geos +sweep=y +h={height:.1f} +a={self.semi_major_m} "
            f"+b={self.semi_minor_m} +lon_0={self.sub_lon} +units=m +no_defs"
        )


def line_column_to_latlon(
    line: np.ndarray, column: np.ndarray, projection: GeosProjection
) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude (degrees) of full-disc pixels.

    Parameters
    ----------
    line, column : array_like
        0-based full-disc line (increasing southward) and column (increasing eastward);
        broadcast against each other. Fractional values are allowed (1373.5 is the disc centre).
    projection : GeosProjection

    Returns
    -------
    lat, lon : numpy.ndarray of float64
        Degrees north / east (longitude in [-180, 180)); NaN where the line of sight misses the
        Earth (space pixels).
    """
    line, column = np.broadcast_arrays(
        np.asarray(line, dtype=np.float64), np.asarray(column, dtype=np.float64)
    )
    a, b, h = projection.semi_major_m, projection.semi_minor_m, projection.satellite_distance_m
    scale = 2.0**16 / projection.factor
    x = np.radians((column - projection.offset) * scale)
    y = np.radians((line - projection.offset) * scale)
    cos_x, cos_y = np.cos(x), np.cos(y)
    ratio2 = (a / b) ** 2
    k = cos_y**2 + ratio2 * np.sin(y) ** 2
    hcc = h * cos_x * cos_y
    sd2 = hcc**2 - k * (h**2 - a**2)
    with np.errstate(invalid="ignore"):
        sn = (hcc - np.sqrt(sd2)) / k
    s1 = h - sn * cos_x * cos_y
    s2 = sn * np.sin(x) * cos_y
    s3 = -sn * np.sin(y)
    lon = np.degrees(np.arctan2(s2, s1)) + projection.sub_lon
    lon = (lon + 180.0) % 360.0 - 180.0
    lat = np.degrees(np.arctan(ratio2 * s3 / np.hypot(s1, s2)))
    space = ~(sd2 >= 0)
    return np.where(space, np.nan, lat), np.where(space, np.nan, lon)


def latlon_to_line_column(
    lat: np.ndarray, lon: np.ndarray, projection: GeosProjection
) -> tuple[np.ndarray, np.ndarray]:
    """Fractional 0-based full-disc line and column of geographic points (inverse projection).

    Points not visible from the satellite (behind the limb) get NaN.

    Parameters
    ----------
    lat, lon : array_like
        Degrees north / east.
    projection : GeosProjection
    """
    lat, lon = np.broadcast_arrays(
        np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
    )
    a, b, h = projection.semi_major_m, projection.semi_minor_m, projection.satellite_distance_m
    e2 = 1.0 - (b / a) ** 2
    phi = np.radians(lat)
    lam = np.radians(lon - projection.sub_lon)
    c_lat = np.arctan((b / a) ** 2 * np.tan(phi))  # geocentric latitude
    r_l = b / np.sqrt(1.0 - e2 * np.cos(c_lat) ** 2)
    r1 = h - r_l * np.cos(c_lat) * np.cos(lam)
    r2 = -r_l * np.cos(c_lat) * np.sin(lam)
    r3 = r_l * np.sin(c_lat)
    rn = np.sqrt(r1**2 + r2**2 + r3**2)
    x = np.degrees(np.arctan(-r2 / r1))
    y = np.degrees(np.arcsin(-r3 / rn))
    scale = projection.factor / 2.0**16
    column = projection.offset + x * scale
    line = projection.offset + y * scale
    # visible only if the satellite lies above the tangent plane at the point: (S - P) . n > 0
    # with n the ellipsoid normal, i.e. r1 (h - r1) - r2^2 - (a/b)^2 r3^2 > 0 (CGMS spec)
    hidden = (r1 * (h - r1) - r2**2 - r3**2 * (a / b) ** 2) < 0
    hidden |= ~np.isfinite(lat) | ~np.isfinite(lon)
    return np.where(hidden, np.nan, line), np.where(hidden, np.nan, column)

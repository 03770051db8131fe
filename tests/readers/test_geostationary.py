"""CGMS geostationary projection: reference test vectors, pyproj, inverse, space pixels."""

from __future__ import annotations

import numpy as np
import pytest

from prelib.readers.geostationary import (
    GeosProjection,
    latlon_to_line_column,
    line_column_to_latlon,
)

# data_formats.md §1.5 (FY-4A, λD = 104.7°E, 4 km; a = 6378.137 km, b = 6356.7523 km, H = 42164 km)
VECTORS = [
    (1373.5, 1373.5, 0.0000, 104.7000),
    (500, 1500, 34.7949, 110.4183),
    (800, 600, 22.2287, 71.6017),
    (300, 1300, 45.7759, 100.7124),
    (2000, 2400, -25.3764, 154.9659),
]
FY4A = GeosProjection(104.7, 4000, 6378137.0, 6356752.3, 42164000.0)


@pytest.mark.parametrize(("line", "column", "lat", "lon"), VECTORS)
def test_reference_vectors(line, column, lat, lon):
    got_lat, got_lon = line_column_to_latlon(line, column, FY4A)
    assert got_lat == pytest.approx(lat, abs=1e-4)
    assert got_lon == pytest.approx(lon, abs=1e-4)


def test_space_pixel_is_nan():
    lat, lon = line_column_to_latlon(np.array([0, 2747]), np.array([0, 2747]), FY4A)
    assert np.isnan(lat).all() and np.isnan(lon).all()


def test_agrees_with_pyproj_geos():
    pyproj = pytest.importorskip("pyproj")
    lines, cols = np.meshgrid(np.arange(100, 2700, 97.0), np.arange(50, 2700, 89.0), indexing="ij")
    lat, lon = line_column_to_latlon(lines, cols, FY4A)
    transformer = pyproj.Transformer.from_crs(pyproj.CRS(FY4A.proj4()), "EPSG:4326", always_xy=True)
    # pixel centres in projection metres; the projection's scan angle step is 2**16 / CFAC deg
    step = np.radians(2.0**16 / FY4A.factor) * (FY4A.satellite_distance_m - FY4A.semi_major_m)
    x = (cols - FY4A.offset) * step
    y = (FY4A.offset - lines) * step
    ref_lon, ref_lat = transformer.transform(x, y)
    ok = np.isfinite(lat) & np.isfinite(ref_lat) & (np.abs(ref_lat) < 90)
    assert ok.sum() > 400
    assert np.abs(lat[ok] - ref_lat[ok]).max() < 1e-4
    dlon = (lon[ok] - ref_lon[ok] + 180) % 360 - 180
    assert np.abs(dlon).max() < 1e-4
    assert np.array_equal(np.isfinite(lat), np.isfinite(ref_lat) & (np.abs(ref_lat) <= 90))


def test_inverse_round_trip_and_hidden_points():
    lines = np.array([100.0, 500.0, 1373.5, 2500.0])
    cols = np.array([1373.5, 1500.0, 200.0, 2000.0])
    lat, lon = line_column_to_latlon(lines, cols, FY4A)
    back_line, back_col = latlon_to_line_column(lat, lon, FY4A)
    np.testing.assert_allclose(back_line, lines, atol=1e-6)
    np.testing.assert_allclose(back_col, cols, atol=1e-6)
    hidden_line, _ = latlon_to_line_column(0.0, 104.7 + 180.0, FY4A)  # antipode
    assert np.isnan(hidden_line)


def test_sub_satellite_longitude_shifts_the_disc():
    fy4b = GeosProjection(133.0)
    _, lon = line_column_to_latlon(1373.5, 1373.5, fy4b)
    assert lon == pytest.approx(133.0)


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="resolution_m"):
        GeosProjection(104.7, 3000)
    with pytest.raises(ValueError, match="satellite_distance_m"):
        GeosProjection(104.7, 4000, satellite_distance_m=1000.0)

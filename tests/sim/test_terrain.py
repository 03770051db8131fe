import gzip

import numpy as np
import pytest

from prelib.sim.terrain import builtin_dem, default_dem, read_etopo20, surface_elevation


def _at(dem, lat, lon):
    return float(dem.sample(np.array([lat]), np.array([lon]))[0])


def test_etopo20_tibet(shared_data):
    dem = read_etopo20(shared_data / "etopo20")
    assert dem.elevation.shape == (540, 1080)
    assert 4500.0 <= _at(dem, 32.0, 88.0) <= 5500.0
    assert _at(dem, 10.0, 130.0) < -1000.0  # Philippine Sea: bathymetry
    # Longitudes wrap: 88°E and −272° are the same meridian.
    assert _at(dem, 32.0, 88.0) == pytest.approx(_at(dem, 32.0, -272.0))


def test_prelib_dem_environment(shared_data, monkeypatch):
    monkeypatch.setenv("PRELIB_DEM", str(shared_data / "etopo20"))
    assert default_dem().source.startswith("ETOPO")
    monkeypatch.setenv("PRELIB_DEM", str(shared_data / "no-such-dem"))
    with pytest.raises(FileNotFoundError, match="lacks"):
        default_dem()


def test_missing_and_malformed_dem(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"etopo20data\.gz"):
        read_etopo20(tmp_path)
    for name, text in (
        ("etopo20data.gz", b"1 2 3\n4 5 6\n"),
        ("etopo20lats.gz", b"-1 1\n"),
        ("etopo20lons.gz", b"0 1 2 3\n"),
    ):
        with gzip.open(tmp_path / name, "wb") as handle:
            handle.write(text)
    with pytest.raises(ValueError, match="malformed"):
        read_etopo20(tmp_path)
    (tmp_path / "etopo20lats.gz").write_bytes(b"not gzip")
    with pytest.raises(ValueError, match="malformed"):
        read_etopo20(tmp_path)


def test_builtin_orography_has_the_region_s_relief():
    dem = builtin_dem()
    assert 4300.0 <= _at(dem, 32.5, 86.0) <= 5600.0  # Tibetan Plateau
    assert _at(dem, 28.0, 87.0) > 3000.0  # Himalaya
    assert _at(dem, 42.8, 84.0) > 2500.0  # Tianshan
    assert _at(dem, 23.5, 121.0) > 1500.0  # Taiwan Central Range
    assert _at(dem, 36.0, 137.6) > 1200.0  # Japanese Alps
    assert _at(dem, 35.0, 116.0) < 400.0  # North China Plain
    assert _at(dem, 30.5, 105.5) < 1500.0  # Sichuan basin below the plateau edge


def test_surface_elevation_zero_over_water():
    lat = np.array([[10.0, 32.5]])
    lon = np.array([[130.0, 86.0]])
    height = surface_elevation(lat, lon, land=np.array([[False, True]]))
    assert height[0, 0] == 0.0 and height[0, 1] > 4000.0

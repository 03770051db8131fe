import numpy as np
import pytest

from prelib.sim.geography import check_box, land_mask, latlon_grid


def test_land_mask_known_places():
    places = {  # (lat, lon): land?
        (39.9, 116.4): True,  # Beijing
        (23.7, 121.0): True,  # central Taiwan
        (32.0, 88.0): True,  # Tibet
        (20.0, 130.0): False,  # Philippine Sea
        (38.0, 125.0 - 0.6): False,  # Korea Bay
        (35.0, 137.5): True,  # Honshu
    }
    lat = np.array([p[0] for p in places])
    lon = np.array([p[1] for p in places])
    np.testing.assert_array_equal(land_mask(lat, lon), list(places.values()))
    # longitude convention does not matter
    np.testing.assert_array_equal(land_mask(lat, lon - 360.0), list(places.values()))
    with pytest.raises(ValueError, match="shape"):
        land_mask(lat, lon[:2])


def test_latlon_grid_spacing_and_margin():
    grid = latlon_grid((30.0, 31.0), (110.0, 111.0), 4.0, pad_km=20.0)
    assert grid.pad == 6 and grid.lat.shape == (25 + 12, 25 + 12)  # ceil(20 km / 3.83 km)
    inner = grid.lat[grid.interior]
    assert inner.shape == (25, 25) and inner[0, 0] == pytest.approx(30.02)
    assert grid.dy_km == pytest.approx(4.448, rel=1e-3)
    assert grid.to_grid_components(1.0, 0.0) == pytest.approx((1.0, 0.0))


def test_check_box_messages():
    with pytest.raises(ValueError, match="pair of numbers"):
        check_box((1.0,), (100.0, 110.0))
    with pytest.raises(ValueError, match="domain"):
        check_box((60.0, 66.0), (100.0, 110.0))

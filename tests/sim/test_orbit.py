import numpy as np
import pytest

from prelib.sim.orbit import _haversine_km, gpm_ground_track, swath_coordinates


@pytest.mark.parametrize("ascending", [True, False])
def test_track_spacing_heading_and_swath_width(ascending):
    track = gpm_ground_track(30.0, 110.0, 256, ascending=ascending)
    step = _haversine_km(track["lat"][:-1], track["lon"][:-1], track["lat"][1:], track["lon"][1:])
    np.testing.assert_allclose(step, 5.0, rtol=0.02)
    mid = 128
    assert abs(track["lat"][mid] - 30.0) < 0.05 and abs(track["lon"][mid] - 110.0) < 0.05
    northward = np.cos(np.deg2rad(track["heading"])) > 0
    assert northward.all() if ascending else (~northward).all()
    # A 65° orbit crosses 30°N at a heading within ~30° of north/south... not east-west.
    assert np.all(np.abs(np.sin(np.deg2rad(track["heading"]))) < 0.8)
    lat, lon = swath_coordinates(track, 49)
    width = _haversine_km(lat[:, 0], lon[:, 0], lat[:, -1], lon[:, -1])
    np.testing.assert_allclose(width, 240.0, rtol=0.01)


def test_track_never_exceeds_inclination():
    track = gpm_ground_track(62.0, 120.0, 1024)
    assert track["lat"].max() <= 65.0
    with pytest.raises(ValueError, match="reach"):
        gpm_ground_track(65.0, 120.0, 16)
    with pytest.raises(ValueError, match="n_scans"):
        gpm_ground_track(30.0, 120.0, 1)


def test_overpass_latitudes_follow_the_orbit_dwell_time():
    from prelib.sim.orbit import draw_overpass_latitude

    rng = np.random.default_rng(0)
    lats = np.array([draw_overpass_latitude(rng, (6.0, 58.0)) for _ in range(4000)])
    assert lats.min() >= 6.0 and lats.max() <= 58.0
    # The track lingers near its turning latitude: 48-58°N is sampled more than 6-16°N.
    assert np.mean(lats >= 48.0) > 1.15 * np.mean(lats <= 16.0)

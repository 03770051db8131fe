import numpy as np

from prelib.sim.geography import SceneGrid
from prelib.sim.radar import DPR_MIN_DETECTABLE_DBZ, bin_heights_km, dpr_reflectivity_profile


def _columns(rate, convective, top_km, fl_km=4.5, elevation=0.0, ray=0.0, n=9):
    shape = (n, n)
    grid = SceneGrid(np.zeros(shape), np.zeros(shape), 5.0, 5.0, 0.0, 0)
    return dpr_reflectivity_profile(
        np.random.default_rng(0),
        grid,
        np.full(shape, rate),
        np.full(shape, convective),
        np.full(shape, top_km),
        np.full(shape, fl_km),
        np.full(shape, elevation),
        np.full(shape, ray),
        noise=False,
        dsd_spread_db=(0.0, 0.0),
    )[:, 4, 4]


def test_bin_geometry():
    h = bin_heights_km()
    assert h.shape == (176,) and h[0] > 21.8 and abs(h[-1] - 0.0625) < 1e-9


def test_stratiform_bright_band_peaks_just_below_freezing_level():
    profile = _columns(5.0, False, 9.0, fl_km=4.5)
    h = bin_heights_km()
    peak = h[np.nanargmax(profile)]
    assert 4.0 <= peak <= 4.6
    rain_layer = profile[(h > 1.0) & (h < 3.5)]
    assert np.nanmax(profile) - np.nanmedian(rain_layer) >= 4.0
    snow = profile[(h > 5.5) & (h < 8.0)]
    assert np.all(np.diff(snow[np.isfinite(snow)]) > 0)  # bins run top-down: Z grows downward


def test_convective_profile_tall_without_bright_band():
    profile = _columns(40.0, True, 14.0, fl_km=4.5)
    h = bin_heights_km()
    assert np.nanmax(h[np.isfinite(profile)]) > 10.0
    near_fl = profile[(h > 3.8) & (h < 4.6)]
    just_above = profile[(h > 4.8) & (h < 5.6)]
    assert np.nanmax(near_fl) - np.nanmean(just_above) < 2.0  # no bright-band bump


def test_sensitivity_floor_clutter_and_ground():
    drizzle = _columns(0.2, False, 3.0, fl_km=4.5)  # 200 * 0.2^1.6 = 11.8 dBZ: undetected
    assert np.all(np.isnan(drizzle))
    profile = _columns(5.0, False, 9.0)
    finite = profile[np.isfinite(profile)]
    assert finite.min() >= DPR_MIN_DETECTABLE_DBZ
    h = bin_heights_km()
    assert np.all(np.isnan(profile[h < 0.5]))  # nadir clutter
    edge = _columns(5.0, False, 9.0, ray=24.0)
    assert np.all(np.isnan(edge[h < 2.0]))  # clutter rises towards the swath edge
    mountain = _columns(5.0, False, 9.0, elevation=3000.0)
    assert np.all(np.isnan(mountain[h < 3.0]))


def test_heavy_rain_is_attenuated_near_the_surface():
    profile = _columns(80.0, True, 14.0)
    h = bin_heights_km()
    expected_surface = 10 * np.log10(300 * 80.0**1.4)
    low = np.nanmean(profile[(h > 0.6) & (h < 1.0)])
    assert low < expected_surface - 3.0

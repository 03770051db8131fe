import numpy as np

from prelib.sim.orographic import smith_barstad_precipitation


def _ridge():
    x = np.arange(128) * 4.0
    # Crest at x = 254 km, i.e. between indices 63 and 64: the row is mirror-symmetric.
    return np.tile(1500.0 * np.exp(-(((x - 254.0) / 40.0) ** 2)), (64, 1))


def test_windward_wet_lee_dry_and_flow_reversal_mirrors():
    h = _ridge()
    east = smith_barstad_precipitation(h, (4.0, 4.0), (0.0, 10.0), surface_t=295.0)
    west = smith_barstad_precipitation(h, (4.0, 4.0), (0.0, -10.0), surface_t=295.0)
    row = east[32]
    windward, lee = row[40:63].mean(), row[65:88].mean()  # ridge crest at index 63.5
    assert windward > 1.0 and windward > 5 * lee
    np.testing.assert_allclose(west[32], east[32][::-1], atol=0.05 * east.max())
    assert np.all(east >= 0.0)


def test_warmer_air_rains_more_and_no_terrain_no_rain():
    h = _ridge()
    cold = smith_barstad_precipitation(h, (4.0, 4.0), (0.0, 10.0), surface_t=275.0)
    warm = smith_barstad_precipitation(h, (4.0, 4.0), (0.0, 10.0), surface_t=300.0)
    assert warm.max() > 2.5 * cold.max()  # Clausius-Clapeyron
    flat = smith_barstad_precipitation(np.zeros((32, 32)), (4.0, 4.0), (5.0, 5.0))
    assert np.all(flat == 0.0)

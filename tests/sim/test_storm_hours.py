"""Consecutive hours of one storm (``simulate_grid_hours``): the weather goes on, it is not
drawn anew each hour."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from prelib.sim import simulate_grid_hours, simulate_grid_scene
from prelib.sim.weather import _renew, textures_needed

BOX = ((30.0, 33.0), (110.0, 113.0))  # 75 x 75 pixels at 4 km
START = "2021-07-15T06:00"


def advected_correlation(earlier: np.ndarray, later: np.ndarray, attrs: dict) -> float:
    """Correlation of ``later`` with ``earlier`` moved one hour on by the scene's steering
    wind (``wind_u``/``wind_v`` in m s-1, 4 km pixels, y northward)."""
    shift = (attrs["wind_v"] * 3.6 / 4.0, attrs["wind_u"] * 3.6 / 4.0)
    moved = ndimage.shift(earlier, shift, order=1, mode="constant", cval=np.nan)
    inside = np.isfinite(moved)
    return float(np.corrcoef(moved[inside], later[inside])[0, 1])


@pytest.mark.parametrize(("regime", "seed"), [("frontal", 0), ("frontal", 1), ("stratiform", 0)])
def test_next_hour_is_the_same_storm_moved_on(regime, seed):
    hours = simulate_grid_hours(*BOX, START, 2, seed=seed, regime=regime)
    assert [str(s["time"].values)[:16] for s in hours] == [START, "2021-07-15T07:00"]
    assert hours[1].attrs["storm_start"] == START and "storm_start" not in hours[0].attrs
    assert hours[1].attrs["wind_u"] == hours[0].attrs["wind_u"]  # one storm, one steering flow
    rain = [s["precip"].values for s in hours]
    assert advected_correlation(rain[0], rain[1], hours[0].attrs) > 0.7
    # the rain moved with the wind: it matches better where the wind took it than where it was
    assert (
        advected_correlation(rain[0], rain[1], hours[0].attrs)
        > np.corrcoef(rain[0].ravel(), rain[1].ravel())[0, 1] - 0.02
    )
    # the scenes' own hours drawn independently (what the explorer showed before): unrelated
    independent = [
        simulate_grid_scene(*BOX, s["time"].values, seed=seed, regime=regime)["precip"].values
        for s in hours
    ]
    assert abs(advected_correlation(independent[0], independent[1], hours[0].attrs)) < 0.3


def test_storm_evolves_rather_than_freezing():
    """Cells are renewed and the envelope grows or decays: hour 3 is not hour 1 shifted."""
    hours = simulate_grid_hours(*BOX, START, 3, seed=2, regime="convective")
    rain = [s["precip_instant"].values for s in hours]
    assert all(np.isfinite(r).all() and (r >= 0).all() for r in rain)
    assert advected_correlation(rain[0], rain[1], hours[0].attrs) < 0.99
    assert not np.array_equal(rain[1], rain[2])


def test_first_hour_alone_and_bad_hours():
    (only,) = simulate_grid_hours(*BOX, START, 1, seed=0, regime="frontal")
    assert "storm_start" not in only.attrs and only["ir"].shape == (8, 75, 75)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="hours"):
            simulate_grid_hours(*BOX, START, bad)


def test_texture_chain_is_continuous_and_keeps_the_first_lifetime():
    rng = np.random.default_rng(0)
    textures = [rng.standard_normal((8, 8)) for _ in range(textures_needed(7200.0, 40.0))]
    tau = 2400.0
    # within one lifetime: the single-hour rotation, untouched by the longer chain
    np.testing.assert_allclose(_renew(textures, 600.0, 40.0), _renew(textures[:2], 600.0, 40.0))
    for link in (1, 2):  # continuous where one link hands over to the next
        before, after = (
            _renew(textures, link * tau - 1e-3, 40.0),
            _renew(textures, link * tau, 40.0),
        )
        np.testing.assert_allclose(before, after, atol=1e-5)
    with pytest.raises(ValueError, match="textures"):
        _renew(textures[:3], 3 * tau, 40.0)

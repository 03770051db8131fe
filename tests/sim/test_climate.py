import numpy as np

from prelib.sim.climate import (
    cloud_top_temperature,
    column_water_vapour,
    freezing_level_km,
    intensity_scale,
    regime_weights,
    sea_level_temperature,
    tropopause,
)


def test_temperature_moisture_and_freezing_level():
    lat = np.array([5.0, 45.0])
    lon, land = np.array([120.0, 120.0]), np.array([False, True])
    summer = sea_level_temperature(lat, lon, land, "2021-07-15T06", diurnal=False)
    winter = sea_level_temperature(lat, lon, land, "2021-01-15T06", diurnal=False)
    assert 298.0 < summer[0] < 306.0 and winter[1] < 275.0 < summer[1]
    fl = freezing_level_km(summer)
    assert 4.3 < fl[0] < 5.5  # tropics: 0 °C level near 4.5-5 km
    assert 3.5 < fl[1] < 4.8  # mid-latitude summer
    assert freezing_level_km(winter)[1] < 0.5
    afternoon = sea_level_temperature(lat, lon, land, "2021-07-15T06")  # 14 h local at 120°E
    assert afternoon[1] > summer[1] + 4.0 and afternoon[0] == summer[0]  # land skin only
    assert column_water_vapour(300.0) > 3 * column_water_vapour(280.0)
    assert intensity_scale(290.0) < intensity_scale(300.0)


def test_tropopause_and_overshooting_tops():
    height, temperature = tropopause(np.array([0.0, 60.0]))
    assert height[0] > 16.0 and height[1] < 11.5 and temperature[0] < temperature[1]
    tops = cloud_top_temperature(np.full(3, 300.0), np.array([3.0, 16.5, 18.0]), np.zeros(3))
    assert tops[0] > 275.0 and tops[1] < 200.0 and tops[2] < tops[1] - 5.0


def test_regime_climatology():
    tropics = regime_weights(8.0, "2021-07-15", rugged_fraction=0.0)
    assert max(tropics, key=tropics.get) == "convective"
    meiyu = regime_weights(31.0, "2021-06-25", rugged_fraction=0.0)
    assert max(meiyu, key=meiyu.get) == "frontal"
    himalaya = regime_weights(28.0, "2021-07-15", rugged_fraction=0.8)
    assert max(himalaya, key=himalaya.get) == "orographic"
    north_winter = regime_weights(50.0, "2021-01-15", rugged_fraction=0.0)
    assert north_winter["convective"] < north_winter["stratiform"]

import numpy as np
import pytest

from prelib.sim.clouds import CloudFields
from prelib.sim.geography import SceneGrid
from prelib.sim.ir import (
    agri_brightness_temperature,
    brightness_temperature,
    geostationary_view,
    planck_radiance,
)

N = 6


def _clouds(high_top=0.0, high_tau=0.0, main_top=0.0, main_tau=0.0):
    full = lambda v: np.full((N, N), float(v))  # noqa: E731
    return CloudFields(
        full(main_top),
        full(main_tau),
        full(high_top),
        full(high_tau),
        full(0),
        full(0),
        full(0),
        full(0.5),
    )


def _tb(clouds, lat=10.0, lon=104.7, time="2021-07-01T18"):
    grid = SceneGrid(np.full((N, N), lat), np.full((N, N), lon), 4.0, 4.0, 0.0, 0)
    t_sl = np.full((N, N), 300.0)
    return agri_brightness_temperature(
        np.random.default_rng(0),
        grid,
        clouds,
        t_sl,
        t_sl,
        np.full((N, N), 40.0),
        np.full((N, N), 4.5),
        np.zeros((N, N), bool),
        np.zeros((N, N)),
        time,
        noise=False,
    )[:, N // 2, N // 2]


def test_planck_round_trip():
    t = np.array([190.0, 250.0, 320.0])
    for wavelength in (3.72, 6.25, 10.8, 13.5):
        np.testing.assert_allclose(
            brightness_temperature(wavelength, planck_radiance(wavelength, t)), t
        )


def test_deep_cloud_cold_thin_cirrus_split_window_clear_warm():
    clear = _tb(_clouds())
    deep = _tb(_clouds(high_top=15.0, high_tau=80.0))
    cirrus = _tb(_clouds(high_top=12.0, high_tau=1.0))
    c12, c13, c09 = 5, 6, 2
    assert clear[c12] > 290.0 and deep[c12] < 220.0
    clear_btd = clear[c12] - clear[c13]
    assert 0.5 < clear_btd < 3.0  # moist tropical column: water-vapour absorption at 12 µm
    assert clear_btd + 1.0 < cirrus[c12] - cirrus[c13] < 8.0  # thin ice: larger difference
    assert abs(deep[c12] - deep[c13]) < 1.0  # opaque: ~0
    assert 215.0 < clear[c09] < 255.0  # water-vapour channel sees the upper troposphere


def test_warm_rain_cloud_is_warm_in_ir():
    warm = _tb(_clouds(main_top=3.0, main_tau=40.0))
    assert warm[5] > 275.0  # 300 K − 6.5 K/km × 3 km: invisible to a 235 K threshold


def test_limb_cooling_and_view_angle():
    zenith, _ = geostationary_view(np.array([0.0, 60.0]), np.array([104.7, 104.7]))
    assert zenith[0] == pytest.approx(0.0, abs=1e-6) and 65.0 < zenith[1] < 75.0
    near = _tb(_clouds(), lat=5.0)
    far = _tb(_clouds(), lat=5.0, lon=160.0)
    assert near[5] - far[5] > 0.3


def test_daytime_water_cloud_is_bright_at_3_7_um():
    night = _tb(_clouds(main_top=2.0, main_tau=20.0), time="2021-07-01T18")
    day = _tb(_clouds(main_top=2.0, main_tau=20.0), time="2021-07-01T05")  # ~noon at 105°E
    assert day[1] - night[1] > 10.0 and abs(day[5] - night[5]) < 0.5

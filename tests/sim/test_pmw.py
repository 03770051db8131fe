import numpy as np

from prelib.conventions import GMI_CHANNELS
from prelib.sim.clouds import CloudFields
from prelib.sim.geography import SceneGrid
from prelib.sim.pmw import gmi_brightness_temperature

N = 24


def _tb(land, ice=0.0, rain_water=0.0, liquid=0.0, wetness=0.3):
    full = lambda v: np.full((N, N), float(v))  # noqa: E731
    clouds = CloudFields(
        full(0), full(0), full(0), full(0), full(ice), full(liquid), full(rain_water), full(0.5)
    )
    grid = SceneGrid(full(20.0), full(120.0), 5.0, 5.0, 0.0, 0)
    out = gmi_brightness_temperature(
        np.random.default_rng(0),
        grid,
        clouds,
        full(300.0),
        full(300.0),
        full(40.0),
        np.full((N, N), land),
        full(wetness),
        noise=False,
    )
    return dict(zip(GMI_CHANNELS, out[:, N // 2, N // 2], strict=True))


def test_ocean_cold_and_polarised_and_rain_emission_warms_it():
    clear = _tb(False)
    rainy = _tb(False, rain_water=1.5, liquid=0.5)
    assert clear["10.65H"] < 180.0 and clear["10.65V"] - clear["10.65H"] > 40.0
    assert rainy["18.7H"] - clear["18.7H"] > 40.0
    assert rainy["18.7V"] - rainy["18.7H"] < clear["18.7V"] - clear["18.7H"]  # depolarised


def test_ice_scattering_depresses_high_frequencies_over_land():
    clear = _tb(True)
    stratiform = _tb(True, ice=0.5)
    deep = _tb(True, ice=4.0)
    assert clear["89.0V"] > 270.0
    assert 10.0 < clear["89.0V"] - stratiform["89.0V"] < 60.0
    assert clear["89.0V"] - deep["89.0V"] > 100.0
    assert clear["166V"] - deep["166V"] > clear["89.0V"] - deep["89.0V"]
    assert abs(clear["10.65V"] - deep["10.65V"]) < 2.0


def test_wet_soil_is_radiometrically_colder():
    assert _tb(True, wetness=0.9)["10.65H"] < _tb(True, wetness=0.1)["10.65H"] - 10.0


def test_land_emissivity_texture_hides_rain_emission_over_land(monkeypatch):
    """Light rain warms the ocean's cold 18.7 GHz H background by ≈ 10 K; over land the warm,
    emissive surface leaves it ≈ 2 K, less than the spread of the surface-type texture."""
    import prelib.sim.pmw as pmw

    def field(land, rain_water, std):
        monkeypatch.setattr(pmw, "LAND_EMISSIVITY_STD", std)
        full = lambda v: np.full((N, N), float(v))  # noqa: E731
        clouds = CloudFields(
            full(0), full(0), full(0), full(0), full(0), full(0.1), full(rain_water), full(0.5)
        )
        grid = SceneGrid(full(20.0), full(120.0), 5.0, 5.0, 0.0, 0)
        args = (clouds, full(300.0), full(300.0), full(40.0), np.full((N, N), land), full(0.3))
        out = gmi_brightness_temperature(np.random.default_rng(1), grid, *args, noise=False)
        return out[GMI_CHANNELS.index("18.7H")]

    def signal_and_texture(land, std):
        clear, rainy = field(land, 0.0, std), field(land, 0.2, std)
        return float(rainy.mean() - clear.mean()), float(clear.std())

    ocean_signal, ocean_texture = signal_and_texture(False, pmw.LAND_EMISSIVITY_STD)
    land_signal, land_texture = signal_and_texture(True, pmw.LAND_EMISSIVITY_STD)
    _, flat_land_texture = signal_and_texture(True, 0.0)
    assert ocean_signal > 5.0 * land_signal > 0.0 and ocean_texture < 0.1
    assert flat_land_texture < 0.1 < land_signal < land_texture  # the texture hides the rain

import numpy as np
import pytest

from prelib.conventions import (
    AGRI_IR_CHANNELS,
    CONVENTIONS_ATTR,
    DPR_N_BINS,
    DPR_N_RAYS,
    GMI_CHANNELS,
    REGIMES,
)
from prelib.sim import simulate_grid_scene, simulate_swath_scene
from prelib.sim.regimes import MEAN_RAIN_RANGE, WET_FRACTION_RANGE

TIME = "2021-07-01T06"


def test_swath_schema_units_and_dims(swath_scenes):
    ds = swath_scenes["frontal"]
    assert dict(ds.sizes) == {
        "ir_channel": 8,
        "pmw_channel": 13,
        "bin": DPR_N_BINS,
        "scan": 128,
        "ray": DPR_N_RAYS,
    }
    assert ds["ir"].dims == ("ir_channel", "scan", "ray")
    assert ds["pmw"].dims == ("pmw_channel", "scan", "ray")
    assert ds["pr"].dims == ("bin", "scan", "ray")
    assert list(ds["ir_channel"].values) == list(AGRI_IR_CHANNELS)
    assert list(ds["pmw_channel"].values) == list(GMI_CHANNELS)
    expected_units = {
        "ir": "K",
        "pmw": "K",
        "pr": "dBZ",
        "precip": "mm h-1",
        "precip_instant": "mm h-1",
        "precip_hourly": "mm h-1",
        "elevation": "m",
        "lat": "degrees_north",
        "lon": "degrees_east",
    }
    for name, units in expected_units.items():
        assert ds[name].attrs["units"] == units
        assert ds[name].dtype == np.float32
    assert ds["lat"].dims == ("scan", "ray") and ds["time"].dtype == "datetime64[ns]"
    assert ds.attrs["source"] == "synthetic" and ds.attrs["Conventions"] == CONVENTIONS_ATTR
    assert ds.attrs["regime"] == "frontal" and ds.attrs["seed"] == 0
    assert set(np.unique(ds["land"].values)) <= {0, 1}
    for name in ("ir", "pmw", "precip", "precip_instant", "elevation"):
        assert np.all(np.isfinite(ds[name].values)), name
    assert np.all(ds["precip"].values >= 0) and np.all(ds["precip_instant"].values >= 0)
    ir, pmw = ds["ir"].values, ds["pmw"].values
    assert 150 < ir.min() and ir.max() < 350 and 50 < pmw.min() and pmw.max() < 320
    finite = ds["pr"].values[np.isfinite(ds["pr"].values)]
    assert finite.size > 0 and finite.min() >= 12.0 and finite.max() < 75.0


def test_swath_geometry(swath_scenes):
    ds = swath_scenes["convective"]
    lat, lon = ds["lat"].values.astype(float), ds["lon"].values.astype(float)
    mid = ds.sizes["scan"] // 2
    assert abs(lat[mid, 24] - 12.0) < 0.1 and abs(lon[mid, 24] - 130.0) < 0.1
    across = np.hypot(np.diff(lat[mid]), np.diff(lon[mid]) * np.cos(np.deg2rad(lat[mid, 1:])))
    np.testing.assert_allclose(across * 111.195, 5.0, rtol=0.03)


def test_grid_schema(grid_scene):
    ds = grid_scene
    assert ds["ir"].dims == ("ir_channel", "y", "x") and ds.sizes["y"] == ds.sizes["x"] == 64
    assert ds["pmw"].dims == ("pmw_channel", "y", "x") and ds["pr"].dims == ("bin", "y", "x")
    lat = ds["lat"].values
    assert lat.dtype == np.float32 and np.all(np.diff(lat[:, 0]) > 0)  # y increases northward
    np.testing.assert_allclose(np.diff(ds["lon"].values[0]), 0.04, atol=1e-4)
    assert ds.attrs["regime"] in REGIMES and ds.attrs["resolution_km"] == 4.0
    for name in ds.data_vars:
        assert "units" in ds[name].attrs


def test_determinism_bytes_and_seed_dependence():
    kwargs = dict(time=TIME, n_scans=32, centre=(25.0, 120.0))
    a = simulate_swath_scene(seed=7, **kwargs)
    b = simulate_swath_scene(seed=7, **kwargs)
    c = simulate_swath_scene(seed=8, **kwargs)
    for name in ("ir", "pmw", "pr", "precip", "precip_instant"):
        assert a[name].values.tobytes() == b[name].values.tobytes(), name
    assert a.attrs == b.attrs
    assert not np.array_equal(a["ir"].values, c["ir"].values)
    d = simulate_grid_scene((20.0, 20.64), (110.0, 110.64), TIME, seed=1, sensors=())
    e = simulate_grid_scene((20.0, 20.64), (110.0, 110.64), TIME, seed=1, sensors=())
    assert d["precip"].values.tobytes() == e["precip"].values.tobytes()
    assert "ir" not in d and d.sizes["y"] == 16


def test_one_km_truth_for_downscaling():
    ds = simulate_grid_scene(
        (30.0, 30.5),
        (110.0, 110.5),
        TIME,
        seed=2,
        regime="convective",
        resolution_km=1.0,
        sensors=(),
    )
    assert ds.sizes["y"] == ds.sizes["x"] == 50
    np.testing.assert_allclose(np.diff(ds["lat"].values[:, 0]), 0.01, atol=1e-5)
    # precip is precip_hourly averaged over each 0.0625° CLDAS cell inside the scene ...
    from prelib.sim.label import cldas_cell_index

    fine, label = ds["precip_hourly"].values, ds["precip"].values
    cells = cldas_cell_index(ds["lat"].values, ds["lon"].values)
    inner = cells == cells[25, 25]
    assert inner.sum() >= 30
    np.testing.assert_allclose(label[inner], fine[inner].mean(), rtol=1e-4)
    # ... so the fine field has more pixel-to-pixel structure than the label.
    assert np.abs(np.diff(fine, axis=1)).mean() > np.abs(np.diff(label, axis=1)).mean()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(lat_bounds=(-5.0, 5.0), lon_bounds=(100.0, 110.0)), "domain"),
        (dict(lat_bounds=(10.0, 20.0), lon_bounds=(150.0, 170.0)), "domain"),
        (dict(lat_bounds=(10.0, 10.0), lon_bounds=(100.0, 110.0)), "positive size"),
        (dict(lat_bounds=(20.0, 10.0), lon_bounds=(100.0, 110.0)), "positive size"),
        (dict(lat_bounds=(10.0, 11.0), lon_bounds=(100.0, 101.0), regime="monsoon"), "regime"),
        (dict(lat_bounds=(10.0, 11.0), lon_bounds=(100.0, 101.0), sensors=("radar",)), "sensor"),
        (dict(lat_bounds=(10.0, 11.0), lon_bounds=(100.0, 101.0), sensors="ir"), "tuple"),
        (dict(lat_bounds=(10.0, 11.0), lon_bounds=(100.0, 101.0), resolution_km=0.0), "resolution"),
    ],
)
def test_grid_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate_grid_scene(time=TIME, **kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(centre=(-10.0, 100.0)), "domain"),
        (dict(regime="drizzle"), "regime"),
        (dict(sensors=("ir", "lidar")), "sensor"),
        (dict(n_scans=0), "n_scans"),
        (dict(time="yesterday"), "time"),
        (dict(seed=-3), "seed"),
    ],
)
def test_swath_bad_input(kwargs, match):
    kwargs = {"time": TIME, **kwargs}
    with pytest.raises(ValueError, match=match):
        simulate_swath_scene(**kwargs)


def test_regime_none_is_drawn_deterministically_from_climatology():
    regimes = {
        simulate_swath_scene(f"2021-0{m}-15T06", seed=s, n_scans=16, sensors=()).attrs["regime"]
        for m in (1, 7)
        for s in range(6)
    }
    assert len(regimes) >= 2
    a = simulate_swath_scene(TIME, seed=4, n_scans=16, sensors=())
    assert (
        a.attrs["regime"]
        == simulate_swath_scene(TIME, seed=4, n_scans=16, sensors=()).attrs["regime"]
    )


# ---------------------------------------------------------------------------------------------
# Physical sanity
# ---------------------------------------------------------------------------------------------
def test_heavy_convective_rain_has_cold_tops(swath_scenes):
    ds = swath_scenes["convective"]
    heavy = ds["precip_instant"].values >= 10.0
    c12 = ds["ir"].sel(ir_channel="C12").values
    assert heavy.sum() >= 5
    assert np.median(c12[heavy]) < 235.0
    assert np.mean(c12[heavy] < 235.0) > 0.8


def test_stratiform_profiles_have_a_bright_band(swath_scenes):
    ds = swath_scenes["stratiform"]
    pr = ds["pr"].values
    height = ds["bin_height"].values / 1000.0
    columns = (ds["precip_instant"].values > 1.0) & (ds["precip_instant"].values < 8.0)
    assert columns.sum() >= 20
    peaks = height[np.nanargmax(np.where(np.isfinite(pr[:, columns]), pr[:, columns], -99), 0)]
    # 0 °C level of this July scene at 42°N: (T_sl − 273.15) / 5.8 K/km.
    from prelib.sim.climate import freezing_level_km, sea_level_temperature

    t_sl = sea_level_temperature(
        ds["lat"].values, ds["lon"].values, ds["land"].values > 0, ds["time"].values, diurnal=False
    )
    fl = freezing_level_km(t_sl)[columns]
    assert np.median(np.abs(peaks - (fl - 0.2))) < 0.3


def test_ice_scattering_depresses_89_and_166_ghz(swath_scenes):
    ds = swath_scenes["convective"]  # tropical ocean
    rain = ds["precip_instant"].values
    deep = rain >= 20.0
    dry = (rain == 0.0) & (ds["precip"].values == 0.0)
    for channel in ("89.0V", "166V"):
        tb = ds["pmw"].sel(pmw_channel=channel).values
        assert np.median(tb[dry]) - np.median(tb[deep]) > 30.0, channel
    low = ds["pmw"].sel(pmw_channel="18.7H").values  # ocean: rain emission warms 18.7 GHz
    assert np.median(low[deep]) - np.median(low[dry]) > 30.0


@pytest.mark.parametrize("regime", REGIMES)
def test_rain_fraction_and_mean_within_documented_range(swath_scenes, regime):
    precip = swath_scenes[regime]["precip"].values
    wet = precip >= 0.1
    low, high = WET_FRACTION_RANGE[regime]
    assert low <= wet.mean() <= high
    low, high = MEAN_RAIN_RANGE[regime]
    assert low <= precip[wet].mean() <= high


def test_orographic_rain_enhanced_on_the_windward_side():
    ds = simulate_grid_scene(
        (26.0, 30.0), (88.0, 94.0), TIME, seed=1, regime="orographic", sensors=()
    )
    h = ds["elevation"].values.astype(float)
    dy = 0.04 * 111.195e3
    dx = dy * np.cos(np.deg2rad(ds["lat"].values.mean()))
    dh_dy, dh_dx = np.gradient(h, dy, dx)
    upslope = ds.attrs["wind_u"] * dh_dx + ds.attrs["wind_v"] * dh_dy  # m s-1
    rain = ds["precip"].values
    windward, lee = rain[upslope > 0.1].mean(), rain[upslope < -0.1].mean()
    assert windward > 2.0 * lee

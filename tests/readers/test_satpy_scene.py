"""A satpy Scene of AGRI L1 channels as prelib's IR input (``agri_from_satpy``).

Scenes are built in memory from DataArrays on a pyresample area (no files), and from files in
the real FY-4A/4B layouts read by satpy's own readers, compared with prelib's reader.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pytest
import xarray as xr

from prelib.errors import InvalidDataError
from prelib.readers.agri import disc_latlon, projection_of, read_agri_l1
from prelib.readers.geostationary import GeosProjection
from prelib.readers.satpy_scene import agri_from_satpy
from prelib.writers.agri import write_agri_l1

satpy = pytest.importorskip("satpy")
geometry = pytest.importorskip("pyresample.geometry")

CHANNELS = tuple(f"C{i:02d}" for i in range(7, 15))
LINE0, COL0, SHAPE = 700, 1900, (10, 14)
START = np.datetime64("2021-07-20T06:00:00")


def _geos_area(projection: GeosProjection, line0: int, col0: int, shape) -> object:
    """The pyresample area of full-disc lines/columns ``line0 …``, ``col0 …`` (CGMS grid)."""
    height = projection.satellite_distance_m - projection.semi_major_m
    step = np.radians(2.0**16 / projection.factor) * height  # metres per pixel

    def x_of(column):
        return (column - projection.offset) * step

    def y_of(line):
        return -(line - projection.offset) * step

    n_lines, n_cols = shape
    extent = (
        x_of(col0 - 0.5),
        y_of(line0 + n_lines - 0.5),
        x_of(col0 + n_cols - 0.5),
        y_of(line0 - 0.5),
    )
    return geometry.AreaDefinition(
        "agri", "AGRI segment", "geos", projection.proj4(), n_cols, n_lines, extent
    )


def _scene(
    area, shape, *, channels=CHANNELS, calibration="brightness_temperature", units="K", offset=0.0
):
    rng = np.random.default_rng(3)
    scene = satpy.Scene()
    values = {}
    for name in channels:
        data = rng.uniform(200.0, 295.0, shape)
        values[name] = data
        attrs = {
            "area": area,
            "platform_name": "FY-4A",
            "sensor": "agri",
            "resolution": 4000,
            "start_time": START.astype("datetime64[us]").astype(object),
            "end_time": (START + np.timedelta64(899, "s")).astype("datetime64[us]").astype(object),
            "name": name,
        }
        if calibration is not None:
            attrs["calibration"] = calibration
        if units is not None:
            attrs["units"] = units
        scene[name] = xr.DataArray(data + offset, dims=("y", "x"), attrs=attrs)
    return scene, values


@pytest.fixture(scope="module")
def projection():
    return GeosProjection(104.7, 4000)


def test_in_memory_scene_becomes_the_reader_schema(projection):
    area = _geos_area(projection, LINE0, COL0, SHAPE)
    scene, values = _scene(area, SHAPE)
    ds = agri_from_satpy(scene)
    assert ds["ir"].dims == ("ir_channel", "y", "x") and ds["ir"].dtype == np.float32
    assert list(ds["ir_channel"].values) == list(CHANNELS)
    assert ds["ir"].attrs["units"] == "K"
    for name in CHANNELS:
        np.testing.assert_allclose(ds["ir"].sel(ir_channel=name).values, values[name], rtol=1e-6)
    lons, lats = area.get_lonlats()
    np.testing.assert_allclose(ds["lat"].values, lats, atol=1e-5)
    np.testing.assert_allclose(ds["lon"].values, lons, atol=1e-5)
    # the scene sits on the CGMS disc grid: its full-disc line/column numbers are recovered
    np.testing.assert_array_equal(ds["line"].values, LINE0 + np.arange(SHAPE[0]))
    np.testing.assert_array_equal(ds["column"].values, COL0 + np.arange(SHAPE[1]))
    lat, lon = disc_latlon(projection, LINE0, COL0, *SHAPE)
    np.testing.assert_allclose(ds["lat"].values, lat, atol=1e-3)
    np.testing.assert_allclose(ds["lon"].values, lon, atol=1e-3)
    assert ds["time"].values == START
    aware = dt.datetime(2021, 7, 20, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    for name in CHANNELS:
        scene[name].attrs["start_time"] = aware  # 14:00 Beijing time = 06:00 UTC
    assert agri_from_satpy(scene)["time"].values == START
    assert ds.attrs["satellite"] == "FY4A" and ds.attrs["resolution_m"] == 4000
    assert ds["wavelength"].values[5] == pytest.approx(10.8)
    # the attributes place_in_disc reads give back the projection
    recovered = projection_of(ds)
    assert recovered.sub_lon == projection.sub_lon and recovered.resolution_m == 4000
    assert recovered.semi_major_m == pytest.approx(projection.semi_major_m)
    assert recovered.satellite_distance_m == pytest.approx(projection.satellite_distance_m)


@pytest.mark.parametrize("satellite", ["FY4A", "FY4B"])
def test_scene_from_satpy_reader_equals_prelib_reader(tmp_path, satellite):
    channels = [f"C{i:02d}" for i in range(7, 15 if satellite == "FY4A" else 16)]
    rng = np.random.default_rng(2)
    bt = {c: rng.uniform(190.0, 300.0, SHAPE).astype(np.float32) for c in channels}
    bt[channels[5]][3, 4] = np.nan
    path = write_agri_l1(
        tmp_path, bt, START, satellite=satellite, begin_line=LINE0, begin_column=COL0
    )
    ours = read_agri_l1(path)
    scene = satpy.Scene([str(path)], reader=f"agri_{satellite.lower()}_l1")
    scene.load(list(ours["ir_channel"].values))
    theirs = agri_from_satpy(scene)
    assert list(theirs["ir_channel"].values) == list(ours["ir_channel"].values)
    np.testing.assert_allclose(theirs["ir"].values, ours["ir"].values, atol=1e-4, equal_nan=True)
    assert np.isnan(theirs["ir"].sel(ir_channel=channels[5]).values[3, 4])
    for name in ("lat", "lon"):
        np.testing.assert_allclose(theirs[name].values, ours[name].values, atol=1e-4)
    for name in ("line", "column", "time", "wavelength"):
        np.testing.assert_array_equal(theirs[name].values, ours[name].values)
    for key in ("satellite", "resolution_m", "sub_satellite_lon"):
        assert theirs.attrs[key] == ours.attrs[key]


def test_missing_channels_are_named_with_the_load_call(projection):
    area = _geos_area(projection, LINE0, COL0, SHAPE)
    scene, _ = _scene(area, SHAPE, channels=CHANNELS[:5])
    with pytest.raises(InvalidDataError, match=r"\['C12', 'C13', 'C14'\] are not loaded") as err:
        agri_from_satpy(scene)
    assert "scene.load(" in str(err.value)
    with pytest.raises(InvalidDataError, match="not thermal channels"):
        agri_from_satpy(scene, channels=["C03"])


def test_wrong_calibration_and_units_are_refused(projection):
    area = _geos_area(projection, LINE0, COL0, SHAPE)
    scene, _ = _scene(area, SHAPE, calibration="counts", units="1")
    with pytest.raises(InvalidDataError, match=r"calibrated as 'counts'.*brightness_temperature"):
        agri_from_satpy(scene)
    scene, _ = _scene(area, SHAPE, calibration="radiance", units="mW m-2 sr-1 (cm-1)-1")
    with pytest.raises(InvalidDataError, match="calibrated as 'radiance'"):
        agri_from_satpy(scene)
    scene, _ = _scene(area, SHAPE, calibration=None, units=None)
    with pytest.raises(InvalidDataError, match="neither a 'calibration' nor a 'units'"):
        agri_from_satpy(scene)
    scene, _ = _scene(area, SHAPE, calibration=None, units="W m-2")
    with pytest.raises(InvalidDataError, match="unknown units"):
        agri_from_satpy(scene)


def test_celsius_is_converted_to_kelvin(projection):
    area = _geos_area(projection, LINE0, COL0, SHAPE)
    scene, values = _scene(area, SHAPE, units="degC", offset=-273.15)
    with pytest.warns(UserWarning, match="converted to K"):
        ds = agri_from_satpy(scene)
    np.testing.assert_allclose(ds["ir"].sel(ir_channel="C12").values, values["C12"], atol=1e-3)


def test_channels_on_different_grids_are_refused(projection):
    area = _geos_area(projection, LINE0, COL0, SHAPE)
    scene, _ = _scene(area, SHAPE)
    other = _geos_area(projection, LINE0 + 2, COL0, SHAPE)
    scene["C13"].attrs["area"] = other
    with pytest.raises(InvalidDataError, match="C13 lies on another area"):
        agri_from_satpy(scene)
    small = _geos_area(projection, LINE0, COL0, (5, 7))
    scene, _ = _scene(area, SHAPE)
    scene["C09"] = xr.DataArray(np.full((5, 7), 250.0), dims=("y", "x"), attrs=scene["C07"].attrs)
    scene["C09"].attrs["area"] = small
    with pytest.raises(InvalidDataError, match="different shapes"):
        agri_from_satpy(scene)


def test_satellite_must_be_known(projection):
    area = _geos_area(projection, LINE0, COL0, SHAPE)
    scene, _ = _scene(area, SHAPE)
    for name in CHANNELS:
        scene[name].attrs.pop("platform_name")
    with pytest.raises(InvalidDataError, match="cannot tell FY-4A from FY-4B"):
        agri_from_satpy(scene)
    assert agri_from_satpy(scene, satellite="FY-4A").attrs["satellite"] == "FY4A"


def test_resampled_and_swath_scenes_keep_their_own_geolocation():
    lat = np.linspace(35.0, 30.0, SHAPE[0])
    lon = np.linspace(110.0, 116.0, SHAPE[1])
    grid = geometry.AreaDefinition(
        "ll", "lat/lon", "ll", "+proj=longlat +datum=WGS84", SHAPE[1], SHAPE[0],
        (109.75, 29.75, 116.25, 35.25),
    )  # fmt: skip
    scene, _ = _scene(grid, SHAPE)
    ds = agri_from_satpy(scene)
    assert "line" not in ds.coords and "proj4" not in ds.attrs
    lons, lats = grid.get_lonlats()
    np.testing.assert_allclose(ds["lat"].values, lats, atol=1e-5)
    np.testing.assert_allclose(ds["lon"].values, lons, atol=1e-5)
    lon2, lat2 = np.meshgrid(lon, lat)
    swath = geometry.SwathDefinition(lons=lon2, lats=lat2)
    scene, _ = _scene(swath, SHAPE)
    ds = agri_from_satpy(scene)
    np.testing.assert_allclose(ds["lat"].values, lat2, atol=1e-5)
    np.testing.assert_allclose(ds["lon"].values, lon2, atol=1e-5)


def test_space_pixels_are_nan_not_inf(projection):
    # a block across the disc's western limb: some lines of sight miss the Earth
    area = _geos_area(projection, 1370, 8, (4, 12))
    scene, _ = _scene(area, (4, 12))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ds = agri_from_satpy(scene)
    lat = ds["lat"].values
    assert np.isnan(lat).any() and not np.isinf(lat).any()
    assert np.isfinite(lat).any()

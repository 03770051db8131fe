"""Every file prelib writes is CF-clean: cf-xarray resolves it, and the CF checker passes it.

Files covered: the benchmark stores (Swath-MPR and Full-IPR Zarr), the scene / case files
(NetCDF) and the retrieval files of ``prelib infer`` (NetCDF). The CF checker (cfchecker) needs
the CF standard-name table, which it downloads; the tests hand it the offline extract in
``cf_tables/`` instead (the names prelib writes, with their canonical units). The checker also
needs the UDUNITS-2 C library (``apt-get install libudunits2-0``, or conda's ``udunits2``); where
it is missing, the checker part is skipped and the cf-xarray part still runs.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from prelib import conventions as cv
from prelib.data.cf import cf_complete, netcdf_string_encoding

cf_xarray = pytest.importorskip("cf_xarray")

TABLES = Path(__file__).parent / "cf_tables"
SPATIAL = {cv.DIM_Y, cv.DIM_X, cv.DIM_SCAN, cv.DIM_RAY}


def assert_cf_resolves(ds: xr.Dataset) -> None:
    """The cf-xarray view of ``ds`` is complete and unambiguous."""
    axes = ds.cf.axes
    assert len(axes.get("X", [])) == 1 and len(axes.get("Y", [])) == 1, axes
    coords = ds.cf.coordinates
    assert coords.get("latitude") == ["lat"] and coords.get("longitude") == ["lon"], coords
    assert ds.cf["latitude"].name == "lat" and ds.cf["X"].name in ("x", "ray")
    if cv.VAR_TIME in ds.variables:
        assert ds.cf["time"].name == "time"
        assert ds["time"].attrs.get("standard_name") == "time"
    # Variables sharing a standard name differ as CF intends: in cell_methods (rain) or in
    # their channel coordinate (IR vs microwave brightness temperatures).
    by_name = defaultdict(list)
    for name, var in ds.data_vars.items():
        if "standard_name" in var.attrs:
            by_name[var.attrs["standard_name"]].append(name)
    for standard_name, names in by_name.items():
        if len(names) == 1:
            assert ds.cf[standard_name].name == names[0]
            continue
        keys = {(ds[n].attrs.get("cell_methods"), ds[n].dims) for n in names}
        assert len(keys) == len(names), f"{standard_name}: {names} are indistinguishable"
    rain = by_name.get("lwe_precipitation_rate", [])
    assert rain, "no rain variable"
    for name in rain:
        assert ds[name].attrs.get("cell_methods"), name
    # grid mapping on every field
    mappings = ds.cf.grid_mapping_names
    assert mappings == {"latitude_longitude": ["crs"]}, mappings
    for name, var in ds.data_vars.items():
        if SPATIAL & set(var.dims):
            assert var.attrs.get("grid_mapping") == "crs", name
    if cv.VAR_LAND in ds:
        land = ds[cv.VAR_LAND]
        assert list(land.attrs["flag_values"]) == [0, 1]
        assert land.attrs["flag_meanings"] == "water land"
    if cv.DIM_IR_CHANNEL in ds.dims:
        wavelength = ds["wavelength"]
        assert wavelength.dims == (cv.DIM_IR_CHANNEL,) and wavelength.dtype.kind == "f"
        assert ds.cf["sensor_band_central_radiation_wavelength"].name == "wavelength"
        assert ds[cv.DIM_IR_CHANNEL].attrs.get("long_name")


def cf_checker_errors(path: Path) -> list[str]:
    """ERROR and FATAL messages of the CF checker on a NetCDF file (offline tables)."""
    try:
        from cfchecker import cfchecks as checks
    except (ImportError, OSError) as err:  # cfunits needs the UDUNITS-2 C library
        pytest.skip(f"the CF checker cannot run here: {err}")
    checker = checks.CFChecker(
        cfStandardNamesXML=str(TABLES / "cf-standard-name-table.xml"),
        cfAreaTypesXML=str(TABLES / "area-type-table.xml"),
        cfRegionNamesXML=str(TABLES / "standardized-region-list.xml"),
        version=checks.CFVersion((1, 8)),
        silent=True,
    )
    results = checker.checker(str(path))
    messages = list(results["global"].get("FATAL", [])) + list(results["global"]["ERROR"])
    for name, result in results["variables"].items():
        messages += [f"{name}: {m}" for m in result.get("FATAL", []) + result["ERROR"]]
    # cfchecker 4.1 knows CF up to 1.8; prelib files declare CF-1.10, which it cannot parse.
    return [m for m in messages if "does not appear to contain CF Convention data" not in m]


def _to_netcdf(ds: xr.Dataset, path: Path) -> Path:
    ds.to_netcdf(path, engine="h5netcdf", encoding=netcdf_string_encoding(ds))
    return path


@pytest.fixture(scope="module")
def scene_file(tmp_path_factory):
    from prelib.data.regions import simulate_region, write_scene

    scene = simulate_region((20.0, 21.0), (110.0, 111.5), "2021-07-01T06", seed=2)
    return write_scene(scene, tmp_path_factory.mktemp("scene") / "scene.nc")


def test_scene_file_is_cf_clean(scene_file):
    ds = xr.open_dataset(scene_file, engine="h5netcdf")
    assert {"precip", "precip_hourly", "precip_instant"} <= set(ds.data_vars)
    assert_cf_resolves(ds)
    assert ds["precip_instant"].attrs["cell_methods"] == "time: point"
    bounds = ds["time_bnds"].values
    assert bounds[1] == ds["time"].values and bounds[1] - bounds[0] == np.timedelta64(1, "h")
    assert list(ds["ir_channel"].values) == list(cv.AGRI_IR_CHANNELS)  # labels survive
    assert cf_checker_errors(scene_file) == []


@pytest.mark.parametrize("kind", ["fulldisc", "swath"])
def test_benchmark_store_is_cf_clean(kind, tmp_path):
    from prelib.config import resolve
    from prelib.data.build.synthetic import build_benchmark
    from prelib.data.store import open_benchmark

    path = build_benchmark(
        kind, "test", resolve("tiny"), out=tmp_path / "b.zarr", n_samples=2, progress=False
    )
    ds = open_benchmark(path)
    assert_cf_resolves(ds)
    end = ds["time"].values
    np.testing.assert_array_equal(ds["time_bnds"].values[:, 1], end)
    np.testing.assert_array_equal(ds["time_bnds"].values[:, 0], end - np.timedelta64(1, "h"))
    # The same metadata as NetCDF passes the CF checker.
    raw = xr.open_zarr(path, decode_times=False)
    land = raw[cv.VAR_LAND]  # Zarr keeps attributes as JSON, without a dtype
    land.attrs["flag_values"] = np.asarray(land.attrs["flag_values"], dtype=land.dtype)
    assert cf_checker_errors(_to_netcdf(raw, tmp_path / "b.nc")) == []


def test_retrieval_file_is_cf_clean(tmp_path):
    from prelib.inference.retrieval import precipitation_dataset, write_precipitation_netcdf

    lat = np.linspace(20, 30, 12, dtype=np.float32)
    lon = np.linspace(100, 115, 16, dtype=np.float32)
    rain = np.random.default_rng(0).gamma(0.5, 2.0, (12, 16)).astype(np.float32)
    ds = precipitation_dataset(rain, lat, lon, time="2021-07-01T06")
    path = write_precipitation_netcdf(ds, tmp_path / "r.nc")
    back = xr.open_dataset(path)
    assert_cf_resolves(back)
    assert back.cf["lwe_precipitation_rate"].name == "precip"
    assert back["time"].attrs.get("axis") == "T"
    assert cf_checker_errors(path) == []


def test_cf_complete_is_idempotent_and_keeps_values(scene_file):
    ds = xr.open_dataset(scene_file, engine="h5netcdf").load()
    once = cf_complete(ds)
    twice = cf_complete(once)
    xr.testing.assert_identical(once, twice)
    np.testing.assert_array_equal(once["precip"].values, ds["precip"].values)


def test_the_checker_catches_what_cf_complete_fixes(tmp_path):
    """Without cf_complete the old defects come back: the test can fail."""
    from prelib.data.regions import simulate_region

    scene = simulate_region((20.0, 20.5), (110.0, 110.5), "2021-07-01T06", seed=2)
    with pytest.raises(AssertionError):
        assert_cf_resolves(scene)
    with pytest.raises(KeyError, match="multiple variables"):
        scene.cf["lwe_precipitation_rate"]

"""IMERG, CLDAS-V2.0, PERSIANN-CCS and PDIR-Now readers on files in their real layouts."""

from __future__ import annotations

import gzip
import warnings

import numpy as np
import pytest
import xarray as xr

from prelib.readers import ProductError, open_product
from prelib.readers.chrs import read_chrs_hourly
from prelib.readers.cldas import CldasLayout, read_cldas
from prelib.readers.imerg import read_imerg
from prelib.writers.gpm import write_imerg
from prelib.writers.grids import write_chrs_hourly, write_cldas

LAT = 20.05 + 0.1 * np.arange(5)
LON = 110.05 + 0.1 * np.arange(8)


def _field(shape, seed=0):
    values = np.random.default_rng(seed).gamma(0.5, 2.0, shape).astype(np.float32)
    values[1, 2] = np.nan
    return values


@pytest.mark.parametrize(
    ("version", "name"), [("V07B", "precipitation"), ("V06B", "precipitationCal")]
)
def test_imerg_orientation_fill_and_julian_time(tmp_path, version, name):
    rain = _field((LAT.size, LON.size))
    path = write_imerg(tmp_path, LAT, LON, rain, np.datetime64("2021-07-20T06:30"), version=version)
    assert path.name == f"3B-HHR.MS.MRG.3IMERG.20210720-S063000-E065959.0390.{version}.HDF5"
    raw = xr.open_dataset(path, group="Grid", engine="h5netcdf", decode_times=False)
    assert raw[name].dims == ("time", "lon", "lat")  # the real (time, lon, lat) order
    raw.close()
    ds = open_product(path)
    assert ds.attrs["variable"] == name
    np.testing.assert_allclose(ds["lat"].values, LAT[::-1], atol=1e-5)
    np.testing.assert_allclose(ds["precip"].values, rain[::-1], equal_nan=True)
    assert ds["time"].values == np.datetime64("2021-07-20T07:00", "ns")
    assert ds["time_start"].values == np.datetime64("2021-07-20T06:30", "ns")


def test_imerg_flat_nc4_and_prenet_regridded_variants(tmp_path):
    rain = _field((LAT.size, LON.size), seed=3)
    name = "3B-HHR.MS.MRG.3IMERG.20210720-S063000-E065959.0390.V07B.HDF5.nc4"
    flat = xr.Dataset(
        {"precipitation": (("time", "lon", "lat"), rain.T[None])},
        coords={
            "time": (
                "time",
                [1310797800],
                {"units": "seconds since 1980-01-06 00:00:00 UTC", "calendar": "julian"},
            ),
            "lon": LON,
            "lat": LAT,
        },
    )
    flat.to_netcdf(tmp_path / name, engine="h5netcdf")
    ds = open_product(tmp_path / name)
    np.testing.assert_allclose(ds["precip"].values, rain[::-1], equal_nan=True)
    assert ds["time_start"].values == np.datetime64("1980-01-06", "ns") + np.timedelta64(
        1310797800, "s"
    )
    regridded = tmp_path / "prenet" / name
    regridded.parent.mkdir()
    xr.DataArray(rain, coords={"lat": LAT, "lon": LON}, dims=("lat", "lon")).to_netcdf(regridded)
    ds = open_product(regridded)
    assert ds.attrs["variable"] == "__xarray_dataarray_variable__"
    assert ds["time_start"].values == np.datetime64("2021-07-20T06:30", "ns")  # from the name
    np.testing.assert_allclose(ds["precip"].values, rain[::-1], equal_nan=True)


def test_imerg_without_rate_variable(tmp_path):
    path = tmp_path / "3B-HHR.MS.MRG.3IMERG.20210720-S063000-E065959.0390.V07B.HDF5"
    xr.Dataset({"other": ("x", [1.0])}).to_netcdf(path, engine="h5netcdf")
    with pytest.raises(ProductError, match="no IMERG rate variable"):
        read_imerg(path)


@pytest.mark.parametrize("descending", [False, True])
def test_cldas_sorting_fill_and_valid_hour(tmp_path, descending):
    lat = 30.03125 + 0.0625 * np.arange(16)
    lon = 110.03125 + 0.0625 * np.arange(24)
    rain = _field((16, 24), seed=1)
    rain[5, 5] = -3.0  # a negative value is missing too
    path = write_cldas(
        tmp_path, lat, lon, rain, np.datetime64("2021-07-20T08"), descending=descending
    )
    assert path.name == "Z_NAFP_C_BABJ_20210720084100_P_CLDAS_RT_ASI_0P0625_HOR-PRE-2021072008.nc"
    ds = open_product(path)
    assert np.all(np.diff(ds["lat"].values) < 0) and ds["lat"].values[0] == pytest.approx(30.96875)
    expected = rain[::-1].copy()
    expected[expected < 0] = np.nan
    np.testing.assert_allclose(ds["precip"].values, expected, equal_nan=True)
    assert ds["time"].values == np.datetime64("2021-07-20T08", "ns")  # end of (07, 08]
    assert ds["precip"].attrs["units"] == "mm h-1"


def test_cldas_layout_is_configurable(tmp_path):
    path = tmp_path / "Z_NAFP_C_BABJ_20210720084100_P_CLDAS_NRT_ASI_0P0625_HOR-PRE-2021072008.nc"
    xr.Dataset(
        {"PRE": (("lat", "lon"), np.full((3, 4), 2.0, np.float32))},
        coords={"lat": [30.0, 30.0625, 30.125], "lon": 110 + 0.0625 * np.arange(4)},
    ).to_netcdf(path)
    with pytest.raises(ProductError, match="'PRCP' missing"):
        read_cldas(path)
    ds = read_cldas(path, CldasLayout(variable="PRE", lat="lat", lon="lon"))
    assert float(ds["precip"].mean()) == 2.0
    renamed = path.rename(tmp_path / "label.nc")
    with pytest.raises(ProductError, match="pass time="):
        read_cldas(renamed, CldasLayout(variable="PRE", lat="lat", lon="lon"))
    ds = read_cldas(
        renamed,
        CldasLayout(variable="PRE", lat="lat", lon="lon"),
        time=np.datetime64("2021-07-20T08"),
    )
    assert ds["time"].values == np.datetime64("2021-07-20T08", "ns")


def _chrs_field():
    rain = np.zeros((3000, 9000), dtype=np.float32)
    rain[100:104, 200:203] = 1.23
    rain[2000, 5000] = np.nan
    return rain


@pytest.fixture(scope="module")
def ccs_file(tmp_path_factory):
    """One full-size (3000 x 9000) PERSIANN-CCS file, as the recipe asks."""
    return write_chrs_hourly(
        tmp_path_factory.mktemp("ccs"),
        _chrs_field(),
        np.datetime64("2023-01-01T00"),
        "persiann_ccs",
    )


def test_ccs_full_size_scale_grid_fill_and_time(ccs_file):
    ds = open_product(ccs_file)
    assert ds.attrs["byte_order"] == "big" and ds["precip"].shape == (3000, 9000)
    assert float(ds["precip"][101, 201]) == pytest.approx(1.23)
    assert float(ds["lat"][101]) == pytest.approx(59.98 - 0.04 * 101)
    assert float(ds["lon"][201]) == pytest.approx(0.02 + 0.04 * 201)
    assert np.isnan(ds["precip"][2000, 5000]) and float(ds["precip"][0, 0]) == 0.0
    assert ds["time"].values == np.datetime64("2023-01-01T01", "ns")  # end of the hour
    rolled = read_chrs_hourly(ccs_file, lon_180=True)
    assert rolled["lon"].values[0] == pytest.approx(-179.98) and np.all(np.diff(rolled["lon"]) > 0)
    assert float(rolled["precip"].sel(lon=0.02 + 0.04 * 201, method="nearest")[101]) == (
        pytest.approx(1.23)
    )


@pytest.mark.parametrize(("start", "order"), [("2020-11-30T23", ">"), ("2020-12-01T00", "<")])
def test_pdir_now_byte_order_changes_on_2020_12_01(tmp_path, start, order):
    counts = np.zeros((3000, 9000), dtype=f"{order}i2")
    counts[10, 20] = 250
    counts[11, 20] = -9999
    path = tmp_path / f"pdirnow1h{np.datetime64(start, 'h').astype(object):%y%m%d%H}.bin.gz"
    with gzip.open(path, "wb", compresslevel=1) as handle:
        handle.write(counts.tobytes())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the date rule alone must get it right
        ds = open_product(path)
    assert float(ds["precip"][10, 20]) == pytest.approx(2.5) and np.isnan(ds["precip"][11, 20])


def test_chrs_plausibility_check(ccs_file):
    # read the big-endian CCS file under the PDIR-Now rule for 2023 (little-endian): the reader
    # notices the implausible values and switches, with a warning
    with pytest.warns(UserWarning, match="implausible"):
        ds = read_chrs_hourly(ccs_file, "pdir_now")
    assert ds.attrs["byte_order"] == "big" and float(ds["precip"][101, 201]) == pytest.approx(1.23)
    forced = read_chrs_hourly(ccs_file, byte_order="<")  # forced: no switching
    assert float(forced["precip"][101, 201]) != pytest.approx(1.23)


def test_chrs_truncated_file(tmp_path):
    path = tmp_path / "rgccs1h2300100.bin.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b"\x00" * 1000)
    with pytest.raises(ProductError, match="expected 54000000"):
        open_product(path)

"""AGRI L1 reader on files in the real FY-4A / FY-4B layouts; satpy as an independent check."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from prelib.readers import ProductError, open_product
from prelib.readers.agri import counts_to_bt, place_in_disc, read_agri_l1
from prelib.readers.geostationary import GeosProjection, line_column_to_latlon
from prelib.writers.agri import write_agri_l1

START = np.datetime64("2021-07-20T06:00:00")
LINE0, COL0, SHAPE = 500, 1500, (12, 17)


def _fields(channels, seed=0):
    rng = np.random.default_rng(seed)
    return {c: rng.uniform(190.0, 300.0, SHAPE).astype(np.float32) for c in channels}


@pytest.fixture(scope="module")
def fy4a_file(tmp_path_factory):
    bt = _fields([f"C{i:02d}" for i in range(7, 15)])
    bt["C12"][0, 0] = np.nan  # written as the fill count
    path = write_agri_l1(
        tmp_path_factory.mktemp("agri"), bt, START, begin_line=LINE0, begin_column=COL0
    )
    return path, bt


def test_file_name_and_layout_are_real(fy4a_file):
    path, _ = fy4a_file
    assert path.name.startswith("FY4A-_AGRI--_N_REGC_1047E_L1-_FDI-_MULT_NOM_20210720060000_")
    with h5py.File(path) as f:
        assert f["NOMChannel12"].dtype == np.uint16
        assert f["CALChannel07"].shape == (65536,) and f["CALChannel12"].shape == (4096,)
        assert "Begin Line Number" in f.attrs and "Data" not in f


def test_bt_is_lut_at_count_with_zero_based_index(fy4a_file):
    path, bt = fy4a_file
    ds = read_agri_l1(path)
    with h5py.File(path) as f:
        counts = f["NOMChannel13"][()]
        lut = f["CALChannel13"][()]
    np.testing.assert_array_equal(ds["ir"].sel(ir_channel="C13").values, lut[counts])
    # and the encoded temperatures come back within half a table step (250 K / 4095 / 2)
    assert np.nanmax(np.abs(ds["ir"].sel(ir_channel="C13").values - bt["C13"])) < 0.031


def test_schema_fill_time_and_region(fy4a_file):
    path, _ = fy4a_file
    ds = read_agri_l1(path)
    assert ds["ir"].dims == ("ir_channel", "y", "x") and ds["ir"].dtype == np.float32
    assert list(ds["ir_channel"].values) == [f"C{i:02d}" for i in range(7, 15)]
    assert ds["ir"].attrs["units"] == "K"
    assert np.isnan(ds["ir"].sel(ir_channel="C12").values[0, 0])
    assert np.isfinite(ds["ir"].sel(ir_channel="C13").values[0, 0])
    assert ds["time"].values == START.astype("datetime64[ns]")
    assert ds["line"].values[0] == LINE0 and ds["column"].values[-1] == COL0 + SHAPE[1] - 1
    lat, lon = line_column_to_latlon(
        LINE0,
        COL0,
        GeosProjection(104.7, 4000, 6378140.0, 6378140.0 * (1 - 1 / 298.257223563), 42164000.0),
    )
    assert ds["lat"].values[0, 0] == pytest.approx(lat, abs=1e-4)
    assert ds["lon"].values[0, 0] == pytest.approx(lon, abs=1e-4)
    assert ds["lat"].values[0, 0] == pytest.approx(34.7949, abs=2e-3)  # reference vector


def test_channel_selection_and_missing_channel(fy4a_file):
    path, _ = fy4a_file
    ds = open_product(path, channels=["C12", "C09"])
    assert list(ds["ir_channel"].values) == ["C12", "C09"]
    with pytest.raises(ProductError, match="C03"):
        read_agri_l1(path, channels=["C03"])
    with pytest.raises(ProductError, match="C15"):
        read_agri_l1(path, channels=["C15"])


def test_prenet_compat_reproduces_off_by_one_and_zero_kelvin(fy4a_file):
    path, _ = fy4a_file
    correct = read_agri_l1(path, channels=["C12"])["ir"].values[0]
    compat = read_agri_l1(path, channels=["C12"], prenet_compat=True)["ir"].values[0]
    with h5py.File(path) as f:
        counts, lut = f["NOMChannel12"][()].astype(int), f["CALChannel12"][()]
    valid = counts < 4096
    shifted = valid & (counts > 0)
    np.testing.assert_array_equal(compat[shifted], lut[counts[shifted] - 1])
    assert compat[0, 0] == 0.0 and np.isnan(correct[0, 0])  # fill count → 0 K vs NaN
    assert np.all(compat[valid] != correct[valid])


def test_counts_to_bt_masks_fill_and_out_of_table():
    lut = np.linspace(400, 150, 4096, dtype=np.float32)
    counts = np.array([0, 4095, 4096, 65535], dtype=np.uint16)
    bt = counts_to_bt(counts, lut, 65535)
    assert bt[0] == 400 and bt[1] == pytest.approx(150)
    assert np.isnan(bt[2]) and np.isnan(bt[3])
    lut07 = np.linspace(400, 150, 65536, dtype=np.float32)  # C07: the table holds the fill index
    assert np.isnan(counts_to_bt(np.array([65535], np.uint16), lut07, 65535)[0])
    assert np.isnan(counts_to_bt(np.array([5]), lut, 65535, lut_valid_range=(100, 390))[0])


def test_fy4b_groups_channel_shift_and_sub_longitude(tmp_path):
    channels = ["C07", "C08", "C09", "C10", "C11", "C12", "C13", "C14", "C15"]
    bt = _fields(channels, seed=1)
    path = write_agri_l1(tmp_path, bt, START, satellite="FY4B", begin_line=LINE0, begin_column=COL0)
    assert "_1330E_" in path.name
    with h5py.File(path) as f:
        assert "Data/NOMChannel15" in f and "Calibration/CALChannel15" in f
    ds = read_agri_l1(path)
    # the 10.8 µm window is C13 on FY-4B, and 13.3 µm C15 is read instead of 7.42 µm C11
    assert list(ds["ir_channel"].values) == ["C07", "C08", "C09", "C10", "C12", "C13", "C14", "C15"]
    assert float(ds["wavelength"].sel(ir_channel="C13")) == pytest.approx(10.8)
    np.testing.assert_allclose(ds["ir"].sel(ir_channel="C13").values, bt["C13"], atol=0.031)
    compat = read_agri_l1(path, prenet_compat=True)
    assert "C11" in compat["ir_channel"].values and "C15" not in compat["ir_channel"].values
    # sub-satellite longitude comes from the file (133.0), not from a FY-4A constant
    _, expected_lon = line_column_to_latlon(LINE0, COL0, GeosProjection(133.0))
    assert ds["lon"].values[0, 0] == pytest.approx(expected_lon, abs=1e-3)
    assert ds.attrs["sub_satellite_lon"] == pytest.approx(133.0)


def test_place_in_disc(fy4a_file):
    path, _ = fy4a_file
    ds = read_agri_l1(path, channels=["C12"], geolocation=False)
    disc = place_in_disc(ds)
    assert disc["ir"].shape == (1, 2748, 2748)
    block = disc["ir"].values[0, LINE0 : LINE0 + SHAPE[0], COL0 : COL0 + SHAPE[1]]
    np.testing.assert_array_equal(block, ds["ir"].values[0])
    assert np.isnan(disc["ir"].values[0, LINE0 - 1, COL0]) and np.isnan(disc["ir"].values[0, 0, 0])


def test_bad_files_raise_product_error(tmp_path, fy4a_file):
    path, _ = fy4a_file
    truncated = tmp_path / path.name
    truncated.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(ProductError, match="HDF5"):
        read_agri_l1(truncated)
    text = tmp_path / (
        "FY4A-_AGRI--_N_DISK_1047E_L1-_FDI-_MULT_NOM_20210720060000_20210720061459_4000M_V0001.HDF"
    )
    text.write_text("not hdf5")
    with pytest.raises(ProductError, match=text.name):
        open_product(text)
    all_fill = write_agri_l1(
        tmp_path / "fill",
        {"C12": np.full(SHAPE, np.nan)},
        START,
        begin_line=LINE0,
        begin_column=COL0,
    )
    with pytest.raises(ProductError, match="fill"):
        read_agri_l1(all_fill, channels=["C12"])
    with h5py.File(all_fill, "a") as f:
        f.attrs["End Line Number"] = np.array([LINE0 + 40], dtype=np.int32)
    with pytest.raises(ProductError, match="line/pixel numbers"):
        read_agri_l1(all_fill, channels=["C13"])


@pytest.mark.parametrize("satellite", ["FY4A", "FY4B"])
def test_agrees_with_satpy(tmp_path, satellite):
    satpy = pytest.importorskip("satpy")
    channels = [f"C{i:02d}" for i in range(7, 15 if satellite == "FY4A" else 16)]
    bt = _fields(channels, seed=2)
    bt[channels[4]][3, 4] = np.nan
    path = write_agri_l1(
        tmp_path, bt, START, satellite=satellite, begin_line=LINE0, begin_column=COL0
    )
    ours = read_agri_l1(path, channels=channels)
    reader = "agri_fy4a_l1" if satellite == "FY4A" else "agri_fy4b_l1"
    scene = satpy.Scene([str(path)], reader=reader)
    scene.load(channels)
    for name in channels:
        theirs = scene[name]
        np.testing.assert_allclose(
            ours["ir"].sel(ir_channel=name).values,
            theirs.values,
            rtol=0,
            atol=1e-4,
            equal_nan=True,
        )
    lons, lats = scene[channels[0]].attrs["area"].get_lonlats()
    np.testing.assert_allclose(ours["lat"].values, lats, atol=1e-4)
    np.testing.assert_allclose(ours["lon"].values, lons, atol=1e-4)

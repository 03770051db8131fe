"""1C-GMI, 2A-DPR and 2B-CMB readers on files in the exact PPS layouts (distinct dim sizes)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from prelib.conventions import GMI_CHANNELS
from prelib.readers import ProductError, open_product
from prelib.readers.cmb import read_cmb_2b
from prelib.readers.dpr import read_dpr_2a
from prelib.readers.gmi import read_gmi_1c
from prelib.writers.gpm import write_cmb_2b, write_dpr_2a, write_gmi_1c

N_SCAN, N_PIX = 12, 7  # distinct, so a transposed read fails loudly


def _swath(n_scan=N_SCAN, n_pix=N_PIX):
    scan = np.arange(n_scan)[:, None]
    pix = np.arange(n_pix)[None, :]
    lat = 30.0 + 0.05 * scan + 0.001 * pix
    lon = 110.0 + 0.045 * pix + 0.0 * scan
    # the granule crosses midnight; scans 1.875 s apart with milliseconds
    times = np.datetime64("2021-07-20T23:59:55.250") + np.arange(n_scan) * np.timedelta64(
        1875, "ms"
    )
    return lat, lon, times


def test_gmi_values_channels_times_and_fill(tmp_path):
    lat, lon, times = _swath()
    tc = 150.0 + np.arange(N_SCAN * N_PIX * 13, dtype=float).reshape(N_SCAN, N_PIX, 13) % 140
    tc[2, 3, 5] = np.nan
    lat_missing = lat.copy()
    lat_missing[4] = np.nan  # a missing scan row
    path = write_gmi_1c(tmp_path, lat_missing, lon, tc, times)
    assert path.name == "1C.GPM.GMI.XCAL2016-C.20210720-S235955-E000015.000001.V07A.HDF5"
    ds = open_product(path)
    assert ds["pmw"].dims == ("scan", "pixel", "pmw_channel")
    assert ds["pmw"].shape == (N_SCAN, N_PIX, 13)
    assert list(ds["pmw_channel"].values) == list(GMI_CHANNELS)
    ok = np.isfinite(lat_missing)
    np.testing.assert_allclose(ds["pmw"].values[ok], tc[ok], atol=1e-4, equal_nan=True)
    assert np.isnan(ds["pmw"].values[2, 3, 5]) and np.isnan(ds["lat"].values[4]).all()
    assert ds["time"].values[1] == np.datetime64("2021-07-20T23:59:57.125", "ns")
    assert ds["time"].values[-1] > np.datetime64("2021-07-21T00:00:00", "ns")
    assert ds["pmw"].attrs["units"] == "K"


def test_gmi_s2_is_collocated_to_s1_by_nearest_neighbour(tmp_path):
    lat, lon, times = _swath()
    tc = np.tile(np.arange(N_SCAN, dtype=float)[:, None, None] + 200.0, (1, N_PIX, 13))
    # S2 footprints one scan row (0.05°) north of S1: S1 row i sees S2 row i-1
    path = write_gmi_1c(tmp_path, lat, lon, tc, times, s2_shift_deg=0.05)
    ds = read_gmi_1c(path)
    np.testing.assert_allclose(ds["pmw"].values[1:, :, 9:], tc[:-1, :, 9:])
    np.testing.assert_allclose(ds["pmw"].values[:, :, :9], tc[:, :, :9])
    # S2 offset by half a row (≈ 2.8 km): found within 15 km, not within 1 km
    offset = write_gmi_1c(tmp_path / "half", lat, lon, tc, times, s2_shift_deg=0.025)
    assert np.isfinite(read_gmi_1c(offset)["pmw"].values[1:, :, 9:]).all()
    assert np.isnan(read_gmi_1c(offset, radius_m=1000.0)["pmw"].values[:, :, 9:]).all()


def test_gmi_missing_group_and_bad_channel_count(tmp_path):
    lat, lon, times = _swath()
    path = write_gmi_1c(tmp_path, lat, lon, np.full((N_SCAN, N_PIX, 13), 250.0), times)
    with h5py.File(path, "a") as f:
        del f["S2"]
    with pytest.raises(ProductError, match="S2"):
        read_gmi_1c(path)


@pytest.mark.parametrize("version", ["V07A", "V06A"])
def test_dpr_profile_clutter_bottom_and_rain(tmp_path, version):
    n_ray = 5
    lat, lon, times = _swath(N_SCAN, n_ray)
    z = np.full((N_SCAN, n_ray, 176), np.nan, dtype=np.float32)
    z[:, :, 120:176] = np.linspace(20, 45, 56, dtype=np.float32)
    cfb = np.full((N_SCAN, n_ray), 168)
    cfb[0, 0] = 160
    rain = np.arange(N_SCAN * n_ray, dtype=float).reshape(N_SCAN, n_ray) / 10
    rain[1, 1] = np.nan
    path = write_dpr_2a(
        tmp_path,
        lat,
        lon,
        z,
        times,
        clutter_free_bottom=cfb,
        precip_near_surface=rain,
        version=version,
    )
    ds = open_product(path)
    expected_mode = "FS" if version == "V07A" else "NS"
    assert ds.attrs["scan_mode"] == expected_mode and ds.attrs["band"] == "Ku"
    assert ds["reflectivity"].dims == ("scan", "ray", "bin")
    assert ds["reflectivity"].shape == (N_SCAN, n_ray, 176)
    # 0-based clutter-free bottom; bins beyond it masked, no −28888/−9999.9 left
    assert ds["clutter_free_bottom"].values[0, 0] == 159
    assert ds["clutter_free_bottom"].values[1, 1] == 167
    profile = ds["reflectivity"].values[1, 1]
    np.testing.assert_allclose(profile[120:168], z[1, 1, 120:168])
    assert np.isnan(profile[:120]).all() and np.isnan(profile[168:]).all()
    assert np.isnan(ds["reflectivity"].values[0, 0, 160:]).all()
    assert np.nanmin(ds["reflectivity_corrected"].values) >= 20 - 1e-4
    assert "reflectivity_corrected" not in read_dpr_2a(path, corrected=False)
    unmasked = read_dpr_2a(path, mask_clutter=False)
    assert np.isfinite(unmasked["reflectivity_corrected"].values[1, 1, 170])
    assert np.isnan(unmasked["reflectivity"].values[1, 1, 170])  # −28888 flag below clutter
    np.testing.assert_allclose(ds["precip_near_surface"].values, rain, equal_nan=True)
    assert ds["precip_near_surface"].attrs["units"] == "mm h-1"


def test_dpr_ka_band_of_v07_fs_is_fill_on_outer_rays(tmp_path):
    lat, lon, times = _swath(N_SCAN, 5)
    z = np.full((N_SCAN, 5, 176), 30.0, dtype=np.float32)
    path = write_dpr_2a(tmp_path, lat, lon, z, times)
    ka = read_dpr_2a(path, band="Ka", mask_clutter=False)
    assert ka.attrs["band"] == "Ka" and np.isnan(ka["reflectivity"].values).all()


def test_dpr_unknown_version_missing_mode_and_all_fill(tmp_path):
    lat, lon, times = _swath(N_SCAN, 5)
    z = np.full((N_SCAN, 5, 176), 30.0, dtype=np.float32)
    path = write_dpr_2a(tmp_path, lat, lon, z, times, version="V08A")
    with pytest.raises(ProductError, match=r"unknown product version 'V08A'.*allow_version"):
        read_dpr_2a(path)
    good = write_dpr_2a(tmp_path / "v7", lat, lon, z, times)
    with pytest.raises(ProductError, match="scan mode 'HS'"):
        read_dpr_2a(good, scan_mode="HS")
    empty = write_dpr_2a(tmp_path / "fill", np.full_like(lat, np.nan), lon, z, times)
    with pytest.raises(ProductError, match="empty granule"):
        read_dpr_2a(empty)


def test_dpr_v05_is_read_with_the_v06_layout(tmp_path):
    """A V05 granule (the V06 ``NS`` layout) reads exactly like the same data written as V06."""
    lat, lon, times = _swath(N_SCAN, 5)
    rng = np.random.default_rng(5)
    z = rng.uniform(10, 45, (N_SCAN, 5, 176)).astype(np.float32)
    rain = rng.gamma(0.5, 2.0, (N_SCAN, 5)).astype(np.float32)
    v05 = write_dpr_2a(
        tmp_path / "v5", lat, lon, z, times, precip_near_surface=rain, version="V05A"
    )
    v06 = write_dpr_2a(
        tmp_path / "v6", lat, lon, z, times, precip_near_surface=rain, version="V06A"
    )
    old, new = open_product(v05), read_dpr_2a(v06)
    assert old.attrs["scan_mode"] == "NS" and old.attrs["ProductVersion"] == "V05A"
    for name in ("reflectivity", "reflectivity_corrected", "precip_near_surface"):
        np.testing.assert_array_equal(old[name].values, new[name].values)
    # a V05 file without the V06 groups is refused, not misread
    with h5py.File(v05, "a") as handle:
        handle.move("NS", "XS")
    with pytest.raises(ProductError, match="V05 is read as V06 only when"):
        read_dpr_2a(v05)


def test_allow_version_reads_an_unknown_version_with_a_warning(tmp_path):
    lat, lon, times = _swath(N_SCAN, 5)
    z = np.full((N_SCAN, 5, 176), 30.0, dtype=np.float32)
    path = write_dpr_2a(tmp_path, lat, lon, z, times, version="V08A")
    with pytest.warns(UserWarning, match="'V08A' is not one this reader knows.*NS|V06"):
        ds = read_dpr_2a(path, allow_version="V08")
    assert ds.attrs["scan_mode"] == "NS" and np.isfinite(ds["reflectivity"].values).any()
    with pytest.raises(ProductError, match="unknown product version"):
        read_dpr_2a(path, allow_version="V09")


@pytest.mark.parametrize(
    ("version", "mode", "source"),
    [
        ("V07A", "KuGMI", "nearSurfPrecipTotRate"),
        ("V06A", "NS", "surfPrecipTotRate"),
    ],
)
def test_cmb_surface_rate_names_differ_by_version(tmp_path, version, mode, source):
    n_ray = 6
    lat, lon, times = _swath(N_SCAN, n_ray)
    rate = np.linspace(0, 12, N_SCAN * n_ray).reshape(N_SCAN, n_ray)
    rate[3, 2] = np.nan
    path = write_cmb_2b(tmp_path, lat, lon, rate, times, version=version)
    ds = read_cmb_2b(path)
    assert ds.attrs["scan_mode"] == mode
    assert source in ds["precip_surface"].attrs["long_name"]
    np.testing.assert_allclose(ds["precip_surface"].values, rate, rtol=1e-6, equal_nan=True)
    assert ("precip_estimated_surface" in ds) == (version == "V07A")
    with h5py.File(path) as f:
        assert ("surfPrecipTotRate" in f[mode]) == (version == "V06A")

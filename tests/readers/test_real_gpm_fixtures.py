"""The real GPM V07 / IMERG V06-V07 granules (cut to ~10 x 10) open with the right names,
fill masking and times. Skipped when ../shared/data is absent."""

from __future__ import annotations

import numpy as np
import pytest

from prelib.readers import ProductError, identify_product, open_product
from prelib.readers.cmb import read_cmb_2b
from prelib.readers.dpr import read_dpr_2a

pytestmark = pytest.mark.shared


def _one(root, folder):
    files = sorted((root / "gpm_v07_fixtures" / folder).glob("*.HDF5"))
    if not files:
        pytest.skip(f"no {folder} fixture")
    return files[0]


def test_gmi_1c_real(shared_data):
    ds = open_product(_one(shared_data, "1C-GMI"))
    assert ds["pmw"].shape == (10, 10, 13)
    assert ds.attrs["ProductVersion"] == "V07A" and ds.attrs["GranuleNumber"] == "000079"
    # first scans verified in data_formats.md §2.3: 17:59:33.519, then +1.875 s
    assert ds["time"].values[0] == np.datetime64("2014-03-04T17:59:33.519", "ns")
    assert ds["time"].values[1] - ds["time"].values[0] == np.timedelta64(1875, "ms")
    assert np.isfinite(ds["lat"].values).all() and ds["lat"].values.min() < -60
    assert np.isnan(ds["pmw"].values).all()  # the cut granule's Tc are all −9999.9: masked
    assert ds.attrs["all_fill"] == 1  # and said so (a warning too)


def test_dpr_2a_real_fs_and_hs(shared_data):
    path = _one(shared_data, "2A-DPR")
    ds = read_dpr_2a(path)
    assert ds.attrs["scan_mode"] == "FS" and ds["reflectivity"].shape == (10, 10, 176)
    finite = ds["reflectivity"].values[np.isfinite(ds["reflectivity"].values)]
    assert finite.size > 0 and finite.min() > -80  # −28888 and −9999.9 masked
    cfb = ds["clutter_free_bottom"].values
    assert 150 <= np.nanmin(cfb) and np.nanmax(cfb) <= 175  # 1-based 158-162 in the file
    assert 172 <= np.nanmin(ds["real_surface_bin"].values) <= 175
    assert np.nanmax(ds["precip_near_surface"].values) >= 0
    assert ds["time"].values[0].astype("datetime64[D]") == np.datetime64("2014-03-08")
    dt = np.diff(ds["time"].values).astype("timedelta64[ms]").astype(float)
    assert np.allclose(dt, 700, atol=20)  # DPR scans 0.7 s apart (data_formats.md §3.2)
    hs = read_dpr_2a(path, scan_mode="HS")
    assert hs["reflectivity"].shape == (10, 10, 88) and hs.attrs["band"] == "Ka"


def test_dpr_single_band_and_all_fill_real(shared_data):
    ku = open_product(_one(shared_data, "2A-Ku"))
    assert ku.attrs["band"] == "Ku" and ku["reflectivity"].shape == (10, 10, 176)
    # the cut 2A-Ka granule sits on outer rays where Ka had no data before 2018: all fill
    with pytest.raises(ProductError, match="empty granule"):
        open_product(_one(shared_data, "2A-Ka"))


def test_cmb_real_v07_names(shared_data):
    path = _one(shared_data, "2B-GPM-CORRA")
    ds = read_cmb_2b(path)
    assert ds.attrs["scan_mode"] == "KuGMI"
    assert "nearSurfPrecipTotRate" in ds["precip_surface"].attrs["long_name"]
    assert "precip_estimated_surface" in ds
    with pytest.raises(ProductError, match="empty granule"):
        read_cmb_2b(path, scan_mode="KuKaGMI")


@pytest.mark.parametrize(
    ("version", "variable"), [("V06B", "precipitationCal"), ("V07A", "precipitation")]
)
def test_imerg_real(shared_data, version, variable):
    files = sorted((shared_data / "gpm_v07_fixtures" / "IMERG-FR").glob(f"*.{version}.HDF5"))
    if not files:
        pytest.skip(f"no IMERG {version} fixture")
    ds = open_product(files[0])
    assert ds.attrs["variable"] == variable
    assert ds["precip"].dims == ("lat", "lon") and ds["precip"].shape == (10, 10)
    assert np.all(np.diff(ds["lat"].values) < 0) and np.all(np.diff(ds["lon"].values) > 0)
    # time from the Julian-tagged epoch seconds = the name's start, labelled by the end
    assert ds["time_start"].values == identify_product(files[0]).start
    assert ds["time"].values == np.datetime64("2000-06-01T00:30", "ns")
    values = ds["precip"].values
    assert not (values < 0).any()  # −9999.9 masked

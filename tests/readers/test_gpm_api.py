"""gpm-api datasets (``gpm.open_granule_dataset``) converted into prelib's swath schema.

Granules are written in the exact PPS layouts; :func:`_open_like_gpm_api` opens one scan mode
the way gpm-api does (its documented conventions: dims renamed from ``DimensionNames`` to
``cross_track``/``along_track``/``range``/``radar_frequency``/``pmw_frequency`` and put
cross-track first, group prefixes dropped, fill → NaN, reflectivity flags < −80 dBZ → NaN,
range-bin numbers kept 1-based with non-positive → NaN, scan times to the second, frequency
labels). Each converter must then give exactly what prelib's own reader gives for the file.
With gpm-api installed and the real V07 fixtures present, the last test uses gpm-api itself.
"""

from __future__ import annotations

import warnings

import h5py
import numpy as np
import pytest
import xarray as xr

from prelib.errors import InvalidDataError
from prelib.readers.cmb import read_cmb_2b
from prelib.readers.dpr import read_dpr_2a
from prelib.readers.gmi import read_gmi_1c
from prelib.readers.gpm_api import cmb_from_gpm_api, dpr_from_gpm_api, gmi_from_gpm_api
from prelib.writers.gpm import write_cmb_2b, write_dpr_2a, write_gmi_1c

N_SCAN, N_RAY = 12, 7
GPM_API_DIMS = {
    "nscan": "along_track",
    "nray": "cross_track",
    "npixel": "cross_track",
    "nbin": "range",
    "nfreq": "radar_frequency",
    "nKuKa": "radar_frequency",
    **{f"nscan{k}": "along_track" for k in (1, 2)},
    **{f"npixel{k}": "cross_track" for k in (1, 2)},
    **{f"nchannel{k}": "pmw_frequency" for k in (1, 2)},
}
GMI_API_LABELS = {
    "S1": ["10V", "10H", "19V", "19H", "23V", "37V", "37H", "89V", "89H"],
    "S2": ["165V", "165H", "183V3", "183V7"],
}
BIN_VARIABLES = ("binClutterFreeBottom", "binRealSurface")


def _open_like_gpm_api(path, mode: str, product: str) -> xr.Dataset:
    """One scan mode of a granule in gpm-api's conventions (see the module docstring)."""
    data_vars = {}
    with h5py.File(path) as f:
        group = f[mode]

        def visit(name, obj):
            if (
                not isinstance(obj, h5py.Dataset)
                or "ScanTime" in name
                or "DimensionNames" not in obj.attrs
            ):
                return
            dims = [GPM_API_DIMS.get(d, d) for d in obj.attrs["DimensionNames"].decode().split(",")]
            values = obj[()].astype(np.float32)
            fill = obj.attrs.get("_FillValue")
            if fill is not None:
                values[values == np.float32(fill)] = np.nan
            data_vars[name.split("/")[-1]] = (
                dims,
                values,
                {"units": obj.attrs.get("units", b"").decode()},
            )

        group.visititems(visit)
        fields = ("Year", "Month", "DayOfMonth", "Hour", "Minute", "Second")
        parts = [group["ScanTime"][k][()] for k in fields]
    stamps = [
        f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}" for y, mo, d, h, mi, s in zip(*parts)
    ]
    times = np.array(stamps, dtype="datetime64[ns]")
    lat, lon = data_vars.pop("Latitude")[1], data_vars.pop("Longitude")[1]
    ds = xr.Dataset(data_vars)
    ds = ds.assign_coords(
        lat=(("along_track", "cross_track"), lat),
        lon=(("along_track", "cross_track"), lon),
        time=("along_track", times),
    )
    if "zFactorMeasured" in ds:
        ds["zFactorMeasured"] = ds["zFactorMeasured"].where(ds["zFactorMeasured"] >= -80)
    for name in BIN_VARIABLES:
        if name in ds:
            ds[name] = ds[name].where(ds[name] > 0)
    if "range" in ds.dims:
        ds = ds.assign_coords(range=np.arange(1, ds.sizes["range"] + 1))
    if "radar_frequency" in ds.dims:
        ds = ds.assign_coords(radar_frequency=["Ku", "Ka"])
    if "pmw_frequency" in ds.dims:
        ds = ds.assign_coords(pmw_frequency=GMI_API_LABELS[mode])
    ds = ds.transpose("cross_track", "along_track", ...)
    version = path.name.split(".")[-2]
    ds.attrs.update(
        {
            "gpm_api_product": product,
            "ScanMode": mode,
            "FileName": path.name,
            "ProductVersion": version,
        }
    )
    return ds


def _swath(n_scan=N_SCAN, n_ray=N_RAY):
    scan, ray = np.arange(n_scan)[:, None], np.arange(n_ray)[None, :]
    lat = 30.0 + 0.05 * scan + 0.001 * ray
    lon = 110.0 + 0.045 * ray + 0.0 * scan
    times = np.datetime64("2021-07-20T23:59:55.250") + np.arange(n_scan) * np.timedelta64(
        1875, "ms"
    )
    return lat, lon, times


def _assert_same(converted: xr.Dataset, ours: xr.Dataset) -> None:
    assert set(converted.data_vars) == set(ours.data_vars)
    for name in ours.data_vars:
        assert converted[name].dims == ours[name].dims, name
        np.testing.assert_array_equal(converted[name].values, ours[name].values, err_msg=name)
        assert converted[name].attrs["units"] == ours[name].attrs["units"]
    for name in ("lat", "lon"):
        np.testing.assert_array_equal(converted[name].values, ours[name].values)
    # gpm-api's scan times have no milliseconds
    lag = ours["time"].values - converted["time"].values
    assert (lag >= np.timedelta64(0)).all() and (lag < np.timedelta64(1, "s")).all()
    for key in ("product", "scan_mode", "band", "version", "bin_spacing_m", "clutter_masked"):
        if key in ours.attrs:
            assert converted.attrs[key] == ours.attrs[key], key


def _dpr_file(tmp_path, version):
    lat, lon, times = _swath()
    z = np.full((N_SCAN, N_RAY, 176), np.nan, dtype=np.float32)
    z[:, :, 120:176] = np.linspace(20, 45, 56, dtype=np.float32)
    cfb = np.full((N_SCAN, N_RAY), 168)
    cfb[0, 0] = 160
    rain = np.arange(N_SCAN * N_RAY, dtype=float).reshape(N_SCAN, N_RAY) / 10
    rain[1, 1] = np.nan
    return write_dpr_2a(
        tmp_path,
        lat,
        lon,
        z,
        times,
        clutter_free_bottom=cfb,
        precip_near_surface=rain,
        version=version,
    )


@pytest.mark.parametrize(("version", "mode"), [("V07A", "FS"), ("V06A", "NS")])
@pytest.mark.parametrize("mask_clutter", [True, False])
def test_dpr_equals_prelib_reader(tmp_path, version, mode, mask_clutter):
    path = _dpr_file(tmp_path, version)
    theirs = _open_like_gpm_api(path, mode, "2A-DPR")
    converted = dpr_from_gpm_api(theirs, mask_clutter=mask_clutter)
    ours = read_dpr_2a(path, mask_clutter=mask_clutter)
    _assert_same(converted, ours)
    assert converted["clutter_free_bottom"].values[0, 0] == 159  # 1-based 160 → 0-based
    assert converted["reflectivity"].dims == ("scan", "ray", "bin")


def test_dpr_band_is_picked_by_label_or_file_order(tmp_path):
    path = _dpr_file(tmp_path, "V07A")
    theirs = _open_like_gpm_api(path, "FS", "2A-DPR")
    ka = dpr_from_gpm_api(theirs, band="Ka", mask_clutter=False)
    _assert_same(ka, read_dpr_2a(path, band="Ka", mask_clutter=False))
    # labels in the other order: still Ku by label
    swapped = theirs.isel(radar_frequency=[1, 0])
    ku = dpr_from_gpm_api(swapped)
    np.testing.assert_array_equal(
        ku["reflectivity"].values, read_dpr_2a(path)["reflectivity"].values
    )
    unlabelled = theirs.drop_vars("radar_frequency")
    _assert_same(dpr_from_gpm_api(unlabelled), read_dpr_2a(path))


def test_dpr_refuses_missing_variables_and_a_cut_range(tmp_path):
    theirs = _open_like_gpm_api(_dpr_file(tmp_path, "V07A"), "FS", "2A-DPR")
    with pytest.raises(InvalidDataError, match=r"\['binClutterFreeBottom'\] missing"):
        dpr_from_gpm_api(theirs.drop_vars("binClutterFreeBottom"))
    with pytest.raises(InvalidDataError, match="range axis is cut"):
        dpr_from_gpm_api(theirs.isel(range=slice(100, None)))
    with pytest.raises(ValueError, match="band"):
        dpr_from_gpm_api(theirs, band="W")


def test_gmi_equals_prelib_reader_with_s2_collocated(tmp_path):
    lat, lon, times = _swath()
    tc = 150.0 + np.arange(N_SCAN * N_RAY * 13, dtype=float).reshape(N_SCAN, N_RAY, 13) % 140
    tc[2, 3, 5] = np.nan
    path = write_gmi_1c(tmp_path, lat, lon, tc, times, s2_shift_deg=0.05)
    s1 = _open_like_gpm_api(path, "S1", "1C-GMI")
    s2 = _open_like_gpm_api(path, "S2", "1C-GMI")
    ours = read_gmi_1c(path)
    _assert_same(gmi_from_gpm_api(s1, s2), ours)
    # channels in another order are put back in GMI order by their labels
    _assert_same(gmi_from_gpm_api(s1.isel(pmw_frequency=[8, 0, 1, 2, 3, 4, 5, 6, 7]), s2), ours)
    alone = gmi_from_gpm_api(s1)
    np.testing.assert_array_equal(alone["pmw"].values[..., :9], ours["pmw"].values[..., :9])
    assert np.isnan(alone["pmw"].values[..., 9:]).all()
    with pytest.raises(InvalidDataError, match="not GMI's"):
        gmi_from_gpm_api(s2)  # S2 given where S1 belongs


@pytest.mark.parametrize(("version", "mode"), [("V07A", "KuGMI"), ("V06A", "NS")])
def test_cmb_equals_prelib_reader(tmp_path, version, mode):
    lat, lon, times = _swath()
    rain = np.linspace(0.0, 20.0, N_SCAN * N_RAY).reshape(N_SCAN, N_RAY)
    rain[3, 3] = np.nan
    path = write_cmb_2b(tmp_path, lat, lon, rain, times, version=version)
    converted = cmb_from_gpm_api(_open_like_gpm_api(path, mode, "2B-GPM-CORRA"))
    _assert_same(converted, read_cmb_2b(path, scan_mode=mode))


@pytest.mark.shared
def test_real_v07_granules_opened_by_gpm_api(shared_data):
    gpm = pytest.importorskip("gpm")
    if not hasattr(gpm, "open_granule_dataset"):
        pytest.skip("the 'gpm' module here is not gpm-api (pip install gpm-api)")
    root = shared_data / "gpm_v07_fixtures"
    dpr = next((root / "2A-DPR").glob("*.HDF5"))
    gmi = next((root / "1C-GMI").glob("*.HDF5"))
    cmb = next((root / "2B-GPM-CORRA").glob("*.HDF5"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gpm-api's own warnings about the cut granules
        opened = {
            "dpr": gpm.open_granule_dataset(str(dpr), scan_mode="FS"),
            "s1": gpm.open_granule_dataset(str(gmi), scan_mode="S1"),
            "s2": gpm.open_granule_dataset(str(gmi), scan_mode="S2"),
            "cmb": gpm.open_granule_dataset(str(cmb), scan_mode="KuGMI"),
        }
        ours_gmi = read_gmi_1c(gmi)
    for band in ("Ku", "Ka"):
        _assert_same(dpr_from_gpm_api(opened["dpr"], band=band), read_dpr_2a(dpr, band=band))
    _assert_same(gmi_from_gpm_api(opened["s1"], opened["s2"]), ours_gmi)
    _assert_same(cmb_from_gpm_api(opened["cmb"]), read_cmb_2b(cmb))
    assert np.isfinite(read_dpr_2a(dpr)["reflectivity"].values).sum() > 1000  # real echoes

"""File-name recognition and the open_product dispatcher."""

from __future__ import annotations

import numpy as np
import pytest

from prelib.readers import PRODUCTS, ProductError, identify_product, open_product

NAMES = {
    "FY4A-_AGRI--_N_DISK_1047E_L1-_FDI-_MULT_NOM_20221031060000_20221031061459_4000M_V0001.HDF": (
        "agri_l1",
        "2022-10-31T06:00:00",
        "2022-10-31T06:14:59",
    ),
    "1C.GPM.GMI.XCAL2016-C.20140304-S175932-E193159.000079.V07A.HDF5": (
        "gmi_1c",
        "2014-03-04T17:59:32",
        "2014-03-04T19:31:59",
    ),
    "2A.GPM.DPR.V8-20180723.20140308-S220950-E234217.000144.V06A.HDF5": (
        "dpr_2a",
        "2014-03-08T22:09:50",
        "2014-03-08T23:42:17",
    ),
    "2A.GPM.Ku.V9-20211125.20140308-S235000-E012217.000144.V07A.HDF5": (
        "dpr_2a",
        "2014-03-08T23:50:00",
        "2014-03-09T01:22:17",
    ),
    "2B.GPM.DPRGMI.CORRA2022.20140308-S220950-E234217.000144.V07A.HDF5": (
        "cmb_2b",
        "2014-03-08T22:09:50",
        "2014-03-08T23:42:17",
    ),
    "3B-HHR-E.MS.MRG.3IMERG.20230101-S003000-E005959.0030.V07B.RT-H5": (
        "imerg",
        "2023-01-01T00:30:00",
        "2023-01-01T00:59:59",
    ),
    "3B-HHR.MS.MRG.3IMERG.20230101-S003000-E005959.0030.V07B.HDF5.nc4": (
        "imerg",
        "2023-01-01T00:30:00",
        "2023-01-01T00:59:59",
    ),
    "Z_NAFP_C_BABJ_20210721084125_P_CLDAS_RT_ASI_0P0625_HOR-PRE-2021072108.nc": (
        "cldas",
        "2021-07-21T07:00",
        "2021-07-21T08:00",
    ),
    "rgccs1h2303100.bin.gz": ("persiann_ccs", "2023-01-31T00:00", "2023-01-31T01:00"),
    "pdirnow1h23010100.bin.gz": ("pdir_now", "2023-01-01T00:00", "2023-01-01T01:00"),
}


@pytest.mark.parametrize("name", sorted(NAMES))
def test_identify_product(name):
    product, start, end = NAMES[name]
    named = identify_product(f"/some/dir/{name}")
    assert named.product == product
    assert named.start == np.datetime64(start, "ns")
    assert named.end == np.datetime64(end, "ns")  # crossing midnight adds a day


def test_every_family_is_covered():
    assert {v[0] for v in NAMES.values()} == set(PRODUCTS)


def test_unknown_names_and_products(tmp_path):
    with pytest.raises(ProductError, match="matches no known product"):
        identify_product("notes.txt")
    with pytest.raises(ProductError, match="impossible date"):
        identify_product("pdirnow1h23133100.bin.gz")
    path = tmp_path / "x.nc"
    path.write_text("x")
    with pytest.raises(ProductError, match="unknown product 'radar'"):
        open_product(path, product="radar")
    with pytest.raises(ProductError, match="does not exist"):
        open_product(tmp_path / "2A.GPM.DPR.V9-20211125.20140308-S220950-E234217.000144.V07A.HDF5")


@pytest.mark.parametrize(
    ("name", "product", "subset", "version"),
    [
        (
            "2A-CS-CONUS.GPM.DPR.V8-20180723.20180416-S001234-E002112.023465.V06A.HDF5",
            "dpr_2a",
            "CONUS",
            "V06A",
        ),
        (
            "2A-CS-151E24S154E30S.GPM.Ku.V7-20170308.20141206-S095002-E095137.004383.V05A.HDF5",
            "dpr_2a",
            "151E24S154E30S",
            "V05A",
        ),
        (
            "2A-CS-KWAJ.GPM.Ka.V9-20211125.20150311-S162503-E162626.005866.V07A.HDF5",
            "dpr_2a",
            "KWAJ",
            "V07A",
        ),
        (
            "2B-CS-CONUS.GPM.DPRGMI.CORRA2022.20150311-S162503-E162626.005866.V07A.HDF5",
            "cmb_2b",
            "CONUS",
            "V07A",
        ),
        (
            "1C-R-CS-KWAJ.GPM.GMI.XCAL2016-C.20150311-S162503-E162626.005866.V07A.HDF5",
            "gmi_1c",
            "KWAJ",
            "V07A",
        ),
    ],
)
def test_pps_coincidence_subset_names(name, product, subset, version):
    parsed = identify_product(name)
    assert (parsed.product, parsed.fields["subset"], parsed.version) == (product, subset, version)
    assert parsed.start.astype("datetime64[D]") == parsed.end.astype("datetime64[D]")


def test_subset_name_times():
    parsed = identify_product(
        "2A-CS-CONUS.GPM.DPR.V8-20180723.20180416-S001234-E002112.023465.V06A.HDF5"
    )
    assert parsed.start == np.datetime64("2018-04-16T00:12:34", "ns")
    assert parsed.end == np.datetime64("2018-04-16T00:21:12", "ns")

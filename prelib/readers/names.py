"""Recognise a product from its file name (data_formats.md §1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1).

GPM PPS coincidence-subset files carry a ``-CS-<box>`` suffix on the level
(``2A-CS-CONUS.GPM.DPR.V8-20180723.….V06A.HDF5``, ``2A-CS-151E24S154E30S.GPM.Ku.….V05A.HDF5``,
``1C-R-CS-KWAJ.GPM.GMI.…``, ``2B-CS-CONUS.GPM.DPRGMI.…``): they have the full granule layout cut to
a box, and the box name is returned in ``fields["subset"]``.

:func:`identify_product` returns a :class:`ProductName` with the product family, the version and
the nominal start/end times encoded in the name. The readers also read times from inside the
file; the name is what lets a builder index thousands of files without opening them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from pathlib import Path

import numpy as np

from prelib.readers.errors import ProductError

PRODUCTS: tuple[str, ...] = (
    "agri_l1",
    "gmi_1c",
    "dpr_2a",
    "cmb_2b",
    "imerg",
    "cldas",
    "persiann_ccs",
    "pdir_now",
)
"""Product families :func:`prelib.readers.open_product` can read."""

_PATTERNS: dict[str, re.Pattern[str]] = {
    "agri_l1": re.compile(
        r"^(?P<sat>FY4[ABC])-_AGRI--_N_(?P<obs>DISK|REGC|REGX)_(?P<sslon>\d{4}[EW])_L1-_"
        r"(?P<prd>FDI)-_MULT_(?P<proj>NOM)_(?P<start>\d{14})_(?P<end>\d{14})_"
        r"(?P<res>0500|1000|2000|4000)M_(?P<ver>V\d{4})\.HDF$"
    ),
    "gmi_1c": re.compile(
        r"^1C(?:-R)?(?:-CS-(?P<subset>[A-Za-z0-9]+))?\.GPM\.GMI\.(?P<alg>XCAL\d{4}-[A-Z])\."
        r"(?P<date>\d{8})-S(?P<start>\d{6})"
        r"-E(?P<end>\d{6})\.(?P<granule>\d{6})\.(?P<ver>V\d{2}[A-Z])\.HDF5$"
    ),
    "dpr_2a": re.compile(
        r"^2A(?:-CS-(?P<subset>[A-Za-z0-9]+))?\.GPM\.(?P<inst>DPR|Ku|Ka)\.(?P<alg>V\d+-\d{8})\."
        r"(?P<date>\d{8})-S(?P<start>\d{6})"
        r"-E(?P<end>\d{6})\.(?P<granule>\d{6})\.(?P<ver>V\d{2}[A-Z])\.HDF5$"
    ),
    "cmb_2b": re.compile(
        r"^2B(?:-CS-(?P<subset>[A-Za-z0-9]+))?\.GPM\.DPRGMI\.CORRA(?P<alg>\d{4})\."
        r"(?P<date>\d{8})-S(?P<start>\d{6})"
        r"-E(?P<end>\d{6})\.(?P<granule>\d{6})\.(?P<ver>V\d{2}[A-Z])\.HDF5$"
    ),
    "imerg": re.compile(
        r"^3B-HHR(?:-(?P<run>[EL]))?\.MS\.MRG\.3IMERG\.(?P<date>\d{8})-S(?P<start>\d{6})"
        r"-E(?P<end>\d{6})\.(?P<minute>\d{4})\.(?P<ver>V\d{2}[A-Z])\.(?:HDF5|RT-H5)(?:\.nc4)?$"
    ),
    "cldas": re.compile(
        r"^Z_NAFP_C_BABJ_(?P<prod>\d{14})_P_CLDAS_(?P<stream>RT|NRT)_ASI_0P0625_HOR-"
        r"(?P<elem>[A-Z0-9]+)-(?P<valid>\d{10})\.nc$"
    ),
    "persiann_ccs": re.compile(r"^rgccs1h(?P<yy>\d{2})(?P<doy>\d{3})(?P<hh>\d{2})\.bin(?:\.gz)?$"),
    "pdir_now": re.compile(
        r"^pdirnow1h(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})(?P<hh>\d{2})\.bin(?:\.gz)?$"
    ),
}


@dataclasses.dataclass(frozen=True)
class ProductName:
    """What a file name says.

    Attributes
    ----------
    product : str
        One of :data:`PRODUCTS`.
    start, end : numpy.datetime64
        Nominal coverage in UTC (``datetime64[ns]``); for hourly products the accumulation hour.
    version : str
        Product version as written in the name (``"V07A"``, ``"V0001"``; ``""`` when none).
    fields : dict
        All named groups of the file-name pattern (satellite, granule number …).
    """

    product: str
    start: np.datetime64
    end: np.datetime64
    version: str
    fields: dict[str, str]


def _ns(value: dt.datetime) -> np.datetime64:
    return np.datetime64(value.replace(tzinfo=None), "ns")


def _swath_times(fields: dict[str, str]) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.strptime(fields["date"] + fields["start"], "%Y%m%d%H%M%S")
    end = dt.datetime.strptime(fields["date"] + fields["end"], "%Y%m%d%H%M%S")
    if end < start:  # the orbit crossed midnight: the name keeps the start date
        end += dt.timedelta(days=1)
    return start, end


def _times(product: str, f: dict[str, str]) -> tuple[dt.datetime, dt.datetime]:
    hour = dt.timedelta(hours=1)
    if product == "agri_l1":
        fmt = "%Y%m%d%H%M%S"
        return dt.datetime.strptime(f["start"], fmt), dt.datetime.strptime(f["end"], fmt)
    if product in ("gmi_1c", "dpr_2a", "cmb_2b", "imerg"):
        return _swath_times(f)
    if product == "cldas":
        # The value at valid hour HH is the accumulation over (HH-1, HH] (data_formats.md §5.1)
        valid = dt.datetime.strptime(f["valid"], "%Y%m%d%H")
        return valid - hour, valid
    if product == "persiann_ccs":
        start = dt.datetime(2000 + int(f["yy"]), 1, 1, int(f["hh"])) + dt.timedelta(
            days=int(f["doy"]) - 1
        )
        return start, start + hour
    start = dt.datetime(2000 + int(f["yy"]), int(f["mm"]), int(f["dd"]), int(f["hh"]))
    return start, start + hour


def identify_product(path: str | os.PathLike) -> ProductName:
    """Recognise the product family of ``path`` from its file name.

    Raises
    ------
    ProductError
        If the name matches none of the known patterns (the message lists the families).
    """
    name = Path(path).name
    for product, pattern in _PATTERNS.items():
        match = pattern.match(name)
        if match:
            fields = {k: v for k, v in match.groupdict().items() if v is not None}
            try:
                start, end = _times(product, fields)
            except ValueError as err:
                raise ProductError(path, f"file name has an impossible date: {err}") from None
            version = fields.get("ver", "")
            return ProductName(product, _ns(start), _ns(end), version, fields)
    raise ProductError(
        path,
        f"file name matches no known product; known families: {list(PRODUCTS)} "
        "(pass product=... to open it anyway)",
    )

"""Readers for the real products behind PRE-Net.

One module per product family — :mod:`~prelib.readers.agri` (FY-4A/4B AGRI L1),
:mod:`~prelib.readers.gmi` (GPM GMI 1C), :mod:`~prelib.readers.dpr` (GPM DPR 2A),
:mod:`~prelib.readers.cmb` (GPM 2B-CMB), :mod:`~prelib.readers.imerg`,
:mod:`~prelib.readers.cldas` (CLDAS-V2.0), :mod:`~prelib.readers.chrs` (PERSIANN-CCS, PDIR-Now) —
each returning an :class:`xarray.Dataset` with CF attributes, fill as NaN and UTC
``datetime64[ns]`` times. :func:`open_product` recognises the family from the file name.
Files in the same layouts are written by :mod:`prelib.writers`; the real-data benchmark
builder (``prelib build swath|fulldisc``) is :mod:`prelib.data.build`. ``catalogs/real.yaml``
points intake at a user's archive (:mod:`~prelib.readers.intake_source`). Data already opened by
other tools converts to the same schemas: a satpy ``Scene`` of AGRI channels
(:mod:`~prelib.readers.satpy_scene`) and gpm-api swath datasets (:mod:`~prelib.readers.gpm_api`).
Format facts (file layouts, variables, scaling) are in each reader module's docstring.
"""

from prelib.readers.dispatch import get_reader, open_product
from prelib.readers.errors import ProductError
from prelib.readers.names import PRODUCTS, ProductName, identify_product

__all__ = [
    "PRODUCTS",
    "ProductError",
    "ProductName",
    "get_reader",
    "identify_product",
    "open_product",
]

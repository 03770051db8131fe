"""``open_product``: one entry point that recognises a product file and calls its reader."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import xarray as xr

from prelib.readers.errors import ProductError
from prelib.readers.names import PRODUCTS, identify_product

READERS: dict[str, tuple[str, str]] = {
    "agri_l1": ("prelib.readers.agri", "read_agri_l1"),
    "gmi_1c": ("prelib.readers.gmi", "read_gmi_1c"),
    "dpr_2a": ("prelib.readers.dpr", "read_dpr_2a"),
    "cmb_2b": ("prelib.readers.cmb", "read_cmb_2b"),
    "imerg": ("prelib.readers.imerg", "read_imerg"),
    "cldas": ("prelib.readers.cldas", "read_cldas"),
    "persiann_ccs": ("prelib.readers.chrs", "read_persiann_ccs"),
    "pdir_now": ("prelib.readers.chrs", "read_pdir_now"),
}
"""Product family → (module, reader function)."""


def get_reader(product: str):
    """The reader function of a product family (see :data:`READERS`)."""
    if product not in READERS:
        raise ValueError(f"unknown product {product!r}; choose one of {list(PRODUCTS)}")
    module, name = READERS[product]
    return getattr(importlib.import_module(module), name)


def open_product(path: str | os.PathLike, product: str | None = None, **kwargs: Any) -> xr.Dataset:
    """Open any supported product file as an :class:`xarray.Dataset`.

    Parameters
    ----------
    path : str or os.PathLike
        A product file under its original name.
    product : str, optional
        Family (one of :data:`prelib.readers.names.PRODUCTS`); default: recognised from the
        file name by :func:`prelib.readers.names.identify_product`.
    **kwargs
        Passed to the reader (e.g. ``channels=`` for AGRI, ``scan_mode=`` for DPR).

    Raises
    ------
    ProductError
        Unrecognised name, or any problem the reader finds in the file.
    """
    path = Path(path)
    if product is None:
        product = identify_product(path).product
    elif product not in READERS:
        raise ProductError(path, f"unknown product {product!r}; choose one of {list(PRODUCTS)}")
    return get_reader(product)(path, **kwargs)

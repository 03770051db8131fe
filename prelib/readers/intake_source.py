"""Intake access to real product files through :func:`open_product`.

:class:`ProductReader` is the intake-2 reader of ``catalogs/real.yaml``: each entry names a
product family, a file pattern and the environment variable holding the user's folder;
``cat.<entry>(<name>_dir="/data/…").read()`` (or the variable) chooses the folder. An unset
folder raises a :class:`ProductError` saying which variable to set. :class:`ProductSource` is
the classic (intake-1 style) source doing the file matching and concatenation, also usable alone.

Used by ``catalogs/real.yaml``: each entry names a product family and a file pattern under a
user directory; ``read()`` returns the prelib reader's :class:`xarray.Dataset`. Several matching
files are concatenated along ``time`` (gridded products and AGRI scans) or ``scan`` (GPM swaths).
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any

import xarray as xr
from intake.readers.readers import BaseReader
from intake.source.base import DataSource, Schema

from prelib.readers.dispatch import open_product
from prelib.readers.errors import ProductError

_SWATH_PRODUCTS = ("gmi_1c", "dpr_2a", "cmb_2b")


class ProductSource(DataSource):
    """Intake source for one product family (``container = "xarray"``).

    Parameters
    ----------
    urlpath : str
        A file or a glob pattern (local paths).
    product : str
        Product family (:data:`prelib.readers.names.PRODUCTS`).
    reader_kwargs : dict, optional
        Passed to the reader (``channels``, ``scan_mode`` …).
    directory, directory_env, directory_parameter : str, optional
        The folder part of ``urlpath`` as the catalog expanded it, the environment variable
        that sets it and the entry parameter that overrides it. An empty folder (the variable
        unset and no parameter given) raises a :class:`ProductError` that says which variable
        to set, instead of searching the filesystem root.
    """

    container = "xarray"
    name = "prelib_product"
    version = "0.1.0"
    partition_access = False

    def __init__(
        self,
        urlpath: str,
        product: str,
        reader_kwargs: dict | None = None,
        metadata: dict | None = None,
        directory: str | None = None,
        directory_env: str | None = None,
        directory_parameter: str | None = None,
    ) -> None:
        self.urlpath = urlpath
        self.product = product
        self.directory = directory
        self.directory_env = directory_env
        self.directory_parameter = directory_parameter
        self.reader_kwargs = dict(reader_kwargs or {})
        self._ds: xr.Dataset | None = None
        super().__init__(metadata=metadata)

    def files(self) -> list[Path]:
        """The files the pattern matches, sorted (names sort by time for every family)."""
        if self.directory is not None and not str(self.directory).strip():
            variable = self.directory_env or "the folder parameter"
            parameter = self.directory_parameter or "the folder parameter"
            raise ProductError(
                self.urlpath,
                f"no {self.product} folder given: set {variable} to your {self.product} folder "
                f"(export {variable}=/path/to/files) or open the entry with "
                f"{parameter}='/path/to/files'",
            )
        matches = sorted(Path(p) for p in glob.glob(str(Path(self.urlpath).expanduser())))
        if not matches:
            raise ProductError(self.urlpath, f"no {self.product} files match this pattern")
        return matches

    def _load(self) -> xr.Dataset:
        if self._ds is None:
            parts = [open_product(p, self.product, **self.reader_kwargs) for p in self.files()]
            if len(parts) == 1:
                self._ds = parts[0]
            else:
                dim = "scan" if self.product in _SWATH_PRODUCTS else "time"
                try:
                    self._ds = xr.concat(
                        parts,
                        dim=dim,
                        coords="different",
                        compat="equals",
                        join="exact",
                        combine_attrs="drop_conflicts",
                    )
                except ValueError as err:
                    raise ProductError(
                        self.urlpath,
                        f"matching files cannot be combined along {dim!r} "
                        f"(different grids or regions?): {err}",
                    ) from None
        return self._ds

    def _get_schema(self) -> Schema:
        ds = self._load()
        return Schema(
            datashape=None,
            dtype=None,
            shape=None,
            npartitions=1,
            extra_metadata={"dims": dict(ds.sizes), "variables": list(ds.data_vars)},
        )

    def read(self) -> xr.Dataset:
        """The dataset (all matching files)."""
        return self._load()

    def to_dask(self) -> xr.Dataset:
        """Same as :meth:`read` (the readers load eagerly; chunk the result if needed)."""
        return self._load()

    def _close(self) -> None:
        self._ds = None

    def describe(self) -> dict[str, Any]:  # pragma: no cover - intake's introspection
        return {"product": self.product, "urlpath": self.urlpath, **super().describe()}


class ProductReader(BaseReader):
    """Intake-2 reader of one product family from a user folder (``catalogs/real.yaml``).

    Keyword arguments (the entry's ``kwargs``; any can be given when calling the entry):
    ``product`` (:data:`prelib.readers.names.PRODUCTS`), ``pattern`` (file-name glob),
    ``directory_env`` (the environment variable with the folder, e.g. ``PRELIB_AGRI_DIR``),
    ``directory_parameter`` (the folder's keyword, e.g. ``agri_dir``; overrides the variable),
    ``reader_kwargs`` (passed to the prelib reader).
    """

    output_instance = "xarray:Dataset"

    def _read(
        self,
        product: str,
        pattern: str,
        directory_env: str,
        directory_parameter: str,
        reader_kwargs: dict | None = None,
        **kwargs: Any,
    ) -> xr.Dataset:
        directory = kwargs.pop(directory_parameter, None) or os.environ.get(directory_env, "")
        if kwargs:
            raise TypeError(
                f"unknown option(s) {sorted(kwargs)} for a {product} entry; use "
                f"{directory_parameter}=, pattern= or reader_kwargs="
            )
        urlpath = str(Path(str(directory)).expanduser() / pattern) if directory else pattern
        source = ProductSource(
            urlpath,
            product,
            reader_kwargs,
            directory=str(directory),
            directory_env=directory_env,
            directory_parameter=directory_parameter,
        )
        return source.read()

"""Low-level HDF5 access shared by the AGRI and GPM readers (h5py).

The real products are plain HDF5 without dimension scales, with fixed-length byte-string
attributes and typed ``_FillValue`` (GPM) or ``FillValue`` (AGRI, no underscore) attributes
(data_formats.md §9). These helpers open a file with a clear error, decode attributes, parse the
GPM "PVL" headers (``Key=Value;`` lines) and read a dataset with its fill value turned into NaN.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from prelib.errors import PrelibError
from prelib.readers.errors import ProductError


@contextlib.contextmanager
def open_hdf5(path: str | os.PathLike) -> Iterator[h5py.File]:
    """Open ``path`` read-only; missing, truncated or non-HDF5 files raise :class:`ProductError`.

    Low-level errors raised while the file is open (a chunk that fails its HDF5 filter, an
    ``IndexError`` on an all-fill field ...) are turned into :class:`ProductError` naming the
    file, with the original error chained.
    """
    path = Path(path)
    if not path.is_file():
        raise ProductError(path, "file does not exist")
    try:
        handle = h5py.File(path, "r")
    except OSError as err:
        raise ProductError(
            path, f"not a readable HDF5 file (truncated or wrong format): {err}"
        ) from None
    try:
        yield handle
    except PrelibError:  # already named and explained
        raise
    except (OSError, IndexError, KeyError, ValueError, TypeError, RuntimeError) as err:
        # a failing HDF5 filter, a corrupt chunk, an all-fill index...: name the file
        raise ProductError(path, f"cannot read the file ({type(err).__name__}: {err})") from err
    finally:
        handle.close()


def decode_attr(value: Any) -> Any:
    """Turn HDF5 attribute values into Python values: bytes → str, 1-element arrays → scalars."""
    if isinstance(value, bytes | np.bytes_):
        return value.decode("ascii", errors="replace").rstrip("\x00").strip()
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "SO" and value.size == 1:
            return decode_attr(value.reshape(-1)[0])
        if value.size == 1:
            return value.reshape(-1)[0].item()
        return value
    if isinstance(value, np.generic):
        return value.item()
    return value


def parse_pvl(text: str) -> dict[str, str]:
    """Parse a GPM "PVL" header (``Key=Value;`` per line) into a dict of strings."""
    out: dict[str, str] = {}
    for line in text.replace("\x00", "").splitlines():
        line = line.strip().rstrip(";")
        if "=" in line:
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out


def require(handle: h5py.File | h5py.Group, key: str, path: str | os.PathLike) -> Any:
    """``handle[key]`` or a :class:`ProductError` naming the missing group or dataset."""
    try:
        return handle[key]
    except KeyError:
        available = sorted(handle.keys()) if isinstance(handle, h5py.Group) else []
        raise ProductError(
            path, f"missing group or dataset {key!r} (found under {handle.name!r}: {available})"
        ) from None


def units_of(dataset: h5py.Dataset) -> str | None:
    """The ``units`` (or ``Units``) attribute of a dataset as a string, or ``None``."""
    for key in ("units", "Units"):
        if key in dataset.attrs:
            return str(decode_attr(dataset.attrs[key]))
    return None


def read_masked(
    dataset: h5py.Dataset, index: Any = (), fill_attr: str = "_FillValue"
) -> np.ndarray:
    """Read ``dataset[index]`` as float32 (float64 stays float64) with fill values set to NaN.

    Parameters
    ----------
    dataset : h5py.Dataset
        Numeric dataset with a typed fill attribute (``_FillValue`` for GPM, ``FillValue`` for
        AGRI).
    index : tuple, optional
        h5py selection (read only what is needed).
    fill_attr : str
        Name of the fill attribute.
    """
    try:
        raw = dataset[index]
    except (OSError, ValueError, RuntimeError) as err:
        raise ProductError(
            dataset.file.filename,
            f"dataset {dataset.name!r} cannot be read (corrupt chunk or failing HDF5 filter?): "
            f"{err}",
        ) from err
    out = raw.astype(np.float64 if raw.dtype == np.float64 else np.float32)
    if fill_attr in dataset.attrs:
        fill = np.asarray(dataset.attrs[fill_attr]).reshape(-1)[0]
        if raw.dtype.kind == "f":
            # float fills such as -9999.9 are stored in float32: compare in the file's dtype
            out[raw == raw.dtype.type(fill)] = np.nan
        else:
            out[raw == fill] = np.nan
    return out

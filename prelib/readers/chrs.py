"""PERSIANN-CCS and PDIR-Now hourly binaries (UC Irvine CHRS) reader.

Layout (data_formats.md §7): gzip of a headerless 3000 × 9000 int16 array, row 0 = 59.98°N,
column 0 = 0.02°E, 0.04° cells, value / 100 = mm in the hour, negative = missing. Byte order:
PERSIANN-CCS big-endian; PDIR-Now big-endian before 2020-12-01 and little-endian since (CHRS
readme). The date rule is checked by a plausibility test: with the wrong byte order the −9999
fill turns into −3624 and rain into huge numbers.

Output: ``precip`` (lat, lon) mm h-1, latitude descending; longitude in the file's 0–360°
convention unless ``lon_180=True``; ``time`` = end of the accumulation hour (UTC).
"""

from __future__ import annotations

import gzip
import os
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from prelib.conventions import CONVENTIONS_ATTR, UNITS_LAT, UNITS_LON, UNITS_PRECIP
from prelib.readers.errors import ProductError
from prelib.readers.names import identify_product

SHAPE: tuple[int, int] = (3000, 9000)
RESOLUTION_DEG = 0.04
NORTH_CENTRE, WEST_CENTRE = 59.98, 0.02
SCALE = 0.01
"""mm per count."""
PDIR_LITTLE_ENDIAN_FROM = np.datetime64("2020-12-01T00", "ns")
_PLAUSIBLE_MAX_COUNT = 30000  # 300 mm in one hour


def byte_order_for(product: str, start: np.datetime64) -> str:
    """``">"`` or ``"<"`` by product and date (the CHRS rule)."""
    if product == "persiann_ccs":
        return ">"
    if product == "pdir_now":
        return "<" if np.datetime64(start, "ns") >= PDIR_LITTLE_ENDIAN_FROM else ">"
    raise ValueError(f"product must be 'persiann_ccs' or 'pdir_now', got {product!r}")


def _implausible_count(counts: np.ndarray) -> int:
    """Cells that are neither the −9999 fill nor a rain amount in 0…300 mm."""
    return int(
        np.count_nonzero((counts != -9999) & ((counts < 0) | (counts > _PLAUSIBLE_MAX_COUNT)))
    )


def read_chrs_hourly(
    path: str | os.PathLike,
    product: str | None = None,
    *,
    byte_order: str | None = None,
    lon_180: bool = False,
) -> xr.Dataset:
    """Read a PERSIANN-CCS (``rgccs1h…``) or PDIR-Now (``pdirnow1h…``) hourly file.

    Parameters
    ----------
    path : str or os.PathLike
        ``.bin.gz`` (or an already decompressed ``.bin``).
    product : {"persiann_ccs", "pdir_now"}, optional
        Default: from the file name.
    byte_order : {">", "<"}, optional
        Force the byte order; default: the date rule, verified by a plausibility test (a warning
        and the other order when the rule's choice is implausible and the other is not).
    lon_180 : bool
        Roll the columns to longitudes −180…180.
    """
    path = Path(path)
    named = identify_product(path)
    product = product or named.product
    if product not in ("persiann_ccs", "pdir_now"):
        raise ProductError(path, f"not a CHRS hourly file (recognised as {product!r})")
    if not path.is_file():
        raise ProductError(path, "file does not exist")
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as err:
        raise ProductError(path, f"cannot decompress: {err}") from None
    expected = SHAPE[0] * SHAPE[1] * 2
    if len(raw) != expected:
        raise ProductError(
            path,
            f"{len(raw)} bytes after gunzip; expected {expected} ({SHAPE[0]} x {SHAPE[1]} int16)",
        )
    order = byte_order or byte_order_for(product, named.start)
    counts = np.frombuffer(raw, dtype=f"{order}i2").reshape(SHAPE)
    if byte_order is None:
        bad = _implausible_count(counts)
        if bad:
            other = "<" if order == ">" else ">"
            swapped = np.frombuffer(raw, dtype=f"{other}i2").reshape(SHAPE)
            if _implausible_count(swapped) * 10 < bad:
                warnings.warn(
                    f"{path.name}: byte order {order!r} from the date rule gives {bad} "
                    f"implausible values; using {other!r}",
                    stacklevel=2,
                )
                counts, order = swapped, other
    precip = counts.astype(np.float32) * np.float32(SCALE)
    precip[counts < 0] = np.nan
    lat = NORTH_CENTRE - RESOLUTION_DEG * np.arange(SHAPE[0])
    lon = WEST_CENTRE + RESOLUTION_DEG * np.arange(SHAPE[1])
    if lon_180:
        shift = int(np.searchsorted(lon, 180.0))
        precip = np.roll(precip, -shift, axis=1)
        lon = np.roll(lon, -shift)
        lon = np.where(lon >= 180.0, lon - 360.0, lon)
    label = {"persiann_ccs": "PERSIANN-CCS", "pdir_now": "PDIR-Now"}[product]
    return xr.Dataset(
        {
            "precip": (
                ("lat", "lon"),
                precip,
                {
                    "standard_name": "lwe_precipitation_rate",
                    "units": UNITS_PRECIP,
                    "long_name": f"{label} hourly precipitation",
                },
            )
        },
        coords={
            "lat": ("lat", lat, {"standard_name": "latitude", "units": UNITS_LAT}),
            "lon": ("lon", lon, {"standard_name": "longitude", "units": UNITS_LON}),
            "time": ((), named.end, {"long_name": "end of the hour (UTC)"}),
        },
        attrs={
            "Conventions": CONVENTIONS_ATTR,
            "source": "real",
            "product": product,
            "byte_order": "big" if order == ">" else "little",
            "filename": path.name,
        },
    )


def read_persiann_ccs(path: str | os.PathLike, **kwargs) -> xr.Dataset:
    """PERSIANN-CCS hourly (see :func:`read_chrs_hourly`)."""
    return read_chrs_hourly(path, "persiann_ccs", **kwargs)


def read_pdir_now(path: str | os.PathLike, **kwargs) -> xr.Dataset:
    """PDIR-Now hourly (see :func:`read_chrs_hourly`)."""
    return read_chrs_hourly(path, "pdir_now", **kwargs)

"""Where the inference engine reads its IR input: an in-memory scene or an AGRI L1 file, by bands.

A source yields brightness temperatures (K, NaN = missing) band by band, so the engine never
holds a full-disc float tensor per intermediate:

* :class:`ArraySource` — an ``(8, H, W)`` array already in memory (a synthetic scene of
  :mod:`prelib.data.regions`, a NetCDF/Zarr scene file).
* :class:`AgriL1Source` — an FY-4A/4B AGRI L1 FDI file (full disc or regional). It keeps the
  eight channels' raw uint16 counts (2 bytes a pixel instead of the 4 of a float) and calibrates
  each band through the look-up table when the engine asks for it; lat/lon come from the
  geostationary projection, per band.
* :func:`satpy_source` — a satpy ``Scene`` of AGRI L1 channels (readers ``agri_fy4a_l1`` /
  ``agri_fy4b_l1``), converted by :func:`prelib.readers.satpy_scene.agri_from_satpy`.

Missing pixels are filled with each channel's median over its valid pixels before the networks
see them (as :func:`prelib.inference.retrieval.retrieve_precipitation` does) and masked to NaN
in the output: :meth:`fill_values` gives those medians.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from prelib import conventions as cv


class SceneSource(Protocol):
    """What :func:`prelib.inference.engine.infer` reads."""

    name: str

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W) pixels."""

    @property
    def time(self) -> np.datetime64 | None:
        """Valid time (UTC) or None."""

    def read(self, y0: int, y1: int) -> np.ndarray:
        """Brightness temperature of rows ``y0:y1``, shape (8, y1 - y0, W), float32 K."""

    def fill_values(self) -> np.ndarray:
        """Per-channel median of the valid pixels, shape (8,), K."""

    def latlon(self, y0: int, y1: int) -> tuple[np.ndarray, np.ndarray]:
        """lat, lon of rows ``y0:y1``: (y1 - y0, W) each, or 1-D (y1 - y0,) and (W,)."""

    @property
    def latlon_is_1d(self) -> bool:
        """True when lat varies only along y and lon only along x."""


def _channel_medians(ir: np.ndarray) -> np.ndarray:
    medians = np.zeros(ir.shape[0], dtype=np.float32)
    for c, plane in enumerate(ir):
        finite = np.isfinite(plane)
        medians[c] = np.median(plane[finite]) if finite.any() else 0.0
    return medians


class ArraySource:
    """An in-memory scene.

    Parameters
    ----------
    ir : ndarray, shape (8, H, W)
        Brightness temperature, K, channels in ``conventions.AGRI_IR_CHANNELS`` order.
    lat, lon : ndarray
        (H,) and (W,), or (H, W) each, degrees.
    time : datetime64 or str, optional
        Valid time.
    name : str
        Label used in output names.
    """

    def __init__(
        self,
        ir: np.ndarray,
        lat: np.ndarray,
        lon: np.ndarray,
        time: np.datetime64 | str | None = None,
        name: str = "scene",
    ) -> None:
        ir = np.asarray(ir)
        if ir.ndim != 3 or ir.shape[0] != cv.N_IR:
            raise ValueError(f"ir must have shape ({cv.N_IR}, H, W) in K, got {ir.shape}")
        self._ir = ir
        shape = ir.shape[1:]
        lat, lon = np.asarray(lat, dtype=np.float32), np.asarray(lon, dtype=np.float32)
        if lat.ndim == 1 and lon.ndim == 1:
            if (lat.size, lon.size) != shape:
                raise ValueError(f"1-D lat/lon must have sizes {shape}, got {(lat.size, lon.size)}")
        elif lat.shape != shape or lon.shape != shape:
            raise ValueError(
                f"2-D lat/lon must have shape {shape}, got {lat.shape} and {lon.shape}"
            )
        self._lat, self._lon = lat, lon
        self._time = None if time is None else np.datetime64(time, "ns")
        self.name = name

    @classmethod
    def from_dataset(cls, scene, name: str = "scene") -> ArraySource:
        """From an xarray scene with ``ir`` (ir_channel, y, x) in K and ``lat``/``lon``."""
        ir = scene[cv.VAR_IR].transpose(cv.DIM_IR_CHANNEL, *cv.GRID_DIMS).values
        time = scene[cv.VAR_TIME].values if cv.VAR_TIME in scene.coords else None
        time = time.reshape(-1)[0] if time is not None and np.size(time) else None
        return cls(ir, scene[cv.VAR_LAT].values, scene[cv.VAR_LON].values, time, name)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self._ir.shape[1:])

    @property
    def time(self) -> np.datetime64 | None:
        return self._time

    @property
    def latlon_is_1d(self) -> bool:
        return self._lat.ndim == 1

    def read(self, y0: int, y1: int) -> np.ndarray:
        return np.asarray(self._ir[:, y0:y1], dtype=np.float32)

    def fill_values(self) -> np.ndarray:
        return _channel_medians(self._ir)

    def latlon(self, y0: int, y1: int) -> tuple[np.ndarray, np.ndarray]:
        if self.latlon_is_1d:
            return self._lat[y0:y1], self._lon
        return self._lat[y0:y1], self._lon[y0:y1]


class AgriL1Source:
    """An AGRI L1 FDI file (FY-4A or FY-4B; full disc or regional), calibrated band by band.

    Parameters
    ----------
    path : str or os.PathLike
        The HDF5 file.
    channels : sequence of str, optional
        Thermal channels; default: the eight carrying PRE-Net's IR wavelengths.

    Raises
    ------
    prelib.readers.errors.ProductError
        Unreadable file, missing channel or table (naming the file and the problem).
    """

    def __init__(self, path: str | os.PathLike, channels=None) -> None:
        from prelib.readers import agri
        from prelib.readers import agri_channels as names
        from prelib.readers.errors import ProductError
        from prelib.readers.hdf5_file import decode_attr, open_hdf5

        self.path = Path(path)
        self.name = self.path.stem
        with open_hdf5(self.path) as handle:
            meta = agri._metadata(handle, self.path)
            chosen = tuple(channels or names.default_ir_channels(meta["satellite"]))
            counts, tables = [], []
            for channel in chosen:
                if not names.is_thermal(channel):
                    raise ProductError(self.path, f"channel {channel!r} is not thermal")
                data, lut = agri._channel_datasets(handle, self.path, channel)
                fill = decode_attr(data.attrs["FillValue"]) if "FillValue" in data.attrs else 65535
                valid = lut.attrs.get("valid_range")
                valid_range = (float(valid[0]), float(valid[1])) if valid is not None else None
                counts.append(np.asarray(data[()], dtype=np.uint16))
                tables.append(_calibration_table(lut[()], int(fill), valid_range))
        self._counts = np.stack(counts)
        self._tables = tables
        if self._counts.shape[1:] != (meta["n_lines"], meta["n_cols"]):
            raise ProductError(
                self.path,
                f"line/pixel numbers in the attributes give {meta['n_lines']} x "
                f"{meta['n_cols']} pixels but the channel arrays are {self._counts.shape[1:]}",
            )
        self.channels = chosen
        self._meta = meta
        self._fill = self._medians()
        if not np.isfinite(self._fill).all():
            raise ProductError(self.path, f"channels {list(chosen)} have no valid pixel")

    def _medians(self) -> np.ndarray:
        # The table is monotonic, so the median temperature is the table value at the median
        # valid count: one bincount per channel instead of a float copy of the disc.
        medians = np.empty(len(self._tables), dtype=np.float32)
        for c, table in enumerate(self._tables):
            hist = np.bincount(
                np.minimum(self._counts[c].ravel(), table.size - 1), minlength=table.size
            )
            values, weights = table, hist
            good = np.isfinite(values) & (weights > 0)
            values, weights = values[good], weights[good]
            if not values.size:
                medians[c] = np.nan
                continue
            order = np.argsort(values, kind="stable")
            values, cum = values[order], np.cumsum(weights[order])
            n = int(cum[-1])
            low = values[np.searchsorted(cum, (n - 1) // 2 + 1)]
            high = values[np.searchsorted(cum, n // 2 + 1)]
            medians[c] = np.float32((np.float64(low) + np.float64(high)) / 2)
        return medians

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self._counts.shape[1:])

    @property
    def time(self) -> np.datetime64 | None:
        return self._meta["start"]

    @property
    def latlon_is_1d(self) -> bool:
        return False

    @property
    def satellite(self) -> str:
        return self._meta["satellite"]

    def read(self, y0: int, y1: int) -> np.ndarray:
        band = self._counts[:, y0:y1]
        out = np.empty(band.shape, dtype=np.float32)
        for c, table in enumerate(self._tables):
            np.take(table, np.minimum(band[c], table.size - 1), out=out[c])
        return out

    def fill_values(self) -> np.ndarray:
        return self._fill.copy()

    def latlon(self, y0: int, y1: int) -> tuple[np.ndarray, np.ndarray]:
        from prelib.readers.agri import disc_latlon

        meta = self._meta
        return disc_latlon(
            meta["projection"],
            meta["begin_line"] + y0,
            meta["begin_column"],
            y1 - y0,
            self.shape[1],
        )


def _calibration_table(
    lut: np.ndarray, fill_count: int | None, valid_range: tuple[float, float] | None
) -> np.ndarray:
    """The table of :func:`prelib.readers.agri.counts_to_bt` with a trailing NaN for invalid
    counts (index ``min(count, len - 1)``)."""
    table = np.asarray(lut, dtype=np.float32)
    if fill_count is not None and fill_count <= table.size - 1:
        table = table[:fill_count]
    if valid_range is not None:
        low, high = valid_range
        table = np.where((table >= low) & (table <= high), table, np.nan).astype(np.float32)
    return np.append(table, np.float32(np.nan))


def satpy_source(scene, channels=None, *, satellite: str | None = None, name: str | None = None):
    """An :class:`ArraySource` for a satpy ``Scene`` holding AGRI L1 brightness temperatures.

    Parameters
    ----------
    scene : satpy.Scene
        With the thermal channels loaded (``scene.load(["C07", …, "C14"])`` on FY-4A).
    channels, satellite
        See :func:`prelib.readers.satpy_scene.agri_from_satpy`.
    name : str, optional
        Label for output names; default ``<satellite>_<scan start>``.

    Raises
    ------
    prelib.errors.InvalidDataError
        Missing channels, a calibration other than brightness temperature, channels on
        different grids (see :func:`~prelib.readers.satpy_scene.agri_from_satpy`).
    """
    from prelib.readers.satpy_scene import agri_from_satpy

    ds = agri_from_satpy(scene, channels, satellite=satellite)
    if name is None:
        stamp = ""
        if "time" in ds.coords:
            stamp = str(ds["time"].values)[:16].replace("-", "").replace(":", "")
        name = f"{ds.attrs['satellite']}_satpy" + (f"_{stamp}" if stamp else "")
    return ArraySource.from_dataset(ds, name)


def open_satpy_file(path: str | os.PathLike, reader: str) -> ArraySource:
    """Read an AGRI L1 file through satpy's ``reader`` (``agri_fy4a_l1``/``agri_fy4b_l1``).

    Raises
    ------
    ImportError
        satpy is not installed (``pip install 'prelib[real]'``).
    prelib.errors.InvalidDataError
        satpy cannot read the file with that reader, or the scene lacks a channel.
    """
    from prelib.errors import InvalidDataError
    from prelib.readers import agri_channels
    from prelib.readers.satpy_scene import SATPY_READERS

    try:
        import satpy
    except ImportError as err:  # an optional extra: say which one
        raise ImportError("--satpy-reader needs satpy: pip install 'prelib[real]'") from err
    path = Path(path)
    satellite = {v: k for k, v in SATPY_READERS.items()}.get(reader)
    if satellite is None:
        raise InvalidDataError(
            f"{path}: satpy reader {reader!r} is not an AGRI L1 reader; "
            f"choose one of {sorted(SATPY_READERS.values())}"
        )
    channels = list(agri_channels.default_ir_channels(satellite))
    try:
        scene = satpy.Scene([str(path)], reader=reader)
        scene.load(channels)
    except Exception as err:  # satpy raises ValueError, KeyError, AttributeError … per reader
        raise InvalidDataError(
            f"{path}: satpy's {reader} reader cannot read it ({type(err).__name__}: {err})"
        ) from err
    return satpy_source(scene, satellite=satellite, name=path.stem)


def open_source(path: str | os.PathLike, *, satpy_reader: str | None = None) -> SceneSource:
    """A source for ``path``: an AGRI L1 ``.HDF``/``.h5`` file or a NetCDF/Zarr scene.

    Parameters
    ----------
    path : str or os.PathLike
    satpy_reader : str, optional
        Read the AGRI L1 file through satpy with this reader (``agri_fy4a_l1`` /
        ``agri_fy4b_l1``) instead of prelib's own reader.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no input scene at {path}")
    if satpy_reader is not None:
        return open_satpy_file(path, satpy_reader)
    if path.suffix.lower() in (".hdf", ".h5", ".hdf5"):
        return AgriL1Source(path)
    import xarray as xr

    opener = xr.open_zarr if path.suffix == ".zarr" else xr.open_dataset
    with opener(path) as scene:
        if cv.VAR_IR not in scene:
            raise ValueError(f"{path}: no {cv.VAR_IR!r} variable (ir_channel, y, x) in K")
        return ArraySource.from_dataset(scene.load(), path.stem)

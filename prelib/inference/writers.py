"""Chunk-wise precipitation output: CF NetCDF-4 or Zarr, written band by band, renamed at the end.

The engine hands finished rows to a writer as soon as no later tile touches them, so the output
never needs a full-disc array in memory. Every writer writes to a temporary sibling path and
renames it into place only when :meth:`close` succeeds (:func:`prelib.atomic.atomic_path`): a
failed run leaves no half-written file and the previous output, if any, untouched.

Layout (both formats, read back by ``xarray.open_dataset`` / ``open_zarr``):

* ``precip`` (time, y, x) float32, mm h-1, the CF attributes of ``lwe_precipitation_rate``,
  NaN where the IR input was missing; without a time, (y, x);
* ``lat`` / ``lon``: (y,), (x,) or (y, x) float32 degrees;
* ``time``: CF ``seconds since 1970-01-01`` with ``standard_name = "time"``;
* global attributes: ``Conventions``, ``title``, ``source``, ``history`` and the caller's (the
  engine adds the method and the tiling as separate numeric attributes).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from prelib import __version__
from prelib import conventions as cv
from prelib.atomic import atomic_path

OUTPUT_FORMATS: tuple[str, ...] = ("netcdf", "zarr")
TIME_UNITS = "seconds since 1970-01-01 00:00:00"


class ChunkWriter(Protocol):
    """What :func:`prelib.inference.engine.infer` writes to."""

    def open(self, grid: OutputGrid) -> None:
        """Create the variables for ``grid``."""

    def write_rows(
        self, y0: int, precip: np.ndarray, lat: np.ndarray | None, lon: np.ndarray | None
    ) -> None:
        """Rows ``y0 : y0 + len(precip)``: precip (h, W) mm h-1; lat/lon rows when 2-D."""

    def close(self, extra_attrs: dict[str, Any]) -> None:
        """Add ``extra_attrs`` to the globals and publish the output."""

    def abort(self) -> None:
        """Discard everything written."""


class OutputGrid:
    """Shape and fixed metadata of one output.

    Parameters
    ----------
    shape : (int, int)
        (H, W).
    time : datetime64, optional
        Valid time; adds a length-1 ``time`` dimension.
    lat_1d, lon_1d : ndarray, optional
        1-D coordinates, written at open; otherwise lat/lon arrive as 2-D rows.
    attrs : dict
        Global attributes.
    """

    def __init__(
        self,
        shape: tuple[int, int],
        time: np.datetime64 | None,
        lat_1d: np.ndarray | None,
        lon_1d: np.ndarray | None,
        attrs: dict[str, Any],
    ) -> None:
        self.shape = shape
        self.time = time
        self.lat_1d, self.lon_1d = lat_1d, lon_1d
        self.attrs = {
            "Conventions": cv.CONVENTIONS_ATTR,
            "source": f"prelib {__version__}",
            "history": f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ} created by prelib",
            **attrs,
        }

    @property
    def time_seconds(self) -> float:
        """The valid time as seconds since 1970-01-01 (UTC)."""
        return float(np.datetime64(self.time, "ns").astype(np.int64)) / 1e9

    @property
    def dims(self) -> tuple[str, ...]:
        return (cv.DIM_TIME, *cv.GRID_DIMS) if self.time is not None else cv.GRID_DIMS


def _time_attrs() -> dict[str, str]:
    return {
        "standard_name": "time",
        "long_name": "valid time",
        "units": TIME_UNITS,
        "calendar": "standard",
        "axis": "T",
    }


def _numeric(value: Any) -> Any:
    # netCDF attributes: bools as ints, None as a string.
    if isinstance(value, bool):
        return int(value)
    return "none" if value is None else value


class MemoryWriter:
    """Keeps the rows in memory and returns an ``xarray.Dataset`` (for small regions, tests and
    benchmarks that time the write stage separately)."""

    def __init__(self) -> None:
        self.dataset = None

    def open(self, grid: OutputGrid) -> None:
        self._grid = grid
        height, width = grid.shape
        self._precip = np.full((height, width), np.nan, dtype=np.float32)
        self._lat = None if grid.lat_1d is not None else np.full((height, width), np.nan, "f4")
        self._lon = None if grid.lon_1d is not None else np.full((height, width), np.nan, "f4")

    def write_rows(self, y0, precip, lat, lon) -> None:
        rows = slice(y0, y0 + precip.shape[0])
        self._precip[rows] = precip
        if self._lat is not None:
            self._lat[rows], self._lon[rows] = lat, lon

    def close(self, extra_attrs: dict[str, Any]) -> None:
        from prelib.inference.retrieval import precipitation_dataset

        grid = self._grid
        lat = grid.lat_1d if self._lat is None else self._lat
        lon = grid.lon_1d if self._lon is None else self._lon
        ds = precipitation_dataset(self._precip, lat, lon, grid.time)
        ds.attrs.update(grid.attrs)
        ds.attrs.update(extra_attrs)
        if cv.VAR_TIME in ds.coords:
            ds[cv.VAR_TIME].attrs.update({"standard_name": "time", "long_name": "valid time"})
        self.dataset = ds

    def abort(self) -> None:
        self.dataset = None


class NetCDFWriter:
    """CF NetCDF-4 (zlib level 4, 256² chunks), written row band by row band.

    Uses ``netCDF4`` when installed, else ``h5netcdf``'s netCDF4-compatible API.
    """

    def __init__(self, path: str | os.PathLike, complevel: int = 4) -> None:
        self.path = Path(path)
        self.complevel = complevel
        self._stack = contextlib.ExitStack()

    def open(self, grid: OutputGrid) -> None:
        try:
            from netCDF4 import Dataset
        except ImportError:
            from h5netcdf.legacyapi import Dataset
        self._grid = grid
        tmp = self._stack.enter_context(atomic_path(self.path))
        self._nc = Dataset(tmp, "w")
        nc = self._nc
        height, width = grid.shape
        nc.createDimension(cv.DIM_Y, height)
        nc.createDimension(cv.DIM_X, width)
        chunks = [min(256, height), min(256, width)]
        if grid.time is not None:
            nc.createDimension(cv.DIM_TIME, 1)
            time = nc.createVariable(cv.VAR_TIME, "f8", (cv.DIM_TIME,))
            time.setncatts(_time_attrs())
            time[:] = [grid.time_seconds]
            chunks = [1, *chunks]
        lat_dims = (cv.DIM_Y,) if grid.lat_1d is not None else cv.GRID_DIMS
        lon_dims = (cv.DIM_X,) if grid.lon_1d is not None else cv.GRID_DIMS
        zlib = {"zlib": True, "complevel": self.complevel}
        self._lat = nc.createVariable(cv.VAR_LAT, "f4", lat_dims, **zlib)
        self._lon = nc.createVariable(cv.VAR_LON, "f4", lon_dims, **zlib)
        self._lat.setncatts(cv.cf_attrs(cv.VAR_LAT))
        self._lon.setncatts(cv.cf_attrs(cv.VAR_LON))
        if grid.lat_1d is not None:
            self._lat[:] = grid.lat_1d
        if grid.lon_1d is not None:
            self._lon[:] = grid.lon_1d
        self._precip = nc.createVariable(
            cv.VAR_PRECIP, "f4", grid.dims, fill_value=np.float32(np.nan), chunksizes=chunks, **zlib
        )
        self._precip.setncatts(
            {**cv.cf_attrs(cv.VAR_PRECIP), "coordinates": f"{cv.VAR_LAT} {cv.VAR_LON}"}
        )

    def write_rows(self, y0, precip, lat, lon) -> None:
        rows = slice(y0, y0 + precip.shape[0])
        if self._grid.time is not None:
            self._precip[0, rows, :] = precip
        else:
            self._precip[rows, :] = precip
        if self._grid.lat_1d is None:
            self._lat[rows, :] = lat
        if self._grid.lon_1d is None:
            self._lon[rows, :] = lon

    def close(self, extra_attrs: dict[str, Any]) -> None:
        attrs = {**self._grid.attrs, **extra_attrs}
        self._nc.setncatts({k: _numeric(v) for k, v in attrs.items()})
        self._nc.close()
        self._stack.close()  # renames the temporary file onto the target

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._nc.close()
        with contextlib.suppress(RuntimeError):
            self._stack.__exit__(RuntimeError, RuntimeError("aborted"), None)


class ZarrWriter:
    """A Zarr (format 2) store with xarray's ``_ARRAY_DIMENSIONS``, written by 256-row chunks and
    consolidated at the end."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._stack = contextlib.ExitStack()

    def open(self, grid: OutputGrid) -> None:
        import zarr

        self._grid = grid
        tmp = self._stack.enter_context(atomic_path(self.path))
        self._tmp = tmp
        root = zarr.open_group(str(tmp), mode="w", zarr_format=2)
        self._root = root
        height, width = grid.shape
        chunks = (min(256, height), min(256, width))

        def array(name, dims, shape, chunk, attrs):
            arr = root.create_array(name, shape=shape, chunks=chunk, dtype="f4", fill_value=np.nan)
            arr.attrs.update({"_ARRAY_DIMENSIONS": list(dims), **attrs})
            return arr

        if grid.time is not None:
            time = root.create_array(cv.VAR_TIME, shape=(1,), chunks=(1,), dtype="f8")
            time.attrs.update({"_ARRAY_DIMENSIONS": [cv.DIM_TIME], **_time_attrs()})
            time[:] = [grid.time_seconds]
        lat_dims = (cv.DIM_Y,) if grid.lat_1d is not None else cv.GRID_DIMS
        lon_dims = (cv.DIM_X,) if grid.lon_1d is not None else cv.GRID_DIMS
        self._lat = array(
            cv.VAR_LAT,
            lat_dims,
            (height,) if grid.lat_1d is not None else (height, width),
            chunks[:1] if grid.lat_1d is not None else chunks,
            cv.cf_attrs(cv.VAR_LAT),
        )
        self._lon = array(
            cv.VAR_LON,
            lon_dims,
            (width,) if grid.lon_1d is not None else (height, width),
            chunks[1:] if grid.lon_1d is not None else chunks,
            cv.cf_attrs(cv.VAR_LON),
        )
        if grid.lat_1d is not None:
            self._lat[:] = grid.lat_1d
        if grid.lon_1d is not None:
            self._lon[:] = grid.lon_1d
        shape = (1, height, width) if grid.time is not None else (height, width)
        chunk = (1, *chunks) if grid.time is not None else chunks
        self._precip = array(
            cv.VAR_PRECIP,
            grid.dims,
            shape,
            chunk,
            {**cv.cf_attrs(cv.VAR_PRECIP), "coordinates": f"{cv.VAR_LAT} {cv.VAR_LON}"},
        )

    def write_rows(self, y0, precip, lat, lon) -> None:
        rows = slice(y0, y0 + precip.shape[0])
        if self._grid.time is not None:
            self._precip[0, rows, :] = precip
        else:
            self._precip[rows, :] = precip
        if self._grid.lat_1d is None:
            self._lat[rows, :] = lat
        if self._grid.lon_1d is None:
            self._lon[rows, :] = lon

    def close(self, extra_attrs: dict[str, Any]) -> None:
        import zarr

        attrs = {**self._grid.attrs, **extra_attrs}
        self._root.attrs.update({k: _numeric(v) for k, v in attrs.items()})
        zarr.consolidate_metadata(str(self._tmp))
        self._stack.close()

    def abort(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._stack.__exit__(RuntimeError, RuntimeError("aborted"), None)


def writer_for(path: str | os.PathLike, output_format: str | None = None) -> ChunkWriter:
    """A NetCDF or Zarr writer for ``path`` (format from ``output_format`` or the suffix)."""
    path = Path(path)
    fmt = output_format or ("zarr" if path.suffix == ".zarr" else "netcdf")
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"output format must be one of {list(OUTPUT_FORMATS)}, got {fmt!r}")
    return ZarrWriter(path) if fmt == "zarr" else NetCDFWriter(path)

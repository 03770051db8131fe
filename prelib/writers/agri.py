"""Write AGRI L1 FDI HDF5 files in the real FY-4A / FY-4B layout (data_formats.md §1.2–1.3, 1.7).

Brightness temperatures are encoded as counts through a monotonic look-up table (400 K at count
0 down to 150 K at the last count), so ``LUT[count]`` recovers them to within half a table step
(≈ 0.03 K for 4096 entries). The synthetic world uses this to produce raw AGRI scans that the
real reading path consumes end-to-end; tests use it for small files with known values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import h5py
import numpy as np

from prelib.atomic import atomic_path
from prelib.readers import agri_channels
from prelib.readers.geostationary import GeosProjection

FILL_COUNT = 65535
LUT_WARM_K, LUT_COLD_K = 400.0, 150.0
"""End points of the synthetic brightness-temperature tables (K)."""


def lut_length(channel: str) -> int:
    """Table length: 65536 for C07 (as in real FY-4A files), 4096 otherwise."""
    return 65536 if channel == "C07" else 4096


def synthetic_lut(channel: str) -> np.ndarray:
    """The table written for ``channel``: BT linear in count for thermal channels (K),
    reflectance 0–1.2 for C01–C06."""
    n = lut_length(channel)
    if agri_channels.is_thermal(channel):
        return np.linspace(LUT_WARM_K, LUT_COLD_K, n, dtype=np.float32)
    return np.linspace(0.0, 1.2, n, dtype=np.float32)


def bt_to_counts(bt: np.ndarray, channel: str) -> np.ndarray:
    """Inverse of :func:`synthetic_lut` (nearest count); NaN or out-of-table → fill count."""
    n = lut_length(channel)
    # C07's table includes the fill index; the reader cuts it there, so stay below it
    top = min(n - 1, FILL_COUNT - 1)
    step = (LUT_WARM_K - LUT_COLD_K) / (n - 1)
    counts = np.rint((LUT_WARM_K - np.asarray(bt, dtype=np.float64)) / step)
    bad = ~np.isfinite(counts) | (counts < 0) | (counts > top)
    return np.where(bad, FILL_COUNT, counts).astype(np.uint16)


def agri_file_name(
    satellite: str,
    start: np.datetime64,
    end: np.datetime64,
    *,
    observation: str = "DISK",
    sub_lon: float = 104.7,
    resolution_m: int = 4000,
) -> str:
    """The real file name, e.g.
    ``FY4A-_AGRI--_N_DISK_1047E_L1-_FDI-_MULT_NOM_…_4000M_V0001.HDF``."""
    fmt = "%Y%m%d%H%M%S"
    s = np.datetime64(start, "s").astype(object).strftime(fmt)
    e = np.datetime64(end, "s").astype(object).strftime(fmt)
    hemi = "E" if sub_lon >= 0 else "W"
    lon = f"{round(abs(sub_lon) * 10):04d}{hemi}"
    return (
        f"{agri_channels.satellite_key(satellite)}-_AGRI--_N_{observation}_{lon}_L1-_FDI-_MULT_"
        f"NOM_{s}_{e}_{resolution_m:04d}M_V0001.HDF"
    )


def _array_attr(value: float, dtype=np.float64) -> np.ndarray:
    return np.array([value], dtype=dtype)


def write_agri_l1(
    directory: str | os.PathLike,
    bt: Mapping[str, np.ndarray],
    start: np.datetime64,
    *,
    satellite: str = "FY4A",
    begin_line: int = 0,
    begin_column: int = 0,
    observation: str | None = None,
    sub_lon: float | None = None,
    resolution_m: int = 4000,
    duration_s: int = 899,
    compression: int | None = 4,
) -> Path:
    """Write one AGRI L1 FDI file and return its path.

    Parameters
    ----------
    directory : path
        Output folder (created). The file name is the real pattern.
    bt : mapping channel → numpy.ndarray, shape (lines, columns)
        Brightness temperatures (K) of thermal channels, NaN = missing (written as fill).
        Channels not given are written as constant counts (all channels exist in real files).
    start : numpy.datetime64
        Scan start (UTC). The end is ``start + duration_s``.
    satellite : {"FY4A", "FY4B"}
        FY-4A: datasets at the root, 14 channels, ``NOMCenterLon``. FY-4B: ``Data/`` and
        ``Calibration/`` groups, 15 channels, ``NOMSubSatLon``.
    begin_line, begin_column : int
        0-based full-disc position of the first line/column (regional files).
    observation : str, optional
        ``"DISK"`` or ``"REGC"``; default: ``DISK`` when the array is the whole disc.
    sub_lon : float, optional
        Sub-satellite longitude; default 104.7 (FY-4A) or 133.0 (FY-4B).
    """
    satellite = agri_channels.satellite_key(satellite)
    shapes = {np.shape(v) for v in bt.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"bt must map channels to 2-D arrays of one shape, got shapes {shapes}")
    n_lines, n_cols = next(iter(shapes))
    projection = GeosProjection(
        sub_lon if sub_lon is not None else (104.7 if satellite == "FY4A" else 133.0),
        resolution_m,
    )
    full = n_lines == n_cols == projection.disc_size and begin_line == begin_column == 0
    observation = observation or ("DISK" if full else "REGC")
    start = np.datetime64(start, "ms")
    end = start + np.timedelta64(duration_s, "s")
    names = agri_channels.channel_names(satellite)
    unknown = sorted(set(bt) - set(names))
    if unknown:
        raise ValueError(f"unknown {satellite} channels {unknown}; known: {list(names)}")
    grouped = satellite != "FY4A"
    target = Path(directory) / agri_file_name(
        satellite,
        start,
        end,
        observation=observation,
        sub_lon=projection.sub_lon,
        resolution_m=resolution_m,
    )
    opts = {"compression": "gzip", "compression_opts": compression} if compression else {}
    with atomic_path(target) as tmp, h5py.File(tmp, "w") as f:
        data_group = f.require_group("Data") if grouped else f
        cal_group = f.require_group("Calibration") if grouped else f
        for name in names:
            number = name[1:]
            if name in bt:
                counts = bt_to_counts(bt[name], name)
            else:
                counts = np.full((n_lines, n_cols), 1000, dtype=np.uint16)
            chunks = (min(n_lines, 512), min(n_cols, 512)) if opts else None
            ds = data_group.create_dataset(
                f"NOMChannel{number}", data=counts, chunks=chunks, **opts
            )
            ds.attrs["FillValue"] = np.array([FILL_COUNT], dtype=np.uint16)
            top = 65534 if name == "C07" else 4095
            ds.attrs["valid_range"] = np.array([0, top], dtype=np.uint16)
            ds.attrs["Slope"] = np.array([1.0], dtype=np.float32)
            ds.attrs["Intercept"] = np.array([0.0], dtype=np.float32)
            ds.attrs["units"] = "DN"
            wavelength = agri_channels.CENTRAL_WAVELENGTH_UM[satellite][name]
            ds.attrs["center_wavelength"] = f"{wavelength}um"
            ds.attrs["band_names"] = f"band{int(number)}(channel{int(number)})"
            ds.attrs["long_name"] = f"Calibration table of {wavelength}um Channel"
            lut = cal_group.create_dataset(f"CALChannel{number}", data=synthetic_lut(name))
            thermal = agri_channels.is_thermal(name)
            lut.attrs["valid_range"] = np.array(
                [100.0, 500.0] if thermal else [0.0, 1.5], dtype=np.float32
            )
            lut.attrs["units"] = "K" if thermal else "1"
        coef = np.tile(np.array([[1.0, 0.0]], dtype=np.float32), (len(names), 1))
        cal_group.create_dataset("CALIBRATION_COEF(SCALE+OFFSET)", data=coef)
        lon_key = "NOMCenterLon" if satellite == "FY4A" else "NOMSubSatLon"
        f.attrs[lon_key] = _array_attr(projection.sub_lon)
        f.attrs["NOMCenterLat" if satellite == "FY4A" else "NOMSubSatLat"] = _array_attr(0.0)
        if satellite != "FY4A":  # satpy's FY-4B handler reads the FY-4A names too
            f.attrs["NOMCenterLon"] = _array_attr(projection.sub_lon)
            f.attrs["NOMCenterLat"] = _array_attr(0.0)
        f.attrs["NOMSatHeight"] = _array_attr(42164000.0)
        f.attrs["dEA"] = _array_attr(6378.14)
        f.attrs["dObRecFlat"] = _array_attr(298.257223563)
        f.attrs["RegLength"] = _array_attr(n_lines, np.int32)
        f.attrs["RegWidth"] = _array_attr(n_cols, np.int32)
        f.attrs["Begin Line Number"] = _array_attr(begin_line, np.int32)
        f.attrs["End Line Number"] = _array_attr(begin_line + n_lines - 1, np.int32)
        f.attrs["Begin Pixel Number"] = _array_attr(begin_column, np.int32)
        f.attrs["End Pixel Number"] = _array_attr(begin_column + n_cols - 1, np.int32)
        f.attrs["OBIType"] = observation
        f.attrs["Satellite Name"] = satellite
        f.attrs["Sensor Identification Code"] = "AGRI"
        f.attrs["Sensor Name"] = "AGRI"
        for label, moment in (("Beginning", start), ("Ending", end)):
            stamp = moment.astype(object)
            f.attrs[f"Observing {label} Date"] = stamp.strftime("%Y-%m-%d")
            f.attrs[f"Observing {label} Time"] = stamp.strftime("%H:%M:%S.%f")[:-3]
    return target

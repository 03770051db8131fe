"""Training, validation and test pairs from a user's own fine field (and coarse product).

``prelib downscale train|evaluate --fine FILE …`` ends here. The fine field (radar, gauge
analysis) is read by :mod:`~prelib.downscaling.user_fields`, cut to the region, split by time into
the ``train``, ``val`` and ``test`` selections, and paired with a coarse input made by one of
three rules (``bias``):

* ``none`` — the fine field's ``factor × factor`` block mean (pure downscaling);
* ``synthetic`` — the documented :class:`~prelib.downscaling.bias_model.BiasModel` (results are
  "semi-synthetic": real truth, simulated product errors);
* ``paired`` — a real coarse product (``coarse`` source, e.g. IMERG) regridded conservatively
  (:mod:`~prelib.downscaling.regrid`) onto the block grid of the fine field and matched in time
  (nearest frame within half the product's time step).

Every selection that yields nothing raises a ``ValueError`` that names the selection (``--region``,
``--train-times`` …), the file and what was found.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from prelib.conventions import RAIN_THRESHOLD
from prelib.data.precip_grids import check_factor, coarsen
from prelib.downscaling.bias_model import BiasModel
from prelib.downscaling.data import DownscalingPairs
from prelib.downscaling.regrid import cell_edges, regrid_conservative
from prelib.downscaling.user_fields import (
    FieldSource,
    parse_time_selection,
    read_precip_field,
    select_times,
)

BIAS_MODES: tuple[str, ...] = ("none", "synthetic", "paired")
SPLITS: tuple[str, ...] = ("train", "val", "test")


@dataclasses.dataclass(frozen=True)
class PairRequest:
    """What ``prelib downscale`` was asked to build.

    Attributes
    ----------
    fine : FieldSource
        The fine truth field(s).
    times : dict of str to str
        ``{"train": "0:24", "val": "24:28", "test": "28:36"}`` — frame indices ``i:j`` or
        ``START/END`` ISO times; a missing split is not built.
    region : (lat_min, lat_max, lon_min, lon_max), optional
    bias : {"none", "synthetic", "paired"}
    coarse : FieldSource, optional
        The real coarse product for ``bias="paired"``.
    """

    fine: FieldSource
    times: dict[str, str]
    region: tuple[float, float, float, float] | None = None
    bias: str = "none"
    coarse: FieldSource | None = None

    def __post_init__(self) -> None:
        if self.bias not in BIAS_MODES:
            raise ValueError(f"bias must be one of {list(BIAS_MODES)}, got {self.bias!r}")
        if (self.bias == "paired") != (self.coarse is not None):
            raise ValueError("bias 'paired' needs a coarse product (--coarse FILE), and only it")
        unknown = sorted(set(self.times) - set(SPLITS))
        if unknown:
            raise ValueError(f"unknown split(s) {unknown}; splits are {list(SPLITS)}")


def parse_region(text: str | None) -> tuple[float, float, float, float] | None:
    """``"LAT_MIN,LAT_MAX,LON_MIN,LON_MAX"`` (degrees) → a tuple; ``None`` stays ``None``."""
    if not text:
        return None
    try:
        values = tuple(float(v) for v in str(text).split(","))
    except ValueError:
        raise ValueError(f"--region {text!r}: expected LAT_MIN,LAT_MAX,LON_MIN,LON_MAX") from None
    if len(values) != 4:
        raise ValueError(f"--region {text!r}: expected 4 numbers LAT_MIN,LAT_MAX,LON_MIN,LON_MAX")
    return values  # type: ignore[return-value]


def block_edges(centres: np.ndarray, factor: int) -> np.ndarray:
    """Edges of the ``factor``-pixel blocks of a fine axis (its length a multiple of ``factor``)."""
    return cell_edges(centres)[::factor]


def regrid_to_blocks(coarse: xr.DataArray, fine: xr.DataArray, factor: int) -> xr.DataArray:
    """The coarse product on the fine field's block grid, matched to the fine frames in time.

    Parameters
    ----------
    coarse : xr.DataArray, dims ``(time, y, x)`` with ``lat``/``lon``
        Coarse product, mm h-1.
    fine : xr.DataArray, dims ``(time, Y, X)``, ``Y`` and ``X`` multiples of ``factor``

    Returns
    -------
    xr.DataArray, dims ``(time, Y / factor, X / factor)``, the fine field's times
        NaN where the product does not fully cover a block or has no frame near in time.
    """
    target_lat = block_edges(fine["lat"].values, factor)
    target_lon = block_edges(fine["lon"].values, factor)
    coarse_times = coarse["time"].values
    fine_times = fine["time"].values
    shape = (fine.sizes["time"], len(target_lat) - 1, len(target_lon) - 1)
    out = np.full(shape, np.nan, dtype=np.float32)
    if np.issubdtype(coarse_times.dtype, np.datetime64) and len(coarse_times) > 1:
        tolerance = np.median(np.diff(coarse_times.astype("datetime64[s]")).astype(float)) / 2
    else:
        tolerance = np.inf
    matched = 0
    for index, time in enumerate(fine_times):
        if np.issubdtype(coarse_times.dtype, np.datetime64):
            gaps = np.abs((coarse_times - time).astype("timedelta64[s]").astype(float))
        else:
            gaps = np.abs(np.arange(len(coarse_times)) - index).astype(float)
        nearest = int(np.argmin(gaps))
        if gaps[nearest] > tolerance:
            continue
        out[index] = regrid_conservative(
            coarse.values[nearest],
            coarse["lat"].values,
            coarse["lon"].values,
            target_lat,
            target_lon,
        )
        matched += 1
    if matched == 0:
        raise ValueError(
            f"the coarse product ({coarse.attrs.get('source_file', '')}) has no frame near the "
            f"fine frames {fine_times[0]} … {fine_times[-1]}"
        )
    return xr.DataArray(out, dims=("time", "y", "x"), coords={"time": fine_times})


def crop_to_factor(field: xr.DataArray, factor: int) -> xr.DataArray:
    """Drop trailing rows/columns so both grid sizes are multiples of ``factor``."""
    return field.isel(
        y=slice(0, field.sizes["y"] // factor * factor),
        x=slice(0, field.sizes["x"] // factor * factor),
    )


def patch_pairs(
    fine: np.ndarray,
    coarse: np.ndarray | None,
    patch: int,
    factor: int,
    bias_model: BiasModel,
    selection: str,
    min_wet_fraction: float = 0.05,
    max_patches: int | None = None,
    seed: int = 0,
    source: str = "user field",
) -> DownscalingPairs:
    """Complete, rainy ``patch × patch`` pairs of a ``(time, Y, X)`` fine field.

    Parameters
    ----------
    fine : np.ndarray, shape ``(time, Y, X)``, mm h-1, NaN = missing
    coarse : np.ndarray, shape ``(time, Y / factor, X / factor)``, optional
        A real coarse product on the block grid; ``None``: ``bias_model`` makes the input.
    selection : str
        Name of the selection for messages (``"--train-times 0:24 of radar.nc"``).

    Raises
    ------
    ValueError
        Naming ``selection``: the region is smaller than a patch (too short), no patch is
        complete (missing data), or no complete patch has rain.
    """
    check_factor(factor, (patch, patch))
    n_frames, height, width = fine.shape
    if height < patch or width < patch:
        raise ValueError(
            f"{selection}: the region is {height} x {width} pixels, smaller than one "
            f"{patch} x {patch} patch; choose a larger --region or a smaller patch"
        )
    block = patch // factor
    fine_tiles, coarse_tiles = [], []
    n_complete = 0
    for row in range(0, height - patch + 1, patch):
        for col in range(0, width - patch + 1, patch):
            tile = fine[:, row : row + patch, col : col + patch]
            complete = ~np.isnan(tile).any(axis=(1, 2))
            if coarse is not None:
                cr, cc = row // factor, col // factor
                coarse_tile = coarse[:, cr : cr + block, cc : cc + block]
                complete &= ~np.isnan(coarse_tile).any(axis=(1, 2))
            n_complete += int(complete.sum())
            wet = (np.nan_to_num(tile) >= RAIN_THRESHOLD).mean(axis=(1, 2)) >= min_wet_fraction
            keep = complete & wet
            fine_tiles.extend(tile[keep])
            if coarse is not None:
                coarse_tiles.extend(coarse_tile[keep])
    n_tiles = n_frames * (height // patch) * (width // patch)
    if n_complete == 0:
        raise ValueError(
            f"{selection}: none of the {n_tiles} {patch} x {patch} patches in {n_frames} "
            "frame(s) is complete (every one has missing data); choose a region with full coverage"
        )
    if not fine_tiles:
        raise ValueError(
            f"{selection}: rain-free — none of the {n_complete} complete {patch} x {patch} patches "
            f"in {n_frames} frame(s) has >= {min_wet_fraction:.0%} of its pixels >= "
            f"{RAIN_THRESHOLD} mm h-1; choose rainier times or region"
        )
    fine_tiles = np.stack(fine_tiles)
    index = np.arange(len(fine_tiles))
    if max_patches is not None and len(index) > max_patches:
        index = np.sort(np.random.default_rng(seed).choice(len(index), max_patches, replace=False))
    fine_tiles = fine_tiles[index]
    if coarse is not None:
        satellite = np.stack(coarse_tiles)[index]
    else:
        satellite = bias_model.apply(fine_tiles, factor, seed=seed)
    return DownscalingPairs(fine_tiles, satellite, factor, source)


def build_user_pairs(
    request: PairRequest,
    factor: int,
    patch: int,
    bias_model: BiasModel | None = None,
    min_wet_fraction: float = 0.05,
    max_patches: dict[str, int | None] | None = None,
    seed: int = 0,
    notes: list[str] | None = None,
) -> dict[str, DownscalingPairs]:
    """Pairs for every split in ``request.times`` (see the module docstring).

    Returns
    -------
    dict of split name to DownscalingPairs
    """
    factor = check_factor(factor)
    region = request.region
    lat_bounds = region[:2] if region else None
    lon_bounds = region[2:] if region else None
    notes = notes if notes is not None else []
    fine = crop_to_factor(read_precip_field(request.fine, lat_bounds, lon_bounds, notes), factor)
    if fine.sizes["y"] < factor or fine.sizes["x"] < factor:
        raise ValueError(
            f"--region {region} of {request.fine.label} is {fine.sizes['y']} x "
            f"{fine.sizes['x']} fine pixels, smaller than one {factor} x {factor} block"
        )
    coarse = None
    if request.bias == "paired":
        product = read_precip_field(request.coarse, None, None, notes)
        coarse = regrid_to_blocks(product, fine, factor)
    if request.bias == "none":
        bias_model = BiasModel.identity()
    elif bias_model is None:
        bias_model = BiasModel()
    source = {
        "none": "user field, block mean",
        "synthetic": "user field (semi-synthetic)",
        "paired": "user field, paired product",
    }[request.bias]
    max_patches = max_patches or {}
    splits = {}
    for offset, split in enumerate(SPLITS):
        if split not in request.times:
            continue
        option = f"--{split}-times {request.times[split]}"
        selection = parse_time_selection(request.times[split], f"--{split}-times")
        frames = select_times(fine, selection, option, request.fine.label)
        coarse_frames = None
        if coarse is not None:
            coarse_frames = coarse.sel(time=frames["time"].values).values
        splits[split] = patch_pairs(
            frames.values,
            coarse_frames,
            patch,
            factor,
            bias_model,
            f"{option} of {request.fine.label}"
            + (f" (--region {','.join(f'{v:g}' for v in region)})" if region else ""),
            min_wet_fraction,
            max_patches.get(split),
            seed + offset,
            source,
        )
    return splits


def block_mean_check(pairs: DownscalingPairs) -> float:
    """Largest |input − block mean of the truth| (mm h-1): 0 for ``bias="none"`` pairs."""
    return float(np.abs(pairs.satellite - coarsen(pairs.fine, pairs.factor, "mean")).max())

"""Training and evaluation pairs for bias correction and downscaling.

A pair is a fine "truth" field and the coarse satellite-like product made from it by the
:class:`~prelib.downscaling.bias_model.BiasModel`:

* **synthetic** — fine truth from the PRE synthetic world (``prelib.sim.scene.simulate_grid_scene``
  at ``resolution_km=1``), scenes over the paper's domain with random regimes and times;
* **mrms** (label results "semi-synthetic") — real NOAA MRMS 1 km (0.01°) radar rain rates,
  coarsened to 0.1° (10 × 10 blocks land on IMERG cell centres) and degraded by the same bias
  model; frames are split by time (train on the earlier frames, test on the later ones) and
  only patches with full radar coverage and some rain are kept.

Arrays are float32 mm h-1, ``(sample, y, x)``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import xarray as xr

from prelib.conventions import RAIN_THRESHOLD
from prelib.data.precip_grids import check_factor, check_grids, check_precip, coarsen
from prelib.downscaling.bias_model import BiasModel

MRMS_FILE: str = "mrms/mrms_preciprate_20190610.nc"
"""Path of the MRMS sample inside :func:`prelib.paths.shared_data_dir`."""

MRMS_VARIABLE: str = "precip_rate"


@dataclasses.dataclass
class DownscalingPairs:
    """Fine truth and coarse biased product, sample by sample.

    Attributes
    ----------
    fine : np.ndarray, shape ``(sample, H, W)``
        Truth, mm h-1.
    satellite : np.ndarray, shape ``(sample, H / factor, W / factor)``
        Coarse biased product, mm h-1.
    factor : int
    source : str
        ``"synthetic"`` or ``"mrms (semi-synthetic)"``.
    """

    fine: np.ndarray
    satellite: np.ndarray
    factor: int
    source: str = "synthetic"

    def __post_init__(self) -> None:
        self.fine = check_precip(self.fine, "fine truth")
        self.satellite = check_precip(self.satellite, "satellite product")
        check_factor(self.factor, self.fine.shape)
        if self.fine.ndim != 3 or self.satellite.ndim != 3:
            raise ValueError(
                f"pairs must be (sample, y, x); got fine {self.fine.shape}, "
                f"satellite {self.satellite.shape}"
            )
        if len(self.fine) != len(self.satellite):
            raise ValueError(f"{len(self.fine)} fine vs {len(self.satellite)} satellite samples")
        check_grids(self.satellite.shape, self.fine.shape, self.factor)

    def __len__(self) -> int:
        return len(self.fine)

    @property
    def coarse_truth(self) -> np.ndarray:
        """Truth max-pooled to the coarse grid (PrecipDiff's low-resolution target)."""
        return coarsen(self.fine, self.factor, "max")

    @property
    def coarse_truth_mean(self) -> np.ndarray:
        """Truth block-averaged to the coarse grid (area-mean rate)."""
        return coarsen(self.fine, self.factor, "mean")

    def subset(self, index: np.ndarray | slice) -> DownscalingPairs:
        """The pairs at ``index``."""
        return DownscalingPairs(self.fine[index], self.satellite[index], self.factor, self.source)


def make_pairs(
    fine: np.ndarray,
    factor: int,
    bias_model: BiasModel | None = None,
    seed: int = 0,
    source: str = "synthetic",
) -> DownscalingPairs:
    """Degrade fine truth patches into pairs with ``bias_model`` (default :class:`BiasModel`)."""
    fine = check_precip(fine, "fine truth")
    bias_model = bias_model or BiasModel()
    satellite = bias_model.apply(fine, factor, seed=seed)
    return DownscalingPairs(fine, satellite, factor, source)


def extract_patches(
    fields: np.ndarray,
    patch: int,
    factor: int,
    min_wet_fraction: float = 0.05,
    max_patches: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Cut complete (NaN-free), rainy ``patch × patch`` tiles aligned to the coarse grid.

    Parameters
    ----------
    fields : np.ndarray, shape ``(time, Y, X)``
        Fine fields, NaN = missing.
    patch : int
        Tile side in fine pixels (a multiple of ``factor``).
    factor : int
        Tiles start at multiples of ``factor`` so coarse cells stay aligned.
    min_wet_fraction : float
        Keep tiles with at least this fraction of pixels ``>= RAIN_THRESHOLD``.
    max_patches : int, optional
        Keep a seeded random subset of this size.

    Returns
    -------
    np.ndarray, shape ``(n, patch, patch)``
    """
    check_factor(factor, (patch, patch))
    fields = np.asarray(fields, dtype=np.float32)
    _, height, width = fields.shape
    tiles = []
    for row in range(0, height - patch + 1, patch):
        for col in range(0, width - patch + 1, patch):
            tile = fields[:, row : row + patch, col : col + patch]
            complete = ~np.isnan(tile).any(axis=(1, 2))
            wet = (np.nan_to_num(tile) >= RAIN_THRESHOLD).mean(axis=(1, 2)) >= min_wet_fraction
            tiles.extend(tile[complete & wet])
    if not tiles:
        raise ValueError(
            f"no complete {patch} x {patch} tile with >= {min_wet_fraction:.0%} rain was found"
        )
    tiles = np.stack(tiles)
    if max_patches is not None and len(tiles) > max_patches:
        keep = np.sort(np.random.default_rng(seed).choice(len(tiles), max_patches, replace=False))
        tiles = tiles[keep]
    return tiles


# ------------------------------------------------------------------------------------ MRMS
def mrms_path() -> Path:
    """The MRMS sample file, or ``FileNotFoundError`` when the shared data are absent."""
    from prelib.paths import shared_data_dir

    root = shared_data_dir()
    if root is None or not (root / MRMS_FILE).is_file():
        raise FileNotFoundError(
            f"MRMS sample {MRMS_FILE} not found (set PRELIB_SHARED_DATA to the folder holding it)"
        )
    return root / MRMS_FILE


def read_mrms(
    path: str | Path | None = None,
    lat_bounds: tuple[float, float] | None = None,
    lon_bounds: tuple[float, float] | None = None,
    frames: slice | None = None,
    variable: str | None = None,
    units: str | None = None,
) -> xr.DataArray:
    """Read an MRMS-like radar precipitation file as a CF-annotated ``(time, y, x)`` DataArray.

    Parameters
    ----------
    path : path, optional
        NetCDF file with a ``(time, lat, lon)`` precipitation variable; default
        :func:`mrms_path`.
    lat_bounds, lon_bounds : (float, float), optional
        Region in degrees north / east (lon in the file's convention).
    frames : slice, optional
        Time indices.
    variable : str, optional
        Variable name; default ``precip_rate`` when present, else the file's only 2-D/3-D
        variable.
    units : str, optional
        Overrides the variable's ``units`` (see :mod:`prelib.downscaling.user_fields`).

    Returns
    -------
    xr.DataArray, float32, mm h-1
        Dims ``(time, y, x)`` with 1-D ``lat`` (as stored) and ``lon`` coordinates; NaN where
        there is no radar coverage (never 0).
    """
    from prelib.downscaling.user_fields import FieldSource, read_precip_field

    path = Path(path) if path is not None else mrms_path()
    if variable is None:
        with xr.open_dataset(path) as dataset:
            variable = MRMS_VARIABLE if MRMS_VARIABLE in dataset.data_vars else None
    out = read_precip_field(FieldSource((path,), variable, units), lat_bounds, lon_bounds)
    if frames is not None:
        out = out.isel(time=frames)
    if out.size == 0:
        raise ValueError(
            f"the region {lat_bounds}, {lon_bounds} and frames {frames} select no pixel"
        )
    out.attrs["source"] = f"radar precipitation ({path.name})"
    return out


def mrms_pairs(
    factor: int,
    patch: int,
    lat_bounds: tuple[float, float],
    lon_bounds: tuple[float, float],
    train_frames: slice,
    test_frames: slice,
    bias_model: BiasModel | None = None,
    max_patches: tuple[int | None, int | None] = (None, None),
    min_wet_fraction: float = 0.05,
    seed: int = 0,
    path: str | Path | None = None,
) -> tuple[DownscalingPairs, DownscalingPairs]:
    """Semi-synthetic (train, test) pairs from MRMS, split by time.

    The fine grid is 0.01°, so ``factor=10`` gives the 0.1° IMERG grid. ``lat_bounds`` and
    ``lon_bounds`` should start on 0.1° boundaries so blocks land on IMERG cells.
    ``max_patches`` caps the (train, test) patch counts (seeded random subsets).
    """
    field = read_mrms(path, lat_bounds, lon_bounds)
    splits = []
    for offset, frames in enumerate((train_frames, test_frames)):
        tiles = extract_patches(
            field.values[frames],
            patch,
            factor,
            min_wet_fraction,
            max_patches[offset],
            seed + offset,
        )
        pairs = make_pairs(tiles, factor, bias_model, seed + offset, "mrms (semi-synthetic)")
        splits.append(pairs)
    return splits[0], splits[1]


# ------------------------------------------------------------------------------- synthetic
def synthetic_fine_fields(
    n_scenes: int,
    size_px: int,
    seed: int = 0,
    lat_range: tuple[float, float] = (20.0, 45.0),
    lon_range: tuple[float, float] = (100.0, 135.0),
) -> np.ndarray:
    """Fine (≈1 km) precipitation scenes from the PRE synthetic world.

    Each scene is a ``simulate_grid_scene`` call at ``resolution_km=1`` (0.01° grid), whose
    ``precip_hourly`` field (hourly rain at the grid's own resolution) is the truth, over a
    random box of ``size_px`` pixels inside the given range, at a random time in the monsoon
    season, cropped to ``size_px × size_px``.

    Returns
    -------
    np.ndarray, shape ``(n_scenes, size_px, size_px)``, mm h-1
    """
    try:
        from prelib.sim.scene import VAR_PRECIP_HOURLY, simulate_grid_scene
    except ImportError as err:
        raise ValueError(
            f"the synthetic world (prelib.sim.scene.simulate_grid_scene) is not available: {err}"
        ) from None
    rng = np.random.default_rng(seed)
    # the world's 1 km grid is 0.01° in both directions; a small margin guarantees size_px
    span_deg = (size_px + 2) * 0.01
    scenes = []
    for index in range(n_scenes):
        lat0 = rng.uniform(lat_range[0], lat_range[1] - span_deg)
        lon0 = rng.uniform(lon_range[0], lon_range[1] - span_deg)
        time = np.datetime64("2021-06-01T00:00") + np.timedelta64(
            int(rng.integers(0, 92 * 24)), "h"
        )
        scene = simulate_grid_scene(
            (lat0, lat0 + span_deg),
            (lon0, lon0 + span_deg),
            time,
            seed=int(seed * 1000 + index),
            resolution_km=1.0,
            sensors=(),
        )
        # the hourly rain at the grid's own 1 km resolution: the CLDAS-like label ("precip") is a
        # 0.0625° block average and would make the "fine" truth blocky
        precip = np.asarray(scene[VAR_PRECIP_HOURLY].values, dtype=np.float32)
        if precip.shape[0] < size_px or precip.shape[1] < size_px:
            raise ValueError(
                f"synthetic scene is {precip.shape}, smaller than the requested {size_px} px"
            )
        scenes.append(precip[:size_px, :size_px])
    return check_precip(np.stack(scenes), "synthetic precip")

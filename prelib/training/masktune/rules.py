"""Block pooling of loss maps and the flagging rules of Self-MaskTune.

Pure tensor functions used by :mod:`prelib.training.masktune.tuner` (see its docstring for the
method and the references). The base grid and random masks are those of
:mod:`prelib.models.masking`. Mask convention everywhere: 1 = keep, 0 = zero the features.
"""

from __future__ import annotations

import math

import torch

from prelib.models.masking import base_grid_shape

POOLS: tuple[str, ...] = ("mean", "max")
MERGES: tuple[str, ...] = ("sample", "batch")


# ------------------------------------------------------------------------------------------
# Base grid and block pooling
# ------------------------------------------------------------------------------------------
def _cell_index(height: int, width: int, grid: tuple[int, int], cell: int, device) -> torch.Tensor:
    rows = torch.clamp(torch.arange(height, device=device) // cell, max=grid[0] - 1)
    cols = torch.clamp(torch.arange(width, device=device) // cell, max=grid[1] - 1)
    return (rows[:, None] * grid[1] + cols[None, :]).reshape(-1)


def pool_loss_map(loss_map: torch.Tensor, cell: int = 16, reduce: str = "mean") -> torch.Tensor:
    """Block-reduce per-pixel losses to the base grid, ignoring NaN.

    Parameters
    ----------
    loss_map : Tensor, shape (B, H, W)
        Per-pixel task loss; NaN where the label is missing.
    cell : int
        Pixels per base cell along each axis.
    reduce : {"mean", "max"}
        Mean or maximum of the finite losses of each cell.

    Returns
    -------
    Tensor, shape (B, h0, w0), float64
        Pooled loss; NaN for cells without a finite pixel.
    """
    if loss_map.ndim != 3:
        raise ValueError(f"loss_map must have shape (B, H, W), got {tuple(loss_map.shape)}")
    if reduce not in POOLS:
        raise ValueError(f"reduce must be one of {list(POOLS)}, got {reduce!r}")
    batch, height, width = loss_map.shape
    grid = base_grid_shape(height, width, cell)
    index = _cell_index(height, width, grid, cell, loss_map.device).expand(batch, -1)
    values = loss_map.detach().to(torch.float64).reshape(batch, -1)
    finite = torch.isfinite(values)
    n_cells = grid[0] * grid[1]
    counts = torch.zeros(batch, n_cells, dtype=torch.float64, device=values.device)
    counts.scatter_add_(1, index, finite.to(torch.float64))
    if reduce == "mean":
        sums = torch.zeros_like(counts).scatter_add_(1, index, torch.where(finite, values, 0.0))
        pooled = sums / counts.clamp(min=1.0)
    else:
        pooled = torch.full_like(counts, -math.inf)
        pooled.scatter_reduce_(1, index, torch.where(finite, values, -math.inf), reduce="amax")
    pooled = torch.where(counts > 0, pooled, torch.nan)
    return pooled.reshape(batch, *grid)


# ------------------------------------------------------------------------------------------
# Flagging rules: which cells of a sample had high loss (True = keep visible next epoch)
# ------------------------------------------------------------------------------------------
def flag_max_fraction(pooled: torch.Tensor, rho: float) -> torch.Tensor:
    """Paper Eqs. 8–9: flag cells with loss ≥ ρ · max(loss) of the sample.

    Parameters
    ----------
    pooled : Tensor, shape (B, h0, w0)
        Pooled loss, NaN = no valid pixel.
    rho : float
        ρ in (0, 1].

    Returns
    -------
    Tensor, shape (B, h0, w0), bool
        Flags; NaN cells are not flagged, and a sample with no finite cell is flagged everywhere
        (no information, so nothing is hidden).
    """
    finite = torch.isfinite(pooled)
    peak = torch.where(finite, pooled, -math.inf).amax(dim=(1, 2), keepdim=True)
    flags = finite & (pooled >= rho * peak)
    return _all_ones_where_empty(flags, finite)


def flag_quantile(
    pooled: torch.Tensor,
    mask_ratio: float,
    noise_keep: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Reference-code rule: flag cells with loss ≥ the (1 − α) quantile of the sample's cells.

    ``noise_keep`` is the probability that a flagged cell is un-flagged at random (the code's
    "random re-enabling" of 10 %). Shapes and NaN handling as :func:`flag_max_fraction`.
    """
    finite = torch.isfinite(pooled)
    flags = torch.zeros_like(finite)
    for b in range(pooled.shape[0]):
        values = pooled[b][finite[b]]
        if values.numel():
            threshold = torch.quantile(values, 1.0 - mask_ratio)
            flags[b] = finite[b] & (pooled[b] >= threshold)
    if noise_keep > 0:
        draw = torch.rand(pooled.shape, generator=generator, dtype=torch.float64)
        flags &= ~(draw.to(flags.device) < noise_keep)
    return _all_ones_where_empty(flags, finite)


def _all_ones_where_empty(flags: torch.Tensor, finite: torch.Tensor) -> torch.Tensor:
    empty = ~finite.flatten(1).any(dim=1)
    flags[empty] = True
    return flags


def merge_flags(flags: torch.Tensor, merge: str, mask_ratio: float) -> torch.Tensor:
    """Turn per-sample flags into the batch's base mask.

    Parameters
    ----------
    flags : Tensor, shape (B, h0, w0), bool
        Stored flags of the batch's samples (True = high loss last epoch).
    merge : {"sample", "batch"}
        ``"sample"``: each sample's own flags. ``"batch"``: the code's merge — per cell the count
        S of samples that did not flag it; keep cells with S ≤ the α quantile of S.
    mask_ratio : float
        α of the batch merge.

    Returns
    -------
    Tensor, shape (B, 1, h0, w0), float32
        1 = keep, 0 = mask.
    """
    if merge == "sample":
        return flags.to(torch.float32).unsqueeze(1)
    if merge != "batch":
        raise ValueError(f"merge must be one of {list(MERGES)}, got {merge!r}")
    not_flagged = (~flags).to(torch.float64).sum(dim=0)
    threshold = torch.quantile(not_flagged.flatten(), mask_ratio)
    keep = (not_flagged <= threshold).to(torch.float32)
    return keep.expand(flags.shape[0], 1, *keep.shape).contiguous()

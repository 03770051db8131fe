"""PRE-Net's binary masks: the coarse base mask, its expansion to every level, and RMKD's splits.

The one home of the base grid and of random base masks: the network (RMKD in Stage I) and
Rand-/Self-MaskTune (Stage II, :mod:`prelib.training.masktune`) both use these functions.

Convention everywhere: **1 = visible (kept), 0 = masked (features zeroed)** (prenet_reference.md
§4.3).

Base grid
---------
One base cell covers a 16 × 16 block of input pixels, the footprint of one token of the deepest
ViT level. The grid of an ``H × W`` input is ``(max(1, H // 16), max(1, W // 16))``;
Self-MaskTune (:mod:`prelib.training.masktune`) pools its losses on the same grid. The encoder
floors odd sizes at each of its four 2× down-samplings, so a 256 × 49 swath gives the reference
code's 16 × 3 grid and 256 × 256 gives 16 × 16. Rows/columns that the floor leaves over at a
finer level belong to the last cell (the mask is extended by repeating its last row/column), so
any input size ≥ 16 works.

RMKD splits
-----------
Re-Masked Knowledge Distillation (Wang et al., KDD 2025, §3.2, Fig. 3) shuffles the tokens left
visible by the α-mask and splits them into ``n`` nearly equal parts; view ``k`` keeps only part
``k``. Each view then hides ``1 − (1 − α)/n = (n + α − 1)/n`` of the tokens (0.75 for α = 0.25,
n = 3). The split is drawn independently for every sample, level and forward pass (the
reference code shares one split across the batch because its mask has batch size 1).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

BASE_CELL: int = 16
"""Input pixels per base-mask cell along each axis (the stride of the deepest token grid)."""


def base_grid_shape(height: int, width: int, cell: int = BASE_CELL) -> tuple[int, int]:
    """Base-mask grid ``(max(1, H // cell), max(1, W // cell))`` for an ``H × W`` input."""
    if height < 1 or width < 1 or cell < 1:
        raise ValueError(f"image size and cell must be positive, got {(height, width)}, {cell}")
    return max(1, height // cell), max(1, width // cell)


def random_base_mask(
    grid: tuple[int, int],
    ratio: float,
    batch: int = 1,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """A random base mask with exactly ``floor(h0 · w0 · ratio)`` zero cells per sample.

    Parameters
    ----------
    grid : (h0, w0)
        Base grid, see :func:`base_grid_shape`.
    ratio : float
        Masked fraction α in [0, 1) (paper: 0.25).
    batch : int
        Number of independent masks; 1 gives one mask shared by the batch (the reference code).
    device, generator
        Where to draw; ``generator`` makes the draw reproducible independently of the global RNG.

    Returns
    -------
    Tensor, shape (batch, 1, h0, w0), float32, values in {0, 1}
    """
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"mask ratio must lie in [0, 1), got {ratio!r}")
    cells = grid[0] * grid[1]
    n_masked = math.floor(cells * ratio)
    gen_device = generator.device if generator is not None else device
    scores = torch.rand(batch, cells, generator=generator, device=gen_device)
    order = scores.argsort(dim=1)
    mask = torch.ones(batch, cells, device=gen_device)
    mask.scatter_(1, order[:, :n_masked], 0.0)
    return mask.reshape(batch, 1, *grid).to(device or gen_device)


def check_mask(mask: torch.Tensor, batch: int, grid: tuple[int, int], name: str = "mask") -> None:
    """Raise ``ValueError`` unless ``mask`` is (1 or batch, 1, h0, w0) with values in {0, 1}."""
    if not isinstance(mask, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(mask).__name__}")
    expected = f"(1 or {batch}, 1, {grid[0]}, {grid[1]})"
    if mask.ndim != 4 or mask.shape[1] != 1 or tuple(mask.shape[-2:]) != tuple(grid):
        raise ValueError(f"{name} must have shape {expected}, got {tuple(mask.shape)}")
    if mask.shape[0] not in (1, batch):
        raise ValueError(f"{name} must have shape {expected}, got {tuple(mask.shape)}")
    if not bool(((mask == 0) | (mask == 1)).all()):
        raise ValueError(f"{name} must contain only 0 (masked) and 1 (visible)")


def expand_mask(mask: torch.Tensor, factor: int, size: tuple[int, int]) -> torch.Tensor:
    """Nearest-neighbour up-sample a base mask by ``factor`` and fit it to ``size``.

    Parameters
    ----------
    mask : Tensor, shape (B, 1, h0, w0)
    factor : int
        Feature pixels per base cell at the consumer's level (8, 4, 2, 1 for strides 2, 4, 8, 16).
    size : (h, w)
        The consumer's spatial size. Rows/columns beyond ``factor · h0`` repeat the last one
        (the floor remainder belongs to the last cell); a smaller size crops.

    Returns
    -------
    Tensor, shape (B, 1, h, w)
    """
    up = mask.repeat_interleave(factor, dim=-2).repeat_interleave(factor, dim=-1)
    up = up[..., : size[0], : size[1]]
    dh, dw = size[0] - up.shape[-2], size[1] - up.shape[-1]
    if dh > 0 or dw > 0:
        up = F.pad(up, (0, dw, 0, dh), mode="replicate")
    return up


def split_visible(mask: torch.Tensor, n_splits: int) -> torch.Tensor:
    """RMKD's shuffle-and-split: partition each sample's visible tokens into ``n_splits`` views.

    Parameters
    ----------
    mask : Tensor, shape (B, 1, h, w)
        Token-grid mask (1 = visible).
    n_splits : int
        Number of views ``n``; 1 returns ``mask`` itself as the only view.

    Returns
    -------
    Tensor, shape (n_splits, B, 1, h, w), float, values in {0, 1}
        View ``k`` keeps a random ``1/n`` of the visible tokens (sizes differ by at most one);
        the views are disjoint and their sum equals ``mask``.
    """
    if n_splits < 1:
        raise ValueError(f"n_splits must be >= 1, got {n_splits}")
    if n_splits == 1:
        return mask.unsqueeze(0).float()
    batch = mask.shape[0]
    visible = mask.reshape(batch, -1) > 0.5
    # Random rank of every visible token inside its sample; hidden tokens sort last.
    scores = torch.rand(visible.shape, device=mask.device).masked_fill(~visible, 2.0)
    rank = scores.argsort(dim=1).argsort(dim=1)
    n_visible = visible.sum(dim=1, keepdim=True).clamp(min=1)
    part = torch.div(rank * n_splits, n_visible, rounding_mode="floor")
    views = torch.stack([(part == k) & visible for k in range(n_splits)])
    return views.reshape(n_splits, *mask.shape).float()

"""Tiled inference over regions of any size with smooth, normalised blending.

A network trained on 256 × 256 patches is applied to a larger (or smaller) region by cutting
overlapping tiles, predicting them in batches and blending the predictions with a separable
window. Tiles are spread evenly (:func:`tile_starts`): the fewest tiles whose neighbours overlap
by at least the requested ``overlap``. Along each axis the window is 1 in the tile's interior, 0
on a ``margin`` of pixels at a tile edge that lies inside the region (where a convolution's zero
padding spoils the prediction), and rises as sin² (a squared-Hann ramp) across the rest of each
neighbour pair's actual overlap, so rising and falling ramps of two neighbours sum to exactly 1.
A final division by the summed weights keeps the blend weights summing to 1 at every pixel in
any layout (also the former fixed-stride one, ``layout="stride"``). Region edges are never
attenuated.

Regions smaller than a tile are reflect-padded up to the tile size and cropped back.

:func:`predict_tiled` holds the whole region in memory; :mod:`prelib.inference.engine` streams
band by band for regions up to the full disc.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

Predictor = Callable[[torch.Tensor], torch.Tensor]


TILE_LAYOUTS: tuple[str, ...] = ("even", "stride")


def tile_starts(length: int, tile: int, overlap: int, layout: str = "even") -> list[int]:
    """Start offsets of tiles of ``tile`` pixels covering ``length`` with at least ``overlap``.

    Parameters
    ----------
    length, tile, overlap : int
        Extent to cover, tile size and the smallest overlap of two neighbours (pixels).
    layout : {"even", "stride"}
        ``"even"`` (default): the fewest tiles whose neighbours overlap by at least ``overlap``,
        spread evenly from 0 to ``length - tile`` (overlaps differ by at most one pixel).
        ``"stride"``: the former layout, a fixed stride ``tile - overlap`` plus a last tile
        shifted to end at ``length`` (for a 2748-pixel disc with 256/32 it adds a 13th tile per
        axis that overlaps its neighbour by 228 pixels).

    Returns
    -------
    list of int
        Increasing starts; the first is 0 and the last ``length - tile``.
    """
    if layout not in TILE_LAYOUTS:
        raise ValueError(f"layout must be one of {list(TILE_LAYOUTS)}, got {layout!r}")
    if length <= tile:
        return [0]
    stride = tile - overlap
    if layout == "stride":
        starts = list(range(0, length - tile + 1, stride))
        if starts[-1] != length - tile:
            starts.append(length - tile)
        return starts
    count = 1 + math.ceil((length - tile) / stride)
    span = length - tile
    # floor(i · span / (count − 1)): consecutive gaps differ by at most 1 and never exceed
    # ceil(span / (count − 1)) <= stride, so every overlap is >= ``overlap``.
    return [(i * span) // (count - 1) for i in range(count)]


def tile_overlaps(starts: list[int], tile: int) -> list[int]:
    """Overlap in pixels of each pair of neighbouring tiles, ``len(starts) - 1`` values."""
    return [tile - (b - a) for a, b in itertools.pairwise(starts)]


def edge_ramp(overlap: int, margin: int = 0) -> np.ndarray:
    """Rising blend weights across an overlap of ``overlap`` pixels, shape (overlap,).

    0 on the first ``margin`` pixels, 1 on the last ``margin``, sin² in between; ``ramp[t] +
    ramp[overlap - 1 - t] == 1`` for every t (partition of unity between two neighbours).
    """
    if overlap == 0:
        return np.zeros(0)
    t = np.arange(overlap, dtype=np.float64)
    width = overlap - 2 * margin
    phase = np.clip((t - margin + 0.5) / width, 0.0, 1.0)
    return np.sin(0.5 * math.pi * phase) ** 2


def axis_window(
    tile: int,
    overlap: int,
    margin: int,
    at_start: bool,
    at_end: bool,
    end_overlap: int | None = None,
) -> np.ndarray:
    """1-D window of one tile, shape (tile,); region borders (``at_start``/``at_end``) stay 1.

    ``overlap`` is the overlap with the previous tile and ``end_overlap`` (default: the same)
    with the next one. Ramping over each neighbour pair's actual overlap makes the raw windows
    of neighbours sum to exactly 1 (up to rounding) in every even layout.
    """
    end_overlap = overlap if end_overlap is None else end_overlap
    window = np.ones(tile, dtype=np.float64)
    if overlap and not at_start:
        window[:overlap] = edge_ramp(overlap, margin)
    if end_overlap and not at_end:
        ramp = edge_ramp(end_overlap, margin)[::-1]
        window[tile - end_overlap :] = np.minimum(window[tile - end_overlap :], ramp)
    return window


def axis_windows(
    length: int, tile: int, overlap: int, margin: int, layout: str = "even"
) -> tuple[list[int], list[np.ndarray]]:
    """Tile starts along one axis and each tile's 1-D window, shapes (tile,).

    Even layouts ramp over each pair's actual overlap; the stride layout keeps the former
    windows (ramps over ``overlap``; the shifted last tile is renormalised by the weight sum).
    """
    starts = tile_starts(length, tile, overlap, layout)
    if layout == "stride":
        windows = [axis_window(tile, overlap, margin, s == 0, s + tile >= length) for s in starts]
        return starts, windows
    pairs = tile_overlaps(starts, tile)
    windows = []
    for i, start in enumerate(starts):
        before = pairs[i - 1] if i > 0 else 0
        after = pairs[i] if i < len(pairs) else 0
        windows.append(
            axis_window(tile, before, margin, i == 0, start + tile >= length, end_overlap=after)
        )
    return starts, windows


def _check_layout(tile: tuple[int, int], overlap: int, margin: int) -> None:
    if min(tile) < 1:
        raise ValueError(f"tile must be positive, got {tile}")
    if not 0 <= overlap <= min(tile) // 2:
        raise ValueError(
            f"overlap must lie in [0, min(tile) // 2 = {min(tile) // 2}], got {overlap}"
        )
    if not 0 <= 2 * margin < max(overlap, 1):
        raise ValueError(f"margin must satisfy 0 <= 2 * margin < overlap={overlap}, got {margin}")


def blend_weights(
    shape: tuple[int, int],
    tile: tuple[int, int],
    overlap: int,
    margin: int = 0,
    layout: str = "even",
) -> tuple[list[tuple[int, int]], list[np.ndarray], np.ndarray]:
    """Tile origins, raw 2-D windows and their sum over a region of ``shape`` (H, W).

    Dividing each window by the sum gives blend weights that add up to 1 at every pixel.
    """
    _check_layout(tile, overlap, margin)
    height, width = shape
    ys, wys = axis_windows(height, tile[0], overlap, margin, layout)
    xs, wxs = axis_windows(width, tile[1], overlap, margin, layout)
    origins, windows = [], []
    total = np.zeros(shape, dtype=np.float64)
    for y, wy in zip(ys, wys, strict=True):
        for x, wx in zip(xs, wxs, strict=True):
            window = np.outer(wy, wx)
            origins.append((y, x))
            windows.append(window)
            total[y : y + tile[0], x : x + tile[1]] += window
    if (total <= 0).any():
        raise ValueError(
            "tile layout leaves pixels without weight; increase overlap or lower margin"
        )
    return origins, windows, total


def predict_tiled(
    predictor: Predictor,
    image: torch.Tensor | np.ndarray,
    tile: int | tuple[int, int] = 256,
    overlap: int = 32,
    margin: int = 8,
    batch_size: int = 4,
    device: str | torch.device | None = None,
    show_progress: bool = False,
    layout: str = "even",
) -> torch.Tensor:
    """Apply ``predictor`` to overlapping tiles of ``image`` and blend the results.

    Parameters
    ----------
    predictor : callable
        ``predictor(x (B, C, h, w)) -> (B, k, h, w)``; a ``torch.nn.Module`` is put in eval mode.
    image : Tensor or ndarray, shape (C, H, W)
        Any H, W (not necessarily multiples of the tile); must be finite.
    tile : int or (int, int)
        Tile size in pixels (PRE-Net: 256).
    overlap : int
        Overlap of neighbouring tiles in pixels, at most half a tile.
    margin : int
        Pixels at interior tile edges that get zero weight (≥ the network's padding reach).
    batch_size : int
        Tiles per forward pass.
    device : str or torch.device, optional
        Where the predictor runs (default: where its parameters are, else CPU).
    show_progress : bool
        tqdm bar over batches.
    layout : {"even", "stride"}
        Tile layout (:func:`tile_starts`).

    Returns
    -------
    Tensor, shape (k, H, W), float32, on the CPU
    """
    x = torch.as_tensor(np.asarray(image) if not torch.is_tensor(image) else image).float()
    if x.ndim != 3:
        raise ValueError(f"image must have shape (C, H, W), got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError("image contains NaN or infinite values; fill or mask them before tiling")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    tile_hw = (tile, tile) if isinstance(tile, int) else tuple(tile)
    height, width = x.shape[1:]
    # Regions smaller than a tile: pad (reflect where possible) and crop back at the end.
    pad_h, pad_w = max(0, tile_hw[0] - height), max(0, tile_hw[1] - width)
    if pad_h or pad_w:
        mode = "reflect" if pad_h < height and pad_w < width else "replicate"
        x = F.pad(x[None], (0, pad_w, 0, pad_h), mode=mode)[0]
    shape = tuple(x.shape[1:])
    origins, windows, total = blend_weights(shape, tile_hw, overlap, margin, layout)

    if isinstance(predictor, torch.nn.Module):
        predictor.eval()
        if device is None:
            param = next(predictor.parameters(), None)
            device = param.device if param is not None else "cpu"
    device = torch.device(device or "cpu")
    out: torch.Tensor | None = None
    starts = range(0, len(origins), batch_size)
    for first in tqdm(starts, desc="tiles", disable=not show_progress, leave=False):
        chunk = origins[first : first + batch_size]
        batch = torch.stack([x[:, y : y + tile_hw[0], c : c + tile_hw[1]] for y, c in chunk])
        with torch.no_grad():
            pred = predictor(batch.to(device))
        pred = (
            (pred[0] if isinstance(pred, tuple | list) else pred).detach().to("cpu", torch.float64)
        )
        if pred.ndim != 4 or pred.shape[0] != len(chunk) or tuple(pred.shape[2:]) != tile_hw:
            raise ValueError(
                f"predictor must map (B, C, {tile_hw[0]}, {tile_hw[1]}) to (B, k, {tile_hw[0]}, "
                f"{tile_hw[1]}); got {tuple(pred.shape)} for a batch of {len(chunk)}"
            )
        if out is None:
            out = torch.zeros(pred.shape[1], *shape, dtype=torch.float64)
        for i, (y, c) in enumerate(chunk):
            weight = torch.from_numpy(windows[first + i])
            out[:, y : y + tile_hw[0], c : c + tile_hw[1]] += pred[i] * weight
    out /= torch.from_numpy(total)
    return out[:, :height, :width].float()

"""Cloud-patch segmentation and patch features for PERSIANN-CCS (Hong et al. 2004).

Hong, Hsu, Sorooshian & Gao (2004), "Precipitation estimation from remotely sensed imagery using
an artificial neural network cloud classification system", J. Appl. Meteor. 43, 1834–1853.

Segmentation: cloud pixels are those with Tb(10.8 µm) < 253 K. CCS separates a cloud region into
patches with an *incremental temperature threshold*: the threshold is raised step by step from
the coldest pixel; a cold region appearing on its own starts a patch, and every patch grows into
the pixels it reaches first, until 253 K — a watershed by flooding of the (lightly smoothed)
temperature field, computed level by level with vectorised labelling and geodesic dilation.

Features per patch (CCS uses coldness, geometry and texture at several thresholds): minimum and
mean Tb, log area, Tb standard deviation, mean Tb gradient magnitude, and the fractions of the
patch colder than 235 K and 220 K.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

CCS_THRESHOLD_K: float = 253.0
FEATURE_NAMES: tuple[str, ...] = (
    "tb_min",
    "tb_mean",
    "log_area",
    "tb_std",
    "gradient_mean",
    "fraction_below_235",
    "fraction_below_220",
)


def segment_cloud_patches(
    tb: np.ndarray,
    threshold: float = CCS_THRESHOLD_K,
    step: float = 1.0,
    min_core_pixels: int = 4,
    smooth_sigma: float = 1.0,
) -> np.ndarray:
    """Label the cloud patches of one image by incremental temperature thresholds.

    The threshold rises from the coldest pixel to ``threshold`` in steps of ``step`` K. At each
    level, a connected cold region that holds no patch yet starts a new patch (once it has
    ``min_core_pixels`` pixels, so that noise does not seed patches); pixels newly colder than the
    level join the patch that reaches them first by geodesic growth inside their region. Two cold
    cores joined only at a warmer level therefore stay two patches, split along the saddle.

    Parameters
    ----------
    tb : ndarray, shape (H, W)
        10.8 µm brightness temperature, K; NaN = missing (never cloud).
    threshold : float
        Cloud / no-cloud threshold, K (CCS: 253).
    step : float
        Threshold increment, K.
    min_core_pixels : int
        Smallest region that seeds a new patch before the last level.
    smooth_sigma : float
        Gaussian smoothing (pixels) of the field that orders the growth.

    Returns
    -------
    ndarray, shape (H, W), int32
        0 outside clouds, 1…n patch labels.
    """
    tb = np.asarray(tb, dtype=np.float64)
    if tb.ndim != 2:
        raise ValueError(f"tb must have shape (H, W), got {tb.shape}")
    if step <= 0:
        raise ValueError(f"step must be > 0 K, got {step}")
    cold = np.isfinite(tb) & (tb < threshold)
    labels = np.zeros(tb.shape, dtype=np.int32)
    if not cold.any():
        return labels
    filled = np.where(np.isfinite(tb), tb, threshold + 50.0)
    smooth = ndimage.gaussian_filter(filled, smooth_sigma) if smooth_sigma > 0 else filled
    cross = ndimage.generate_binary_structure(2, 1)
    levels = np.arange(np.floor(smooth[cold].min()) + step, threshold, step).tolist()
    next_label = 1
    for level in [*levels, np.inf]:
        final = level == np.inf
        region = cold & (smooth < level) if not final else cold
        components, n = ndimage.label(region, structure=cross)
        if n == 0:
            continue
        holds_patch = np.zeros(n + 1, dtype=bool)
        holds_patch[components[labels > 0]] = True
        # Grow existing patches into the new pixels of their regions (geodesic, 4-connected).
        pending = region & (labels == 0) & holds_patch[components]
        while pending.any():
            grown = ndimage.grey_dilation(labels, footprint=cross)
            take = pending & (grown > 0)
            if not take.any():
                break
            labels[take] = grown[take]
            pending &= ~take
        # Regions without a patch seed new ones (any size at the last level).
        sizes = np.bincount(components.ravel(), minlength=n + 1)
        fresh = np.flatnonzero(~holds_patch & (sizes >= (1 if final else min_core_pixels)))
        fresh = fresh[fresh > 0]
        if fresh.size:
            new_ids = np.zeros(n + 1, dtype=np.int32)
            new_ids[fresh] = np.arange(next_label, next_label + fresh.size)
            next_label += fresh.size
            seeded = new_ids[components]
            labels = np.where(seeded > 0, seeded, labels)
    return labels


def patch_features(tb: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Features of every patch of one image.

    Parameters
    ----------
    tb : ndarray, shape (H, W), K
    labels : ndarray, shape (H, W), int
        From :func:`segment_cloud_patches`.

    Returns
    -------
    ndarray, shape (n_patches, len(FEATURE_NAMES)), float64
        Row i describes label i + 1.
    """
    n = int(labels.max())
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)))
    flat = labels.ravel()
    inside = flat > 0
    index = flat[inside] - 1
    values = np.asarray(tb, dtype=np.float64).ravel()[inside]
    gy, gx = np.gradient(np.where(np.isfinite(tb), tb, CCS_THRESHOLD_K))
    gradient = np.hypot(gy, gx).ravel()[inside]
    count = np.bincount(index, minlength=n).astype(np.float64)
    mean = np.bincount(index, values, n) / count
    var = np.maximum(np.bincount(index, values**2, n) / count - mean**2, 0.0)
    tb_min = np.full(n, np.inf)
    np.minimum.at(tb_min, index, values)
    return np.column_stack(
        [
            tb_min,
            mean,
            np.log(count),
            np.sqrt(var),
            np.bincount(index, gradient, n) / count,
            np.bincount(index, (values < 235.0).astype(float), n) / count,
            np.bincount(index, (values < 220.0).astype(float), n) / count,
        ]
    )

"""Figures of training and skill: loss curves, binary masks, wavelet bands and scatter density
(skill by rain intensity: :func:`prelib.plotting.skill.plot_intensity_skill`).

These functions only draw: they take histories, arrays and scores computed elsewhere (the
trainer's ``TrainingResult.history``, :func:`prelib.models.masking.split_visible`,
:func:`prelib.models.wavelet.haar_dwt2`, predictions), so plotting never imports training.
Each returns a ``matplotlib.figure.Figure``; save it with :func:`prelib.notebook.save_figure`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from prelib.conventions import RAIN_THRESHOLD, UNITS_PRECIP


def _figure(nrows: int, ncols: int, width: float, height: float):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
    return fig, axes


def plot_loss_curves(
    histories: Mapping[str, Sequence[Mapping[str, float]]],
    keys: Sequence[str] = ("train_loss", "val_loss"),
    title: str | None = None,
    log_scale: bool = False,
):
    """Loss (or any logged quantity) against epoch for one or more training runs.

    Parameters
    ----------
    histories : mapping of str to sequence of dict
        Run label → one row per epoch, as in ``TrainingResult.history`` (``epoch`` plus logged
        numbers). Rows without a key (e.g. epochs without validation) are skipped for that key.
    keys : sequence of str
        Quantities to draw, one panel each (e.g. ``train_loss``, ``val_loss``).
    title : str, optional
        Figure title.
    log_scale : bool
        Logarithmic y axis (useful when losses span decades).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``histories`` or ``keys`` is empty, or no run logged any of ``keys``.
    """
    from matplotlib.ticker import MaxNLocator

    if not histories:
        raise ValueError("histories must name at least one run, got none")
    if not keys:
        raise ValueError("keys must name at least one logged quantity, got none")
    fig, axes = _figure(1, len(keys), 4.2 * len(keys), 3.4)
    drawn, last_epoch = 0, 1
    for ax, key in zip(axes[0], keys, strict=True):
        for label, rows in histories.items():
            points = [
                (row.get("epoch", i + 1), row[key])
                for i, row in enumerate(rows)
                if key in row and row[key] is not None and math.isfinite(row[key])
            ]
            if points:
                epochs, values = zip(*points, strict=True)
                ax.plot(epochs, values, marker="o", ms=3, label=label)
                drawn, last_epoch = drawn + 1, max(last_epoch, *epochs)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.set_ylabel(key.replace("_", " "))
        ax.set_title(key.replace("_", " "), fontsize=10)
        if log_scale:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=8)
    if drawn == 0:
        raise ValueError(f"no run logged any of {list(keys)}")
    for ax in axes[0]:
        # Whole epochs with half an epoch of margin: a one-epoch run gets one tick, not a
        # crowd of fractional ones around it.
        ax.set_xlim(0.5, last_epoch + 0.5)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_masks(
    masks: Mapping[str, np.ndarray], title: str | None = None, ncols: int = 4, cmap: str = "gray"
):
    """Binary token-grid masks side by side (1 = visible, drawn light; 0 = masked, dark).

    Used for RMKD's split views (:func:`prelib.models.masking.split_visible`) and Self-MaskTune's
    masks over epochs (:class:`prelib.training.masktune.MaskStore`).

    Parameters
    ----------
    masks : mapping of str to ndarray, each shape (h, w)
        Panel title → mask on the token grid (values in [0, 1]).
    title : str, optional
        Figure title.
    ncols : int
        Panels per row.
    cmap : str
        Matplotlib colormap.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If there is no mask, a mask is not 2-D, or it holds values outside [0, 1] or NaN.
    """
    if not masks:
        raise ValueError("masks must hold at least one (h, w) array, got none")
    arrays = {}
    for name, mask in masks.items():
        array = np.asarray(mask, dtype=float)
        if array.ndim != 2:
            raise ValueError(f"mask {name!r} must be 2-D (h, w), got shape {array.shape}")
        if not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 1:
            raise ValueError(f"mask {name!r} must hold finite values in [0, 1]")
        arrays[name] = array
    ncols = max(1, min(ncols, len(arrays)))
    nrows = math.ceil(len(arrays) / ncols)
    first = next(iter(arrays.values()))
    aspect = first.shape[0] / max(first.shape[1], 1)
    fig, axes = _figure(nrows, ncols, 2.6 * ncols, 2.6 * nrows * min(max(aspect, 0.5), 3.0) + 0.4)
    for ax in axes.flat[len(arrays) :]:
        ax.set_visible(False)
    for ax, (name, array) in zip(axes.flat, arrays.items(), strict=False):
        ax.imshow(array, cmap=cmap, vmin=0, vmax=1, interpolation="nearest", aspect="auto")
        ax.set_title(f"{name}\nvisible {array.mean():.0%}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_wavelet_bands(
    image: np.ndarray,
    bands: Mapping[str, np.ndarray],
    image_title: str = "input",
    title: str | None = None,
    image_units: str = "",
):
    """An image and its one-level wavelet sub-bands (approximation and details).

    Parameters
    ----------
    image : ndarray, shape (H, W)
        The transformed field (e.g. a feature channel or the 10.8 µm brightness temperature, K).
    bands : mapping of str to ndarray, each shape (ceil(H/2), ceil(W/2))
        Sub-band name → coefficients, e.g. ``{"LL": ll, "LH": lh, "HL": hl, "HH": hh}`` from
        :func:`prelib.models.wavelet.haar_dwt2`. Detail bands are drawn with a symmetric
        diverging scale clipped at the 99th percentile of ``|band|``; a band named ``LL`` with
        the image's colour map.
    image_title : str
        Title of the first panel.
    title : str, optional
        Figure title.
    image_units : str
        Colour-bar label of the image panel.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``image`` or a band is not 2-D, or ``bands`` is empty.
    """
    import matplotlib.pyplot as plt

    image = np.asarray(image, dtype=float)
    if image.ndim != 2:
        raise ValueError(f"image must be 2-D (H, W), got shape {image.shape}")
    if not bands:
        raise ValueError("bands must hold at least one sub-band, got none")
    panels = len(bands) + 1
    fig, axes = _figure(1, panels, 3.0 * panels, 3.4)
    shown = axes[0][0].imshow(image, cmap="viridis", interpolation="nearest", aspect="auto")
    plt.colorbar(shown, ax=axes[0][0], shrink=0.8).set_label(image_units)
    axes[0][0].set_title(image_title, fontsize=9)
    for ax, (name, band) in zip(axes[0][1:], bands.items(), strict=True):
        band = np.asarray(band, dtype=float)
        if band.ndim != 2:
            raise ValueError(f"band {name!r} must be 2-D, got shape {band.shape}")
        if name.upper() == "LL":
            shown = ax.imshow(band, cmap="viridis", interpolation="nearest", aspect="auto")
        else:
            # A robust limit: padding at the borders can make a few coefficients much larger
            # than the interior structure that the panel is meant to show.
            limit = float(np.nanpercentile(np.abs(band), 99)) or float(np.nanmax(np.abs(band)))
            limit = limit or 1.0
            shown = ax.imshow(
                band,
                cmap="RdBu_r",
                vmin=-limit,
                vmax=limit,
                interpolation="nearest",
                aspect="auto",
            )
        plt.colorbar(shown, ax=ax, shrink=0.8)
        ax.set_title(f"{name} (energy {np.nanmean(band**2):.3g})", fontsize=9)
    for ax in axes[0]:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _pairs(pred, truth, valid) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred, dtype=float)
    truth = np.asarray(truth, dtype=float)
    if pred.shape != truth.shape:
        raise ValueError(
            f"pred and truth must have the same shape, got {pred.shape} and {truth.shape}"
        )
    keep = np.isfinite(pred) & np.isfinite(truth)
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != truth.shape:
            raise ValueError(f"valid must have shape {truth.shape}, got {valid.shape}")
        keep &= valid
    if not keep.any():
        raise ValueError("no valid, finite (pred, truth) pixel to plot")
    return pred[keep], truth[keep]


def plot_scatter_density(
    pred: np.ndarray,
    truth: np.ndarray,
    valid: np.ndarray | None = None,
    title: str | None = None,
    max_rate: float = 64.0,
    bins: int = 60,
    ax=None,
    colorbar: bool = True,
):
    """Density of retrieved against true rain rate on log axes (pixels where either ≥ 0.1).

    Parameters
    ----------
    pred, truth : ndarray, same shape (any)
        Rain rates in mm h-1; NaN pixels are dropped.
    valid : ndarray of bool, optional
        Pixels to use (same shape).
    title : str, optional
        Axes title (the number of pixels and their correlation are appended).
    max_rate : float
        Upper axis limit, mm h-1.
    bins : int
        Logarithmic bins per axis.
    ax : matplotlib Axes, optional
        Draw into this axes (default: a new figure).
    colorbar : bool
        Add the pixel-count colour bar (panels sharing one bar pass ``False``).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        On shape mismatch or when no pixel is wet in either field.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    pred, truth = _pairs(pred, truth, valid)
    wet = (pred >= RAIN_THRESHOLD) | (truth >= RAIN_THRESHOLD)
    if not wet.any():
        raise ValueError("no pixel is wet (>= 0.1 mm/h) in either field")
    pred, truth = pred[wet], truth[wet]
    corr = float(np.corrcoef(pred, truth)[0, 1]) if pred.size > 1 and pred.std() > 0 else np.nan
    edges = np.geomspace(RAIN_THRESHOLD / 2, max_rate, bins + 1)
    clipped_pred = np.clip(pred, edges[0], edges[-1])
    clipped_truth = np.clip(truth, edges[0], edges[-1])
    if ax is None:
        fig, axes = _figure(1, 1, 4.6, 4.0)
        ax = axes[0][0]
    else:
        fig = ax.figure
    _, _, _, image = ax.hist2d(
        clipped_truth, clipped_pred, bins=[edges, edges], norm=LogNorm(), cmap="magma_r"
    )
    if colorbar:
        plt.colorbar(image, ax=ax, shrink=0.85).set_label("pixels")
    ax.plot(edges, edges, color="k", lw=0.8, ls="--", label="1:1")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"true rate ({UNITS_PRECIP}); < {edges[0]:g} at the edge")
    ax.set_ylabel(f"retrieved rate ({UNITS_PRECIP}); < {edges[0]:g} at the edge")
    # Rates below the lowest bin (e.g. exact zeros) are drawn in the edge bins, not dropped.
    label = f"n={pred.size:,}, r={corr:.2f}" if np.isfinite(corr) else f"n={pred.size:,}, r n/a"
    ax.set_title(f"{title}\n{label}" if title else label, fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    return fig

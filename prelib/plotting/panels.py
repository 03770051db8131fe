"""What each sensor sees: side-by-side panels of one scene's IR, PMW, PR and label.

These are image-space panels (scan × ray or y × x), not maps; maps live in
:mod:`prelib.plotting.maps`. Colour scales are fixed physical ranges so that panels of different
scenes compare: IR 190-310 K (cold cloud tops bright), PMW 150-310 K, reflectivity 12-55 dBZ.
"""

from __future__ import annotations

import numpy as np

from prelib.conventions import (
    AGRI_WINDOW_CHANNEL,
    DIM_IR_CHANNEL,
    DIM_PMW_CHANNEL,
    UNITS_BT,
    UNITS_REFLECTIVITY,
    VAR_IR,
    VAR_PMW,
    VAR_PR,
    VAR_PRECIP,
)
from prelib.plotting.colormaps import precip_cmap_norm, precip_colorbar

IR_RANGE_K = (190.0, 310.0)
PMW_RANGE_K = (150.0, 310.0)
DBZ_RANGE = (12.0, 55.0)


def _panel(ax, values, title, cmap, vmin, vmax, units):
    import matplotlib.pyplot as plt

    image = ax.imshow(
        values, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest"
    )
    plt.colorbar(image, ax=ax, shrink=0.85).set_label(units)
    ax.set_title(title, fontsize=9)
    if hasattr(values, "dims") and values.ndim == 2:
        ax.set_ylabel(values.dims[0])
        ax.set_xlabel(values.dims[1])
    return image


def plot_modalities(scene, ir_channel: str = AGRI_WINDOW_CHANNEL, pmw_channel: str = "89.0V"):
    """Panels of every modality a scene carries, plus a radar cross-section when PR is present.

    Parameters
    ----------
    scene : xarray.Dataset
        A scene in prelib's schema: ``ir`` (ir_channel, a, b) K; optionally ``pmw``
        (pmw_channel, a, b) K and ``pr`` (bin, a, b) dBZ; ``precip`` (a, b) mm h-1. ``(a, b)`` is
        (scan, ray) or (y, x).
    ir_channel, pmw_channel : str
        Which IR / PMW channel to show (default: the 10.8 µm window and 89 GHz V, where ice
        scattering shows).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if VAR_PRECIP not in scene:
        raise ValueError("the scene has no 'precip' label to show")
    has_pmw, has_pr = VAR_PMW in scene, VAR_PR in scene
    n = 2 + has_pmw + 2 * has_pr
    fig, axes = plt.subplots(1, n, figsize=(2.9 * n, 5.2), constrained_layout=True)
    axes = list(np.atleast_1d(axes))
    ir = scene[VAR_IR].sel({DIM_IR_CHANNEL: ir_channel})
    _panel(axes.pop(0), ir, f"IR {ir_channel} ({UNITS_BT})", "gray_r", *IR_RANGE_K, UNITS_BT)
    if has_pmw:
        pmw = scene[VAR_PMW].sel({DIM_PMW_CHANNEL: pmw_channel})
        _panel(axes.pop(0), pmw, f"PMW {pmw_channel} GHz", "viridis", *PMW_RANGE_K, UNITS_BT)
    if has_pr:
        pr = scene[VAR_PR]
        column_max = pr.max("bin", skipna=True)
        _panel(
            axes.pop(0),
            column_max,
            "PR column-max reflectivity",
            "turbo",
            *DBZ_RANGE,
            UNITS_REFLECTIVITY,
        )
    cmap, norm = precip_cmap_norm()
    ax = axes.pop(0)
    ax.set_facecolor("#f0f0f0")
    image = ax.imshow(
        np.asarray(scene[VAR_PRECIP]), cmap=cmap, norm=norm, aspect="auto", interpolation="nearest"
    )
    precip_colorbar(image, ax)
    ax.set_title("hourly label (mm h-1)", fontsize=9)
    if has_pr:
        ax = axes.pop(0)
        plot_radar_cross_section(scene, ax=ax)
    fig.suptitle(_scene_title(scene), fontsize=10)
    return fig


def plot_radar_cross_section(scene, ray: int | None = None, ax=None):
    """Vertical reflectivity (dBZ) along the scan direction at one ray (default: the most echoes).

    The bright band of stratiform rain shows as a thin enhanced layer near the 0 °C level;
    convective columns reach high with no band.
    """
    import matplotlib.pyplot as plt

    pr = scene[VAR_PR]
    dims = [d for d in pr.dims if d != "bin"]
    across = dims[1]
    if ray is None:  # the ray with the most detected bins shows the most structure
        ray = int(np.asarray(pr.notnull().sum(("bin", dims[0]))).argmax())
    section = pr.isel({across: ray}).transpose("bin", dims[0])
    heights_km = np.asarray(scene["bin_height"]) / 1000.0 if "bin_height" in scene.coords else None
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    extent = None
    if heights_km is not None:
        extent = (0, section.shape[1], float(heights_km[-1]), float(heights_km[0]))
    image = ax.imshow(
        np.asarray(section),
        cmap="turbo",
        vmin=DBZ_RANGE[0],
        vmax=DBZ_RANGE[1],
        aspect="auto",
        extent=extent,
        interpolation="nearest",
    )
    if heights_km is not None:
        ax.set_ylim(0, 15)
        ax.set_ylabel("height (km)")
    ax.set_xlabel(dims[0])
    ax.set_title(f"PR cross-section, {across} {ray}", fontsize=9)
    plt.colorbar(image, ax=ax, shrink=0.85).set_label(UNITS_REFLECTIVITY)
    return ax


def _scene_title(scene) -> str:
    parts = []
    if "regime" in scene.attrs:
        parts.append(f"{scene.attrs['regime']} scene")
    if "time" in scene.coords and scene["time"].size == 1:
        parts.append(np.datetime_as_string(scene["time"].values, unit="m") + " UTC")
    if "lat" in scene.coords:
        lat, lon = np.asarray(scene["lat"]), np.asarray(scene["lon"])
        parts.append(
            f"{np.nanmin(lat):.1f}-{np.nanmax(lat):.1f}°N, "
            f"{np.nanmin(lon):.1f}-{np.nanmax(lon):.1f}°E"
        )
    return " — ".join(parts)


def plot_regime_gallery(scenes: dict, ir_channel: str = AGRI_WINDOW_CHANNEL):
    """IR window channel above the hourly label for one scene of each regime.

    Parameters
    ----------
    scenes : dict[str, xarray.Dataset]
        Regime name → scene with ``ir`` (ir_channel, a, b) K and ``precip`` (a, b) mm h-1.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if not scenes:
        raise ValueError("no scenes to show")
    n = len(scenes)
    fig, axes = plt.subplots(2, n, figsize=(3.2 * n, 7.5), constrained_layout=True, squeeze=False)
    cmap, norm = precip_cmap_norm()
    for column, (name, scene) in enumerate(scenes.items()):
        ir = scene[VAR_IR].sel({DIM_IR_CHANNEL: ir_channel})
        _panel(axes[0, column], ir, f"{name}: IR {ir_channel}", "gray_r", *IR_RANGE_K, UNITS_BT)
        ax = axes[1, column]
        ax.set_facecolor("#f0f0f0")
        image = ax.imshow(
            np.asarray(scene[VAR_PRECIP]),
            cmap=cmap,
            norm=norm,
            aspect="auto",
            interpolation="nearest",
        )
        precip_colorbar(image, ax)
        wet = float((np.asarray(scene[VAR_PRECIP]) >= 0.1).mean())
        ax.set_title(f"{name}: hourly label, {100 * wet:.0f} % wet", fontsize=9)
    return fig

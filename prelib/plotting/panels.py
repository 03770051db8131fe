"""What each sensor sees: side-by-side panels of one scene's IR, PMW, PR and label.

Scenes with ``lat``/``lon`` are drawn where they are, on offline Cartopy maps (coastline and
borders of :mod:`prelib.plotting.maps`) with degree labels, so a swath shows as the tilted strip
it is; scenes without geolocation fall back to image space (scan × ray or y × x). Colour scales
are fixed physical ranges so that panels of different scenes compare: IR 190-310 K (cold cloud
tops bright), PMW 150-310 K, reflectivity 12-55 dBZ. Panels are lettered (a), (b), …
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
from prelib.plotting.layout import add_panel_letters

IR_RANGE_K = (190.0, 310.0)
PMW_RANGE_K = (150.0, 310.0)
DBZ_RANGE = (12.0, 55.0)


def _has_geolocation(scene) -> bool:
    return "lat" in scene.coords and "lon" in scene.coords and scene["lat"].ndim == 2


def _extent(scene, pad: float = 0.3) -> tuple[tuple[float, float], tuple[float, float]]:
    lat, lon = np.asarray(scene["lat"]), np.asarray(scene["lon"])
    return (
        (float(np.nanmin(lat)) - pad, float(np.nanmax(lat)) + pad),
        (float(np.nanmin(lon)) - pad, float(np.nanmax(lon)) + pad),
    )


def _axes(fig, shape, index, scene, left_labels=True):
    """Subplot ``index`` (1-based) of ``shape``: a map around the scene when it is geolocated."""
    if not _has_geolocation(scene):
        return fig.add_subplot(*shape, index)
    import cartopy.crs as ccrs

    from prelib.plotting.maps import add_land_and_coast

    ax = fig.add_subplot(*shape, index, projection=ccrs.PlateCarree())
    lat_bounds, lon_bounds = _extent(scene)
    ax.set_extent([*lon_bounds, *lat_bounds], crs=ccrs.PlateCarree())
    add_land_and_coast(ax, lat_bounds, lon_bounds, left_labels=left_labels, label_size=7)
    return ax


def _draw(ax, scene, values, **style):
    """Draw ``values`` (a, b) on a map axes (pcolormesh at lat/lon) or as an image."""
    values = np.ma.masked_invalid(np.asarray(values, dtype="float32"))
    if hasattr(ax, "projection"):
        import cartopy.crs as ccrs

        return ax.pcolormesh(
            np.asarray(scene["lon"]),
            np.asarray(scene["lat"]),
            values,
            shading="auto",
            transform=ccrs.PlateCarree(),
            zorder=2,
            **style,
        )
    return ax.imshow(values, aspect="auto", interpolation="nearest", **style)


def _panel(ax, scene, values, title, cmap, vmin, vmax, label, colorbar=True):
    import matplotlib.pyplot as plt

    image = _draw(ax, scene, values, cmap=cmap, vmin=vmin, vmax=vmax)
    if colorbar:
        plt.colorbar(image, ax=ax, shrink=0.85).set_label(label)
    ax.set_title(title, fontsize=9)
    if not hasattr(ax, "projection") and hasattr(values, "dims") and values.ndim == 2:
        ax.set_ylabel(values.dims[0])
        ax.set_xlabel(values.dims[1])
    return image


def _ir_label(channel: str) -> str:
    from prelib.conventions import AGRI_IR_CHANNELS, AGRI_IR_WAVELENGTHS_UM

    if channel in AGRI_IR_CHANNELS:
        wavelength = AGRI_IR_WAVELENGTHS_UM[AGRI_IR_CHANNELS.index(channel)]
        return f"IR {wavelength:g} µm ({channel})"
    return f"IR {channel}"


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
    fig = plt.figure(figsize=(3.1 * n, 5.6), constrained_layout=True)
    shape = (1, n)
    panels = []
    ir = scene[VAR_IR].sel({DIM_IR_CHANNEL: ir_channel})
    ax = _axes(fig, shape, 1, scene)
    label = _ir_label(ir_channel)
    _panel(ax, scene, ir, label, "gray_r", *IR_RANGE_K, f"{label} ({UNITS_BT})")
    panels.append(ax)
    if has_pmw:
        pmw = scene[VAR_PMW].sel({DIM_PMW_CHANNEL: pmw_channel})
        ax = _axes(fig, shape, len(panels) + 1, scene, left_labels=False)
        label = f"PMW {pmw_channel} GHz"
        _panel(ax, scene, pmw, label, "viridis", *PMW_RANGE_K, f"{label} ({UNITS_BT})")
        panels.append(ax)
    if has_pr:
        column_max = scene[VAR_PR].max("bin", skipna=True)
        ax = _axes(fig, shape, len(panels) + 1, scene, left_labels=False)
        _panel(
            ax,
            scene,
            column_max,
            "PR column-max reflectivity",
            "turbo",
            *DBZ_RANGE,
            f"reflectivity ({UNITS_REFLECTIVITY})",
        )
        panels.append(ax)
    cmap, norm = precip_cmap_norm()
    ax = _axes(fig, shape, len(panels) + 1, scene, left_labels=False)
    if not hasattr(ax, "projection"):
        ax.set_facecolor("#f0f0f0")
    image = _draw(ax, scene, scene[VAR_PRECIP], cmap=cmap, norm=norm)
    precip_colorbar(image, ax)
    ax.set_title("hourly label (mm h-1)", fontsize=9)
    panels.append(ax)
    if has_pr:
        ax = fig.add_subplot(*shape, len(panels) + 1)
        plot_radar_cross_section(scene, ax=ax, colorbar=False)  # same dBZ scale as the PR map
        panels.append(ax)
    add_panel_letters(panels)
    fig.suptitle(_scene_title(scene), fontsize=10)
    return fig


def plot_radar_cross_section(scene, ray: int | None = None, ax=None, colorbar: bool = True):
    """Vertical reflectivity (dBZ) along the scan direction at one ray (default: the most echoes).

    The bright band of stratiform rain shows as a thin enhanced layer near the 0 °C level;
    convective columns reach high with no band. ``colorbar=False`` leaves the dBZ colour bar to
    a neighbouring panel on the same scale.
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
    ax.set_xlabel(f"{dims[0]} (along-track index)" if dims[0] == "scan" else dims[0])
    ax.set_title(f"PR cross-section, {across} {ray}", fontsize=9)
    if colorbar:
        plt.colorbar(image, ax=ax, shrink=0.85).set_label(f"reflectivity ({UNITS_REFLECTIVITY})")
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
    fig = plt.figure(figsize=(3.2 * n + 1.2, 8.0), constrained_layout=True)
    cmap, norm = precip_cmap_norm()
    top, bottom = [], []
    ir_image = rain_image = None
    label = _ir_label(ir_channel)
    for column, (name, scene) in enumerate(scenes.items()):
        ir = scene[VAR_IR].sel({DIM_IR_CHANNEL: ir_channel})
        ax = _axes(fig, (2, n), column + 1, scene, left_labels=column == 0)
        ir_image = _panel(ax, scene, ir, f"{name}: {label}", "gray_r", *IR_RANGE_K, "", False)
        top.append(ax)
        ax = _axes(fig, (2, n), n + column + 1, scene, left_labels=column == 0)
        if not hasattr(ax, "projection"):
            ax.set_facecolor("#f0f0f0")
        rain_image = _draw(ax, scene, scene[VAR_PRECIP], cmap=cmap, norm=norm)
        wet = float((np.asarray(scene[VAR_PRECIP]) >= 0.1).mean())
        ax.set_title(f"{name}: hourly label, {100 * wet:.0f} % wet", fontsize=9)
        bottom.append(ax)
    fig.colorbar(ir_image, ax=top, shrink=0.85).set_label(f"{label} ({UNITS_BT})")
    precip_colorbar(rain_image, bottom)
    add_panel_letters(top + bottom)
    return fig

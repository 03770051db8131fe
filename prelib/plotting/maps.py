"""Offline Cartopy maps of precipitation with land, coastlines, terrain and gridlines.

Natural Earth downloads are unavailable offline (``ax.coastlines()`` fails when the figure is
drawn), so land and coastline come from data installed with pip: landmetrics' 0.1° global
distance-to-land grid (km, negative over land; GSHHG-derived, CC BY 4.0). The land fill is
``distance < 0`` and the coastline is its zero contour. Country borders come from a small file
shipped with prelib (``plotting/data/borders_east_asia.npz``, 137 KiB): the land borders of
Natural Earth's 1:10m admin-0 countries (public domain) over 15°S–80°N, 40–180°E, converted by
``plotting/data/make_borders.py``. Nothing is downloaded when a map is drawn.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from prelib.conventions import UNITS_PRECIP
from prelib.plotting.colormaps import precip_cmap_norm, precip_colorbar
from prelib.plotting.layout import add_panel_letters

LAND_COLOUR = "#ece6d6"
SEA_COLOUR = "#f4f8fb"
COAST_COLOUR = "#4d4d4d"
BORDER_COLOUR = "#6b6b6b"
BORDERS_FILE = Path(__file__).parent / "data" / "borders_east_asia.npz"


def _require_cartopy():
    try:
        import cartopy.crs as ccrs
    except ImportError as err:  # pragma: no cover - exercised only without the maps extra
        raise ImportError("maps need cartopy and landmetrics: pip install 'prelib[maps]'") from err
    return ccrs


@lru_cache(maxsize=1)
def _distance_to_land_file() -> Path:
    try:
        import landmetrics
    except ImportError as err:  # pragma: no cover
        raise ImportError("maps need landmetrics: pip install 'prelib[maps]'") from err
    path = Path(landmetrics.__file__).parent / "data" / "distance_to_land_0.1deg_gt0km2.nc"
    if not path.is_file():
        raise FileNotFoundError(f"landmetrics' distance-to-land grid is missing at {path}")
    return path


def distance_to_land(lat_bounds: tuple[float, float], lon_bounds: tuple[float, float]):
    """Distance to land (km, negative over land) on the 0.1° grid covering a box.

    Parameters
    ----------
    lat_bounds, lon_bounds : (float, float)
        Box in degrees (longitudes in [-180, 180]).

    Returns
    -------
    xarray.DataArray
        (lat, lon) distance in km.
    """
    import xarray as xr

    (lat0, lat1), (lon0, lon1) = sorted(lat_bounds), sorted(lon_bounds)
    with xr.open_dataset(_distance_to_land_file()) as ds:
        box = ds["distance_to_land"].sel(
            lat=slice(lat0 - 0.2, lat1 + 0.2), lon=slice(lon0 - 0.2, lon1 + 0.2)
        )
        return box.astype("float32").load()


@lru_cache(maxsize=1)
def country_borders() -> np.ndarray:
    """Land borders between countries, float32 (2, n): longitude and latitude rows in degrees,
    NaN between lines (Natural Earth 1:10m, 15°S–80°N, 40–180°E; see the module docstring)."""
    if not BORDERS_FILE.is_file():
        raise FileNotFoundError(f"prelib's country-border file is missing at {BORDERS_FILE}")
    with np.load(BORDERS_FILE) as data:
        return data["lonlat"]


def add_borders(ax, lat_bounds, lon_bounds) -> None:
    """Draw the country borders inside a box on a PlateCarree axes (offline)."""
    ccrs = _require_cartopy()
    lon, lat = country_borders()
    (lat0, lat1), (lon0, lon1) = sorted(lat_bounds), sorted(lon_bounds)
    near = (lat > lat0 - 2) & (lat < lat1 + 2) & (lon > lon0 - 2) & (lon < lon1 + 2)
    breaks = np.flatnonzero(np.isnan(lon))
    segments = [
        np.column_stack([lon[a:b], lat[a:b]])[near[a:b]]
        for a, b in zip(np.r_[0, breaks + 1], np.r_[breaks, lon.size], strict=True)
    ]
    segments = [seg for seg in segments if len(seg) >= 2]
    if not segments:
        return
    from matplotlib.collections import LineCollection

    ax.add_collection(
        LineCollection(
            segments,
            colors=BORDER_COLOUR,
            linewidths=0.6,
            linestyles=(0, (4, 1.5)),
            transform=ccrs.PlateCarree()._as_mpl_transform(ax),
            zorder=3,
        )
    )


def _lat_lon(field):
    lat, lon = np.asarray(field["lat"]), np.asarray(field["lon"])
    if lat.ndim == 1 and lon.ndim == 1:
        lon, lat = np.meshgrid(lon, lat)
    if lat.shape != field.shape[-2:]:
        raise ValueError(f"lat/lon shape {lat.shape} does not match the field {field.shape[-2:]}")
    return lat, lon


def add_land_and_coast(
    ax,
    lat_bounds,
    lon_bounds,
    left_labels: bool = True,
    bottom_labels: bool = True,
    label_size: float = 8,
) -> None:
    """Fill land, draw the coastline (offline) and labelled gridlines on a PlateCarree axes.

    ``left_labels`` / ``bottom_labels`` switch the latitude / longitude labels (panels inside a
    grid of maps leave them to the outer panels, so that labels never run into a neighbour).
    """
    ccrs = _require_cartopy()
    dist = distance_to_land(lat_bounds, lon_bounds)
    ax.set_facecolor(SEA_COLOUR)
    transform = ccrs.PlateCarree()
    lon, lat = dist["lon"].values, dist["lat"].values
    ax.contourf(
        lon,
        lat,
        dist.values < 0,
        levels=[0.5, 1.5],
        colors=[LAND_COLOUR],
        transform=transform,
        zorder=0,
    )
    ax.contour(
        lon,
        lat,
        dist.values,
        levels=[0.0],
        colors=COAST_COLOUR,
        linewidths=0.6,
        transform=transform,
        zorder=3,
    )
    add_borders(ax, lat_bounds, lon_bounds)
    _degree_grid(ax, lat_bounds, lon_bounds, left_labels, bottom_labels, label_size)


def degree_ticks(bounds: tuple[float, float], n: int = 5) -> np.ndarray:
    """Round degree values (steps of 1, 2, 2.5, 5 … × 10^k) about ``n`` of them, inside
    ``bounds`` and not within 4 % of its ends (a label there would run past the frame)."""
    from matplotlib.ticker import MaxNLocator

    lo, hi = sorted(float(v) for v in bounds)
    margin = 0.04 * (hi - lo)
    ticks = MaxNLocator(nbins=n, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    return ticks[(ticks >= lo + margin) & (ticks <= hi - margin)]


def _degree_grid(ax, lat_bounds, lon_bounds, left_labels, bottom_labels, label_size) -> None:
    """Dashed lat/lon lines with degree labels on the left and bottom edges.

    The labels are the axes' own ticks (a PlateCarree map's x/y are lon/lat), not a cartopy
    ``Gridliner``: its labels are placed by redrawing the grid for every layout pass, which made
    saving a map several times slower while giving the same labels on these rectangular maps.
    """
    from cartopy.mpl.ticker import LatitudeFormatter, LongitudeFormatter

    ccrs = _require_cartopy()
    lons, lats = degree_ticks(lon_bounds), degree_ticks(lat_bounds)
    style = dict(linewidth=0.3, color="grey", alpha=0.6, linestyle="--", zorder=2)
    for lon in lons:
        ax.plot([lon, lon], sorted(lat_bounds), transform=ccrs.PlateCarree(), **style)
    for lat in lats:
        ax.plot(sorted(lon_bounds), [lat, lat], transform=ccrs.PlateCarree(), **style)
    ax.set_xticks(lons, crs=ccrs.PlateCarree())
    ax.set_yticks(lats, crs=ccrs.PlateCarree())
    ax.xaxis.set_major_formatter(LongitudeFormatter())
    ax.yaxis.set_major_formatter(LatitudeFormatter())
    ax.tick_params(
        labelsize=label_size,
        length=2,
        direction="in",
        labelbottom=bottom_labels,
        labelleft=left_labels,
        labeltop=False,
        labelright=False,
    )


def plot_precip_map(
    field,
    ax=None,
    title: str | None = None,
    terrain=None,
    terrain_levels=(500, 1500, 3000, 4500),
    colorbar: bool = True,
    left_labels: bool = True,
    bottom_labels: bool = True,
):
    """Draw a precipitation field (mm h-1) on an offline Cartopy map.

    Parameters
    ----------
    field : xarray.DataArray
        (y, x) precipitation in mm h-1 with ``lat``/``lon`` coordinates (1-D or 2-D, degrees).
    ax : cartopy GeoAxes, optional
        Axes with a PlateCarree projection; a new figure is made when omitted.
    title : str, optional
        Title; by convention "case — source — time — region".
    terrain : xarray.DataArray, optional
        (y, x) elevation in m on the same grid, drawn as contours at ``terrain_levels``.
    colorbar : bool
        Add the mm h-1 colour bar.
    left_labels, bottom_labels : bool
        Latitude / longitude gridline labels.

    Returns
    -------
    cartopy GeoAxes
    """
    ccrs = _require_cartopy()
    import matplotlib.pyplot as plt

    if field.ndim != 2:
        raise ValueError(f"expected a 2-D (y, x) field, got dims {field.dims}")
    units = field.attrs.get("units", UNITS_PRECIP)
    if units != UNITS_PRECIP:
        raise ValueError(f"expected precipitation in {UNITS_PRECIP!r}, got units {units!r}")
    lat, lon = _lat_lon(field)
    lat_bounds = (float(np.nanmin(lat)), float(np.nanmax(lat)))
    lon_bounds = (float(np.nanmin(lon)), float(np.nanmax(lon)))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5.5), subplot_kw={"projection": ccrs.PlateCarree()})
    ax.set_extent([*lon_bounds, *lat_bounds], crs=ccrs.PlateCarree())
    add_land_and_coast(ax, lat_bounds, lon_bounds, left_labels, bottom_labels)
    cmap, norm = precip_cmap_norm()
    values = np.ma.masked_invalid(np.asarray(field, dtype="float32"))
    mesh = ax.pcolormesh(
        lon,
        lat,
        values,
        cmap=cmap,
        norm=norm,
        shading="auto",
        transform=ccrs.PlateCarree(),
        zorder=2,
    )
    if terrain is not None:
        t_lat, t_lon = _lat_lon(terrain)
        contours = ax.contour(
            t_lon,
            t_lat,
            np.asarray(terrain),
            levels=list(terrain_levels),
            colors="saddlebrown",
            linewidths=0.7,
            alpha=0.8,
            transform=ccrs.PlateCarree(),
            zorder=4,
        )
        label_contours_sparsely(ax, contours, fmt="%d m", fontsize=6)
    if colorbar:
        precip_colorbar(mesh, ax)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def label_contours_sparsely(ax, contours, fmt: str = "%d", fontsize: float = 6) -> list:
    """One label per contour level, at the middle of the level's longest line.

    ``ax.clabel`` labels every line piece long enough to carry a label, which on rough terrain
    repeats "3000 m" dozens of times; one label per level is enough to read the map.
    """
    positions, levels = [], []
    for level, segments in zip(contours.levels, contours.allsegs, strict=False):
        segments = [seg for seg in segments if len(seg) >= 8]
        if not segments:
            continue
        longest = max(segments, key=len)
        x, y = longest[len(longest) // 2]
        positions.append((float(x), float(y)))  # data coordinates (lon/lat on PlateCarree)
        levels.append(level)
    if not levels:
        return []
    return ax.clabel(contours, levels=levels, manual=positions, fmt=fmt, fontsize=fontsize)


PANEL_WIDTH_IN: float = 4.4
"""Width of one map panel in inches (its height follows the region's aspect ratio)."""


def plot_precip_panels(
    fields: dict,
    suptitle: str | None = None,
    terrain=None,
    ncols: int = 2,
    panel_width: float = PANEL_WIDTH_IN,
):
    """Several precipitation maps in a grid with one shared colour bar and panel letters.

    Each panel is as tall as the region's aspect ratio needs (PlateCarree: degrees of latitude
    over degrees of longitude), so the maps fill their panels. Latitude labels are drawn on the
    first column only and longitude labels under the lowest panel of each column, so no label
    runs into a neighbouring map; the figure size is computed from the panels and margins.
    Panels are lettered (a), (b), … When the last row is not full, the shared colour bar sits
    (horizontally) in the free slot instead of leaving it empty; otherwise it is on the right.

    Parameters
    ----------
    fields : dict[str, xarray.DataArray]
        Panel title → (y, x) precipitation field in mm h-1 (same region).
    suptitle : str, optional
        Figure title (case, time, region).
    terrain : xarray.DataArray, optional
        Elevation (m) contoured on every panel.
    ncols : int
        Panels per row (e.g. 3 for five panels in two rows).
    panel_width : float
        Width of one map in inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    ccrs = _require_cartopy()
    import matplotlib.pyplot as plt

    if not fields:
        raise ValueError("no fields to plot")
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    n = len(fields)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    free_slot = n < nrows * ncols
    lat, lon = _lat_lon(next(iter(fields.values())))
    aspect = (np.nanmax(lat) - np.nanmin(lat)) / max(np.nanmax(lon) - np.nanmin(lon), 1e-6)
    panel_height = panel_width * float(np.clip(aspect, 0.3, 2.5))
    # Margins in inches: latitude labels left, longitude labels below, a title above every
    # panel, the colour bar right (unless it goes into a free slot) and the figure title on top.
    left, bottom, gap_x, gap_y = 0.65, 0.45, 0.45, 0.55  # gap_x holds the panel letters
    right = 0.3 if free_slot else 1.2
    top = 0.8 if suptitle else 0.45
    width = left + ncols * panel_width + (ncols - 1) * gap_x + right
    height = bottom + nrows * panel_height + (nrows - 1) * gap_y + top
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(width, height),
        subplot_kw={"projection": ccrs.PlateCarree()},
        squeeze=False,
    )
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        bottom=bottom / height,
        top=1 - top / height,
        wspace=gap_x / panel_width,
        hspace=gap_y / panel_height,
    )
    used = list(axes.flat)[:n]
    for index, (ax, (name, field)) in enumerate(zip(used, fields.items())):
        # latitude labels on the first column, longitude labels under each column's lowest panel
        first_column, lowest = index % ncols == 0, index + ncols >= n
        plot_precip_map(
            field,
            ax=ax,
            title=name,
            terrain=terrain,
            colorbar=False,
            left_labels=first_column,
            bottom_labels=lowest,
        )
    add_panel_letters(used)
    free = list(axes.flat)[n:]
    slot = free[0].get_position() if free else None
    for ax in free:
        fig.delaxes(ax)
    cmap, norm = precip_cmap_norm()
    mappable = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    if slot is not None:  # a horizontal bar in the middle of the first free slot
        bar_width = min(slot.width * 0.85, 0.9)
        cax = fig.add_axes(
            [
                slot.x0 + (slot.width - bar_width) / 2,
                slot.y0 + slot.height * 0.45,
                bar_width,
                0.22 / height,
            ]
        )
        precip_colorbar(mappable, None, cax=cax, orientation="horizontal")
    else:
        bar_height = min(nrows * panel_height + (nrows - 1) * gap_y, 5.0)
        cax = fig.add_axes(
            [
                (width - right + 0.3) / width,
                (bottom + (nrows * panel_height + (nrows - 1) * gap_y - bar_height) / 2) / height,
                0.2 / width,
                bar_height / height,
            ]
        )
        precip_colorbar(mappable, None, cax=cax)
    if suptitle:
        fig.suptitle(suptitle, fontsize=12, y=1 - 0.25 / height)
    return fig


def _outline(lat, lon):
    """Closed outline (lon, lat) of a (a, b) footprint: its four edges in order."""
    lat, lon = np.asarray(lat), np.asarray(lon)
    edges_lat = np.concatenate([lat[0, :], lat[:, -1], lat[-1, ::-1], lat[::-1, 0]])
    edges_lon = np.concatenate([lon[0, :], lon[:, -1], lon[-1, ::-1], lon[::-1, 0]])
    return edges_lon, edges_lat


def plot_sampling_map(
    footprints: dict, lat_bounds=(0.0, 65.0), lon_bounds=(60.0, 160.0), title: str | None = None
):
    """Where the benchmark samples lie: one outline per sample, a colour per group, on a map.

    Parameters
    ----------
    footprints : dict[str, xarray.Dataset]
        Group label (e.g. "Swath-MPR train") → a benchmark with 2-D ``lat``/``lon`` coordinates
        per sample (``sample``, a, b).
    lat_bounds, lon_bounds : (float, float)
        Map extent in degrees (default: the paper's domain).

    Returns
    -------
    matplotlib.figure.Figure
    """
    ccrs = _require_cartopy()
    import matplotlib.pyplot as plt

    if not footprints:
        raise ValueError("no footprints to plot")
    fig, ax = plt.subplots(figsize=(9, 6.5), subplot_kw={"projection": ccrs.PlateCarree()})
    ax.set_extent([*lon_bounds, *lat_bounds], crs=ccrs.PlateCarree())
    add_land_and_coast(ax, lat_bounds, lon_bounds)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for colour, (label, ds) in zip(colours, footprints.items()):
        for i in range(ds.sizes["sample"]):
            sample = ds.isel(sample=i)
            lon, lat = _outline(sample["lat"], sample["lon"])
            ax.plot(
                lon,
                lat,
                color=colour,
                linewidth=0.9,
                transform=ccrs.PlateCarree(),
                label=label if i == 0 else None,
                zorder=5,
            )
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(title or "benchmark samples", fontsize=10)
    return fig

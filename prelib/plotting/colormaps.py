"""A discrete precipitation colour scale in mm h-1, shared by every map and panel.

Levels follow the doubling steps used by operational radar/QPE displays so that drizzle
(0.1-0.5 mm h-1), moderate rain (1-8 mm h-1) and convective cores (> 16 mm h-1) are all legible;
values below the rain threshold (0.1 mm h-1) are transparent so the land/sea background shows.
"""

from __future__ import annotations

from prelib.conventions import RAIN_THRESHOLD, UNITS_PRECIP

PRECIP_LEVELS: tuple[float, ...] = (RAIN_THRESHOLD, 0.5, 1, 2, 4, 8, 16, 32, 64, 128)
"""Boundaries (mm h-1) of the discrete colour classes."""

_COLOURS = (
    "#c6dbef",
    "#9ecae1",
    "#4292c6",
    "#2171b5",
    "#41ab5d",
    "#fee839",
    "#fd8d3c",
    "#e31a1c",
    "#800026",
)


def precip_cmap_norm():
    """Return ``(cmap, norm)`` for precipitation in mm h-1.

    Values < 0.1 mm h-1 are transparent ("under"), values above 128 mm h-1 use the top colour.
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap

    cmap = ListedColormap(_COLOURS, name="prelib_precip").with_extremes(
        under=(1, 1, 1, 0), over=_COLOURS[-1], bad=(1, 1, 1, 0)
    )
    norm = BoundaryNorm(PRECIP_LEVELS, cmap.N)
    return cmap, norm


def precip_colorbar(mappable, ax, label: str = f"precipitation ({UNITS_PRECIP})", **kwargs):
    """Colour bar with the discrete levels as ticks and the mm h-1 label."""
    import matplotlib.pyplot as plt

    kwargs.setdefault("shrink", 0.85)
    kwargs.setdefault("extend", "max")
    bar = plt.colorbar(mappable, ax=ax, ticks=PRECIP_LEVELS, **kwargs)
    bar.set_label(label)
    bar.ax.set_yticklabels([f"{v:g}" for v in PRECIP_LEVELS])
    return bar

"""A discrete precipitation colour scale in mm h-1, shared by every map and panel.

Levels follow the doubling steps used by operational radar/QPE displays so that drizzle
(0.1-0.5 mm h-1), moderate rain (1-8 mm h-1) and convective cores (> 16 mm h-1) are all legible;
values below the rain threshold (0.1 mm h-1) are transparent so the land/sea background shows.

Fields that stay weak (a 10 km product of ≤ 4 mm h-1) would use three of the nine classes; for
them :func:`precip_levels` fits the classes to the data (``precip_cmap_norm(vmax=...)``), on a
finer ladder of round numbers, so that differences between methods stay visible.
"""

from __future__ import annotations

import math

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


FINE_LEVELS: tuple[float, ...] = (
    RAIN_THRESHOLD,
    0.25,
    0.5,
    0.75,
    1,
    1.5,
    2,
    3,
    4,
    6,
    8,
    12,
    16,
    24,
    32,
    48,
    64,
    96,
    128,
)
"""The finer ladder of class boundaries used for weak fields."""

MIN_CLASSES: int = 6
"""Fewest colour classes a data-fitted scale gets."""


def precip_levels(vmax: float | None = None) -> tuple[float, ...]:
    """Class boundaries (mm h-1) for fields whose largest value is ``vmax``.

    ``None`` (or a ``vmax`` above 32 mm h-1) gives :data:`PRECIP_LEVELS`; a smaller ``vmax``
    cuts the ladder at the first boundary ≥ ``vmax`` and, when that leaves fewer than
    :data:`MIN_CLASSES` classes, uses :data:`FINE_LEVELS` instead.
    """
    if vmax is None or not math.isfinite(vmax) or vmax > 32:
        return PRECIP_LEVELS
    vmax = max(float(vmax), 1.0)
    for ladder in (PRECIP_LEVELS, FINE_LEVELS):
        top = next(i for i, level in enumerate(ladder) if level >= vmax)
        if top >= MIN_CLASSES:
            return tuple(ladder[: top + 1])
    return tuple(FINE_LEVELS[: MIN_CLASSES + 1])


def precip_cmap_norm(vmax: float | None = None):
    """Return ``(cmap, norm)`` for precipitation in mm h-1.

    Values < 0.1 mm h-1 are transparent ("under"), values above the top class use the top
    colour. ``vmax`` (mm h-1, e.g. the largest value of the fields drawn) fits the classes to
    weak fields (:func:`precip_levels`); ``None`` keeps the fixed 0.1–128 mm h-1 scale.
    """
    from matplotlib.colors import BoundaryNorm, LinearSegmentedColormap, ListedColormap

    levels = precip_levels(vmax)
    n = len(levels) - 1
    if n == len(_COLOURS):
        colours = list(_COLOURS)
    else:
        ramp = LinearSegmentedColormap.from_list("prelib_precip_ramp", _COLOURS)
        colours = [ramp(i / max(n - 1, 1)) for i in range(n)]
    cmap = ListedColormap(colours, name="prelib_precip").with_extremes(
        under=(1, 1, 1, 0), over=colours[-1], bad=(1, 1, 1, 0)
    )
    norm = BoundaryNorm(levels, cmap.N)
    return cmap, norm


def precip_colorbar(mappable, ax, label: str = f"precipitation ({UNITS_PRECIP})", **kwargs):
    """Colour bar with the discrete levels of ``mappable``'s norm as ticks and the mm h-1 label."""
    import matplotlib.pyplot as plt

    levels = tuple(getattr(mappable.norm, "boundaries", PRECIP_LEVELS))
    kwargs.setdefault("shrink", 0.85)
    kwargs.setdefault("extend", "max")
    bar = plt.colorbar(mappable, ax=ax, ticks=levels, **kwargs)
    bar.set_label(label)
    if bar.orientation == "vertical":
        bar.ax.set_yticklabels([f"{v:g}" for v in levels])
    else:
        bar.ax.set_xticklabels([f"{v:g}" for v in levels])
    return bar

"""Layout rules shared by prelib's multi-panel figures: panel letters, display names, checks.

A figure a journal takes has (a), (b), … on every panel, says "MAUNet-Light (distilled)" rather
than an internal key, has one colour bar per quantity and no empty slots.
:func:`layout_problems` checks the last three mechanically; the plotting tests run it on every
multi-panel figure.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Iterable

PANEL_LETTER_GID = "prelib-panel-letter"
"""``gid`` of the text artists that :func:`add_panel_letters` draws."""

DISPLAY_NAMES: dict[str, str] = {
    "prenet": "PRE-Net",
    "unet": "UNet (IR only)",
    "teacher": "multimodal teacher",
    "gpi": "GPI",
    "ae": "Auto-Estimator",
    "persiann_ccs": "PERSIANN-CCS-style",
    "ccs": "PERSIANN-CCS-style",
    "gbm": "gradient boosting",
    "bilinear": "bilinear",
    "bicubic": "bicubic",
    "qm+bilinear": "QM + bilinear",
    "rainfarm": "RainFARM",
    "maunet": "MAUNet",
    "maunet-light": "MAUNet-Light",
    "maunet-light-kr": "MAUNet-Light (distilled)",
    "regression-mean": "regression mean (PrecipDiff stage 1)",
    "precipdiff": "PrecipDiff",
}
"""Internal method keys → the names figures show."""


def display_name(key: str) -> str:
    """The name a figure shows for a method key (the key itself when it has none)."""
    return DISPLAY_NAMES.get(key, key)


def panel_letter(index: int) -> str:
    """``(a)`` for 0, ``(b)`` for 1, … ``(z)``, then ``(aa)``, ``(ab)`` …"""
    if index < 0:
        raise ValueError(f"panel index must be >= 0, got {index}")
    letters = string.ascii_lowercase
    name = letters[index % 26]
    if index >= 26:
        name = letters[index // 26 - 1] + name
    return f"({name})"


def add_panel_letters(axes: Iterable, start: int = 0, size: float = 10) -> list:
    """Write (a), (b), … in bold at the upper left, just outside each axes.

    Parameters
    ----------
    axes : iterable of matplotlib Axes
        Panels in reading order (row by row).
    start : int
        Letter of the first panel (0 = "(a)").
    size : float
        Font size in points.

    Returns
    -------
    list of matplotlib.text.Text
    """
    texts = []
    for offset, ax in enumerate(axes):
        text = ax.text(
            -0.02,
            1.02,
            panel_letter(start + offset),
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=size,
            fontweight="bold",
            gid=PANEL_LETTER_GID,
        )
        texts.append(text)
    return texts


def _is_colorbar(ax) -> bool:
    return getattr(ax, "_colorbar", None) is not None


def _has_content(ax) -> bool:
    return bool(
        ax.images or ax.collections or ax.lines or ax.patches or ax.tables or ax.artists
    ) or any(t.get_gid() != PANEL_LETTER_GID and t.get_text() for t in ax.texts)


def _has_letter(ax) -> bool:
    return any(t.get_gid() == PANEL_LETTER_GID for t in ax.texts)


def layout_problems(fig) -> list[str]:
    """What breaks the layout rules in ``fig`` (an empty list when nothing does).

    Rules: no visible empty axes; with two or more panels, every panel carries a letter from
    :func:`add_panel_letters`; at most one colour bar per quantity (colour-bar label).
    """
    problems = []
    visible = [ax for ax in fig.axes if ax.get_visible()]
    panels = [ax for ax in visible if not _is_colorbar(ax)]
    for ax in panels:
        if not _has_content(ax):
            problems.append(f"empty panel at {ax.get_position().bounds}")
    if len(panels) >= 2:
        missing = [ax.get_title() or str(i) for i, ax in enumerate(panels) if not _has_letter(ax)]
        if missing:
            problems.append(f"panels without a letter: {missing}")
    labels = Counter(
        (ax.get_ylabel() or ax.get_xlabel() or "?") for ax in visible if _is_colorbar(ax)
    )
    for label, count in labels.items():
        if count > 1:
            problems.append(f"{count} colour bars for {label!r}")
    return problems

"""Figures of skill: benchmark retrievals (truth-vs-retrieval density per method, skill by rain
intensity, scores under input noise) and downscaled fields (panels of one domain at several
resolutions, power spectra).

These functions only draw: scores come from :mod:`prelib.evaluation.benchmark`
(:func:`~prelib.evaluation.benchmark.skill_by_intensity`,
:func:`~prelib.evaluation.benchmark.noise_table`) and predictions from
:func:`~prelib.evaluation.benchmark.predict_methods`. Each returns a
``matplotlib.figure.Figure``; save it with :func:`prelib.notebook.save_figure`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from prelib.conventions import UNITS_PRECIP
from prelib.plotting.layout import add_panel_letters, display_name
from prelib.plotting.training import plot_scatter_density

SCORE_LABELS: dict[str, str] = {
    "pod": "POD",
    "csi": "CSI",
    "far": "FAR",
    "fbias": "frequency bias",
    "rmse": f"RMSE ({UNITS_PRECIP})",
    "cc": "CC",
    "csi4": "CSI-4",
    "csi8": "CSI-8",
}
"""Axis labels of the scores these figures draw."""

FBIAS_MAX: float = 5.0
"""Upper limit of the frequency-bias axis of :func:`plot_intensity_skill`."""


def plot_scatter_panels(
    predictions: Mapping[str, np.ndarray],
    truth: np.ndarray,
    valid: np.ndarray | None = None,
    ncols: int = 3,
    title: str | None = None,
    max_rate: float = 64.0,
    bins: int = 40,
):
    """Density of retrieved against true rain rate, one log-log panel per method.

    Parameters
    ----------
    predictions : mapping of str to ndarray
        Method name → rain rate (mm h-1), each the shape of ``truth``.
    truth : ndarray
        True rain rate, mm h-1.
    valid : ndarray of bool, optional
        Pixels to use.
    ncols : int
        Panels per row.
    title : str, optional
        Figure title.
    max_rate : float
        Upper axis limit, mm h-1.
    bins : int
        Logarithmic bins per axis.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    A method that predicts no rain at all (possible for a briefly trained network) gets an empty
    panel saying so instead of an error, so that one figure always shows every method.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    if not predictions:
        raise ValueError("predictions must name at least one retrieval, got none")
    ncols = max(1, min(ncols, len(predictions)))
    nrows = math.ceil(len(predictions) / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4.4 * ncols + 0.9, 4.1 * nrows), squeeze=False, layout="constrained"
    )
    for ax in axes.flat[len(predictions) :]:
        fig.delaxes(ax)
    used = list(axes.flat[: len(predictions)])
    images = []
    for ax, (name, pred) in zip(used, predictions.items(), strict=False):
        try:
            plot_scatter_density(
                pred,
                truth,
                valid,
                title=display_name(name),
                max_rate=max_rate,
                bins=bins,
                ax=ax,
                colorbar=False,
            )
            images.append(ax.collections[-1])
        except ValueError as err:  # nothing wet to draw: say so in the panel
            ax.text(
                0.5,
                0.5,
                f"{display_name(name)}\n{err}",
                ha="center",
                va="center",
                wrap=True,
                transform=ax.transAxes,
                fontsize=9,
            )
            ax.set_xticks([])
            ax.set_yticks([])
    if images:  # one count scale for every panel, so densities compare across methods
        top = max(float(np.nanmax(image.get_array())) for image in images)
        norm = LogNorm(vmin=1, vmax=max(top, 10.0))
        for image in images:
            image.set_norm(norm)
        fig.colorbar(images[0], ax=used, shrink=0.8).set_label("pixels per bin")
    add_panel_letters(used)
    if title:
        fig.suptitle(title)
    return fig


def plot_intensity_skill(
    table,
    scores: Sequence[str] | None = None,
    title: str | None = None,
):
    """Categorical skill against the rain-rate threshold, one panel per score.

    Parameters
    ----------
    table : pandas.DataFrame
        MultiIndex ``(method, threshold)`` with score columns, as returned by
        :func:`prelib.evaluation.benchmark.skill_by_intensity`.
    scores : sequence of str, optional
        Columns to draw (default: every score column but ``n_events``).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    POD, CSI and FAR share the range [0, 1]; frequency bias (predicted / observed events) is
    drawn on a linear axis from 0 (no event predicted) with the perfect value 1 dashed, up to
    :data:`FBIAS_MAX` at most. Missing points are undefined scores (no event predicted or
    observed at that threshold). The legend sits below the panels.
    """
    import matplotlib.pyplot as plt

    if table is None or len(table) == 0:
        raise ValueError("the skill table is empty")
    if list(table.index.names) != ["method", "threshold"]:
        raise ValueError(f"table index must be (method, threshold), got {table.index.names}")
    scores = list(scores or [c for c in table.columns if c != "n_events"])
    missing = [s for s in scores if s not in table.columns]
    if missing or not scores:
        raise ValueError(f"scores {missing or scores} are not columns of {list(table.columns)}")
    methods = list(dict.fromkeys(table.index.get_level_values("method")))
    thresholds = sorted(set(table.index.get_level_values("threshold")))
    fig, axes = plt.subplots(
        1, len(scores), figsize=(4.2 * len(scores), 4.0), squeeze=False, layout="constrained"
    )
    for ax, score in zip(axes[0], scores, strict=True):
        for name in methods:
            rows = table.xs(name, level="method")[score]
            ax.plot(rows.index, rows.to_numpy(dtype=float), marker="o", ms=4, label=name)
        ax.set_xscale("log")
        ax.set_xticks(thresholds)
        ax.set_xticklabels([f"{t:g}" for t in thresholds])
        ax.minorticks_off()
        ax.set_xlabel(f"threshold ({UNITS_PRECIP}); event = rate ≥ threshold", fontsize=9)
        ax.set_ylabel(SCORE_LABELS.get(score, score))
        if score == "fbias":
            # linear, so that "no event predicted" (0) shows; very large biases leave the axes
            top = float(np.nanmax(table[score].to_numpy(dtype=float), initial=1.0))
            ax.set_ylim(0, min(max(2.0, 1.1 * top), FBIAS_MAX))
            ax.axhline(1.0, color="k", lw=0.8, ls="--")
            ax.set_title("frequency bias (1 = right rain area)", fontsize=10)
        else:
            ax.set_ylim(0, 1)
            ax.set_title(f"{SCORE_LABELS.get(score, score)} by intensity", fontsize=10)
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(methods), 6), fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def plot_noise_scores(table, scores: Sequence[str] = ("rmse", "csi"), title: str | None = None):
    """Scores of each method without and with input noise, as grouped bars.

    Parameters
    ----------
    table : pandas.DataFrame
        MultiIndex ``(method, noise)`` with score columns, as returned by
        :func:`prelib.evaluation.benchmark.noise_table`.
    scores : sequence of str
        Columns to draw, one panel each.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if table is None or len(table) == 0:
        raise ValueError("the noise table is empty")
    if list(table.index.names) != ["method", "noise"]:
        raise ValueError(f"table index must be (method, noise), got {table.index.names}")
    missing = [s for s in scores if s not in table.columns]
    if missing or not scores:
        raise ValueError(f"scores {missing or list(scores)} are not columns of the table")
    methods = list(dict.fromkeys(table.index.get_level_values("method")))
    kinds = list(dict.fromkeys(table.index.get_level_values("noise")))
    width = 0.8 / len(kinds)
    x = np.arange(len(methods))
    fig, axes = plt.subplots(
        1,
        len(scores),
        squeeze=False,
        layout="constrained",
        figsize=(max(3.6, 1.4 * len(methods)) * len(scores), 4.0),
    )
    for ax, score in zip(axes[0], scores, strict=True):
        for i, kind in enumerate(kinds):
            values = [
                float(table.loc[(m, kind), score]) if (m, kind) in table.index else np.nan
                for m in methods
            ]
            sigma = table.xs(kind, level="noise")["sigma"].iloc[0] if "sigma" in table else None
            unit = " K" if kind == "additive" else ""
            label = f"{kind} (σ = {sigma:g}{unit})" if sigma else kind
            bars = ax.bar(x + (i - (len(kinds) - 1) / 2) * width, values, width, label=label)
            ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=1)
        ax.set_xticks(x)
        ax.set_xticklabels(
            methods,
            rotation=20 if len(methods) > 2 else 0,
            ha="right" if len(methods) > 2 else "center",
            fontsize=8,
        )
        ax.set_ylabel(SCORE_LABELS.get(score, score))
        ax.set_title(SCORE_LABELS.get(score, score), fontsize=10)
        drawn = table[score].to_numpy(dtype=float)
        if np.all(np.isnan(drawn) | (drawn >= 0)):  # scores that cannot be negative start at 0
            top = float(np.nanmax(drawn, initial=0.0))
            ax.set_ylim(0, 1.15 * top if top > 0 else 1.0)  # room above for the value labels
        ax.grid(alpha=0.3, axis="y")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(kinds), fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def plot_field_panels(
    fields: Mapping[str, np.ndarray],
    ncols: int = 4,
    title: str | None = None,
    domain_km: float | None = None,
    panel_size: float = 2.8,
):
    """Precipitation fields of one domain side by side, with one shared mm h-1 colour bar.

    Fields may have different resolutions (a coarse product next to 1 km fields): each is drawn
    over the same domain, so a 8 × 8 coarse field and its 80 × 80 downscaled version line up.
    The colour classes are fitted to the fields (:func:`~prelib.plotting.colormaps.
    precip_levels` of their largest value), so weak fields use the whole scale; method keys
    are shown by their display names (:func:`~prelib.plotting.layout.display_name`) and panels
    are lettered.

    Parameters
    ----------
    fields : mapping of str to ndarray, each shape (y, x)
        Panel title or method key → rain rate in mm h-1 (same domain; below 0.1 mm h-1 is
        transparent).
    ncols : int
        Panels per row.
    title : str, optional
        Figure title.
    domain_km : float, optional
        Side of the domain in km: axes are labelled in km (default: unlabelled).
    panel_size : float
        Width of one panel in inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from prelib.plotting.colormaps import precip_cmap_norm, precip_colorbar

    if not fields:
        raise ValueError("fields must hold at least one (y, x) array, got none")
    arrays = {name: np.asarray(field, dtype=float) for name, field in fields.items()}
    for name, array in arrays.items():
        if array.ndim != 2:
            raise ValueError(f"field {name!r} must be 2-D (y, x), got shape {array.shape}")
    first = next(iter(arrays.values()))
    aspect = first.shape[0] / first.shape[1]
    ncols = max(1, min(ncols, len(arrays)))
    nrows = math.ceil(len(arrays) / ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(panel_size * ncols + 1.0, panel_size * aspect * nrows + 0.5 * nrows),
        squeeze=False,
        layout="constrained",
    )
    finite = np.concatenate([a[np.isfinite(a)] for a in arrays.values()])
    cmap, norm = precip_cmap_norm(vmax=float(finite.max()) if finite.size else None)
    side_y = domain_km * aspect if domain_km else 1.0
    side_x = domain_km if domain_km else 1.0
    image = None
    for ax, (name, array) in zip(axes.flat, arrays.items(), strict=False):
        ax.set_facecolor("#f0f0f0")
        image = ax.imshow(
            np.ma.masked_invalid(array),
            cmap=cmap,
            norm=norm,
            extent=(0, side_x, side_y, 0),
            interpolation="nearest",
        )
        ax.set_title(display_name(name), fontsize=9)
        if domain_km:
            ax.tick_params(labelsize=7)
        else:
            ax.set_xticks([])
            ax.set_yticks([])
    for ax in axes.flat[len(arrays) :]:
        fig.delaxes(ax)
    add_panel_letters(axes.flat[: len(arrays)], size=9)
    if domain_km:
        for ax in axes[:, 0]:
            ax.set_ylabel("km", fontsize=8)
        for ax in axes[-1, :]:
            ax.set_xlabel("km", fontsize=8)
    precip_colorbar(image, list(axes.flat[: len(arrays)]), shrink=min(0.9, 0.3 + 0.2 * nrows))
    if title:
        fig.suptitle(title)
    return fig


def plot_power_spectra(
    spectra: Mapping[str, tuple[np.ndarray, np.ndarray]],
    domain_km: float,
    coarse_km: float | None = None,
    title: str | None = None,
):
    """Radially averaged power spectra of several fields against wavelength.

    Parameters
    ----------
    spectra : mapping of str to (ndarray, ndarray)
        Label → ``(wavenumber, power)`` from
        :func:`prelib.metrics.spectrum.radial_power_spectrum` (wavenumber in cycles per
        domain side, power in (mm h-1)²). A label ``"truth"`` is drawn in black.
    domain_km : float
        Side of the domain in km (wavelength = ``domain_km / wavenumber``).
    coarse_km : float, optional
        Grid spacing of the coarse product: a dashed line at twice that wavelength marks the
        smallest scale the product resolves.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if not spectra:
        raise ValueError("spectra must hold at least one (wavenumber, power) pair, got none")
    if not domain_km or domain_km <= 0:
        raise ValueError(f"domain_km must be positive, got {domain_km!r}")
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    fig, ax = plt.subplots(figsize=(8.4, 4.6), layout="constrained")
    shortest = domain_km
    for name, (wavenumber, power) in spectra.items():
        wavenumber, power = np.asarray(wavenumber, float), np.asarray(power, float)
        keep = (wavenumber > 0) & (power > 0)
        style = {"color": "k", "lw": 2.2, "zorder": 5} if name == "truth" else {"lw": 1.2}
        ax.plot(domain_km / wavenumber[keep], power[keep], label=name, **style)
        if keep.any():
            shortest = min(shortest, float(domain_km / wavenumber[keep].max()))
    ax.set_xscale("log")
    ax.set_yscale("log")
    # plain wavelength ticks (1, 2, 5, 10, 20 … km) instead of 4 × 10^1-style labels
    nice = [m * 10**e for e in range(-1, 5) for m in (1, 2, 5)]
    ticks = [t for t in nice if shortest * 0.99 <= t <= domain_km * 1.01]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(lambda value, _: f"{value:g}")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.invert_xaxis()  # large scales left, small scales right, as usual for spectra
    ax.set_xlabel("wavelength (km)")
    ax.set_ylabel(f"power (({UNITS_PRECIP})²)")
    if coarse_km:
        ax.axvline(2 * coarse_km, color="grey", ls="--", lw=0.8)
        ax.text(
            2 * coarse_km,
            0.98,
            " 2 coarse cells ",
            rotation=90,
            va="top",
            ha="right",
            fontsize=8,
            color="grey",
            transform=ax.get_xaxis_transform(),
        )
    ax.grid(alpha=0.3, which="major")
    fig.legend(loc="outside right center", fontsize=8)
    ax.set_title(title or "radially averaged power spectrum", fontsize=10)
    return fig

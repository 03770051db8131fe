"""Tests of prelib.plotting.skill: what is drawn matches the data, and bad input is refused."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest

from prelib.evaluation.benchmark import skill_by_intensity
from prelib.plotting.layout import layout_problems
from prelib.plotting.skill import (
    plot_field_panels,
    plot_intensity_skill,
    plot_noise_scores,
    plot_power_spectra,
    plot_scatter_panels,
)


def _rain(seed=0, shape=(2, 32, 32)):
    rng = np.random.default_rng(seed)
    return np.where(rng.random(shape) < 0.4, rng.gamma(1.0, 3.0, shape), 0.0).astype(np.float32)


def test_scatter_panels_one_panel_per_method_and_an_empty_one_said_so():
    truth = _rain()
    fig = plot_scatter_panels(
        {"a": truth * 1.1, "b": truth * 0.5, "dry": truth * 0, "d": truth},
        truth,
        ncols=3,
        title="t",
    )
    maps = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(maps) == 4  # two rows of three, the two free slots removed
    assert len(fig.axes) == 5  # one shared colour bar
    assert layout_problems(fig) == []
    images = [ax.collections[0] for ax in maps if ax.collections]
    assert len({(im.norm.vmin, im.norm.vmax) for im in images}) == 1  # one count scale
    titles = [ax.get_title() for ax in maps]
    assert titles[0].startswith("a\nn=")
    assert titles[2].startswith("dry\nn=")  # no rain retrieved: drawn at the lower edge
    dry = np.zeros_like(truth)
    empty = plot_scatter_panels({"dry": dry}, dry)  # nothing wet anywhere: said in the panel
    assert any("no pixel is wet" in t.get_text() for t in empty.axes[0].texts)
    assert maps[0].get_xscale() == "log" and maps[0].get_yscale() == "log"
    with pytest.raises(ValueError, match="at least one"):
        plot_scatter_panels({}, truth)


def test_intensity_skill_draws_the_table_values():
    truth = _rain()
    table = skill_by_intensity(
        {"x": truth * 0.8, "y": truth * 2.0}, truth, thresholds=(0.1, 1.0, 4.0)
    )
    fig = plot_intensity_skill(table, title="skill")
    axes = fig.axes
    assert [ax.get_ylabel() for ax in axes] == ["POD", "CSI", "frequency bias"]
    pod_line = axes[0].lines[0]
    np.testing.assert_allclose(pod_line.get_xdata(), [0.1, 1.0, 4.0])
    np.testing.assert_allclose(pod_line.get_ydata(), table.xs("x", level="method")["pod"])
    assert axes[2].get_ylim()[0] == 0  # frequency bias from 0 (nothing predicted) upwards
    assert [line.get_label() for line in axes[1].lines] == ["x", "y"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["x", "y"]  # one, below
    with pytest.raises(ValueError, match="index"):
        plot_intensity_skill(table.reset_index())
    with pytest.raises(ValueError, match="not columns"):
        plot_intensity_skill(table, scores=["rmse"])


def test_noise_scores_bars_per_method_and_kind():
    index = pd.MultiIndex.from_product(
        [["PRE-Net", "GBM"], ["none", "additive"]], names=["method", "noise"]
    )
    table = pd.DataFrame(
        {"sigma": [0, 1, 0, 1], "rmse": [1.0, 1.2, 1.5, 1.6], "csi": [0.5, 0.4, 0.3, 0.3]},
        index=index,
    )
    fig = plot_noise_scores(table, scores=("rmse", "csi"))
    rmse_ax = fig.axes[0]
    heights = sorted(round(p.get_height(), 3) for p in rmse_ax.patches)
    assert heights == [1.0, 1.2, 1.5, 1.6]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["none", "additive (σ = 1 K)"]
    assert sorted(t.get_text() for t in rmse_ax.texts) == ["1.000", "1.200", "1.500", "1.600"]
    with pytest.raises(ValueError, match="not columns"):
        plot_noise_scores(table, scores=("far",))


def test_field_panels_share_one_domain_and_colour_bar():
    fine = _rain(shape=(40, 40))
    coarse = fine.reshape(4, 10, 4, 10).mean(axis=(1, 3))
    fig = plot_field_panels(
        {"coarse": coarse, "truth": fine, "x": fine}, ncols=2, domain_km=40.0, title="one field"
    )
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 3
    assert {tuple(im.get_extent()) for im in images} == {(0, 40.0, 40.0, 0)}  # same domain
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 1
    assert layout_problems(fig) == []  # the fourth slot of the 2 x 2 grid is removed
    with pytest.raises(ValueError, match="2-D"):
        plot_field_panels({"bad": fine[None]})


def test_power_spectra_wavelength_axis():
    from prelib.metrics.spectrum import radial_power_spectrum

    fine = _rain(shape=(4, 40, 40))
    spectra = {"truth": radial_power_spectrum(fine), "smooth": radial_power_spectrum(fine * 0.5)}
    fig = plot_power_spectra(spectra, domain_km=40.0, coarse_km=10.0)
    ax = fig.axes[0]
    truth_line = ax.lines[0]
    assert truth_line.get_color() == "k"
    assert truth_line.get_xdata().max() == pytest.approx(40.0)  # wavenumber 1 = domain side
    assert ax.xaxis_inverted()
    with pytest.raises(ValueError, match="domain_km"):
        plot_power_spectra(spectra, domain_km=0)


def test_field_panels_fit_the_colour_classes_and_show_display_names():
    weak = np.linspace(0, 3.5, 400).reshape(20, 20)  # at most 3.5 mm/h
    fig = plot_field_panels({"maunet-light-kr": weak, "truth": weak})
    norm = fig.axes[0].images[0].norm
    assert norm.boundaries[-1] == 4 and len(norm.boundaries) - 1 >= 6  # not 0.1-128
    assert fig.axes[0].get_title() == "MAUNet-Light (distilled)"
    strong = plot_field_panels({"a": weak * 30}).axes[0].images[0].norm
    assert strong.boundaries[-1] == 128

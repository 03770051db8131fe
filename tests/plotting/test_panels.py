"""Sensor panels render every modality a scene carries and refuse scenes without a label."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import xarray as xr

from prelib import conventions as cv
from prelib.plotting.layout import layout_problems
from prelib.plotting.panels import plot_modalities


def _scene(with_pr: bool):
    rng = np.random.default_rng(0)
    shape = (32, 12)
    data = {
        "ir": ((cv.DIM_IR_CHANNEL, "scan", "ray"), 200 + 100 * rng.random((8, *shape))),
        "pmw": ((cv.DIM_PMW_CHANNEL, "scan", "ray"), 150 + 150 * rng.random((13, *shape))),
        "precip": (("scan", "ray"), rng.gamma(0.5, 2, shape)),
    }
    if with_pr:
        pr = np.full((cv.DPR_N_BINS, *shape), np.nan)
        pr[120:175, 10:20, 3] = 30.0
        data["pr"] = (("bin", "scan", "ray"), pr)
    coords = {
        cv.DIM_IR_CHANNEL: list(cv.AGRI_IR_CHANNELS),
        cv.DIM_PMW_CHANNEL: list(cv.GMI_CHANNELS),
        "bin_height": ("bin", (175.5 - np.arange(176)) * 125.0),
    }
    return xr.Dataset(data, coords=coords, attrs={"regime": "convective"})


@pytest.mark.parametrize("with_pr", [True, False])
def test_panels_show_each_modality(with_pr):
    fig = plot_modalities(_scene(with_pr))
    titles = " ".join(ax.get_title() for ax in fig.axes)
    assert "IR 10.8 µm (C12)" in titles and "PMW 89.0V" in titles and "label" in titles
    assert ("cross-section, ray 3" in titles) is with_pr  # the ray holding the echo
    assert layout_problems(fig) == []  # letters, one dBZ colour bar for map and section


def test_geolocated_scenes_are_drawn_on_maps_in_degrees():
    scene = _scene(False)
    lat = 30 + np.linspace(0, 3, 32)[:, None] + 0.05 * np.arange(12)[None]
    lon = 115 + np.linspace(0, 1, 32)[:, None] + 0.1 * np.arange(12)[None]
    scene = scene.assign_coords(lat=(("scan", "ray"), lat), lon=(("scan", "ray"), lon))
    fig = plot_modalities(scene)
    maps = [ax for ax in fig.axes if hasattr(ax, "projection")]
    assert len(maps) == 3  # IR, PMW, label
    west, east, south, north = maps[0].get_extent()
    assert west < 115 and east > 116 and south < 30 and north > 33
    assert layout_problems(fig) == []


def test_scene_without_label_is_refused():
    with pytest.raises(ValueError, match="precip"):
        plot_modalities(_scene(False).drop_vars("precip"))


def test_regime_gallery_reports_wet_fraction():
    from prelib.plotting.panels import plot_regime_gallery

    scene = _scene(False)
    scene["precip"][:] = 0.0
    scene["precip"][:8] = 1.0  # 8 of 32 rows wet: 25 %
    fig = plot_regime_gallery({"frontal": scene, "convective": scene})
    titles = [ax.get_title() for ax in fig.axes]
    assert "frontal: hourly label, 25 % wet" in titles
    assert layout_problems(fig) == []  # one IR and one rain colour bar, not one per panel
    with pytest.raises(ValueError, match="no scenes"):
        plot_regime_gallery({})

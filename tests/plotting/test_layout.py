"""The layout rules (panel letters, one colour bar per quantity, no empty panels) and the tools
that enforce them: the checker must catch each broken rule, and prelib's figures must pass."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from prelib.plotting.colormaps import precip_cmap_norm, precip_levels
from prelib.plotting.layout import add_panel_letters, display_name, layout_problems, panel_letter


def _two_panels():
    fig, axes = plt.subplots(1, 2)
    images = [ax.imshow(np.eye(3)) for ax in axes]
    return fig, axes, images


def test_checker_catches_missing_letters_extra_colour_bars_and_empty_panels():
    fig, axes, images = _two_panels()
    assert any("without a letter" in p for p in layout_problems(fig))
    add_panel_letters(axes)
    assert layout_problems(fig) == []
    for image, ax in zip(images, axes, strict=True):
        fig.colorbar(image, ax=ax).set_label("rain (mm h-1)")
    assert layout_problems(fig) == ["2 colour bars for 'rain (mm h-1)'"]
    fig2, axes2 = plt.subplots(1, 3)
    axes2[0].imshow(np.eye(2))
    axes2[1].imshow(np.eye(2))
    add_panel_letters(axes2)
    assert any("empty panel" in p for p in layout_problems(fig2))


def test_letters_and_names():
    assert [panel_letter(i) for i in (0, 1, 25, 26)] == ["(a)", "(b)", "(z)", "(aa)"]
    with pytest.raises(ValueError):
        panel_letter(-1)
    _, axes, _ = _two_panels()
    texts = add_panel_letters(axes, start=2)
    assert [t.get_text() for t in texts] == ["(c)", "(d)"]
    assert display_name("maunet-light-kr") == "MAUNet-Light (distilled)"
    assert display_name("my own method") == "my own method"


def test_precip_levels_fit_weak_fields_and_keep_the_fixed_scale_otherwise():
    assert precip_levels(None)[-1] == 128 and precip_levels(50.0)[-1] == 128
    weak = precip_levels(3.2)
    assert weak[0] == 0.1 and weak[-1] == 4 and len(weak) - 1 >= 6
    assert precip_levels(20.0)[-1] == 32
    cmap, norm = precip_cmap_norm(vmax=3.2)
    assert cmap.N == len(weak) - 1 and tuple(norm.boundaries) == weak
    assert precip_levels(float("nan"))[-1] == 128

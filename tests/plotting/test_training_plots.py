"""Tests of prelib.plotting.training: what is drawn matches the data, and bad input is refused."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

from prelib.plotting.training import (
    plot_loss_curves,
    plot_masks,
    plot_scatter_density,
    plot_wavelet_bands,
)


def _history(values, key="train_loss"):
    return [{"epoch": i + 1, key: v} for i, v in enumerate(values)]


def test_loss_curves_draw_each_run_and_skip_missing_epochs():
    histories = {
        "a": [{"epoch": 1, "train_loss": 3.0}, {"epoch": 2, "train_loss": 2.0, "val_loss": 2.5}],
        "b": _history([1.0, 0.5, 0.25]),
    }
    fig = plot_loss_curves(histories)
    train_ax, val_ax = fig.axes[:2]
    assert [line.get_label() for line in train_ax.lines] == ["a", "b"]
    np.testing.assert_allclose(train_ax.lines[1].get_ydata(), [1.0, 0.5, 0.25])
    np.testing.assert_allclose(val_ax.lines[0].get_xdata(), [2])  # epoch 1 had no validation
    assert len(val_ax.lines) == 1


def test_loss_curves_refuse_empty_or_unlogged():
    with pytest.raises(ValueError, match="at least one run"):
        plot_loss_curves({})
    with pytest.raises(ValueError, match="no run logged"):
        plot_loss_curves({"a": _history([1.0])}, keys=("val_loss",))


def test_masks_show_values_and_visible_fraction():
    mask = np.zeros((4, 3))
    mask[:2] = 1
    fig = plot_masks({"base": mask, "view 1": np.ones((4, 3))}, title="masks")
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), mask)
    assert "visible 50%" in ax.get_title()
    assert "visible 100%" in fig.axes[1].get_title()


@pytest.mark.parametrize(
    "bad, message",
    [(np.ones(3), "2-D"), (np.full((2, 2), 2.0), r"\[0, 1\]"), (np.full((2, 2), np.nan), "finite")],
)
def test_masks_refuse_bad_input(bad, message):
    with pytest.raises(ValueError, match=message):
        plot_masks({"m": bad})


def test_wavelet_bands_one_panel_per_band_with_symmetric_detail_scale():
    image = np.arange(16.0).reshape(4, 4)
    detail = np.array([[-1.0, 0.5], [0.25, 0.0]])
    fig = plot_wavelet_bands(image, {"LL": np.ones((2, 2)), "HH": detail})
    hh = next(a for a in fig.axes if "HH" in a.get_title())
    assert "HH" in hh.get_title()
    low, high = hh.images[0].get_clim()
    assert low == -high
    assert high == pytest.approx(np.percentile(np.abs(detail), 99))
    with pytest.raises(ValueError, match="at least one"):
        plot_wavelet_bands(image, {})
    with pytest.raises(ValueError, match="2-D"):
        plot_wavelet_bands(image[0], {"LL": np.ones((2, 2))})


def test_scatter_density_counts_only_wet_valid_pixels():
    rng = np.random.default_rng(0)
    truth = rng.gamma(0.6, 3.0, size=(2, 20, 20))
    truth[truth < 0.3] = 0.0
    pred = truth * 0.8
    valid = np.ones_like(truth, dtype=bool)
    valid[0] = False
    fig = plot_scatter_density(pred, truth, valid, title="t")
    n_wet = int(((truth[1] >= 0.1) | (pred[1] >= 0.1)).sum())
    assert f"n={n_wet:,}" in fig.axes[0].get_title()
    assert "r=1.00" in fig.axes[0].get_title()


def test_scatter_density_refuses_mismatch_and_dry():
    with pytest.raises(ValueError, match="same shape"):
        plot_scatter_density(np.zeros((2, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="wet"):
        plot_scatter_density(np.zeros((2, 2)), np.zeros((2, 2)))


def test_scatter_density_says_when_correlation_is_undefined():
    truth = np.linspace(0.0, 4.0, 50).reshape(5, 10)
    fig = plot_scatter_density(np.zeros_like(truth), truth)
    assert "r n/a" in fig.axes[0].get_title()


def test_loss_curves_of_one_epoch_show_whole_epoch_ticks():
    fig = plot_loss_curves({"a": [{"epoch": 1, "train_loss": 3.0, "val_loss": 2.0}]})
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks == [1.0]

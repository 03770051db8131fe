"""FSS: the scores library, hand values, missing windows, streaming and degenerate cases."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from prelib.metrics import FSS
from prelib.metrics.spatial import window_counts


def _reference_fss(pred, truth, scale, preserve=None):
    from scores.spatial import fss_2d

    dims = ("sample", "y", "x")
    kwargs = {"preserve_dims": preserve} if preserve else {"reduce_dims": ["sample"]}
    return fss_2d(
        xr.DataArray(pred, dims=dims),
        xr.DataArray(truth, dims=dims),
        event_threshold=0.1,
        window_size=(scale, scale),
        spatial_dims=("y", "x"),
        threshold_operator=np.greater_equal,
        **kwargs,
    )


@pytest.mark.filterwarnings("ignore:At least one of the provided spatial dims")
def test_agrees_with_scores_fss_2d(pair_factory):
    pred, truth = pair_factory(5, shape=(4, 21, 18), missing=0.0)
    scales = (1, 3, 5, 8)
    pooled, per_sample = FSS(scales), FSS(scales, aggregation="per_sample")
    for metric in (pooled, per_sample):
        metric.update(pred[:3], truth[:3])
        metric.update(pred[3:], truth[3:])
    pooled_values, per_sample_values = pooled.compute(), per_sample.compute()
    for scale in scales:
        expected = float(_reference_fss(pred, truth, scale))
        assert pooled_values[scale] == pytest.approx(expected, abs=1e-9)
        expected_mean = float(_reference_fss(pred, truth, scale, preserve=["sample"]).mean())
        assert per_sample_values[scale] == pytest.approx(expected_mean, abs=1e-9)


def test_hand_values_at_scale_one_and_two():
    truth = np.array([[1.0, 0.0], [0.0, 0.0]])
    pred = np.array([[0.0, 1.0], [0.0, 0.0]])
    metric = FSS(scales=(1, 2))
    metric.update(pred, truth)
    values = metric.compute()
    # scale 1: Σ(Pf−Po)² = 2, ΣPf² + ΣPo² = 2 -> 0; scale 2: one window, both fractions 1/4 -> 1
    assert values == {1: 0.0, 2: 1.0}


def test_windows_with_missing_values_are_dropped_not_dry():
    truth = np.zeros((3, 3))
    pred = np.zeros((3, 3))
    truth[0, 0] = pred[0, 0] = 1.0
    pred[2, 2] = 1.0  # a false alarm, hidden under a missing truth pixel
    truth[2, 2] = np.nan
    metric = FSS(scales=(1, 2))
    metric.update(pred, truth)
    # the NaN pixel removes itself at scale 1 and the one 2x2 window containing it at scale 2
    assert metric.compute() == {1: 1.0, 2: 1.0}
    state = metric._state
    assert state.windows[0].tolist() == [8, 3]


def test_window_counts_are_exact_sliding_sums():
    rng = np.random.default_rng(2)
    field = rng.random((2, 7, 6)) < 0.5
    counts = window_counts(field, 3)
    assert counts.shape == (2, 5, 4)
    assert counts[1, 2, 3] == field[1, 2:5, 3:6].sum()
    assert counts.dtype == np.int64


def test_perfect_forecast_is_one_and_no_events_is_nan(pair_factory):
    _, truth = pair_factory(6)
    metric = FSS(scales=(1, 5))
    metric.update(truth, truth)
    assert metric.compute() == {1: 1.0, 5: 1.0}
    dry = FSS(scales=(3,))
    dry.update(np.zeros((5, 5)), np.zeros((5, 5)))
    with pytest.warns(RuntimeWarning, match="no event"):
        assert np.isnan(dry.compute()[3])


def test_bad_scales_raise():
    with pytest.raises(ValueError, match="distinct"):
        FSS(scales=(3, 3))
    with pytest.raises(ValueError, match="positive integer"):
        FSS(scales=(0,))
    with pytest.raises(ValueError, match="larger than the spatial size"):
        FSS(scales=(9,)).update(np.zeros((4, 8)), np.zeros((4, 8)))

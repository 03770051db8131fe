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


def pysteps_fss_reference(forecasts, observations, threshold, scale):
    """pysteps' FSS algorithm (spatialscores.fss_init/accum/compute), written independently.

    NaN becomes ``threshold - 1`` (a non-event), events are ``>= threshold``, fractions come
    from ``scipy.ndimage.uniform_filter(mode="constant", cval=0)`` on every pixel, and the
    sums of S_f², S_f·S_o and S_o² are accumulated over the fields.
    """
    from scipy.ndimage import uniform_filter

    sums = {"ff": 0.0, "fo": 0.0, "oo": 0.0}
    for forecast, observation in zip(forecasts, observations, strict=True):
        fields = []
        for x in (forecast, observation):
            x = np.array(x, dtype=float)
            x[~np.isfinite(x)] = threshold - 1
            event = (x >= threshold).astype(float)
            fields.append(
                uniform_filter(event, size=scale, mode="constant", cval=0.0) if scale > 1 else event
            )
        s_f, s_o = fields
        sums["ff"] += np.nansum(s_f**2)
        sums["fo"] += np.nansum(s_f * s_o)
        sums["oo"] += np.nansum(s_o**2)
    return 1.0 - (sums["ff"] - 2.0 * sums["fo"] + sums["oo"]) / (sums["ff"] + sums["oo"])


@pytest.mark.parametrize("scale", [1, 2, 3, 4, 7])
def test_zero_padding_matches_pysteps_algorithm(scale):
    from prelib.metrics.spatial import fss

    rng = np.random.default_rng(scale)
    pred = rng.gamma(0.4, 2.0, size=(3, 23, 31))
    truth = rng.gamma(0.4, 2.0, size=(3, 23, 31))
    pred[0, :4, :5] = np.nan  # pysteps counts missing values as non-events of their own field
    truth[1, 10, 10] = np.nan
    truth[2, 5, :] = 1.0  # values exactly at the threshold are events (>=)
    expected = pysteps_fss_reference(pred, truth, 1.0, scale)
    assert fss(pred, truth, 1.0, scale, padding="zero") == pytest.approx(expected, abs=1e-12)
    # one field at a time, as pysteps.verification.spatialscores.fss(X_f, X_o, thr, scale)
    single = pysteps_fss_reference(pred[1:2], truth[1:2], 1.0, scale)
    assert fss(pred[1], truth[1], 1.0, scale, padding="zero") == pytest.approx(single, abs=1e-12)
    if scale > 1:  # the borders make the two conventions differ
        assert fss(pred[1], truth[1], 1.0, scale) != pytest.approx(single, abs=1e-6)


def test_zero_padding_hand_computed():
    from prelib.metrics.spatial import fss

    pred = np.zeros((3, 3))
    truth = np.zeros((3, 3))
    pred[1, 1] = 2.0  # every 3 x 3 window centred in the field holds the centre: S_f = 1/9
    truth[0, 0] = 2.0  # only the windows centred at (0,0), (0,1), (1,0), (1,1) hold it
    # numerator: 5 pixels with (1/9)^2; reference: 9/81 + 4/81
    assert fss(pred, truth, 1.0, 3, padding="zero") == pytest.approx(1 - 5 / 13)
    assert fss(pred, truth, 1.0, 3) == pytest.approx(1.0)  # one inner window: both 1/9
    with pytest.raises(ValueError, match="padding"):
        fss(pred, truth, 1.0, 3, padding="reflect")

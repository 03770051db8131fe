"""Continuous scores: hand values, independent libraries, streaming, stability, degenerate cases."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import pearsonr

from prelib.metrics import MAE, MSE, RMSE, Bias, PearsonCC


def test_hand_computed_values():
    pred = np.array([1.0, 2.0, 3.0, 4.0])
    truth = np.array([1.0, 1.0, 2.0, 5.0])  # errors 0, 1, 1, -1
    for metric, expected in [
        (RMSE(), np.sqrt(3 / 4)),
        (MSE(), 3 / 4),
        (MAE(), 3 / 4),
        (Bias(), 1 / 4),
        (PearsonCC(), pearsonr(pred, truth).statistic),
    ]:
        metric.update(pred, truth)
        assert metric.compute() == pytest.approx(expected, abs=1e-15)


def test_agrees_with_scores_and_scipy_on_random_data(pair):
    import scores.continuous as sc

    pred, truth = pair
    keep = np.isfinite(pred) & np.isfinite(truth)
    fcst, obs = xr.DataArray(pred[keep]), xr.DataArray(truth[keep])
    expected = {
        RMSE: float(sc.rmse(fcst, obs)),
        MAE: float(sc.mae(fcst, obs)),
        Bias: float(sc.additive_bias(fcst, obs)),
        PearsonCC: pearsonr(pred[keep], truth[keep]).statistic,
    }
    for cls, value in expected.items():
        metric = cls()
        metric.update(pred, truth)
        assert metric.compute() == pytest.approx(value, rel=1e-9, abs=1e-12), cls.__name__


@pytest.mark.parametrize("cls", [RMSE, MAE, Bias, PearsonCC])
def test_batches_and_merge_equal_one_pass(cls, pair):
    pred, truth = pair
    whole = cls()
    whole.update(pred, truth)
    batched = cls()
    for start in range(0, len(pred), 2):
        batched.update(pred[start : start + 2], truth[start : start + 2])
    left, right = cls(), cls()
    left.update(pred[:1], truth[:1])
    right.update(pred[1:], truth[1:])
    assert batched.compute() == pytest.approx(whole.compute(), rel=1e-12)
    assert left.merge(right).compute() == pytest.approx(whole.compute(), rel=1e-12)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    values=st.lists(
        st.tuples(st.floats(-1e3, 1e3, allow_nan=False), st.floats(-1e3, 1e3, allow_nan=False)),
        min_size=3,
        max_size=40,
    ),
    cut=st.integers(0, 40),
)
def test_merge_of_any_split_equals_one_pass(values, cut):
    pred, truth = (np.array(column) for column in zip(*values))
    cut = min(cut, len(pred))
    whole, left, right = PearsonCC(), PearsonCC(), PearsonCC()
    whole.update(pred, truth)
    left.update(pred[:cut], truth[:cut])
    right.update(pred[cut:], truth[cut:])
    expected, merged = whole._state, left.merge(right)._state
    np.testing.assert_allclose(merged.count, expected.count)
    np.testing.assert_allclose(merged.mean_pred, expected.mean_pred, rtol=1e-9, atol=1e-9)
    scale = 1.0 + np.abs(expected.m2_pred) + np.abs(expected.m2_truth)
    for name in ("m2_pred", "m2_truth", "comoment"):
        np.testing.assert_allclose(
            getattr(merged, name) / scale, getattr(expected, name) / scale, atol=1e-9
        )


def test_correlation_is_stable_with_a_large_offset():
    rng = np.random.default_rng(1)
    truth = rng.normal(size=5000)
    pred = truth + rng.normal(scale=0.5, size=5000)
    expected = pearsonr(pred, truth).statistic
    metric = PearsonCC()
    for chunk in range(10):  # many merges of offset data
        part = slice(chunk * 500, (chunk + 1) * 500)
        metric.update(pred[part] + 1e8, truth[part] + 1e8)
    # the naive Σxy − n·x̄·ȳ form loses every digit at this offset
    assert metric.compute() == pytest.approx(expected, abs=1e-6)


def test_nan_pixels_and_mask_are_excluded():
    pred = np.array([1.0, np.nan, 3.0, 100.0])
    truth = np.array([2.0, 5.0, np.nan, 0.0])
    valid = np.array([True, True, True, False])
    metric = MAE()
    metric.update(pred, truth, valid)
    assert metric.compute() == 1.0  # only the first pixel remains


def test_constant_field_correlation_is_nan_with_warning_or_paper_zero():
    truth = np.linspace(0.0, 1.0, 10)
    for constant in (np.zeros(10), np.full(10, 0.1)):  # 0.1: mean has rounding error
        metric = PearsonCC()
        metric.update(constant, truth)
        with pytest.warns(RuntimeWarning, match="constant"):
            assert np.isnan(metric.compute())
    paper = PearsonCC(constant_value=0.0)
    paper.update(np.zeros(10), truth)
    assert paper.compute() == 0.0
    empty = PearsonCC(constant_value=0.0)
    empty.update(np.full(3, np.nan), np.ones(3))
    with pytest.warns(RuntimeWarning):
        assert np.isnan(empty.compute())  # no data is not "constant"


def test_all_missing_and_empty_give_nan_with_warning():
    for cls in (RMSE, MAE, Bias, PearsonCC):
        metric = cls()
        with pytest.warns(RuntimeWarning, match="undefined"):
            assert np.isnan(metric.compute())
        metric.update(np.full(4, np.nan), np.ones(4))
        with pytest.warns(RuntimeWarning):
            assert np.isnan(metric.compute())


def test_per_sample_is_mean_of_sample_scores(pair):
    pred, truth = pair
    expected = []
    for p, t in zip(pred, truth):
        keep = np.isfinite(p) & np.isfinite(t)
        expected.append(np.sqrt(np.mean((p[keep] - t[keep]) ** 2)))
    metric = RMSE(aggregation="per_sample")
    metric.update(pred[:4], truth[:4])
    metric.update(pred[4:], truth[4:])
    assert metric.compute() == pytest.approx(np.mean(expected), rel=1e-12)
    pooled = RMSE()
    pooled.update(pred, truth)
    assert pooled.compute() != pytest.approx(metric.compute(), rel=1e-6)


def test_per_sample_skips_undefined_samples_with_warning():
    truth = np.stack([np.linspace(0, 1, 5), np.zeros(5)])
    pred = np.stack([np.linspace(0, 1, 5) ** 2, np.zeros(5)])
    metric = PearsonCC(aggregation="per_sample")
    metric.update(pred, truth)
    with pytest.warns(RuntimeWarning, match="1 of 2 samples"):
        value = metric.compute()
    assert value == pytest.approx(pearsonr(pred[0], truth[0]).statistic)


def test_reset_forgets():
    metric = RMSE()
    metric.update(np.ones(3), np.zeros(3))
    metric.reset()
    metric.update(np.zeros(3), np.zeros(3))
    assert metric.compute() == 0.0

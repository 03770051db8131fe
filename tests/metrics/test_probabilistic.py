"""CRPS: hand values, the scores library, member axes, missing members, deterministic = MAE."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from prelib.metrics import CRPS, MAE, ensemble_crps


def test_hand_values_fair_and_ecdf():
    members = np.array([[0.0], [2.0]])  # (member, pixel)
    truth = np.array([1.0])
    # mean |x - y| = 1; Σ_i Σ_j |x_i - x_j| = 4; ecdf: 1 - 4 / (2·2²) = 0.5; fair: 1 - 4/(2·2·1) = 0
    assert ensemble_crps(members, truth, "ecdf")[0] == pytest.approx(0.5)
    assert ensemble_crps(members, truth, "fair")[0] == pytest.approx(0.0)
    one = np.array([[3.0]])
    assert ensemble_crps(one, truth, "ecdf")[0] == 2.0  # one member: the absolute error


@pytest.mark.parametrize("estimator", ["fair", "ecdf"])
def test_agrees_with_scores_crps_for_ensemble(estimator, pair_factory):
    from scores.probability import crps_for_ensemble

    rng = np.random.default_rng(7)
    _, truth = pair_factory(8, shape=(3, 9, 7), missing=0.0)
    members = np.clip(truth[:, None] + rng.normal(0, 1.0, (3, 5, 9, 7)), 0, None)
    metric = CRPS(member_axis=1, estimator=estimator)
    metric.update(members[:2], truth[:2])
    metric.update(members[2:], truth[2:])
    expected = crps_for_ensemble(
        xr.DataArray(members, dims=("sample", "member", "y", "x")),
        xr.DataArray(truth, dims=("sample", "y", "x")),
        "member",
        method=estimator,
    )
    assert metric.compute() == pytest.approx(float(expected), abs=1e-9)


def test_xarray_member_dimension_and_transposed_truth():
    rng = np.random.default_rng(9)
    members = rng.gamma(1.0, 1.0, (4, 2, 5, 6))  # member first
    truth = rng.gamma(1.0, 1.0, (2, 5, 6))
    by_axis = CRPS(member_axis=0)
    by_axis.update(members, truth)
    by_name = CRPS(member_axis="member")
    by_name.update(
        xr.DataArray(members.transpose(1, 2, 0, 3), dims=("sample", "y", "member", "x")),
        xr.DataArray(truth.transpose(0, 2, 1), dims=("sample", "x", "y")),
    )
    assert by_name.compute() == pytest.approx(by_axis.compute(), rel=1e-12)


def test_deterministic_crps_is_mae(pair):
    pred, truth = pair
    crps, mae = CRPS(), MAE()
    crps.update(pred, truth)
    mae.update(pred, truth)
    assert crps.compute() == pytest.approx(mae.compute(), rel=1e-12)


def test_missing_member_or_truth_drops_the_pixel():
    members = np.array([[1.0, np.nan, 1.0], [3.0, 5.0, 1.0]])  # (member, pixel)
    truth = np.array([2.0, 0.0, np.nan])
    metric = CRPS(member_axis=0, estimator="ecdf")
    metric.update(members, truth)
    assert metric.compute() == pytest.approx(ensemble_crps(members[:, :1], truth[:1], "ecdf")[0])


def test_bad_ensembles_raise():
    with pytest.raises(ValueError, match="at least 2 members"):
        CRPS(member_axis=0).update(np.ones((1, 4)), np.ones(4))
    with pytest.raises(ValueError, match="must match truth's shape"):
        CRPS(member_axis=0).update(np.ones((3, 4)), np.ones(5))
    with pytest.raises(ValueError, match="out of range"):
        CRPS(member_axis=3).update(np.ones((3, 4)), np.ones(4))
    with pytest.raises(ValueError, match=r"xarray\.DataArray"):
        CRPS(member_axis="member").update(np.ones((3, 4)), np.ones(4))
    with pytest.raises(ValueError, match="estimator"):
        CRPS(estimator="kernel")
    with pytest.raises(ValueError, match="same shape"):
        CRPS().update(np.ones((3, 4)), np.ones(4))


def test_all_missing_gives_nan_with_warning():
    metric = CRPS(member_axis=0)
    metric.update(np.ones((2, 3)), np.full(3, np.nan))
    with pytest.warns(RuntimeWarning, match="no valid pixels"):
        assert np.isnan(metric.compute())

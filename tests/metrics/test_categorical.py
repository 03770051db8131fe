"""Contingency-table scores: a hand-computed table, the scores library, streaming, NaN rules."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from prelib.metrics import CSI, ETS, FAR, HSS, POD, ContingencyTable, FrequencyBias
from prelib.metrics.categorical import CONTINGENCY_SCORES

# pixel:       1     2     3     4      5     6       7       8     9
TRUTH = [0.0, 0.1, 0.5, 0.05, 2.0, np.nan, 0.0, 0.3, 0.0]
PRED = [0.2, 0.1, 0.0, 0.0, 3.0, 5.0, np.nan, 0.09, 0.0]
# with t = 0.1 and >=:  F     H     M     N      H     (NaN)   (NaN)   M     N
# H = 2, M = 2, F = 1, N = 2, T = 7.  Pixel 6 (wet prediction, NaN truth) is not a false alarm.
EXPECTED = {
    "pod": 2 / 4,
    "far": 1 / 3,
    "csi": 2 / 5,
    "fbias": 3 / 4,
    "hss": 2 * (2 * 2 - 2 * 1) / ((2 + 2) * (2 + 2) + (2 + 1) * (1 + 2)),  # 4 / 25
    "ets": (2 - 12 / 7) / (5 - 12 / 7),  # Hr = (H+M)(H+F)/T = 12/7; = 2/23
}
CLASSES = {"pod": POD, "far": FAR, "csi": CSI, "fbias": FrequencyBias, "hss": HSS, "ets": ETS}


def test_hand_computed_table_and_scores():
    metric = CSI()
    metric.update(np.array(PRED), np.array(TRUTH))
    table = metric.table
    counts = (table.hits, table.misses, table.false_alarms, table.correct_negatives)
    assert [int(c[0]) for c in counts] == [2, 2, 1, 2]
    assert table.hits.dtype == np.int64
    for name, cls in CLASSES.items():
        metric = cls()
        metric.update(np.array(PRED), np.array(TRUTH))
        assert metric.compute() == pytest.approx(EXPECTED[name], abs=1e-15), name
    assert EXPECTED["hss"] == pytest.approx(0.16) and EXPECTED["ets"] == pytest.approx(2 / 23)


def test_valid_mask_removes_pixels():
    valid = np.ones(9, dtype=bool)
    valid[0] = False  # the only false alarm
    metric = FAR()
    metric.update(np.array(PRED), np.array(TRUTH), valid)
    assert metric.compute() == 0.0


def test_threshold_is_inclusive_and_configurable():
    pred, truth = np.array([1.0, 0.99]), np.array([1.0, 1.0])
    metric = POD(threshold=1.0)
    metric.update(pred, truth)
    assert metric.compute() == 0.5


def test_agrees_with_scores_library(pair):
    from scores.categorical import BinaryContingencyManager

    pred, truth = pair
    keep = np.isfinite(pred) & np.isfinite(truth)
    manager = BinaryContingencyManager(
        xr.DataArray((pred[keep] >= 0.1).astype(float)),
        xr.DataArray((truth[keep] >= 0.1).astype(float)),
    )
    expected = {
        "pod": manager.probability_of_detection(),
        "far": manager.false_alarm_ratio(),
        "csi": manager.critical_success_index(),
        "fbias": manager.frequency_bias(),
        "hss": manager.heidke_skill_score(),
        "ets": manager.equitable_threat_score(),
    }
    for name, cls in CLASSES.items():
        metric = cls()
        metric.update(pred, truth)
        assert metric.compute() == pytest.approx(float(expected[name]), abs=1e-9), name


def test_table_agrees_with_sklearn_confusion_matrix(pair):
    from sklearn.metrics import confusion_matrix

    pred, truth = pair
    keep = np.isfinite(pred) & np.isfinite(truth)
    (n, f), (m, h) = confusion_matrix(truth[keep] >= 0.1, pred[keep] >= 0.1)
    metric = CSI()
    metric.update(pred, truth)
    table = metric.table
    assert (table.hits[0], table.misses[0], table.false_alarms[0], table.correct_negatives[0]) == (
        h,
        m,
        f,
        n,
    )


@settings(max_examples=25, deadline=None, derandomize=True)
@given(cuts=st.lists(st.integers(0, 6), min_size=1, max_size=4), threshold=st.floats(0.0, 3.0))
def test_batches_and_merges_equal_one_pass(pair_factory, cuts, threshold):
    pred, truth = pair_factory(1)
    whole = HSS(threshold=threshold)
    whole.update(pred, truth)
    edges = [0, *sorted(cuts), len(pred)]
    parts = []
    for start, stop in itertools.pairwise(edges):
        part = HSS(threshold=threshold)
        part.update(pred[start:stop], truth[start:stop])
        parts.append(part)
    merged = parts[0]
    for part in parts[1:]:
        merged.merge(part)
    assert all(
        np.array_equal(getattr(merged.table, f), getattr(whole.table, f))
        for f in ("hits", "misses", "false_alarms", "correct_negatives")
    )


def test_no_rain_anywhere_gives_nan_with_warning():
    dry = np.zeros((2, 4, 4))
    for name in ("pod", "far", "csi", "fbias", "hss", "ets"):
        metric = CLASSES[name]()
        metric.update(dry, dry)
        with pytest.warns(RuntimeWarning, match="undefined"):
            assert np.isnan(metric.compute()), name


def test_no_observed_rain_but_false_alarms():
    truth, pred = np.zeros(4), np.array([0.0, 1.0, 0.0, 0.0])
    csi, far, pod = CSI(), FAR(), POD()
    for metric in (csi, far, pod):
        metric.update(pred, truth)
    assert csi.compute() == 0.0 and far.compute() == 1.0
    with pytest.warns(RuntimeWarning, match="no observed events"):
        assert np.isnan(pod.compute())


def test_per_sample_csi_averages_defined_samples():
    truth = np.array([[1.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    pred = np.array([[1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    metric = CSI(aggregation="per_sample")
    metric.update(pred, truth)
    with pytest.warns(RuntimeWarning, match="1 of 3 samples"):
        assert metric.compute() == pytest.approx((1 / 2 + 1 / 3) / 2)
    pooled = CSI()
    pooled.update(pred, truth)
    assert pooled.compute() == pytest.approx(2 / 5)


def test_score_functions_work_on_arrays_of_tables():
    table = ContingencyTable(
        hits=np.array([2, 0]),
        misses=np.array([2, 0]),
        false_alarms=np.array([1, 0]),
        correct_negatives=np.array([2, 5]),
    )
    csi = CONTINGENCY_SCORES["csi"](table)
    assert csi[0] == pytest.approx(0.4) and np.isnan(csi[1])

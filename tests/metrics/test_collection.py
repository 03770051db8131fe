"""Registry names, MetricCollection and one-shot score()."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prelib.metrics import (
    CSI,
    FSS,
    PAPER_METRICS,
    MetricCollection,
    NeighbourhoodCSI,
    available_metrics,
    get_metric,
    json_ready,
    score,
)

ALL = ("rmse", "mae", "bias", "cc", "pod", "far", "csi", "hss", "ets", "fbias", "csi4", "csi8")


def test_every_registry_name_builds_and_scores(pair_factory):
    pred, truth = pair_factory(10, shape=(2, 16, 16))
    required = {*ALL, "fss", "crps"}
    assert required <= set(available_metrics())
    for name in available_metrics():
        metric = get_metric(name)
        metric.update(pred, truth)
        value = metric.compute()
        values = value.values() if isinstance(value, dict) else [value]
        assert all(np.isfinite(v) for v in values), name


def test_registry_arguments_and_errors():
    assert get_metric("CSI@1.5").threshold == 1.5
    assert get_metric("csi", threshold=2).threshold == 2.0
    assert get_metric("fss", scales=(1, 5)).scales == (1, 5)
    assert isinstance(get_metric("csi8"), NeighbourhoodCSI)
    with pytest.raises(ValueError, match="unknown metric 'csi_4'"):
        get_metric("csi_4")
    with pytest.raises(ValueError, match="unknown metric"):
        get_metric("psnr")
    with pytest.raises(ValueError, match="does not take argument"):
        get_metric("rmse", threshold=1.0)
    with pytest.raises(ValueError, match="takes no threshold"):
        get_metric("rmse@1")
    with pytest.raises(ValueError, match="conflicts"):
        get_metric("csi@1", threshold=2.0)
    with pytest.raises(ValueError, match="threshold number"):
        get_metric("csi@heavy")
    with pytest.raises(ValueError, match="non-empty string"):
        get_metric("")


def test_collection_flat_dict_matches_individual_metrics(pair):
    pred, truth = pair
    collection = MetricCollection([*ALL, "fss"])
    collection.update(pred, truth)
    results = collection.compute()
    assert set(results) == set(ALL) | {"fss_1", "fss_3", "fss_5", "fss_9"}
    for name in ALL:
        single = get_metric(name)
        single.update(pred, truth)
        assert results[name] == single.compute(), name
    fss = FSS()
    fss.update(pred, truth)
    assert results["fss_9"] == fss.compute()[9]


def test_common_arguments_keys_and_errors():
    collection = MetricCollection(
        {"csi_heavy": "csi", "rmse": "rmse", "csi_light": CSI(threshold=0.1)},
        threshold=5.0,
        aggregation="per_sample",
    )
    assert collection["csi_heavy"].threshold == 5.0
    assert collection["csi_light"].threshold == 0.1  # objects are used as given
    assert collection["rmse"].aggregation == "per_sample"
    assert list(collection) == ["csi_heavy", "rmse", "csi_light"] and len(collection) == 3
    with pytest.raises(ValueError, match="no metric in the collection takes"):
        MetricCollection(["rmse"], threshold=1.0)
    with pytest.raises(ValueError, match="duplicate metric key 'csi'"):
        MetricCollection(["csi", CSI()])
    with pytest.raises(ValueError, match="at least one metric"):
        MetricCollection([])


@settings(max_examples=15, deadline=None, derandomize=True)
@given(cut=st.integers(1, 5), per_sample=st.booleans())
def test_collection_streaming_merge_and_pickle(pair_factory, cut, per_sample):
    pred, truth = pair_factory(11)
    aggregation = "per_sample" if per_sample else "pooled"
    names = ["rmse", "cc", "csi", "hss", "csi4", "fss"]
    whole = MetricCollection(names, aggregation=aggregation)
    whole.update(pred, truth)
    left = MetricCollection(names, aggregation=aggregation)
    right = MetricCollection(names, aggregation=aggregation)
    left.update(pred[:cut], truth[:cut])
    right.update(pred[cut:], truth[cut:])
    merged = pickle.loads(pickle.dumps(left)).merge(pickle.loads(pickle.dumps(right)))
    expected, got = whole.compute(), merged.compute()
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key] == pytest.approx(expected[key], rel=1e-10), key


def test_score_one_shot_and_reset(pair):
    pred, truth = pair
    results = score(pred, truth)
    assert tuple(results) == PAPER_METRICS
    collection = MetricCollection(PAPER_METRICS)
    collection.update(np.zeros_like(pred), truth)
    collection.reset()
    collection.update(pred, truth)
    assert collection.compute() == results
    with pytest.raises(ValueError, match="same metric keys"):
        collection.merge(MetricCollection(["rmse"]))


def test_no_rain_scores_are_nan_and_json_ready():
    dry = np.zeros((2, 8, 8))
    with pytest.warns(RuntimeWarning):
        results = score(dry, dry, metrics=("rmse", "csi", "csi4"))
    assert results["rmse"] == 0.0 and np.isnan(results["csi"]) and np.isnan(results["csi4"])
    assert json_ready(results) == {"rmse": 0.0, "csi": None, "csi4": None}

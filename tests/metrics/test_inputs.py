"""Input handling shared by all metrics: numpy / xarray / torch, masks, bad input."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from prelib.metrics import CSI, RMSE, MetricCollection, PearsonCC, get_metric
from prelib.metrics.inputs import check_threshold, prepare_pair

KEYS = ("rmse", "mae", "bias", "cc", "pod", "far", "csi", "hss", "ets", "fbias", "csi4", "fss")


def test_numpy_xarray_and_torch_give_identical_results(pair):
    torch = pytest.importorskip("torch")
    pred, truth = (a.astype(np.float32) for a in pair)
    valid = np.ones(truth.shape, bool)
    valid[0, :3] = False
    dims = ("sample", "y", "x")
    inputs = {
        "numpy": (pred, truth, valid),
        "xarray": (
            xr.DataArray(pred, dims=dims),
            xr.DataArray(truth, dims=dims).transpose("x", "sample", "y"),  # aligned by name
            xr.DataArray(valid, dims=dims),
        ),
        "torch": (torch.from_numpy(pred), torch.from_numpy(truth), torch.from_numpy(valid)),
    }
    results = {}
    for kind, (p, t, v) in inputs.items():
        collection = MetricCollection(KEYS)
        collection.update(p, t, v)
        results[kind] = collection.compute()
    assert results["numpy"] == results["xarray"] == results["torch"]
    assert all(np.isfinite(value) for value in results["numpy"].values())


def test_torch_half_precision_and_grad_tensors():
    torch = pytest.importorskip("torch")
    pred = torch.linspace(0, 1, 16, requires_grad=True).reshape(4, 4)
    metric = RMSE()
    metric.update(pred * 1.0, torch.zeros(4, 4, dtype=torch.bfloat16))
    expected = float(pred.detach().pow(2).mean().sqrt())
    assert metric.compute() == pytest.approx(expected, rel=1e-6)


def test_mismatched_shapes_and_bad_masks_raise():
    metric = RMSE()
    with pytest.raises(ValueError, match=r"same shape.*\(2, 3\).*\(3, 2\)"):
        metric.update(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"valid: expected shape \(2, 3\)"):
        metric.update(np.zeros((2, 3)), np.zeros((2, 3)), np.ones((3, 2), bool))
    with pytest.raises(ValueError, match=r"valid: expected a boolean mask.*float64"):
        metric.update(np.zeros((2, 3)), np.zeros((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="numeric"):
        metric.update(np.array(["a", "b"]), np.array(["a", "b"]))
    with pytest.raises(ValueError, match=r"xarray\.Dataset"):
        metric.update(xr.Dataset({"p": ("x", [1.0])}), np.zeros(1))
    with pytest.raises(ValueError, match="different dimensions"):
        metric.update(xr.DataArray(np.zeros(2), dims="a"), xr.DataArray(np.zeros(2), dims="b"))
    with pytest.raises(ValueError, match="per-sample aggregation needs"):
        RMSE(aggregation="per_sample").update(np.zeros(3), np.zeros(3))
    for spatial in ("csi4", "fss"):
        with pytest.raises(ValueError, match=r"spatial metric needs arrays shaped \(sample"):
            get_metric(spatial, aggregation="per_sample").update(np.zeros((8, 8)), np.zeros((8, 8)))
    with pytest.raises(ValueError, match="boolean array"):
        metric.update(np.ones(3, bool), np.ones(3))
    with pytest.raises(ValueError, match="aggregation must be one of"):
        RMSE(aggregation="mean")


@pytest.mark.parametrize("threshold", [np.nan, np.inf, -np.inf, "0.1", None, True])
def test_non_finite_or_non_numeric_thresholds_raise(threshold):
    with pytest.raises(ValueError, match="threshold must be a finite number"):
        CSI(threshold=threshold)
    with pytest.raises(ValueError, match="finite number"):
        check_threshold(threshold)


def test_infinite_values_are_missing_not_counted():
    pred, truth, valid = prepare_pair(np.array([np.inf, 1.0]), np.array([1.0, 1.0]))
    assert valid.tolist() == [False, True]
    assert pred.dtype == truth.dtype == np.float64


def test_merge_rejects_different_metrics():
    with pytest.raises(ValueError, match="cannot merge"):
        CSI(threshold=1.0).merge(CSI(threshold=2.0))
    with pytest.raises(ValueError, match="cannot merge"):
        CSI().merge(get_metric("pod"))
    PearsonCC().merge(PearsonCC())  # NaN defaults compare equal


@pytest.mark.gpu
def test_cuda_tensors_give_the_numpy_result(pair):
    torch = pytest.importorskip("torch")
    pred, truth = pair
    on_host, on_device = MetricCollection(KEYS), MetricCollection(KEYS)
    on_host.update(pred, truth)
    on_device.update(torch.from_numpy(pred).cuda(), torch.from_numpy(truth).cuda())
    assert on_device.compute() == on_host.compute()


def test_metrics_package_imports_neither_torch_nor_models():
    code = (
        "import sys, prelib.metrics; "
        "bad = [m for m in sys.modules if m == 'torch' or m.startswith('prelib.models')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

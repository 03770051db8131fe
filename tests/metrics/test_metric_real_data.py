"""Real MRMS radar fields (../shared/data): a 10-minute persistence forecast, scored two ways."""

from __future__ import annotations

import numpy as np
import pytest

from prelib.metrics import MetricCollection

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def mrms_pair():
    """Frames 0 and 5 of a 512 × 512 km box with rain and radar-coverage gaps (NaN)."""
    import xarray as xr

    from prelib.paths import shared_data_dir

    root = shared_data_dir()
    path = None if root is None else root / "mrms" / "mrms_preciprate_20190610.nc"
    if path is None or not path.is_file():
        pytest.skip("shared MRMS sample data not available")
    with xr.open_dataset(path) as ds:
        box = ds.precip_rate.isel(time=[0, 5], lat=slice(520, 1032), lon=slice(4420, 4932)).load()
    return box.isel(time=[1]).rename(time="sample"), box.isel(time=[0]).rename(time="sample")


def test_persistence_scores_match_an_independent_computation(mrms_pair):
    torch = pytest.importorskip("torch")
    pred, truth = mrms_pair
    p, t = pred.values[0], truth.values[0]
    assert np.isnan(t).any() and (t >= 0.1).any()  # the box has gaps and rain
    collection = MetricCollection(["rmse", "csi", "csi4"])
    collection.update(pred, truth)
    results = collection.compute()

    keep = np.isfinite(p) & np.isfinite(t)
    assert results["rmse"] == pytest.approx(np.sqrt(np.mean((p[keep] - t[keep]) ** 2)), rel=1e-12)
    hits = np.sum((p[keep] >= 0.1) & (t[keep] >= 0.1))
    either = np.sum((p[keep] >= 0.1) | (t[keep] >= 0.1))
    assert results["csi"] == pytest.approx(hits / either, rel=1e-12)

    # CSI-4 the reference code's way: torch max-pool, NaN indicator max-pooled alongside
    def pool(x):
        return torch.nn.functional.max_pool2d(torch.from_numpy(x)[None], 4)[0].numpy()

    missing = pool((~keep).astype(np.float64)) > 0
    pooled_p, pooled_t = pool(np.nan_to_num(p, nan=-1.0)), pool(np.nan_to_num(t, nan=-1.0))
    wet_p, wet_t = (pooled_p >= 0.1) & ~missing, (pooled_t >= 0.1) & ~missing
    assert results["csi4"] == pytest.approx(np.sum(wet_p & wet_t) / np.sum(wet_p | wet_t))
    assert 0.0 < results["csi"] < results["csi4"] < 1.0

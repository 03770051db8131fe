import numpy as np
import pytest
import torch

from prelib.config import resolve
from prelib.data.benchmark_config import load_benchmark_config
from prelib.data.datasets import BenchmarkDataset, make_dataloader
from prelib.data.samples import generate_sample
from prelib.data.store import write_benchmark
from prelib.data.transforms import IGNORE_INDEX

TINY_DATA = resolve("tiny").data


def test_swath_items_have_the_documented_layout(swath_store):
    ds = BenchmarkDataset.from_zarr(swath_store)
    item = ds[1]
    shapes = {k: tuple(v.shape) for k, v in item.items() if torch.is_tensor(v)}
    assert shapes == {
        "ir": (8, 256, 49),
        "pmw": (13, 256, 49),
        "pr": (176, 256, 49),
        "geo": (3, 256, 49),
        "precip": (256, 49),
        "valid": (256, 49),
        "rain": (256, 49),
        "input_valid": (256, 49),
    }
    assert item["rain"].dtype == torch.int64 and item["valid"].dtype == torch.bool
    assert item["index"] == 1 and len(ds) == 3 and ds.kind == "swath"
    for name in ("ir", "pmw", "geo"):  # physical values map into [0, 1]
        assert 0.0 <= float(item[name].min()) and float(item[name].max()) <= 1.0, name
    assert 0.0 <= float(item["pr"].min()) and float(item["pr"].max()) <= 1.5
    assert torch.equal(item["rain"] == 1, item["precip"] >= 0.1)


def test_on_the_fly_items_equal_the_stored_ones(fulldisc_store):
    stored = BenchmarkDataset.from_zarr(fulldisc_store, kind="fulldisc")
    live = BenchmarkDataset.simulated("fulldisc", "train", resolve("tiny"))
    assert len(stored) == len(live) and live.is_simulated and not stored.is_simulated
    a, b = stored[2], live[2]
    assert a.keys() == b.keys() and "pmw" not in a
    for key in a:
        assert torch.equal(a[key], b[key]) if torch.is_tensor(a[key]) else a[key] == b[key]


def test_two_workers_give_the_same_batches_as_none(swath_store):
    ds = BenchmarkDataset.from_zarr(swath_store)
    serial = list(make_dataloader(ds, batch_size=2, shuffle=True, seed=5))
    parallel = list(make_dataloader(ds, batch_size=2, shuffle=True, seed=5, num_workers=2))
    assert len(serial) == len(parallel) == 2
    for x, y in zip(serial, parallel, strict=True):
        assert x.keys() == y.keys()
        assert all(torch.equal(x[k], y[k]) for k in x)
    other = [b["index"].tolist() for b in make_dataloader(ds, batch_size=3, shuffle=True, seed=6)]
    assert sorted(other[0]) == [0, 1, 2]


def test_missing_labels_in_a_store_become_invalid_pixels(tmp_path):
    cfg = load_benchmark_config("tiny")

    def make(index):  # a real sample with a block of missing labels, as over the sea in CLDAS
        sample = generate_sample("fulldisc", "val", index, cfg)[0]
        sample["precip"][:40, :] = np.nan
        return sample

    path = write_benchmark(make, 1, tmp_path / "holes.zarr", "fulldisc", progress=False)
    item = BenchmarkDataset.from_zarr(path)[0]
    assert not item["valid"][:40].any() and item["valid"][40:].all()
    assert (item["rain"][:40] == IGNORE_INDEX).all() and (item["precip"][:40] == 0).all()
    assert set(item["rain"][40:].unique().tolist()) <= {0, 1}


def test_bad_requests():
    with pytest.raises(ValueError, match="split"):
        BenchmarkDataset.simulated("swath", "dev", TINY_DATA)
    with pytest.raises(ValueError, match="n_samples"):
        BenchmarkDataset.simulated("swath", "val", TINY_DATA, n_samples=0)
    with pytest.raises(ValueError, match="RunConfig"):
        BenchmarkDataset.simulated("swath", "val", {"seed": 0})
    with pytest.warns(DeprecationWarning, match="BenchmarkDataset.simulated"):
        assert len(BenchmarkDataset.simulated("swath", "val", "tiny")) == TINY_DATA.swath_val
    ds = BenchmarkDataset.simulated("swath", "val", TINY_DATA, n_samples=2)
    with pytest.raises(IndexError):
        ds[2]
    with pytest.raises(ValueError, match="batch_size"):
        make_dataloader(ds, batch_size=0)

import functools
from pathlib import Path

import numpy as np
import pytest

from prelib.config import resolve
from prelib.conventions import RAIN_THRESHOLD
from prelib.data.benchmark_config import load_benchmark_config
from prelib.data.samples import generate_sample
from prelib.data.store import benchmark_path, open_benchmark, write_benchmark

TINY = resolve("tiny")


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_store_layout_chunks_and_dry_filter(swath_store, fulldisc_store):
    ds = open_benchmark(swath_store)
    assert ds.sizes["sample"] == load_benchmark_config("tiny").swath_train
    assert ds["pr"].encoding["chunks"] == (1, 176, 256, 49)
    assert ds["ir"].encoding["compressors"][0].cname == "zstd"
    assert ds["time"].encoding["units"].startswith("seconds since 1970")
    for store in (swath_store, fulldisc_store):
        precip = open_benchmark(store)["precip"].values
        for patch in precip:
            valid = np.isfinite(patch)
            assert (patch[valid] >= RAIN_THRESHOLD).mean() >= 0.02
    # stored samples are exactly the plan's samples
    sample, spec = generate_sample("swath", "train", 2, load_benchmark_config("tiny"))
    assert np.array_equal(ds["pmw"][2].values, sample["pmw"].values, equal_nan=True)
    assert ds["time"].values[2] == spec.time and ds["scene_seed"].values[2] == spec.scene_seed


def _failing_sample(kind, split, config, fail_at, index):
    if index == fail_at:
        raise KeyboardInterrupt("simulated kill")  # like Ctrl-C mid-write
    return generate_sample(kind, split, index, config)[0]


def test_interrupted_write_leaves_nothing_under_the_final_name(tmp_path):
    cfg = load_benchmark_config("tiny")
    make = functools.partial(_failing_sample, "fulldisc", "test", cfg, 1)
    target = tmp_path / "fulldisc_test.zarr"
    with pytest.raises(KeyboardInterrupt):
        write_benchmark(make, 2, target, "fulldisc", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_inconsistent_samples_are_refused(tmp_path):
    cfg = load_benchmark_config("tiny")

    def make(index):
        sample = generate_sample("fulldisc", "test", 0, cfg)[0]
        return sample.drop_vars("land") if index == 1 else sample

    with pytest.raises(ValueError, match="expected"):
        write_benchmark(make, 2, tmp_path / "x.zarr", "fulldisc", progress=False)
    assert not (tmp_path / "x.zarr").exists()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n_samples": 0}, "n_samples"), ({"workers": 0}, "workers"), ({"kind": "grid"}, "kind")],
)
def test_bad_write_requests(tmp_path, kwargs, match):
    args = {"make_sample": None, "n_samples": 2, "path": tmp_path / "x.zarr", "kind": "swath"}
    with pytest.raises(ValueError, match=match):
        write_benchmark(**{**args, **kwargs})


def test_paths_and_missing_stores(tmp_path):
    demo = resolve("demo")
    path = benchmark_path("swath", "val", demo, 3, root=tmp_path)
    assert path == tmp_path / "synthetic" / "demo" / "seed3" / "swath_val.zarr"
    assert benchmark_path("swath", "val", demo, root=tmp_path).parent.name == "seed0"
    with pytest.raises(FileNotFoundError, match="prelib simulate build"):
        open_benchmark(path)
    with pytest.warns(DeprecationWarning, match="benchmark_path"):
        assert benchmark_path("swath", "val", "demo", 3, root=tmp_path) == path


def test_a_schema_error_fails_before_the_other_samples_are_simulated(tmp_path):
    cfg = load_benchmark_config("tiny")
    calls = []

    def make(index):
        calls.append(index)
        sample = generate_sample("fulldisc", "test", 0, cfg)[0]
        sample["precip"].attrs["units"] = "kg m-2 s-1"
        return sample

    with pytest.raises(ValueError, match="units"):
        write_benchmark(make, 50, tmp_path / "bad.zarr", "fulldisc", progress=False)
    assert calls == [0] and list(tmp_path.iterdir()) == []


def test_stored_times_lie_in_their_split_period(swath_store, fulldisc_store):
    from prelib.data.splits import split_period

    for kind, store in (("swath", swath_store), ("fulldisc", fulldisc_store)):
        days = open_benchmark(store)["time"].values.astype("datetime64[D]")
        assert np.isin(days, split_period(kind, "train").days()).all()
        assert not np.isin(days, split_period(kind, "test").days()).any()

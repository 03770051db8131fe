"""Benchmark stores record the world version that simulated them and refuse another one."""

from __future__ import annotations

import pytest
import zarr

from prelib.config import resolve
from prelib.data.build.synthetic import build_benchmark
from prelib.data.store import open_benchmark
from prelib.sim.scene import WORLD_VERSION


@pytest.mark.slow
def test_store_records_the_world_version_and_refuses_an_old_one(tmp_path):
    path = build_benchmark(
        "swath",
        "test",
        resolve("tiny"),
        out=tmp_path / "s.zarr",
        n_samples=1,
        progress=False,
        workers=1,
    )
    assert open_benchmark(path).attrs["world_version"] == WORLD_VERSION
    group = zarr.open_group(str(path), mode="r+")
    del group.attrs["world_version"]  # a store from before versioning: version 1
    zarr.consolidate_metadata(str(path))
    with pytest.raises(ValueError, match=r"s\.zarr: built by version 1 of the synthetic world"):
        open_benchmark(path)

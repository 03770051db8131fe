"""ensure_benchmarks and the stage data of the workflow layer."""

from __future__ import annotations

import pytest

from prelib.config import resolve
from prelib.workflow import BenchmarkData, RunLayout, ensure_benchmarks


def test_missing_stores_are_built_once_in_the_data_folder(tmp_path):
    cfg, layout = resolve("tiny"), RunLayout(tmp_path / "run", tmp_path / "data")
    stores = ensure_benchmarks(cfg, layout, kinds=("swath",), splits=("val",))
    path = stores["swath", "val"]
    assert path == layout.benchmark("swath", "val", cfg) and path.is_dir()
    stamp = path.stat().st_mtime_ns
    assert ensure_benchmarks(cfg, layout, kinds=("swath",), splits=("val",)) == stores
    assert path.stat().st_mtime_ns == stamp  # found, not rebuilt
    data = BenchmarkData(cfg, layout)
    val = data.loader("swath", "val", batch_size=2)  # reads the store built above
    assert len(val.dataset) == len(data.dataset("swath", "val")) >= 1


def test_bad_sources_are_refused(tmp_path):
    cfg, layout = resolve("tiny"), RunLayout(tmp_path)
    with pytest.raises(ValueError, match="data source"):
        BenchmarkData(cfg, layout, "nowhere")
    with pytest.raises(FileNotFoundError, match=r"swath_train\.zarr"):
        BenchmarkData(cfg, layout, str(tmp_path)).dataset("swath", "train")

"""The synthetic builder: same seed, same bytes for any number of workers or any runner; the run
configuration (not a profile name) says the sizes and where the store goes."""

from __future__ import annotations

from pathlib import Path

import pytest

from prelib.config import resolve
from prelib.data.build.execution import UnitRunner
from prelib.data.build.synthetic import build_benchmark
from prelib.data.store import open_benchmark

TINY = resolve("tiny")


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_identical_bytes_for_any_number_of_workers(tmp_path):
    a = build_benchmark("fulldisc", "val", TINY, out=tmp_path / "a.zarr", progress=False)
    b = build_benchmark("fulldisc", "val", TINY, out=tmp_path / "b.zarr", progress=False, workers=2)
    files_a, files_b = _files(a), _files(b)
    assert files_a.keys() == files_b.keys() and "ir/1.0.0.0" in files_a
    assert files_a == files_b
    c = build_benchmark(
        "fulldisc", "val", TINY, out=tmp_path / "c.zarr", progress=False, seed=1, n_samples=1
    )
    assert _files(c)["ir/0.0.0.0"] != files_a["ir/0.0.0.0"]


class _CountingRunner(UnitRunner):
    """A synchronous runner that records what it was asked to map."""

    def __init__(self) -> None:
        super().__init__("synchronous", 1)
        self.mapped: list[tuple[str, int]] = []

    def map(self, function, items, name="task", bar=None, fork=False):
        items = list(items)
        self.mapped.append((name, len(items)))
        return super().map(function, items, name, bar, fork)


def test_the_samples_run_on_the_runner_given(tmp_path):
    runner = _CountingRunner()
    with runner:
        path = build_benchmark(
            "swath", "val", TINY, out=tmp_path / "s.zarr", progress=False, runner=runner
        )
    assert runner.mapped == [("sample", TINY.data.swath_val - 1)]  # sample 0 makes the layout
    assert open_benchmark(path).sizes["sample"] == TINY.data.swath_val


def test_the_run_configuration_places_and_labels_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("PRELIB_DATA_DIR", str(tmp_path))
    cfg = TINY.replace(data=TINY.data.replace(seed=2))
    path = build_benchmark("fulldisc", "val", cfg, n_samples=1, progress=False)
    assert path == tmp_path / "synthetic" / "tiny" / "seed2" / "fulldisc_val.zarr"
    attrs = open_benchmark(path).attrs
    assert attrs["profile"] == "tiny" and attrs["benchmark_seed"] == 2
    with pytest.raises(ValueError, match="no profile to place the store by"):
        build_benchmark("swath", "val", TINY.data)  # a data section alone needs out=
    with pytest.warns(DeprecationWarning, match="profile name"):
        with pytest.raises(ValueError, match="profile"):
            build_benchmark("swath", "val", "huge", out=tmp_path / "y.zarr")
    with pytest.warns(DeprecationWarning, match="moved to prelib.data.build.synthetic"):
        from prelib.data.store import build_benchmark as old_name  # noqa: F401

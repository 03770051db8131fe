"""Every entry of catalogs/synthetic.yaml opens in intake 2 and carries units and metadata."""

from __future__ import annotations

import pytest

from prelib.config import resolve
from prelib.data.build.synthetic import build_benchmark
from prelib.data.regions import case_path, simulate_case, write_scene
from prelib.data.schema import validate_benchmark
from prelib.data.store import benchmark_path
from prelib.paths import catalogs_dir

intake = pytest.importorskip("intake")


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    """Tiny stores for every benchmark entry and one case study, where the catalog expects them."""
    root = tmp_path_factory.mktemp("catalog_data")
    for kind in ("swath", "fulldisc"):
        out = benchmark_path(kind, "val", resolve("tiny"), root=root)
        build_benchmark(kind, "val", resolve("tiny"), out=out, n_samples=1, progress=False)
    write_scene(simulate_case("convective", resolution_km=10.0), case_path("convective", root))
    return root


@pytest.fixture(scope="module")
def catalog():
    return intake.open_catalog(str(catalogs_dir() / "synthetic.yaml"))


def test_every_entry_opens_with_units(catalog, data_root):
    params = {"data_dir": str(data_root), "split": "val", "profile": "tiny", "case": "convective"}
    names = list(catalog.entries)
    assert names == ["swath_mpr", "full_ipr", "case_study"]
    for name in names:
        entry = catalog.entries[name]
        meta = entry.metadata
        assert meta["description"] and meta["units"], name
        ds = getattr(catalog(**params), name).read()
        for var, units in meta["units"].items():
            assert ds[var].attrs["units"] == units, (name, var)
        if "benchmark_kind" in meta:
            validate_benchmark(ds, meta["benchmark_kind"])
            assert ds.attrs["split"] == "val"


def test_environment_default_and_parameter_checks(catalog, data_root, monkeypatch):
    monkeypatch.setenv("PRELIB_DATA_DIR", str(data_root))
    fresh = intake.open_catalog(str(catalogs_dir() / "synthetic.yaml"))
    assert fresh(split="val").full_ipr.read().sizes["sample"] == 1
    with pytest.raises(ValueError):
        fresh(split="holdout").full_ipr.read()
    with pytest.raises(FileNotFoundError):
        fresh(split="test").full_ipr.read()  # not built


def test_default_data_dir_without_the_environment_variable(monkeypatch, tmp_path):
    """Unset PRELIB_DATA_DIR: the catalog reads prelib's data folder (./data), where the CLI and
    the notebook pipeline write the stores — not a 'None/…' path."""
    from prelib.paths import data_dir

    catalog_file = catalogs_dir() / "synthetic.yaml"
    monkeypatch.delenv("PRELIB_DATA_DIR", raising=False)
    monkeypatch.setattr("prelib.paths.project_root", lambda: tmp_path)  # no stores there
    fresh = intake.open_catalog(str(catalog_file))
    expected = benchmark_path("fulldisc", "val", resolve("tiny"), root=data_dir())
    with pytest.raises(FileNotFoundError) as err:
        fresh(split="val", profile="tiny").full_ipr.read()
    assert str(expected) in str(err.value) and "None" not in str(err.value)
    assert expected.is_relative_to(tmp_path / "data")

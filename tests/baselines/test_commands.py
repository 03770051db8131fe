"""``prelib baseline fit`` saves every baseline pickle-free; ``prelib infer --baseline`` uses it."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from prelib import conventions as cv
from prelib.baselines import BASELINES, load_baseline
from prelib.baselines.commands import fitted_baseline_path, read_training_arrays
from prelib.cli import main


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A two-sample Full-IPR training store of the tiny profile."""
    from prelib.config import resolve
    from prelib.data.build.synthetic import build_benchmark

    path = tmp_path_factory.mktemp("data") / "fulldisc_train.zarr"
    return build_benchmark(
        "fulldisc", "train", resolve("tiny"), out=path, n_samples=2, progress=False
    )


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n == "gbm" else n for n in sorted(BASELINES)],
)
def test_fit_saves_a_loadable_npz_that_predicts_like_the_fitted_model(name, store, tmp_path):
    from prelib.baselines import get_baseline

    run_dir = tmp_path / "run"
    argv = ["baseline", "fit", name, "--store", str(store), "--run-dir", str(run_dir)]
    assert main([*argv, "--max-pixels", "3000", "--seed", "3"]) == 0
    path = fitted_baseline_path(run_dir, name)
    assert path.is_file() and path.suffix == ".npz"
    with np.load(path, allow_pickle=False) as data:  # pickle-free: plain arrays + JSON meta
        assert "__meta__" in data.files
    loaded = load_baseline(path)
    assert loaded.name == name
    ir, precip = read_training_arrays(store)
    settings = {"gbm": {"max_pixels": 3000, "seed": 3}, "persiann_ccs": {"seed": 3}}.get(name, {})
    fresh = get_baseline(name, **settings).fit(ir, precip, np.isfinite(precip))
    np.testing.assert_allclose(loaded.predict(ir[:1]), fresh.predict(ir[:1]), rtol=1e-5)


def test_infer_finds_the_fitted_baseline_by_name(store, tmp_path, capsys):
    run_dir = tmp_path / "run"
    fit = ["baseline", "fit", "persiann_ccs", "--store", str(store), "--run-dir", str(run_dir)]
    assert main(fit) == 0
    out = tmp_path / "ccs.nc"
    argv = ["infer", "--case", "frontal", "--baseline", "persiann_ccs", "--run-dir", str(run_dir)]
    assert main([*argv, "--output", str(out)]) == 0
    with xr.open_dataset(out) as ds:
        assert "persiann_ccs" in ds.attrs["title"]
        assert np.isfinite(ds[cv.VAR_PRECIP].values).any()
    # a saved file works as well, by path
    out2 = tmp_path / "ccs_file.nc"
    saved = str(fitted_baseline_path(run_dir, "persiann_ccs"))
    assert main(["infer", "--case", "frontal", "--baseline", saved, "--output", str(out2)]) == 0
    with xr.open_dataset(out) as a, xr.open_dataset(out2) as b:
        np.testing.assert_array_equal(a[cv.VAR_PRECIP].values, b[cv.VAR_PRECIP].values)


def test_clear_errors_for_unknown_unfitted_and_pickle_baselines(tmp_path, capsys):
    base = ["infer", "--case", "frontal", "--run-dir", str(tmp_path / "run")]
    assert main([*base, "--baseline", "nosuch"]) == 2
    assert "neither a baseline name (ae, gbm, gpi, persiann_ccs)" in capsys.readouterr().err
    assert main([*base, "--baseline", "persiann_ccs"]) == 2
    assert "prelib baseline fit persiann_ccs" in capsys.readouterr().err
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(b"\x80\x04not really")
    assert main([*base, "--baseline", str(pickled)]) == 2
    err = capsys.readouterr().err
    assert "model.pkl" in err and "pickle-free" in err
    assert not (tmp_path / "run" / "inference").exists()  # nothing written


def test_fit_refuses_a_non_npz_output_and_a_missing_store(tmp_path, capsys):
    argv = ["baseline", "fit", "gpi", "--store", str(tmp_path / "none.zarr")]
    assert main([*argv, "--out", str(tmp_path / "gpi.pkl")]) == 2
    assert "pickle-free .npz" in capsys.readouterr().err
    assert main([*argv, "--out", str(tmp_path / "gpi.npz")]) == 2
    assert "no benchmark store at" in capsys.readouterr().err
    assert not (tmp_path / "gpi.npz").exists()


@pytest.mark.slow
def test_fit_defaults_to_the_runs_fulldisc_train_store(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PRELIB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PRELIB_OUTPUT_DIR", str(tmp_path / "out"))
    assert main(["baseline", "fit", "ae", "--profile", "tiny"]) == 0  # builds the missing store
    store = tmp_path / "data" / "synthetic" / "tiny" / "seed0" / "fulldisc_train.zarr"
    assert store.is_dir() and str(store) in capsys.readouterr().out
    assert load_baseline(tmp_path / "out" / "tiny" / "models" / "baselines" / "ae.npz").name == "ae"

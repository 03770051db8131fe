import numpy as np
import xarray as xr

from prelib.cli import main
from prelib.data.store import open_benchmark


def test_build_one_split_of_tiny(tmp_path, capsys):
    out = tmp_path / "swath_test.zarr"
    argv = [
        "simulate",
        "build",
        "--kind",
        "swath",
        "--profile",
        "tiny",
        "--split",
        "test",
        "--n-samples",
        "1",
        "--seed",
        "4",
        "--out",
        str(out),
        "--no-progress",
    ]
    assert main(argv) == 0
    ds = open_benchmark(out)
    assert ds.sizes["sample"] == 1 and ds.attrs["benchmark_seed"] == 4
    assert ds.attrs["split"] == "test" and "wrote" in capsys.readouterr().out


def test_build_all_splits_into_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PRELIB_DATA_DIR", str(tmp_path))
    argv = ["simulate", "build", "--kind", "fulldisc", "--n-samples", "1", "--no-progress"]
    assert main(argv) == 0
    seed_dir = tmp_path / "synthetic" / "tiny" / "seed0"
    stores = sorted(p.name for p in seed_dir.iterdir() if not p.name.startswith("."))
    assert stores == ["fulldisc_test.zarr", "fulldisc_train.zarr", "fulldisc_val.zarr"]


def test_scene_and_case(tmp_path, monkeypatch):
    out = tmp_path / "box.nc"
    argv = [
        "simulate",
        "scene",
        "--lat",
        "30",
        "31",
        "--lon",
        "100",
        "101",
        "--time",
        "2021-07-01T06",
        "--regime",
        "convective",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    scene = xr.open_dataset(out, engine="h5netcdf")
    assert scene.attrs["regime"] == "convective" and scene.sizes["y"] == 25
    assert np.isfinite(scene["ir"].values).all()
    monkeypatch.setenv("PRELIB_DATA_DIR", str(tmp_path))
    assert main(["simulate", "case", "orographic", "--resolution-km", "10"]) == 0
    assert (tmp_path / "synthetic" / "cases" / "orographic.nc").is_file()


def test_bad_input_gives_a_clear_error_and_no_file(tmp_path, capsys):
    out = tmp_path / "box.nc"
    argv = [
        "simulate",
        "scene",
        "--lat",
        "70",
        "80",
        "--lon",
        "100",
        "101",
        "--time",
        "2021-07-01",
        "--out",
        str(out),
    ]
    assert main(argv) == 2
    assert "domain" in capsys.readouterr().err and not out.exists()
    argv = [
        "simulate",
        "build",
        "--kind",
        "swath",
        "--split",
        "val",
        "--n-samples",
        "0",
        "--out",
        str(tmp_path / "x.zarr"),
    ]
    assert main(argv) == 2
    assert "n_samples" in capsys.readouterr().err and not (tmp_path / "x.zarr").exists()


def test_calibrate_passes_its_arguments_and_prints_the_table(capsys, monkeypatch):
    # The study itself (gradient boosting on dozens of scenes) is W's and tested there; this
    # checks the command's wiring without spending minutes of CPU.
    import pandas as pd

    import prelib.sim.calibration as calibration

    seen = {}

    def fake(**kwargs):
        seen.update(kwargs)
        rows = {"cc": [0.3, 0.7], "csi": [0.2, 0.45]}
        return pd.DataFrame(rows, index=pd.Index(["ir", "pmw"], name="modality"))

    monkeypatch.setattr(calibration, "calibrate_modalities", fake)
    argv = ["simulate", "calibrate", "--n-train", "2", "--n-test", "1", "--n-scans", "16"]
    assert main(argv) == 0
    assert seen == {"n_train": 2, "n_test": 1, "seed": 0, "n_scans": 16}
    out = capsys.readouterr().out
    assert "pmw" in out and "0.450" in out
    assert main(["simulate", "calibrate", "--n-test", "0"]) == 2

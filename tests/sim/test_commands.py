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
    # The study itself (gradient boosting and U-Nets on dozens of scenes) is tested in
    # tests/sim; this checks the command's wiring without spending minutes of CPU.
    import prelib.evaluation.world_calibration as world_calibration

    seen = {}

    def fake(**kwargs):
        seen.update(kwargs)
        return {"probe": "pmw 0.450"}

    monkeypatch.setattr(world_calibration, "calibrate_world", fake)
    monkeypatch.setattr(world_calibration, "format_report", lambda results: results["probe"])
    argv = ["simulate", "calibrate", "--n-train", "2", "--n-test", "1", "--n-scans", "16"]
    assert main(argv) == 0
    assert seen == {
        "n_train": 2,
        "n_test": 1,
        "seed": 0,
        "n_scans": 16,
        "n_shift_train": 96,
        "n_shift_test": 32,
        "shift_steps": 300,
    }
    out = capsys.readouterr().out
    assert "pmw" in out and "0.450" in out
    assert main(["simulate", "calibrate", "--n-test", "0"]) == 2

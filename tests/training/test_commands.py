"""``prelib train`` argument handling (the stages themselves are tested in test_stages.py)."""

from __future__ import annotations

import pytest

from prelib.cli import main
from prelib.training.commands import default_run_dir


def test_bad_variants_are_refused_before_any_work(capsys):
    assert main(["train", "distill", "--profile", "tiny", "--variant", "selfmask"]) == 2
    assert "--variant for distill must be one of" in capsys.readouterr().err
    assert main(["train", "teacher", "--profile", "tiny", "--variant", "kd"]) == 2
    assert "does not apply" in capsys.readouterr().err


def test_default_run_dir_is_the_profile_run_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PRELIB_OUTPUT_DIR", str(tmp_path))
    assert default_run_dir("demo") == tmp_path / "demo"


@pytest.mark.slow
def test_train_then_infer_share_one_run_folder(tmp_path, capsys):
    """``prelib train adapt --run-dir RUN`` trains the chain (teacher, Stage I, Stage II) into
    RUN/models, a second call only loads, and ``prelib infer --run-dir RUN`` finds the models."""
    import numpy as np
    import xarray as xr

    from prelib import conventions as cv

    run = tmp_path / "run"
    train = ["train", "adapt", "--profile", "tiny", "--variant", "nonmask", "--data"]
    train += ["simulated", "--run-dir", str(run), "--epochs", "1", "--max-steps-per-epoch", "1"]
    train += ["--batch-size", "2", "--device", "cpu", "--no-progress"]
    assert main(train) == 0
    first = capsys.readouterr().out
    assert "adapt nonmask reg: trained" in first
    for sub in ("teacher/reg", "student-comwe/cls", "adapted-nonmask/cls", "adapted-nonmask/reg"):
        assert (run / "models" / sub / "last.pt").is_file(), sub
    assert main(train) == 0
    assert "adapt nonmask cls: already trained" in capsys.readouterr().out
    rng = np.random.default_rng(0)
    ir = rng.uniform(200.0, 290.0, size=(cv.N_IR, 36, 40)).astype(np.float32)
    scene = xr.Dataset(
        {cv.VAR_IR: ((cv.DIM_IR_CHANNEL, *cv.GRID_DIMS), ir)},
        coords={
            cv.VAR_LAT: (cv.DIM_Y, np.linspace(30, 31, 36)),
            cv.VAR_LON: (cv.DIM_X, np.linspace(110, 111, 40)),
        },
    )
    scene.to_netcdf(tmp_path / "scene.nc")
    infer = ["infer", "--input", str(tmp_path / "scene.nc"), "--run-dir", str(run)]
    infer += ["--variant", "nonmask", "--tile", "32", "--overlap", "8", "--margin", "2"]
    assert main([*infer, "--device", "cpu"]) == 0
    assert (run / "inference" / "scene_nonmask.nc").is_file()

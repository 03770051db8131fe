"""``prelib infer`` on a small scene file: a baseline and a (tiny, un-adapted) PRE-Net pair."""

from __future__ import annotations

import numpy as np
import xarray as xr

from prelib import conventions as cv
from prelib.cli import main


def _scene(path, h=40, w=52):
    rng = np.random.default_rng(0)
    ir = rng.uniform(200.0, 290.0, size=(cv.N_IR, h, w)).astype(np.float32)
    ds = xr.Dataset(
        {cv.VAR_IR: ((cv.DIM_IR_CHANNEL, *cv.GRID_DIMS), ir)},
        coords={
            cv.VAR_LAT: (cv.DIM_Y, np.linspace(30, 31, h)),
            cv.VAR_LON: (cv.DIM_X, np.linspace(110, 111, w)),
            cv.VAR_TIME: np.datetime64("2023-07-01T06:00"),
        },
    )
    ds.to_netcdf(path)
    return ir


def test_infer_with_gpi_baseline_writes_cf_netcdf(tmp_path):
    ir = _scene(tmp_path / "scene.nc")
    out = tmp_path / "gpi.nc"
    assert (
        main(
            [
                "infer",
                "--input",
                str(tmp_path / "scene.nc"),
                "--baseline",
                "gpi",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    with xr.open_dataset(out) as ds:
        window = ir[cv.AGRI_IR_CHANNELS.index(cv.AGRI_WINDOW_CHANNEL)]
        np.testing.assert_array_equal(ds[cv.VAR_PRECIP].values[0], np.where(window < 235, 3.0, 0.0))
        assert ds[cv.VAR_PRECIP].attrs["units"] == cv.UNITS_PRECIP


def _unadapted_pairs(tmp_path, run_dirs):
    """Stage-II ``comwe_noadapt`` checkpoints (un-trained Stage-I weights) in ``run_dirs``."""
    from prelib.config import resolve
    from prelib.training.checkpoint import make_header, save_checkpoint
    from prelib.training.stages import build_distillation, train_full_disc_adaptation

    cfg = resolve("tiny")
    for task in ("cls", "reg"):
        pair = build_distillation(cfg.models, task, "comwe")
        header = make_header(f"student:comwe:{task}", "tiny", {}, epoch=1)
        save_checkpoint(tmp_path / f"s1-{task}.pt", {"header": header, "model": pair.state_dict()})
        train_full_disc_adaptation(
            None,
            None,
            run_dirs[task],
            tmp_path / f"s1-{task}.pt",
            cfg.models,
            task=task,
            variant="comwe_noadapt",
            config=cfg.training.adapt,
            run_config=cfg.to_dict(),
        )


def test_infer_finds_the_models_of_a_run_folder(tmp_path, capsys):
    """``prelib infer --run-dir RUN`` uses RUN/models/adapted-<variant>/<task> (the pipeline's
    layout) and rebuilds the networks from the configuration stored in the checkpoints."""
    from prelib.workflow.artefacts import RunLayout

    _scene(tmp_path / "scene.nc")
    layout = RunLayout(tmp_path / "run")
    args = ["infer", "--input", str(tmp_path / "scene.nc"), "--run-dir", str(layout.root)]
    args += ["--variant", "comwe_noadapt", "--tile", "32", "--overlap", "8", "--margin", "2"]
    args += ["--device", "cpu"]
    assert main(args) == 2  # nothing trained yet: the error names the folder
    assert str(layout.adapted_dir("comwe_noadapt", "cls")) in capsys.readouterr().err
    _unadapted_pairs(tmp_path, {t: layout.adapted_dir("comwe_noadapt", t) for t in ("cls", "reg")})
    assert main(args) == 0  # no --profile: the checkpoints carry their configuration
    written = layout.inference_dir / "scene_comwe_noadapt.nc"
    with xr.open_dataset(written) as ds:
        assert ds[cv.VAR_PRECIP].shape == (1, 40, 52)


def test_infer_with_network_checkpoints_and_missing_checkpoint_error(tmp_path, capsys):
    _scene(tmp_path / "scene.nc")
    _unadapted_pairs(tmp_path, {t: tmp_path / t for t in ("cls", "reg")})
    out = tmp_path / "pre.nc"
    args = [
        "infer",
        "--input",
        str(tmp_path / "scene.nc"),
        "--profile",
        "tiny",
        "--variant",
        "comwe_noadapt",
        "--cls-checkpoint",
        str(tmp_path / "cls" / "last.pt"),
        "--reg-checkpoint",
        str(tmp_path / "reg" / "last.pt"),
        "--tile",
        "32",
        "--overlap",
        "8",
        "--margin",
        "2",
        "--device",
        "cpu",
        "--output",
        str(out),
    ]
    assert main(args) == 0
    with xr.open_dataset(out) as ds:
        values = ds[cv.VAR_PRECIP].values
        assert values.shape == (1, 40, 52) and np.isfinite(values).all() and (values >= 0).all()
    # an AGRI L1 file (real layout, regional) in, Zarr out, through the same engine
    from prelib.writers.agri import write_agri_l1

    rng = np.random.default_rng(1)
    bt = {c: rng.uniform(200.0, 290.0, (70, 90)).astype(np.float32) for c in cv.AGRI_IR_CHANNELS}
    bt["C12"][:, :20] = np.nan
    agri = write_agri_l1(tmp_path, bt, np.datetime64("2023-07-01T06:00"), begin_line=700)
    agri_args = [*args[:2], str(agri), "--region", "fulldisc", *args[3:]]
    agri_args[agri_args.index("--output") + 1] = str(tmp_path / "agri.zarr")
    assert main(agri_args) == 0
    with xr.open_zarr(tmp_path / "agri.zarr") as ds:
        values = ds[cv.VAR_PRECIP].values[0]
        assert values.shape == (70, 90) and np.isnan(values[:, :20]).all()
        assert np.isfinite(values[:, 20:]).all() and ds["lat"].shape == (70, 90)
    # wrong task's checkpoint: refused with a clear message
    args[args.index("--cls-checkpoint") + 1] = str(tmp_path / "reg" / "last.pt")
    assert main(args) == 2
    assert "expected 'adapted:comwe_noadapt:cls'" in capsys.readouterr().err

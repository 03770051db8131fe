"""Tests of conventions, config, paths, runtime, atomic writes and the CLI."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from prelib import conventions as cv
from prelib.atomic import atomic_path, write_json
from prelib.cli import SUBCOMMANDS, main
from prelib.config import Config, check_profile, load_config, require_positive


def test_channel_lists_have_paper_sizes():
    assert (cv.N_IR, cv.N_PMW, cv.N_PR, cv.N_GEO) == (8, 13, 176, 3)
    assert len(cv.AGRI_IR_WAVELENGTHS_UM) == cv.N_IR == len(cv.AGRI_IR_NAMES)
    assert len(cv.GMI_FREQUENCIES_GHZ) == cv.N_PMW


def test_cf_attrs_have_units_and_unknown_variable_raises():
    for var in (cv.VAR_IR, cv.VAR_PMW, cv.VAR_PR, cv.VAR_PRECIP, cv.VAR_ELEVATION):
        assert cv.cf_attrs(var)["units"]
    with pytest.raises(ValueError, match="unknown schema variable"):
        cv.cf_attrs("rain")


@dataclasses.dataclass(frozen=True)
class _Demo(Config):
    n: int = 1

    def validate(self):
        require_positive(self, "n")


def test_config_validation_and_unknown_fields():
    assert _Demo(n=3).n == 3
    with pytest.raises(ValueError, match=r"_Demo\.n"):
        _Demo(n=0)
    with pytest.raises(ValueError, match="unknown field"):
        _Demo.from_dict({"m": 1})
    with pytest.raises(ValueError, match="unknown profile"):
        check_profile("huge")
    with pytest.raises(ValueError, match="no profile file"):
        load_config("no_such_section", "tiny", _Demo)


def test_paths_follow_environment(tmp_path, monkeypatch):
    from prelib import paths

    monkeypatch.setenv("PRELIB_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("PRELIB_OUTPUT_DIR", str(tmp_path / "o"))
    assert paths.data_dir() == tmp_path / "d"
    assert paths.profile_output_dir("demo") == tmp_path / "o" / "demo"


def test_setup_seeds_reproducibly():
    import torch

    from prelib.runtime import select_device, setup

    setup(seed=5, device="cpu")
    a = (np.random.rand(3), torch.rand(3))  # noqa: NPY002 (global seeding is what is tested)
    setup(seed=5, device="cpu")
    b = (np.random.rand(3), torch.rand(3))  # noqa: NPY002
    np.testing.assert_array_equal(a[0], b[0])
    assert torch.equal(a[1], b[1])
    with pytest.raises(ValueError, match="seed"):
        setup(seed=-1)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            select_device("cuda")


def test_atomic_path_keeps_old_content_on_failure(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"a": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert target.read_text().strip().startswith("{")
    assert [p.name for p in tmp_path.iterdir() if p.name != ".prelib-artefacts"] == ["out.json"]


def test_atomic_path_replaces_directories(tmp_path):
    target = tmp_path / "store.zarr"
    for value in ("old", "new"):
        with atomic_path(target) as tmp:
            tmp.mkdir()
            (tmp / "v").write_text(value)
    assert (target / "v").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir() if p.name != ".prelib-artefacts"] == ["store.zarr"]


def test_cli_version_help_and_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert "prelib" in capsys.readouterr().out
    assert main([]) == 0
    assert set(SUBCOMMANDS) >= {"simulate", "build", "train", "evaluate", "infer", "pipeline"}


def test_python_dash_m_runs():
    result = subprocess.run(
        [sys.executable, "-m", "prelib", "--help"], capture_output=True, text=True, check=True
    )
    assert "simulate" in result.stdout


@pytest.mark.parametrize("user_value", [None, "ACTIVE"])
def test_import_sets_passive_openmp_waiting_unless_user_chose(user_value):
    import os

    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if user_value is not None:
        env["OMP_WAIT_POLICY"] = user_value
    code = "import os, prelib; print(os.environ['OMP_WAIT_POLICY'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (user_value or "PASSIVE")

"""The run layout shared by the pipeline, the CLI, the catalogs and the notebooks."""

from __future__ import annotations

import pytest

from prelib.config import resolve
from prelib.workflow.artefacts import RunLayout, find_checkpoint


def test_layout_paths(tmp_path):
    layout = RunLayout(tmp_path / "run", tmp_path / "data")
    assert layout.teacher_dir("reg") == tmp_path / "run" / "models" / "teacher" / "reg"
    assert layout.teacher_dir("reg", ("ir",)).parent.name == "teacher-ir"
    assert layout.student_dir("comwe", "cls").parent.name == "student-comwe"
    assert layout.student_dir("comwe", "cls", "dawe_mode=off").parent.name == (
        "student-comwe-dawe_mode=off"
    )
    assert layout.adapted_dir("selfmask", "cls").parent.name == "adapted-selfmask"
    assert layout.notebook_dir("02_teacher_training") == tmp_path / "run" / "02_teacher_training"
    store = layout.benchmark("swath", "val", resolve("tiny"))
    with pytest.warns(DeprecationWarning, match="benchmark_path"):
        assert layout.benchmark("swath", "val", "tiny", 0) == store
    assert store == tmp_path / "data" / "synthetic" / "tiny" / "seed0" / "swath_val.zarr"


def test_defaults_follow_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PRELIB_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("PRELIB_DATA_DIR", str(tmp_path / "data"))
    layout = RunLayout.for_run(resolve("demo"))
    assert layout.root == tmp_path / "out" / "demo"
    assert layout.data_dir == tmp_path / "data"
    with pytest.warns(DeprecationWarning, match="RunLayout.for_run"):
        assert RunLayout.for_profile("demo").root == layout.root


def test_find_checkpoint_prefers_best_then_last(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        find_checkpoint(tmp_path)
    (tmp_path / "last.pt").write_bytes(b"x")
    assert find_checkpoint(tmp_path).name == "last.pt"
    (tmp_path / "best.pt").write_bytes(b"x")
    assert find_checkpoint(tmp_path).name == "best.pt"
    assert find_checkpoint(tmp_path, "last").name == "last.pt"
    with pytest.raises(ValueError, match="prefer"):
        find_checkpoint(tmp_path, "newest")

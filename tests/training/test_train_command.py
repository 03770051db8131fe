"""``prelib train`` argument handling (the stages themselves are tested in test_stages.py)."""

from __future__ import annotations

from prelib.cli import main
from prelib.training.commands import default_run_dir


def test_bad_variants_are_refused_before_any_work(capsys):
    assert main(["train", "distill", "--profile", "tiny", "--variant", "selfmask"]) == 2
    assert "--variant for distill must be one of" in capsys.readouterr().err
    assert main(["train", "teacher", "--profile", "tiny", "--variant", "kd"]) == 2
    assert "does not apply" in capsys.readouterr().err


def test_default_run_dirs_name_stage_variant_and_task():
    assert default_run_dir("demo", "adapt", "selfmask", "cls").parts[-2:] == (
        "training",
        "adapt-selfmask-cls",
    )
    assert default_run_dir("tiny", "teacher", None, "reg", "ir+pmw").name == "teacher-ir+pmw-reg"

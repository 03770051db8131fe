"""``prelib study``: the grid, settings in the run hash, resumption, reports from the cache."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from prelib.evaluation.study import (
    StudySession,
    StudySetting,
    convergence_table,
    report_cached,
    run_study,
    study_rows,
)

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")
FAST = {"epochs": 1, "max_steps_per_epoch": 1, "batch_size": 2, "device": "cpu"}
SIZES = {"n_train": 2, "n_val": 1, "n_test": 1}


def test_grid_has_the_settling_rows():
    keys = {(r.group, r.key) for r in study_rows()}
    for weighting in ("paper", "code", "gradnorm"):
        for clip in ("1", "0"):
            assert ("balance", f"comwe-{weighting}-clip{clip}") in keys
    for group in ("balance", "table2", "table3", "table4"):
        assert (group, "gbm") in keys
    assert {
        ("table4", "selfmask"),
        ("table4", "selfmask-aeconv"),
        ("table4", "selfmask-adabn"),
    } <= keys
    assert {("table3", m) for m in ("none", "kd", "mgd", "mkd", "rmkd", "comwe")} <= keys
    fixed = {r.key: r.setting for r in study_rows(["table4"]) if r.setting}
    assert fixed["selfmask-aeconv"].mask_target == "ae+conv" and fixed["selfmask-adabn"].adabn
    with pytest.raises(ValueError, match="study groups"):
        study_rows(["nope"])


def test_settings_change_the_run_hash_but_share_the_teacher(tmp_path):
    a = StudySession("tiny", tmp_path, 0, setting=StudySetting(weighting="paper"))
    b = StudySession("tiny", tmp_path, 0, setting=StudySetting(weighting="code"))
    c = StudySession("tiny", tmp_path, 0, setting=StudySetting(mask_target="ae+conv"))
    assert a.run_dir("teacher-ir+pmw+pr-reg") == b.run_dir("teacher-ir+pmw+pr-reg")
    assert a.run_dir("student-comwe-reg") != b.run_dir("student-comwe-reg")
    assert a.run_dir("student-comwe-reg") == c.run_dir("student-comwe-reg")  # Stage II only
    assert a.run_dir("adapted-selfmask-reg") != c.run_dir("adapted-selfmask-reg")
    assert c.training_config("adapt").masktune.target == "ae+conv"
    assert (
        StudySession("tiny", tmp_path, 0, setting=StudySetting(grad_clip=0.0))
        .training_config("distill")
        .grad_clip
        == 0.0
    )


@pytest.mark.slow
def test_study_runs_resumes_and_reports(tmp_path):
    rows = ["unet", "comwe-gradnorm-clip0", "gbm"]
    kwargs = dict(
        profile="tiny",
        seeds=(0,),
        groups=["balance"],
        rows=rows,
        data="simulated",
        training_overrides=FAST,
        evaluation_overrides=SIZES,
    )
    result = run_study(tmp_path, log=lambda line: None, **kwargs)
    records = result["records"]
    assert set(records["row"]) == set(rows) and set(records["split"]) == {"val", "test"}
    assert (records["n_pixels"] > 0).all()
    assert result["default"] == StudySetting(weighting="gradnorm", grad_clip=0.0)
    text = (tmp_path / "study.md").read_text()
    assert "GBM (IR, per pixel)" in text and "Test set: 1 samples" in text
    runs = convergence_table(tmp_path / "runs")
    assert "teacher-ir+pmw+pr-reg" in set(runs["run"])
    assert any(run.startswith("student-comwe-reg-") for run in runs["run"])
    log = pd.read_csv(next((tmp_path / "runs").rglob("student-comwe-reg-*/metrics.csv")))
    assert log["train_gradnorm_rec"].notna().all()
    # resuming trains nothing and gives the same scores
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("last.pt")}
    again = run_study(tmp_path, log=lambda line: None, **kwargs)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("last.pt")} == stamps
    pd.testing.assert_frame_equal(again["records"], records)
    cached = report_cached(tmp_path)
    assert len(cached["records"]) == len(records)
    assert json.loads((tmp_path / "default_setting.json").read_text())["weighting"] == "gradnorm"

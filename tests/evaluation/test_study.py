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
    row_setting,
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


def test_stage2_rows_start_from_the_chosen_stage1_setting():
    chosen = StudySetting(weighting="gradnorm", grad_clip=0.0)
    rows = {r.key: r for r in study_rows()}
    aeconv = row_setting(rows["selfmask-aeconv"], chosen)
    assert aeconv == StudySetting(weighting="gradnorm", grad_clip=0.0, mask_target="ae+conv")
    assert row_setting(rows["selfmask-adabn"], chosen).adabn
    assert row_setting(rows["selfmask-visible0.75"], chosen).weighting == "gradnorm"
    assert row_setting(rows["selfmask"], chosen) == chosen
    # a balance row is its own setting, whatever the default
    assert row_setting(rows["comwe-code-clip1"], chosen) == StudySetting(weighting="code")
    assert row_setting(rows["unet"], chosen) == StudySetting()


def test_settings_change_the_run_hash_but_share_the_teacher(tmp_path):
    a = StudySession("tiny", tmp_path, 0, setting=StudySetting(weighting="paper"))
    b = StudySession("tiny", tmp_path, 0, setting=StudySetting(weighting="code"))
    c = StudySession("tiny", tmp_path, 0, setting=StudySetting(mask_target="ae+conv"))
    # the settings are configuration, resolved into the session's RunConfig
    assert a.run_config.models.distill.weighting == "paper"
    assert b.run_config.models.distill.weighting == "code"
    assert c.run_config.training.adapt.masktune.target == "ae+conv"
    assert c.training_config("adapt").masktune.target == "ae+conv"
    assert a.run_config.training.teacher == b.run_config.training.teacher
    # the teacher's configuration does not change: one folder for every setting
    assert a.run_dir("teacher", "reg") == b.run_dir("teacher", "reg") == c.run_dir("teacher", "reg")
    assert a.run_dir("teacher", "reg").parent == a.layout.teacher_dir("reg").parent
    assert a.run_dir("student", "reg", "comwe") != b.run_dir("student", "reg", "comwe")
    assert a.run_dir("student", "reg", "comwe") == c.run_dir("student", "reg", "comwe")  # Stage II
    assert a.run_dir("adapted", "reg", "selfmask") != c.run_dir("adapted", "reg", "selfmask")
    # a Stage-I setting changes the Stage-II runs that start from it
    assert a.run_dir("adapted", "reg", "selfmask") != b.run_dir("adapted", "reg", "selfmask")
    clip_off = StudySession("tiny", tmp_path, 0, setting=StudySetting(grad_clip=0.0))
    assert clip_off.training_config("distill").grad_clip == 0.0
    assert clip_off.training_config("teacher").grad_clip == a.training_config("teacher").grad_clip
    assert clip_off.run_dir("student", "cls", "comwe") != a.run_dir("student", "cls", "comwe")
    std = StudySession("tiny", tmp_path, 0, setting=StudySetting(standardise_teacher=True))
    assert std.run_config.models.distill.standardise_teacher
    assert std.run_dir("student", "reg", "comwe") != a.run_dir("student", "reg", "comwe")
    visible = StudySession("tiny", tmp_path, 0, setting=StudySetting(visible_fraction=0.5))
    assert visible.training_config("adapt").masktune.mask_ratio == 0.5
    assert visible.run_dir("adapted", "reg", "selfmask") != a.run_dir("adapted", "reg", "selfmask")


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
    assert sum(run.startswith("teacher/reg-") for run in runs["run"]) == 1  # shared
    assert sum(run.startswith("student-comwe/reg-") for run in runs["run"]) == 1
    session = StudySession("tiny", tmp_path, 0, training_overrides=FAST, setting=result["default"])
    comwe = session.run_dir("student", "reg", "comwe")
    key = json.loads((comwe / "run_key.json").read_text())
    assert key["distill"]["weighting"] == "gradnorm" and key["training"]["grad_clip"] == 0.0
    log = pd.read_csv(comwe / "metrics.csv")
    assert log["train_gradnorm_rec"].notna().all()
    # resuming trains nothing and gives the same scores
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("last.pt")}
    again = run_study(tmp_path, log=lambda line: None, **kwargs)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("last.pt")} == stamps
    pd.testing.assert_frame_equal(again["records"], records)
    cached = report_cached(tmp_path)
    assert len(cached["records"]) == len(records)
    assert json.loads((tmp_path / "default_setting.json").read_text())["weighting"] == "gradnorm"


def test_light_group_scores_prenet_light_against_its_teacher(tmp_path, monkeypatch):
    from prelib.models import get_model

    rows = {r.key: r for r in study_rows(["light"])}
    assert set(rows) == {"selfmask", "prenet_light", "gbm"}
    assert rows["prenet_light"].what == "light:selfmask" and rows["prenet_light"].kind == "fulldisc"
    asked = []

    def light(self, task, teacher_variant=None):
        asked.append((task, teacher_variant))
        return get_model("unet", "tiny", n_classes=2 if task == "cls" else 1)

    monkeypatch.setattr(StudySession, "light", light)
    session = StudySession("tiny", tmp_path, 0)
    predict = session._predictor(rows["prenet_light"])
    assert predict.__qualname__ == "two_network_predictor.<locals>.predict"
    assert asked == [("cls", "selfmask"), ("reg", "selfmask")]

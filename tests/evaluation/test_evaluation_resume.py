"""Finished training runs and finished rows are skipped when a table is run again."""

from __future__ import annotations

import pytest

from prelib.config import resolve
from prelib.evaluation import session as session_module
from prelib.evaluation import tables

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def test_rerun_skips_training_and_scoring(tiny_eval, tiny_config, monkeypatch):
    first = tiny_eval("8", rows=["ir+pmw+pr"])

    def refuse(*args, **kwargs):
        raise AssertionError("a finished run or row was recomputed")

    monkeypatch.setattr(session_module, "score_predictor", refuse)
    monkeypatch.setattr("prelib.training.trainer.Trainer.fit", refuse)
    # a fresh session (new process): everything comes from the checkpoints and score cache
    again = tables.run_table(
        "8",
        resolve("tiny", training={"epochs": 1, "max_steps_per_epoch": 1, "batch_size": 2}),
        (0,),
        tiny_eval.out_dir,
        rows=["ir+pmw+pr"],
        data="simulated",
        config=tiny_config,
        show_progress=False,
    )
    assert again.loc["IR + PMW + PR", "rmse"] == first.loc["IR + PMW + PR", "rmse"]


def test_finished_checkpoint_is_reloaded_not_retrained(tiny_eval, tiny_config, monkeypatch):
    tiny_eval("8", rows=["ir+pmw+pr"])
    monkeypatch.setattr(
        "prelib.training.trainer.Trainer.fit",
        lambda *a, **k: (_ for _ in ()).throw(AssertionError("retrained")),
    )
    fresh = session_module.ExperimentSession(
        "tiny",
        tiny_eval.out_dir,
        0,
        data="simulated",
        config=tiny_config,
        training_overrides={"epochs": 1, "max_steps_per_epoch": 1, "batch_size": 2},
        cache_in_memory=True,
        show_progress=False,
    )
    trained = tiny_eval.sessions[0].teacher("reg")
    reloaded = fresh.teacher("reg")
    for (name, a), (_, b) in zip(
        trained.state_dict().items(), reloaded.state_dict().items(), strict=True
    ):
        assert a.shape == b.shape and bool((a == b).all()), name


def test_cli_resumes_from_the_same_out_dir(tiny_eval, capsys, monkeypatch):
    from prelib.cli import main

    tiny_eval("8", rows=["ir+pmw+pr"])
    monkeypatch.setattr(
        "prelib.training.trainer.Trainer.fit",
        lambda *a, **k: (_ for _ in ()).throw(AssertionError("retrained")),
    )
    status = main(
        [
            "evaluate",
            "--profile",
            "tiny",
            "--tables",
            "8",
            "--rows",
            "ir+pmw+pr",
            "--out",
            str(tiny_eval.out_dir),
            "--data",
            "simulated",
            "--epochs",
            "1",
            "--max-steps-per-epoch",
            "1",
            "--batch-size",
            "2",
            "--n-train",
            "2",
            "--n-val",
            "1",
            "--n-test",
            "1",
            "--no-progress",
        ]
    )
    assert status == 0
    assert "Table 8 analogue" in capsys.readouterr().out

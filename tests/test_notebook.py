"""``prelib.notebook``: the notebooks' one setup call and their metric records."""

from __future__ import annotations

import pytest

from prelib.notebook import read_metrics, record_metrics, setup


def test_setup_resolves_the_run_once(tmp_path, capsys):
    run = setup(
        "tiny",
        seed=3,
        device="cpu",
        output_dir=tmp_path / "nb",
        run_dir=tmp_path / "run",
        data_dir=tmp_path / "data",
        training={"adapt": {"keep_epoch_checkpoints": True}},
    )
    assert run.out.is_dir() and run.device.type == "cpu"
    assert run.cfg.seed == 3 and run.cfg.data.seed == 3  # the notebook's seed is the benchmark's
    assert run.cfg.training.distill.seed == 3 and run.cfg.training.adapt.keep_epoch_checkpoints
    assert run.layout.root == tmp_path / "run" and run.layout.data_dir == tmp_path / "data"
    assert "profile=tiny" in capsys.readouterr().out
    with pytest.raises(ValueError, match="unknown profile"):
        setup("huge", output_dir=tmp_path / "x")


def test_record_metrics_merges_and_nulls_non_finite(tmp_path):
    record_metrics(tmp_path, a=1, b=float("nan"))
    assert read_metrics(tmp_path) == {"a": 1, "b": None}

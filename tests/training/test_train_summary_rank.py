"""Under torchrun, ``prelib train`` prints its summary once (rank 0), not once per rank."""

from __future__ import annotations

import types

import pytest

import prelib.workflow
from prelib.cli import build_parser
from prelib.config import resolve
from prelib.training import commands, distributed


@pytest.mark.parametrize(("main", "lines"), [(True, 2), (False, 0)])
def test_summary_only_on_rank_zero(monkeypatch, tmp_path, capsys, main, lines):
    metric = resolve("tiny").training.stage("teacher").best_metric
    result = types.SimpleNamespace(
        history=[{"epoch": 1, metric: 0.5}],
        trained=True,
        run_dir=tmp_path,
        checkpoint=tmp_path / "best.pt",
    )
    monkeypatch.setattr(prelib.workflow, "ensure_teacher", lambda *args, **kwargs: result)
    monkeypatch.setattr(distributed, "is_main_process", lambda: main)
    args = build_parser("train").parse_args(
        [
            "train",
            "teacher",
            "--profile",
            "tiny",
            "--data",
            "simulated",
            "--run-dir",
            str(tmp_path),
            "--no-progress",
        ]
    )
    assert commands.run(args) == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if "best" in line]
    assert len(printed) == lines  # reg and cls on rank 0; nothing on the other ranks

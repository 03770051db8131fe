"""Execute the whole notebook pipeline at ``tiny`` through the runner and check what it recorded.

One session-scoped run (papermill, every notebook of ``run_order.yaml``) into a temporary output
root; each test then checks one notebook's ``metrics.json``: present, finite, in a sensible range.
Ranges are physical or definitional (scores in [0, 1], RMSE ≥ 0 and below the scale of hourly
rain), not tuned values: at ``tiny`` the networks have trained for a few steps only.
"""

from __future__ import annotations

import json
import math

import pytest

from prelib.pipeline.runner import load_run_order, run_pipeline

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

NAMES = [step.name for step in load_run_order()]


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline_tiny")
    summary = run_pipeline("tiny", output_root=root, log=lambda _: None)
    return root, summary


def _in_range(name: str, value: float) -> bool:
    """Sensible range of a recorded number, chosen by its name."""
    if name.endswith(("_csi", "_pod", "_far", "_fraction")) or name.startswith("rmkd_visible"):
        return 0.0 <= value <= 1.0
    if name.endswith("_cc"):
        return -1.0 <= value <= 1.0
    if name.endswith("_rmse"):
        return 0.0 <= value < 50.0  # mm/h: hourly rain of a few patches, not a blow-up
    if "loss" in name:
        return 0.0 <= value < 1e3
    if name.startswith("n_"):
        return value >= 1
    return True


def test_summary_lists_every_notebook_ok(tiny_run):
    root, summary = tiny_run
    assert summary["status"] == "ok"
    assert list(summary["notebooks"]) == NAMES
    on_disk = json.loads((root / "summary.json").read_text())
    assert on_disk["status"] == "ok"
    for name, record in summary["notebooks"].items():
        assert record["status"] == "ok", name
        assert (root / name / f"{name}.ipynb").is_file(), name


@pytest.mark.parametrize("name", NAMES)
def test_recorded_metrics_are_finite_and_in_range(tiny_run, name):
    _, summary = tiny_run
    metrics = summary["notebooks"][name]["metrics"]
    assert metrics, f"{name} recorded no metrics"
    numbers = {k: v for k, v in metrics.items() if not isinstance(v, str)}
    assert numbers, f"{name} recorded no numbers"
    for key, value in numbers.items():
        assert value is not None and math.isfinite(value), f"{name}: {key} = {value}"
        assert _in_range(key, value), f"{name}: {key} = {value} out of range"


@pytest.mark.parametrize("name", NAMES)
def test_curated_figures_exist(tiny_run, name):
    root, _ = tiny_run
    (step,) = [s for s in load_run_order() if s.name == name]
    for figure in step.figures:
        path = root / name / f"{figure}.png"
        assert path.is_file() and path.stat().st_size > 5_000, f"{name}: {figure}.png"


def test_artefacts_passed_between_notebooks(tiny_run):
    root, _ = tiny_run
    for task in ("reg", "cls"):
        assert (root / "02_teacher_training" / "teacher" / task / "last.pt").is_file()
        assert (root / "03_swath_distilling" / "students" / "comwe" / task / "last.pt").is_file()
        assert (root / "04_full_disc_adaptation" / "adapted" / "selfmask" / task
                / "last.pt").is_file()  # fmt: skip
    case_metrics = json.loads((root / "05_case_studies" / "metrics.json").read_text())
    assert case_metrics["prenet_variant"] == "selfmask"  # used 04's checkpoints, not a stand-in

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

from prelib.config import resolve
from prelib.pipeline.runner import load_run_order, run_pipeline

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

NAMES = [step.name for step in load_run_order()]


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline_tiny")
    # the run's data folder inside the temporary root: the tests never write into ./data
    summary = run_pipeline("tiny", output_root=root, log=lambda _: None, data_root=root / "data")
    return root, summary


def _in_range(name: str, value: float) -> bool:
    """Sensible range of a recorded number, chosen by its name."""
    scores = ("_csi", "_csi1", "_csi4", "_csi8", "_pod", "_far", "_fraction")
    if name.endswith(scores) or name.startswith("rmkd_visible"):
        return 0.0 <= value <= 1.0
    if name.endswith("_cc"):
        return -1.0 <= value <= 1.0
    if name.endswith(("_rmse", "_crps")):
        return 0.0 <= value < 50.0  # mm/h: hourly rain of a few patches, not a blow-up
    if name.endswith("_psd_ratio"):
        # small-scale power relative to the truth's: the 1-epoch PrecipDiff of `tiny` paints
        # noise (1.8e4 measured on world v2), so this bounds an overflow, not skill
        return 0.0 <= value < 1e6
    if name.endswith(("_ratio", "_p99")):
        return 0.0 <= value < 1e4  # ratios of means, and rates in mm/h: not negative
    if name.endswith("_rank"):
        return 1 <= value <= 10
    if "loss" in name:
        return 0.0 <= value < 1e3
    if name.startswith("n_"):
        return value >= 1
    return True


def test_networks_and_stores_are_in_the_shared_run_layout(tiny_run):
    """The notebooks trained into one run folder and one data folder (prelib.workflow), where
    ``prelib infer --run-dir`` and the catalogs look."""
    from prelib.workflow.artefacts import RunLayout

    root, _ = tiny_run
    layout = RunLayout(root, root / "data")
    for task in ("reg", "cls"):
        for run_dir in (
            layout.teacher_dir(task),
            layout.student_dir("comwe", task),
            layout.student_dir("none", task),
            layout.adapted_dir("selfmask", task),
        ):
            assert (run_dir / "last.pt").is_file() and (run_dir / "run_key.json").is_file()
    assert layout.benchmark("fulldisc", "test", resolve("tiny")).is_dir()
    assert (root / "run_config.json").is_file()


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
    """05 and 06 used the networks 04 trained (not a retrained or stand-in copy)."""
    from prelib.workflow.artefacts import RunLayout

    root, _ = tiny_run
    layout = RunLayout(root, root / "data")
    adapted_done = (root / "04_full_disc_adaptation" / "metrics.json").stat().st_mtime
    for task in ("reg", "cls"):
        assert (layout.adapted_dir("selfmask", task) / "last.pt").stat().st_mtime <= adapted_done
    case_metrics = json.loads((root / "05_case_studies" / "metrics.json").read_text())
    assert case_metrics["prenet_variant"] == "selfmask"
    benchmark = json.loads((root / "06_benchmark" / "metrics.json").read_text())
    assert benchmark["prenet_variant"] == "selfmask"


def test_benchmark_records_every_method_and_the_noise_rows(tiny_run):
    _, summary = tiny_run
    metrics = summary["notebooks"]["06_benchmark"]["metrics"]
    for method in ("prenet", "prenet_light", "unet", "gpi", "ae", "persiann_ccs", "gbm"):
        for score in ("rmse", "pod", "csi", "csi4", "csi8"):  # defined even for a dry retrieval
            assert f"{method}_{score}" in metrics, f"{method}_{score}"
    for kind in ("additive", "multiplicative"):
        assert f"prenet_{kind}_csi" in metrics and f"prenet_{kind}_rmse" in metrics
    assert metrics["n_test_samples"] >= 1 and 1 <= metrics["prenet_csi_rank"] <= 7
    assert metrics["light_flop_ratio"] > 1  # the student is cheaper than its teacher
    assert metrics["undefined_score_count"] >= 0  # not "n_…": zero is a fine count here


def test_downscaling_records_every_method(tiny_run):
    _, summary = tiny_run
    metrics = summary["notebooks"]["07_bias_correction_downscaling"]["metrics"]
    methods = (
        "bilinear",
        "bicubic",
        "qm_bilinear",
        "rainfarm",
        "maunet",
        "maunet_light",
        "maunet_light_kr",
        "regression_mean",
        "precipdiff",
    )
    for method in methods:
        assert f"{method}_rmse" in metrics and f"{method}_crps" in metrics, method
    assert metrics["n_members"] >= 2  # PrecipDiff and RainFARM are ensembles (CRPS)
    assert metrics["truth_p99"] > 0

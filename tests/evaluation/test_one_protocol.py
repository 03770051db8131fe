"""One scoring protocol: every table row is scored by ``scoring.score_predictor`` on a
two-network composition (or an IR baseline), and no other module computes scores itself."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from prelib.config import resolve
from prelib.evaluation import scoring, session, tables
from prelib.evaluation.config import load_evaluation_config
from prelib.evaluation.scoring import (
    Prediction,
    ScoreAccumulator,
    score_arrays,
    score_predictor,
    two_network_predictor,
)
from prelib.models import get_model

REPO = Path(__file__).resolve().parents[2]
SENTINEL = 0.123


class _Constant(torch.nn.Module):
    def __init__(self, channels: int, value: float) -> None:
        super().__init__()
        self.channels, self.value = channels, value
        self.weight = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x):
        shape = (x.shape[0], self.channels, *x.shape[-2:])
        return torch.full(shape, self.value) + 0 * self.weight


@pytest.fixture
def spied_session(monkeypatch):
    """ExperimentSession with stand-in networks/baselines and a spy on the scoring call."""
    calls = []

    def spy(predict, loader, **kwargs):
        calls.append((predict.__qualname__, kwargs.get("calibration_loader") is not None))
        return {
            **{m: SENTINEL for m in (*tables.TABLE5_METRICS, *tables.EXTRA_COLUMNS)},
            "n_samples": 3.0,
            "n_pixels": 300.0,
            "n_rain_pixels": 30.0,
        }

    def net(task):
        return get_model("unet", resolve("tiny").models, n_classes=2 if task == "cls" else 1)

    monkeypatch.setattr(session, "score_predictor", spy)
    cls = session.ExperimentSession
    monkeypatch.setattr(cls, "student", lambda self, m, task, **o: net(task))
    monkeypatch.setattr(cls, "teacher", lambda self, task, mods="ir+pmw+pr": net(task))
    monkeypatch.setattr(cls, "adapted", lambda self, v, task: net(task))
    monkeypatch.setattr(cls, "fulldisc_unet", lambda self, task: net(task))
    monkeypatch.setattr(cls, "light", lambda self, task: net(task))
    monkeypatch.setattr(cls, "baseline", lambda self, name, kind="fulldisc": object())
    monkeypatch.setattr(cls, "loader", lambda self, kind, split, batch_size=None: [])
    return calls


@pytest.mark.parametrize("table", tables.TABLES)
def test_every_row_of_every_table_goes_through_the_one_scoring_function(
    spied_session, tmp_path, table
):
    config = load_evaluation_config("tiny")
    summary = tables.run_table(
        table, resolve("tiny"), (0,), tmp_path, config=config, show_progress=False
    )
    assert len(spied_session) == len(summary) > 0
    for name, calibrated in spied_session:
        assert calibrated  # the validation split is always given for the p-threshold
        assert name in (
            "two_network_predictor.<locals>.predict",
            "baseline_predictor.<locals>.predict",
        )
    assert sum(n.startswith("two_network") for n, _ in spied_session) >= 1
    metrics = [c for c in summary.columns if not c.endswith("_std") and c != "n_seeds"]
    assert np.allclose(summary[[m for m in metrics if m not in scoring.SIZE_COLUMNS]], SENTINEL)
    if table in ("2", "3", "4", "8"):
        assert tables.GBM_ROW[1] in summary.index
    markdown = Path(summary.attrs["paths"]["markdown"]).read_text()
    assert "Test set: 3 samples, 300 scored pixels" in markdown


def test_no_other_module_or_notebook_computes_scores_itself():
    allowed = {"scoring.py"}
    pattern = re.compile(r"MetricCollection\(|from prelib\.metrics import [^\n]*\bscore\b")
    offenders = [
        path.name
        for path in (REPO / "prelib" / "evaluation").glob("*.py")
        if path.name not in allowed and pattern.search(path.read_text())
    ]
    for notebook in (REPO / "notebooks").glob("*.ipynb"):
        source = "".join(
            "".join(cell["source"]) for cell in json.loads(notebook.read_text())["cells"]
        )
        if pattern.search(source):
            offenders.append(notebook.name)
    assert offenders == []


def _batch(ir_value: float = 0.5):
    precip = torch.tensor([[[0.0, 0.5], [2.0, 0.0]]])
    return {
        "ir": torch.full((1, 8, 2, 2), ir_value),
        "precip": precip,
        "valid": torch.ones(1, 2, 2, dtype=torch.bool),
        "input_valid": torch.ones(1, 2, 2, dtype=torch.bool),
    }


def test_two_network_composition_matches_the_reference_test_code():
    # classifier says rain (logit 1 > logit 0) with p = sigmoid(0.4); regression 1.5 mm/h
    classifier = _Constant(2, 0.0)
    classifier.forward = lambda x: torch.stack(
        [torch.zeros(x.shape[0], *x.shape[-2:]), torch.full((x.shape[0], *x.shape[-2:]), 0.4)], 1
    )
    regressor = _Constant(1, 1.5)
    out = two_network_predictor(classifier, regressor)(_batch())
    np.testing.assert_allclose(out.rate, 1.5)
    np.testing.assert_allclose(out.p_rain, 1 / (1 + np.exp(-0.4)), rtol=1e-6)
    # squeezed probabilities (p < 0.5) call no rain at argmax
    classifier2 = _Constant(2, 0.0)
    classifier2.forward = lambda x: torch.stack(
        [torch.full((x.shape[0], *x.shape[-2:]), 0.4), torch.zeros(x.shape[0], *x.shape[-2:])], 1
    )
    out = two_network_predictor(classifier2, regressor)(_batch())
    assert (out.rate == 0).all()


def test_threshold_free_scores_and_sizes_by_hand():
    truth = np.array([[[0.0, 0.0, 1.0, 2.0]]], dtype=np.float32)
    p = np.array([[[0.1, 0.6, 0.4, 0.9]]], dtype=np.float32)
    reg = np.full_like(truth, 1.0)
    rate = np.where(p > 0.5, reg, 0.0).astype(np.float32)
    scores = score_arrays(
        Prediction(rate, p, reg), truth, np.ones_like(truth, bool), metrics=("rmse", "csi")
    )
    y = np.array([0, 0, 1, 1])
    pp = p.ravel().astype(np.float64)
    assert scores["ce"] == pytest.approx(
        -np.mean(y * np.log(pp) + (1 - y) * np.log(1 - pp)), rel=1e-5
    )
    assert scores["brier"] == pytest.approx(np.mean((pp - y) ** 2), rel=1e-6)
    assert scores["auc"] == pytest.approx(0.75)  # pairs (rain, dry): 0.4>0.1, 0.4<0.6, 0.9>both
    assert scores["csi"] == pytest.approx(1 / 3)  # hit 0.9, false alarm 0.6, miss 0.4
    assert scores["n_samples"] == 1 and scores["n_pixels"] == 4 and scores["n_rain_pixels"] == 2


def test_validation_threshold_is_chosen_on_validation_and_applied_to_test():
    truth = np.array([[[0.0, 0.0, 1.0, 2.0]]], dtype=np.float32)
    p = np.array([[[0.1, 0.2, 0.3, 0.35]]], dtype=np.float32)  # squeezed: argmax never rains
    reg = np.full_like(truth, 1.0)
    val = ScoreAccumulator(metrics=("csi",))
    val.update(Prediction(np.zeros_like(truth), p, reg), truth, np.ones_like(truth, bool))
    threshold = val.best_probability_threshold()
    assert 0.2 < threshold <= 0.3  # calls exactly the two rainy pixels
    batch = {
        "precip": torch.from_numpy(truth),
        "valid": torch.ones(1, 1, 4, dtype=torch.bool),
        "input_valid": torch.ones(1, 1, 4, dtype=torch.bool),
        "ir": torch.zeros(1, 8, 1, 4),
    }

    def predict(b):
        return Prediction(np.zeros_like(truth), p, reg)

    scores = score_predictor(predict, [batch], metrics=("csi",), calibration_loader=[batch])
    assert scores["csi"] == 0.0 and scores["csi_pval"] == pytest.approx(1.0)
    assert scores["p_threshold"] == pytest.approx(threshold)
    no_val = score_predictor(predict, [batch], metrics=("csi",))
    assert np.isnan(no_val["csi_pval"])


def test_rate_only_predictors_have_nan_classifier_scores():
    truth = np.array([[[0.0, 1.0]]], dtype=np.float32)
    scores = score_arrays(truth.copy(), truth, np.ones_like(truth, bool), metrics=("csi",))
    assert scores["csi"] == 1.0 and "ce" not in scores
    acc = ScoreAccumulator(metrics=("csi",))
    acc.update(truth.copy(), truth, np.ones_like(truth, bool))
    out = acc.compute()
    assert np.isnan(out["ce"]) and np.isnan(out["auc"]) and np.isnan(out["csi_pval"])
    with pytest.raises(ValueError, match="no rain probability"):
        acc.best_probability_threshold()

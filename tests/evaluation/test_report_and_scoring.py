"""Mean ± std, atomic writers, pooled scoring and the configuration's checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from prelib.atomic import SIDECAR_DIR
from prelib.evaluation import report
from prelib.evaluation.config import load_evaluation_config, parse_modalities
from prelib.evaluation.scoring import score_predictor


def _raw():
    return pd.DataFrame(
        {
            "row": ["b", "a", "b", "a"],
            "seed": [0, 0, 1, 1],
            "rmse": [1.0, 2.0, 3.0, 2.0],
            "csi": [0.1, np.nan, 0.3, np.nan],
        }
    )


def test_summarise_mean_std_in_row_order():
    s = report.summarise(_raw(), ["rmse", "csi"])
    assert list(s.index) == ["b", "a"]
    assert s.loc["b", "rmse"] == 2.0 and np.isclose(s.loc["b", "rmse_std"], np.sqrt(2.0))
    assert s.loc["a", "rmse_std"] == 0.0 and np.isnan(s.loc["a", "csi"])
    assert (s["n_seeds"] == 2).all()
    md = report.to_markdown(s, ["rmse", "csi"], "T")
    assert "2.0000 ± 1.4142" in md and "| a | 2.0000 ± 0.0000 | NaN | 2 |" in md


def test_writers_are_atomic(tmp_path, monkeypatch):
    s = report.summarise(_raw(), ["rmse", "csi"])
    paths = report.write_table(s, _raw(), tmp_path, "t", ["rmse", "csi"])
    before = paths["markdown"].read_text()
    assert pd.read_csv(paths["csv"], index_col=0).shape == s.shape

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "to_markdown", broken)
    changed = report.summarise(_raw().assign(rmse=9.0), ["rmse", "csi"])
    with pytest.raises(RuntimeError):
        report.write_table(changed, _raw(), tmp_path, "t", ["rmse", "csi"])
    assert paths["markdown"].read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != SIDECAR_DIR) == [
        "t.csv",
        "t.md",
        "t_seeds.csv",
    ]


def _batch(precip, input_valid=None):
    precip = torch.as_tensor(precip, dtype=torch.float32)
    valid = torch.ones_like(precip, dtype=torch.bool)
    iv = valid.clone() if input_valid is None else torch.as_tensor(input_valid)
    return {
        "ir": torch.zeros(precip.shape[0], 8, *precip.shape[1:]),
        "precip": precip,
        "valid": valid,
        "input_valid": iv,
    }


def test_perfect_prediction_scores_perfectly_and_pooling_spans_batches():
    rng = np.random.default_rng(0)
    truth = rng.gamma(0.5, 2.0, (3, 16, 16)).astype(np.float32)
    loader = [_batch(truth[:2]), _batch(truth[2:])]
    s = score_predictor(lambda b: b["precip"].numpy(), loader)
    assert s["rmse"] == 0.0 and np.isclose(s["cc"], 1.0) and s["csi"] == 1.0 and s["far"] == 0.0
    biased = score_predictor(lambda b: b["precip"].numpy() + 1.0, loader)
    assert np.isclose(biased["rmse"], 1.0)


def test_pixels_with_missing_inputs_are_not_scored():
    truth = np.ones((1, 16, 16), np.float32)
    input_valid = np.ones((1, 16, 16), bool)
    input_valid[0, 0] = False

    def predict(batch):
        pred = batch["precip"].numpy().copy()
        pred[0, 0] = 100.0  # wrong only where the inputs are missing
        return pred

    assert score_predictor(predict, [_batch(truth, input_valid)])["rmse"] == 0.0


def test_config_checks_and_modality_parsing():
    assert parse_modalities("pr+ir") == ("ir", "pr")
    with pytest.raises(ValueError, match="modality"):
        parse_modalities("ir+vis")
    with pytest.raises(ValueError, match="teacher_subsets"):
        load_evaluation_config("tiny", teacher_subsets=("ir+radar",))
    with pytest.raises(ValueError, match="additive_noise_k"):
        load_evaluation_config("tiny", additive_noise_k=-1.0)
    with pytest.raises(ValueError, match="n_test"):
        load_evaluation_config("tiny", n_test=-2)
    assert load_evaluation_config("paper").teacher_subsets[-1] == "ir+pmw+pr"

"""Tests of prelib.evaluation.benchmark on small hand-made batches (no training, no store)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from prelib.conventions import IR_NORM, N_IR
from prelib.evaluation.benchmark import (
    fit_baselines,
    noise_table,
    predict_methods,
    score_methods,
    score_predictors,
    skill_by_intensity,
)
from prelib.evaluation.scoring import baseline_predictor
from prelib.metrics import PAPER_METRICS, score


def _batches(n_batches=3, batch=2, size=16, seed=0):
    """Batches in the schema of BenchmarkDataset: cold cloud tops rain, warm ones do not."""
    rng = np.random.default_rng(seed)
    offset, scale = IR_NORM
    out = []
    for _ in range(n_batches):
        tb = rng.uniform(200.0, 290.0, size=(batch, N_IR, size, size)).astype(np.float32)
        rain = np.clip((240.0 - tb[:, 0]) / 5.0, 0.0, None).astype(np.float32)
        valid = np.ones_like(rain, dtype=bool)
        valid[:, 0, 0] = False  # one missing label per sample
        input_valid = np.ones_like(valid)
        input_valid[:, -1, -1] = False  # one missing IR pixel per sample
        out.append(
            {
                "ir": torch.from_numpy((tb - offset) / scale),
                "precip": torch.from_numpy(rain),
                "valid": torch.from_numpy(valid),
                "input_valid": torch.from_numpy(input_valid),
            }
        )
    return out


def _perfect(batch):
    return batch["precip"].numpy()


def _dry(batch):
    return np.zeros_like(batch["precip"].numpy())


def _from_ir(batch):
    """A retrieval that reads the IR input (so that input noise changes it)."""
    offset, scale = IR_NORM
    tb = batch["ir"][:, 0].numpy() * scale + offset
    return np.clip((240.0 - tb) / 5.0, 0.0, None)


def test_predict_methods_keeps_truth_valid_and_every_prediction():
    batches = _batches()
    out = predict_methods({"perfect": _perfect, "dry": _dry}, batches)
    assert out["truth"].shape == (6, 16, 16) and out["valid"].dtype == bool
    assert list(out["pred"]) == ["perfect", "dry"]
    np.testing.assert_array_equal(out["pred"]["perfect"], out["truth"])
    # missing labels and missing IR are both excluded, as in score_predictor
    assert not out["valid"][:, 0, 0].any() and not out["valid"][:, -1, -1].any()
    assert out["valid"].sum() == 6 * (16 * 16 - 2)


def test_predict_methods_refuses_bad_input():
    with pytest.raises(ValueError, match="at least one"):
        predict_methods({}, _batches())
    with pytest.raises(ValueError, match="no batch"):
        predict_methods({"perfect": _perfect}, [])
    with pytest.raises(ValueError, match="shape"):
        predict_methods({"bad": lambda b: _perfect(b)[:, :4]}, _batches())


def test_score_methods_perfect_and_dry_rows():
    table = score_methods(predict_methods({"perfect": _perfect, "dry": _dry}, _batches()))
    assert list(table.index) == ["perfect", "dry"] and table.index.name == "method"
    assert list(table.columns) == list(PAPER_METRICS)
    assert table.loc["perfect", "rmse"] == pytest.approx(0.0, abs=1e-6)
    for name in ("pod", "csi", "csi4", "csi8"):
        assert table.loc["perfect", name] == pytest.approx(1.0)
    assert table.loc["perfect", "far"] == pytest.approx(0.0)
    assert table.loc["dry", "pod"] == 0.0 and table.loc["dry", "csi"] == 0.0
    assert np.isnan(table.loc["dry", "far"])  # no rain predicted: FAR undefined, not an error


def test_streamed_scores_equal_scores_of_the_concatenation():
    batches = _batches()
    predictors = {"from_ir": _from_ir, "half": lambda b: 0.5 * _perfect(b)}
    streamed = score_predictors(predictors, batches)
    pooled = score_methods(predict_methods(predictors, batches))
    pd.testing.assert_frame_equal(streamed, pooled, rtol=1e-5)
    out = predict_methods(predictors, batches)
    direct = score(0.5 * out["truth"], out["truth"], out["valid"])
    assert pooled.loc["half", "rmse"] == pytest.approx(direct["rmse"], rel=1e-6)


def test_noise_table_changes_only_retrievals_that_read_the_input():
    batches = _batches()
    predictors = {"from_ir": _from_ir, "perfect": _perfect}
    levels = {"none": 0.0, "additive": 3.0, "multiplicative": 0.02}
    table = noise_table(predictors, batches, levels, seed=1)
    assert list(table.index.names) == ["method", "noise"]
    assert list(table.index) == [(m, k) for m in predictors for k in levels]
    assert table.loc[("from_ir", "additive"), "sigma"] == 3.0
    # the IR retrieval is exact without noise, worse with it; the label-copying one is untouched
    assert table.loc[("from_ir", "none"), "rmse"] == pytest.approx(0.0, abs=1e-4)
    assert table.loc[("from_ir", "additive"), "rmse"] > 0.1
    assert table.loc[("from_ir", "multiplicative"), "csi"] < 1.0
    for kind in levels:
        assert table.loc[("perfect", kind), "csi"] == pytest.approx(1.0)
    # same seed, same draws
    again = noise_table(predictors, batches, levels, seed=1)
    pd.testing.assert_frame_equal(table, again)


def test_noise_table_reuses_reference_scores_for_the_clean_rows():
    batches = _batches()
    predictors = {"from_ir": _from_ir}
    clean = score_methods(predict_methods({"from_ir": _from_ir, "dry": _dry}, batches))
    table = noise_table(predictors, batches, {"additive": 1.0}, reference=clean)
    assert list(table.index) == [("from_ir", "none"), ("from_ir", "additive")]
    assert table.loc[("from_ir", "none"), "sigma"] == 0.0
    assert table.loc[("from_ir", "none"), "csi"] == clean.loc["from_ir", "csi"]
    with pytest.raises(ValueError, match="reference lacks"):
        noise_table({"other": _dry}, batches, {"additive": 1.0}, reference=clean)
    with pytest.raises(ValueError, match="at least one noise"):
        noise_table(predictors, batches, {})


def test_skill_by_intensity_matches_a_hand_computed_contingency_table():
    truth = np.array([[0.0, 0.5, 2.0, 5.0]], dtype=np.float32)
    pred = np.array([[0.3, 0.0, 3.0, 1.5]], dtype=np.float32)
    table = skill_by_intensity(
        {"m": pred}, truth, thresholds=(0.1, 1.0, 4.0), scores=("pod", "csi", "far", "fbias")
    )
    assert list(table.index.names) == ["method", "threshold"]
    # >= 0.1: obs {0.5, 2, 5}, pred {0.3, 3, 1.5} -> hits 2, misses 1, false alarms 1
    row = table.loc[("m", 0.1)]
    assert row["pod"] == pytest.approx(2 / 3) and row["csi"] == pytest.approx(2 / 4)
    assert row["far"] == pytest.approx(1 / 3) and row["fbias"] == pytest.approx(1.0)
    assert row["n_events"] == 3
    # >= 1: obs {2, 5}, pred {3, 1.5} -> hits 2
    assert table.loc[("m", 1.0), "csi"] == pytest.approx(1.0)
    # >= 4: obs {5}, pred none -> POD 0, frequency bias 0, FAR undefined
    assert table.loc[("m", 4.0), "pod"] == 0.0 and table.loc[("m", 4.0), "fbias"] == 0.0
    assert np.isnan(table.loc[("m", 4.0), "far"])


def test_skill_by_intensity_uses_the_valid_mask_and_refuses_bad_input():
    truth = np.array([[0.0, 2.0]], dtype=np.float32)
    pred = np.array([[5.0, 2.0]], dtype=np.float32)
    masked = skill_by_intensity({"m": pred}, truth, np.array([[False, True]]), thresholds=(1.0,))
    assert masked.loc[("m", 1.0), "csi"] == 1.0  # the false alarm is outside the mask
    with pytest.raises(ValueError, match="at least one"):
        skill_by_intensity({}, truth)
    with pytest.raises(ValueError, match="scores"):
        skill_by_intensity({"m": pred}, truth, scores=("rmse",))
    with pytest.raises(ValueError, match="positive"):
        skill_by_intensity({"m": pred}, truth, thresholds=(0.0, 1.0))


def test_fit_baselines_by_name_and_score_them():
    batches = _batches(n_batches=2, batch=3, seed=3)
    offset, scale = IR_NORM
    ir = np.concatenate([b["ir"].numpy() * scale + offset for b in batches])
    precip = np.concatenate([b["precip"].numpy() for b in batches])
    fitted = fit_baselines(["gpi", "gbm"], ir, precip, seed=0, max_pixels=500)
    assert list(fitted) == ["gpi", "gbm"]
    assert fitted["gbm"].max_pixels == 500
    table = score_predictors(
        {k: baseline_predictor(m) for k, m in fitted.items()}, _batches(seed=4)
    )
    assert ((table["csi"] >= 0) & (table["csi"] <= 1)).all()
    assert table.loc["gbm", "csi"] > 0.5  # rain is a simple function of one channel here
    with pytest.raises(ValueError, match="at least one"):
        fit_baselines([], ir, precip)
    with pytest.raises(ValueError, match="unknown baseline"):
        fit_baselines(["nope"], ir, precip)

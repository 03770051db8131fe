"""prelib.evaluation.predictions: predictions collected batch by batch, scores as pooled."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from prelib.evaluation.predictions import predict_benchmark, score_predictions
from prelib.metrics import score


def _batches(n_batches=3, batch=2, shape=(16, 8), seed=0):
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n_batches):
        ir = torch.rand(batch, 8, *shape, generator=gen)
        precip = torch.rand(batch, *shape, generator=gen) * 5
        valid = torch.rand(batch, *shape, generator=gen) > 0.2
        out.append({"ir": ir, "pmw": ir[:, :3] * 2, "precip": precip, "valid": valid})
    return out


def test_predictions_are_concatenated_in_order_and_scored_pooled():
    batches = _batches()
    retrieval = lambda x: x[:, :1] * 4.0  # noqa: E731 - a stand-in retrieval (mm/h)
    got = predict_benchmark(retrieval, batches)
    expected_pred = torch.cat([b["ir"][:, 0] * 4.0 for b in batches]).numpy()
    np.testing.assert_allclose(got["pred"], expected_pred)
    np.testing.assert_array_equal(got["valid"], torch.cat([b["valid"] for b in batches]).numpy())
    assert got["ir"].shape == (6, 8, 16, 8)
    expected = score(
        expected_pred,
        torch.cat([b["precip"] for b in batches]).numpy(),
        torch.cat([b["valid"] for b in batches]).numpy(),
    )
    scores = score_predictions(got)
    assert {k: scores[k] for k in expected} == pytest.approx(expected, nan_ok=True)
    valid = torch.cat([b["valid"] for b in batches]).numpy()
    assert scores["n_samples"] == 6 and scores["n_pixels"] == valid.sum()


def test_mapping_inputs_tuple_outputs_and_max_batches():
    seen = []

    def teacher(x):
        seen.append(sorted(x))
        return (x["pmw"][:, :1], "features")  # NamedTuple-like: logits first

    got = predict_benchmark(teacher, _batches(), inputs=("ir", "pmw"), max_batches=2)
    assert seen == [["ir", "pmw"], ["ir", "pmw"]]
    assert got["pred"].shape == (4, 16, 8)


def test_module_is_put_in_eval_mode():
    net = torch.nn.Sequential(torch.nn.Conv2d(8, 1, 1), torch.nn.Dropout(0.5)).train()
    predict_benchmark(net, _batches(1))
    assert not net.training


@pytest.mark.parametrize(
    "retrieval, kwargs, message",
    [
        (lambda x: x[:, :2], {}, r"\(B, 1, H, W\)"),
        (lambda x: x[:, :1] * float("nan"), {}, "NaN"),
        (lambda x: x[:, :1], {"inputs": ("pr",)}, "lacks"),
        (lambda x: x[:, :1], {"inputs": ()}, "at least one"),
        (lambda x: x[:, :1], {"max_batches": 0}, ">= 1"),
    ],
)
def test_bad_input_is_refused(retrieval, kwargs, message):
    with pytest.raises(ValueError, match=message):
        predict_benchmark(retrieval, _batches(1), **kwargs)


def test_empty_loader_and_incomplete_predictions_are_refused():
    with pytest.raises(ValueError, match="no batch"):
        predict_benchmark(lambda x: x[:, :1], [])
    with pytest.raises(ValueError, match="lack"):
        score_predictions({"pred": np.zeros(3)})


def test_pixels_with_missing_ir_are_not_scored():
    shape = (1, 4, 4)
    batch = {
        "ir": torch.zeros(1, 8, 4, 4),
        "precip": torch.ones(shape),
        "valid": torch.ones(shape, dtype=torch.bool),
        "input_valid": torch.ones(shape, dtype=torch.bool),
    }
    batch["input_valid"][0, 0, 0] = False
    got = predict_benchmark(lambda x: torch.ones(x.shape[0], 1, 4, 4), [batch])
    assert not got["valid"][0, 0, 0] and got["valid"].sum() == 15

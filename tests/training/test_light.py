"""PRE-Net-Light's training helpers: the validation CSI that picks ``best.pt``."""

from __future__ import annotations

import pytest
import torch

from prelib.models.outputs import StudentOutput
from prelib.training.light import light_evaluate_fn


class _Constant(torch.nn.Module):
    """A student whose logits are the same everywhere."""

    def __init__(self, values: list[float]) -> None:
        super().__init__()
        self.values = torch.tensor(values)

    def forward(self, x):
        logits = self.values.view(1, -1, 1, 1).expand(x.shape[0], -1, *x.shape[-2:])
        return StudentOutput(logits, (), (), x.new_zeros(()))


def _loader():
    precip = torch.zeros(2, 4, 4)
    precip[0, :2] = 1.0  # 8 of 32 pixels rain
    valid = torch.ones(2, 4, 4, dtype=torch.bool)
    valid[1, 3] = False
    return [{"ir": torch.zeros(2, 8, 4, 4), "precip": precip, "valid": valid}]


def test_validation_csi_of_the_students_decision():
    class Pair(torch.nn.Module):
        def __init__(self, student):
            super().__init__()
            self.student = student

    always_rain = Pair(_Constant([0.0, 1.0]))  # argmax = rain everywhere
    scores = light_evaluate_fn("cls")(always_rain, _loader(), "cpu")
    assert scores["csi"] == pytest.approx(8 / 28)  # hits / valid pixels
    never = light_evaluate_fn("cls")(Pair(_Constant([1.0, 0.0])), _loader(), "cpu")
    assert never["csi"] == 0.0
    rate = light_evaluate_fn("reg", threshold=0.5)(_Constant([0.7]), _loader(), "cpu")
    assert rate["csi"] == pytest.approx(8 / 28)
    dry = light_evaluate_fn("reg", threshold=0.5)(_Constant([0.2]), _loader(), "cpu")
    assert dry["csi"] == 0.0

import numpy as np
import pytest
import torch

from prelib.downscaling.data import make_pairs
from prelib.downscaling.distillation import FeatureAdapters, distil, distillation_loss
from prelib.downscaling.maunet import build_maunet, count_parameters
from prelib.downscaling.training import train_maunet


@pytest.fixture(scope="module")
def trained_teacher(rain_fields):
    pairs = make_pairs(rain_fields(4, 32, seed=1), 4)
    teacher = build_maunet(4, base_width=4, depth=2, dropout=0.0)
    train_maunet(teacher, pairs, epochs=2, batch_size=4, lr=3e-3)
    return teacher, pairs


@pytest.mark.parametrize("mode", ["standard", "refine"])
def test_student_is_smaller_and_distillation_loss_decreases(trained_teacher, mode):
    teacher, pairs = trained_teacher
    student = build_maunet(4, light=True, base_width=4, depth=2, dropout=0.0)
    assert count_parameters(student) <= 0.6 * count_parameters(teacher)
    history = distil(teacher, student, pairs, epochs=3, batch_size=4, lr=3e-3, kd_mode=mode)
    assert history[-1] < history[0]
    assert all(p.requires_grad for p in teacher.parameters())  # teacher restored


def test_refine_gates_teacher_term_to_where_teacher_is_better():
    teacher_model = build_maunet(1, base_width=4, depth=1)
    adapters = FeatureAdapters(teacher_model, teacher_model)
    target = torch.zeros(1, 1, 2, 2)
    teacher_out = torch.tensor([[[[0.1, 2.0], [0.0, 0.0]]]])
    student_out = torch.tensor([[[[1.0, 1.0], [0.0, 0.0]]]])
    feats = [torch.zeros(1, c, 1, 1) for c in teacher_model.feature_channels]
    _, standard = distillation_loss(student_out, feats, teacher_out, feats, target, adapters)
    _, refine = distillation_loss(
        student_out, feats, teacher_out, feats, target, adapters, kd_mode="refine"
    )
    # only pixel 0 (teacher error 0.1 < student error 1.0) keeps the teacher term
    assert standard["teacher"] == pytest.approx((0.81 + 1.0) / 4)
    assert refine["teacher"] == pytest.approx(0.81 / 4)
    with pytest.raises(ValueError, match="kd_mode"):
        distillation_loss(student_out, feats, teacher_out, feats, target, adapters, kd_mode="x")
    assert np.isfinite(standard["features"])

import numpy as np
import pytest
import torch

from prelib.models.maunet import build_maunet
from prelib.models.maunet_light import FeatureAdapters, MAUNetLightDistillation, distillation_loss


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


def test_distillation_module_freezes_the_teacher_and_trains_student_and_adapters():
    teacher = build_maunet(4, base_width=4, depth=2)
    student = build_maunet(4, light=True, base_width=4, depth=2)
    module = MAUNetLightDistillation(student, teacher, kd_mode="refine").train()
    assert not any(p.requires_grad for p in module.teacher.parameters())
    x, y = torch.rand(2, 1, 4, 4), torch.rand(2, 1, 16, 16)
    loss, parts = module(x, y)
    loss.backward()
    assert all(p.grad is None for p in module.teacher.parameters())
    assert all(p.grad is not None for p in module.adapters.parameters())
    assert set(parts) == {"truth", "teacher", "features"}
    assert module.release_teacher() is teacher
    assert all(p.requires_grad for p in teacher.parameters())
    with pytest.raises(ValueError, match="factor"):
        MAUNetLightDistillation(build_maunet(2, base_width=4, depth=1), teacher)
    with pytest.raises(ValueError, match="kd_mode"):
        MAUNetLightDistillation(student, teacher, kd_mode="x")

"""PRE-Net-Light: shapes, ≥ 10× fewer FLOPs than PRE-Net, and distillation that learns."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from prelib.config import resolve
from prelib.models import get_model
from prelib.models.light_distill import LightDistillation, response_loss


@pytest.mark.parametrize("shape", [(64, 64), (256, 49), (33, 80)])
def test_light_shapes_and_features(shape):
    net = get_model("prenet_light", resolve("tiny").models, n_classes=2).eval()
    out = net(torch.rand(2, 8, *shape))
    assert out.logits.shape == (2, 2, *shape)
    w = net.config.base_width
    for level, feature in enumerate(out.features):
        assert feature.shape[:2] == (2, w * 2**level)
        assert feature.shape[-2] == shape[0] // 2 ** (level + 1)
    with pytest.raises(ValueError, match="no mask"):
        net(torch.rand(1, 8, 32, 32), torch.ones(1, 1, 2, 2))


def _gflop(net) -> float:
    from prelib.models.vit import Attention

    extra = [0]

    def count(module, inputs, output):  # the CPU flash-attention kernel has no FLOP formula
        batch, tokens, dim = inputs[0].shape
        extra[0] += 4 * batch * tokens * tokens * dim

    hooks = [m.register_forward_hook(count) for m in net.modules() if isinstance(m, Attention)]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        net(torch.rand(1, 8, 256, 256))
    for hook in hooks:
        hook.remove()
    return counter.get_total_flops() + extra[0]


@pytest.mark.slow
def test_light_has_at_least_ten_times_fewer_flops_than_prenet_at_demo_size():
    prenet = get_model("prenet", resolve("demo").models, n_splits=1).eval()
    light = get_model("prenet_light", resolve("demo").models).eval()
    assert _gflop(prenet) >= 10 * _gflop(light)


def test_response_loss_is_zero_for_equal_outputs_and_positive_otherwise():
    logits = torch.randn(2, 2, 8, 8)
    valid = torch.ones(2, 8, 8, dtype=torch.bool)
    assert response_loss(logits, logits, valid, 3.0).abs() < 1e-6
    assert response_loss(logits, logits.flip(1), valid, 3.0) > 1e-3
    rate = torch.randn(2, 1, 8, 8)
    assert response_loss(rate + 1, rate, valid, 3.0) == pytest.approx(1.0)


def test_distillation_steps_lower_the_loss_and_keep_the_teacher_fixed():
    torch.manual_seed(0)
    teacher = get_model("prenet", resolve("tiny").models, n_classes=2, n_splits=1).eval()
    student = get_model("prenet_light", resolve("tiny").models, n_classes=2)
    w_s, w_t = student.config.base_width, teacher.config.base_width
    pair = LightDistillation(student, teacher, (w_s, 2 * w_s, 4 * w_s), (2 * w_t, 4 * w_t, 8 * w_t))
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    x = torch.rand(4, 8, 64, 64)
    labels = (torch.rand(4, 64, 64) > 0.5).long()
    valid = torch.ones(4, 64, 64, dtype=torch.bool)

    def task_loss(logits):
        return {"loss": torch.nn.functional.cross_entropy(logits, labels)}

    optimizer = torch.optim.Adam([p for p in pair.parameters() if p.requires_grad], lr=3e-3)
    pair.train()
    losses = []
    for _ in range(15):
        out = pair(x, task_loss, valid)
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
        losses.append(float(out["loss"].detach()))
    assert losses[-1] < 0.8 * losses[0]
    assert not teacher.training
    for key, value in teacher.state_dict().items():
        torch.testing.assert_close(value, before[key])


def _pair(config=None, balancer=None):
    torch.manual_seed(0)
    teacher = get_model("prenet", "tiny", n_classes=2, n_splits=1).eval()
    student = get_model("prenet_light", "tiny", n_classes=2)
    w_s, w_t = student.config.base_width, teacher.config.base_width
    channels = ((w_s, 2 * w_s, 4 * w_s), (2 * w_t, 4 * w_t, 8 * w_t))
    return LightDistillation(student, teacher, *channels, config, balancer)


def _batch():
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(2, 8, 32, 32, generator=gen)
    labels = (torch.rand(2, 32, 32, generator=gen) > 0.5).long()
    valid = torch.ones(2, 32, 32, dtype=torch.bool)

    def task_loss(logits):
        return {"loss": torch.nn.functional.cross_entropy(logits, labels)}

    return x, task_loss, valid


def test_gradnorm_balance_sets_each_terms_gradient_to_its_weight_times_the_tasks():
    from prelib.models.config import LightDistillConfig
    from prelib.models.light_distill import encoder_parameters
    from prelib.training.light import light_balancer

    config = LightDistillConfig(
        weighting="gradnorm", response_weight=0.5, feature_weight=0.05, gradnorm_every=1
    )
    pair = _pair(config, light_balancer(config)).train()
    out = pair(*_batch())
    task = float(out["gradnorm_task"])
    assert task > 0
    assert float(out["gradnorm_response"]) == pytest.approx(0.5 * task, rel=1e-4)
    assert float(out["gradnorm_feature"]) == pytest.approx(0.05 * task, rel=1e-4)
    out["loss"].backward()  # the balanced total is differentiable
    assert all(p.grad is not None for p in encoder_parameters(pair.student))
    with pytest.raises(ValueError, match="needs a balancer"):
        _pair(config)


def test_fixed_weights_drop_a_zero_term_and_log_the_rain_fractions():
    from prelib.models.config import LightDistillConfig

    pair = _pair(LightDistillConfig(feature_weight=0.0, response_weight=2.0)).train()
    x, task_loss, valid = _batch()
    out = pair(x, task_loss, valid)
    assert "distill_feature" not in out
    expected = float(task_loss(pair.student(x).logits)["loss"]) + float(out["distill_response"])
    assert float(out["loss"]) == pytest.approx(expected, rel=1e-4)
    for name in ("student", "teacher"):
        assert 0.0 <= float(out[f"{name}_rain_fraction"]) <= 1.0
    teacher = pair.teacher_output(x).logits
    assert float(out["teacher_rain_fraction"]) == pytest.approx(
        float((teacher.argmax(1) == 1).float().mean())
    )


def test_matching_the_rain_fraction_sets_the_students_threshold_to_the_teachers_rate():
    from prelib.models.light_distill import match_rain_fraction

    pair = _pair()
    x, _, valid = _batch()
    valid[1, :8] = False
    loader = [{"ir": x, "valid": valid}]
    with torch.no_grad():
        teacher_rain = (pair.teacher_output(x).logits.argmax(1) == 1) & valid
    out = match_rain_fraction(pair, loader, "cpu")
    fraction = float(teacher_rain.sum()) / float(valid.sum())
    assert out["teacher_rain_fraction"] == pytest.approx(fraction)
    student = pair.student.eval()
    with torch.no_grad():
        rain = (student(x).logits.argmax(1) == 1) & valid
    assert int(rain.sum()) == int(teacher_rain.sum())
    assert float(student.rain_logit_offset) == pytest.approx(out["rain_logit_offset"])
    # the offset is part of the weights; checkpoints without it load as plain argmax
    state = student.state_dict()
    fresh = get_model("prenet_light", "tiny", n_classes=2)
    fresh.load_state_dict(state)
    assert float(fresh.rain_logit_offset) == pytest.approx(out["rain_logit_offset"])
    fresh.load_state_dict({k: v for k, v in state.items() if k != "rain_logit_offset"})
    assert float(fresh.rain_logit_offset) == 0.0
    # in training mode the logits are the raw ones, whatever the offset
    student.train()
    with torch.no_grad():
        shifted = student(x).logits
        student.rain_logit_offset.zero_()
        torch.testing.assert_close(student(x).logits, shifted)

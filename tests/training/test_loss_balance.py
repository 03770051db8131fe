"""Stage-I loss balance: gradient norms are measured and logged, ``gradnorm`` rescales each
term to the configured fraction of the task's, and the balance state is checkpointed."""

from __future__ import annotations

import math

import pytest
import torch
from torch.utils.data import DataLoader

from prelib.config import resolve
from prelib.models import get_distiller, get_student
from prelib.models.config import DistillConfig
from prelib.training.config import load_training_config
from prelib.training.loss_balance import LossBalancer, shared_encoder_parameters
from prelib.training.stages import DistillationPair, build_teacher, distill_step_fn
from prelib.training.trainer import Trainer

SIZE = 32


def _batches(n=4):
    g = torch.Generator().manual_seed(0)
    items = []
    for i in range(n):
        ir = torch.rand(8, SIZE, SIZE, generator=g)
        precip = 4.0 * torch.relu(0.6 - ir[5])
        items.append(
            {
                "ir": ir,
                "pmw": torch.rand(13, SIZE, SIZE, generator=g),
                "pr": torch.rand(176, SIZE, SIZE, generator=g),
                "geo": torch.rand(3, SIZE, SIZE, generator=g),
                "precip": precip,
                "valid": torch.ones(SIZE, SIZE, dtype=torch.bool),
                "rain": (precip >= 0.1).long(),
                "index": torch.tensor(i),
            }
        )
    return DataLoader(items, batch_size=2, shuffle=False)


def _pair(weighting: str, **cfg):
    torch.manual_seed(0)
    student = get_student("comwe", resolve("tiny").models, n_classes=1)
    distiller = get_distiller("comwe", resolve("tiny").models, weighting=weighting, **cfg)
    return DistillationPair(student, distiller, "reg")


def _teacher():
    torch.manual_seed(1)
    return build_teacher(resolve("tiny").models, "reg").eval().requires_grad_(False)


@pytest.mark.parametrize("weighting", ["paper", "code", "gradnorm"])
def test_trainer_logs_a_finite_gradient_norm_per_term(tmp_path, weighting):
    config = load_training_config(
        "tiny", "distill", epochs=1, max_steps_per_epoch=2, device="cpu", grad_clip=0.0
    )
    result = Trainer(
        _pair(weighting, gradnorm_every=1),
        distill_step_fn(_teacher()),
        _batches(),
        config,
        tmp_path,
        val_loader=_batches(2),
        model_name="student:comwe:reg",
        profile="tiny",
        show_progress=False,
    ).fit()
    row = result.history[-1]
    for key in (
        "train_gradnorm_task",
        "train_gradnorm_kl",
        "train_gradnorm_rec",
        "train_gradnorm_sc",
    ):
        assert key in row and math.isfinite(row[key]) and row[key] >= 0, (key, row.get(key))
    assert row["train_gradnorm_task"] > 0
    assert (tmp_path / "metrics.csv").read_text().count("train_gradnorm_rec") == 1


def test_gradnorm_scales_each_term_to_the_fraction_of_the_task():
    pair = _pair("gradnorm", gradnorm_fraction=0.25, gradnorm_every=1).train()
    batch = next(iter(_batches()))
    out = distill_step_fn(_teacher())(pair, batch)
    task = float(out["gradnorm_task"])
    assert task > 0
    for term in ("kl", "rec", "sc"):
        assert float(out[f"gradnorm_{term}"]) == pytest.approx(0.25 * task, rel=1e-4)
    # the paper's fixed weights leave the reconstruction far above the task on this batch
    paper = _pair("paper", gradnorm_every=1).train()
    out = distill_step_fn(_teacher())(paper, batch)
    assert float(paper.balancer.scales.max()) == 1.0
    assert float(out["gradnorm_rec"]) > float(out["gradnorm_task"])


def test_total_loss_uses_the_measured_scales():
    balancer = LossBalancer("gradnorm", fraction=0.5, every=1).train()
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    task = (w**2).sum()  # gradient (2, 4): norm sqrt(20)
    part = 10.0 * w.sum()  # gradient (10, 10): norm sqrt(200)
    total, log = balancer.combine(task, {"rec": part}, [w])
    scale = 0.5 * math.sqrt(20) / math.sqrt(200)
    assert float(log["balance_rec"]) == pytest.approx(scale)
    assert float(total.detach()) == pytest.approx(5.0 + scale * 30.0)
    (grad,) = torch.autograd.grad(total, [w])
    assert grad.tolist() == pytest.approx([2 + 10 * scale, 4 + 10 * scale])


def test_balancer_state_round_trips_and_old_checkpoints_load():
    pair = _pair("gradnorm", gradnorm_every=1).train()
    distill_step_fn(_teacher())(pair, next(iter(_batches())))
    state = pair.state_dict()
    fresh = _pair("gradnorm", gradnorm_every=1)
    fresh.load_state_dict(state)
    assert torch.equal(fresh.balancer.scales, pair.balancer.scales)
    old = {k: v for k, v in state.items() if not k.startswith("balancer.")}
    _pair("gradnorm").load_state_dict(old)  # written before the balancer existed


def test_bad_settings_raise():
    with pytest.raises(ValueError, match="weighting"):
        DistillConfig(weighting="equal")
    with pytest.raises(ValueError, match="gradnorm_every"):
        DistillConfig(weighting="gradnorm", gradnorm_every=0)
    with pytest.raises(ValueError, match="unknown loss terms"):
        LossBalancer().combine(torch.tensor(1.0), {"foo": torch.tensor(1.0)}, [])


def test_standardised_teacher_features_change_the_terms_not_the_task():
    batch = next(iter(_batches()))
    teacher = _teacher()
    plain = distill_step_fn(teacher)(_pair("paper").eval(), batch)
    standard = distill_step_fn(teacher)(_pair("paper", standardise_teacher=True).eval(), batch)
    assert float(plain["task_loss"]) == pytest.approx(float(standard["task_loss"]))
    assert float(plain["distill_rec"]) != pytest.approx(float(standard["distill_rec"]))


def test_shared_parameters_are_the_encoder():
    student = get_student("comwe", "tiny", n_classes=1)
    ids = {id(p) for p in shared_encoder_parameters(student)}
    assert ids == {id(p) for p in student.encoder.parameters()}
    unet = get_student("kd", "tiny", n_classes=1)
    ids = {id(p) for p in shared_encoder_parameters(unet)}
    assert ids and not ids & {id(p) for p in unet.head.parameters()}


def test_per_term_fractions_and_own_terms():
    balancer = LossBalancer(
        "gradnorm", {"response": 1.0, "feature": 0.1}, 1, ("response", "feature")
    )
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    task = (w**2).sum()  # gradient (2, 4)
    parts = {"response": 3.0 * w.sum(), "feature": 7.0 * w[0]}
    _, log = balancer.train().combine(task, parts, [w])
    task_norm = math.sqrt(20)
    assert float(log["gradnorm_response"]) == pytest.approx(1.0 * task_norm, rel=1e-5)
    assert float(log["gradnorm_feature"]) == pytest.approx(0.1 * task_norm, rel=1e-5)
    assert balancer.scales.shape == (2,)
    with pytest.raises(ValueError, match="unknown loss terms"):
        balancer.combine(task, {"rec": w.sum()}, [w])
    with pytest.raises(ValueError, match="unknown terms"):
        LossBalancer("gradnorm", {"kl": 0.1, "response": 1.0}, 1, ("kl",))

"""Downscaling networks trained by the Trainer: best epoch, cosine, distillation, PrecipDiff."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from prelib.models.diffusion_unet import DiffusionUNetConfig
from prelib.models.edm import EDMConfig
from prelib.models.maunet import build_maunet
from prelib.models.precip_transform import PrecipTransform
from prelib.models.precipdiff import PrecipDiff
from prelib.training.checkpoint import load_checkpoint
from prelib.training.config import TrainingConfig
from prelib.training.downscaling import (
    distil_maunet_light,
    losses,
    maunet_loss,
    train_maunet,
    train_precipdiff,
)

TRANSFORM = PrecipTransform()


def _rain(n: int, size: int, seed: int) -> np.ndarray:
    """Zero-inflated, skewed rates (mm h-1) with some spatial structure."""
    rng = np.random.default_rng(seed)
    field = rng.gamma(0.6, 3.0, (n, size // 4, size // 4)).repeat(4, 1).repeat(4, 2)
    return np.where(rng.random((n, size, size)) < 0.4, 0.0, field).astype(np.float32)


def _tensors(n: int, seed: int, factor: int = 4, size: int = 16):
    fine = _rain(n, size, seed)
    coarse = fine.reshape(n, size // factor, factor, size // factor, factor).mean(axis=(2, 4))
    return TRANSFORM.forward(coarse).unsqueeze(1), TRANSFORM.forward(fine).unsqueeze(1)


def _config(**changes) -> TrainingConfig:
    values = dict(
        epochs=3,
        optimizer="adam",
        lr=3e-2,
        weight_decay=0.0,
        lr_gamma=1.0,
        grad_clip=0.0,
        best_metric="val_rate_rmse",
        device="cpu",
        amp="off",
        batch_size=4,
    )
    return TrainingConfig(**{**values, **changes})


def _rate_rmse(model, inputs, targets) -> float:
    with torch.no_grad():
        error = TRANSFORM.inverse(model(inputs)) - TRANSFORM.inverse(targets)
    return float((error**2).mean()) ** 0.5


def test_maunet_keeps_the_best_validation_epoch_and_writes_a_checked_run(tmp_path):
    torch.manual_seed(0)
    model = build_maunet(4, base_width=4, depth=2, dropout=0.0)
    inputs, targets = _tensors(8, seed=0)
    val = _tensors(4, seed=1)
    result = train_maunet(
        model, inputs, targets, _config(epochs=4), tmp_path, validation=val, show_progress=False
    )
    scores = [row["val_rate_rmse"] for row in result.history]
    assert result.best_epoch == 1 + int(np.argmin(scores))
    # the model holds the best epoch's weights: its validation RMSE is the minimum logged
    assert _rate_rmse(model, *val) == pytest.approx(min(scores), rel=1e-5)
    assert not model.training
    header = load_checkpoint(tmp_path / "best.pt", "maunet")["header"]  # SHA-256 checked
    assert header["epoch"] == result.best_epoch and "model_sha256" in header
    assert len(losses(result)) == 4 and np.isfinite(losses(result)).all()


def test_cosine_schedule_decays_per_step_and_constant_stays(tmp_path):
    inputs, targets = _tensors(8, seed=0)
    runs = {}
    for schedule in ("cosine", "constant"):
        model = build_maunet(4, base_width=4, depth=1, dropout=0.0)
        runs[schedule] = train_maunet(
            model,
            inputs,
            targets,
            _config(lr=1e-2),
            tmp_path / schedule,
            schedule=schedule,
            show_progress=False,
        )
    steps = 2  # 8 samples in batches of 4
    cosine = [1e-2 * (1 + math.cos(math.pi * e * steps / (3 * steps))) / 2 for e in range(3)]
    assert [row["lr"] for row in runs["cosine"].history] == pytest.approx(cosine)
    assert [row["lr"] for row in runs["constant"].history] == [1e-2] * 3
    with pytest.raises(ValueError, match="schedule"):
        train_maunet(model, inputs, targets, _config(), tmp_path / "x", schedule="linear")


def test_maunet_losses():
    output, target = torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), math.log1p(2.0))
    assert float(maunet_loss(output, target, "mse", TRANSFORM)) == pytest.approx(4.0)
    assert float(maunet_loss(output, target, "log-mse", TRANSFORM)) == pytest.approx(
        math.log1p(2.0) ** 2
    )
    with pytest.raises(ValueError, match="loss"):
        maunet_loss(output, target, "mae", TRANSFORM)


@pytest.mark.parametrize("mode", ["standard", "refine"])
def test_distillation_trains_the_student_only(tmp_path, mode):
    inputs, targets = _tensors(8, seed=0)
    teacher = build_maunet(4, base_width=4, depth=2, dropout=0.0)
    train_maunet(teacher, inputs, targets, _config(epochs=2), tmp_path / "t", show_progress=False)
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    student = build_maunet(4, light=True, base_width=4, depth=2, dropout=0.0)
    result = distil_maunet_light(
        teacher,
        student,
        inputs,
        targets,
        _config(epochs=3, lr=1e-2),
        tmp_path / mode,
        kd_mode=mode,
        validation=_tensors(4, seed=1),
        show_progress=False,
    )
    history = losses(result)
    assert history[-1] < history[0]
    for key, value in teacher.state_dict().items():  # weights and BatchNorm statistics
        assert torch.equal(value, before[key]), key
    assert all(p.requires_grad for p in teacher.parameters())  # teacher released
    assert not student.training
    scores = [row["val_rate_rmse"] for row in result.history]
    assert _rate_rmse(student, *_tensors(4, seed=1)) == pytest.approx(min(scores), rel=1e-5)


@pytest.mark.parametrize("teacher_forcing", [True, False])
def test_precipdiff_stages_train_and_pipeline_consistent_uses_the_correction(
    tmp_path, teacher_forcing
):
    fine = _rain(4, 16, seed=2)
    satellite = fine.reshape(4, 4, 4, 4, 4).mean(axis=(2, 4)) * 0.8
    coarse_truth = fine.reshape(4, 4, 4, 4, 4).max(axis=(2, 4))
    net = PrecipDiff(4, DiffusionUNetConfig(base_width=8, channel_mult=(1, 2)), EDMConfig())
    calls = []
    original = net.correct

    def spy(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    net.correct = spy
    results = train_precipdiff(
        net,
        satellite,
        coarse_truth,
        fine,
        _config(epochs=1),
        tmp_path,
        teacher_forcing=teacher_forcing,
        show_progress=False,
    )
    assert set(results) == {"correction", "downscaling"}
    assert all(np.isfinite(losses(r)).all() for r in results.values())
    assert (tmp_path / "correction" / "last.pt").is_file()
    assert (tmp_path / "downscaling" / "metrics.csv").is_file()
    assert len(calls) == (0 if teacher_forcing else 1)

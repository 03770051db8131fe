"""The three stages at the tiny profile on a fixed synthetic batch: finite, decreasing losses."""

from __future__ import annotations

import math

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from prelib.models import lora_parameters
from prelib.models.config import load_model_configs
from prelib.training.checkpoint import make_header, save_checkpoint
from prelib.training.config import load_training_config
from prelib.training.stages import (
    ADAPT_VARIANTS,
    adapted_name,
    build_adaptation_model,
    build_distillation,
    load_adapted,
    student_name,
    train_full_disc_adaptation,
    train_swath_distilling,
    train_teacher,
)

SIZE = 32
TINY = load_model_configs("tiny")


class FixedSwaths(Dataset):
    """Four fixed multimodal samples in the batch layout of prelib.data (normalised inputs)."""

    def __init__(self, n: int = 4) -> None:
        gen = torch.Generator().manual_seed(0)
        self.ir = torch.rand(n, 8, SIZE, SIZE, generator=gen)
        self.pmw = torch.rand(n, 13, SIZE, SIZE, generator=gen)
        self.pr = torch.rand(n, 176, SIZE, SIZE, generator=gen)
        self.geo = torch.rand(n, 3, SIZE, SIZE, generator=gen)
        precip = 4.0 * torch.relu(0.6 - self.ir[:, 5]) + self.pr[:, 100]
        precip[:, :2] = torch.nan  # missing labels
        self.valid = torch.isfinite(precip)
        self.precip = torch.nan_to_num(precip)
        self.rain = (self.precip >= 0.1).long()

    def __len__(self) -> int:
        return len(self.ir)

    def __getitem__(self, i: int) -> dict:
        return {
            "ir": self.ir[i],
            "pmw": self.pmw[i],
            "pr": self.pr[i],
            "geo": self.geo[i],
            "precip": self.precip[i],
            "valid": self.valid[i],
            "rain": self.rain[i],
            "index": i,
        }


def _loader():
    return DataLoader(FixedSwaths(), batch_size=4, shuffle=False)


def _decreasing(result) -> list[float]:
    losses = [row["train_loss"] for row in result.history]
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < losses[0], losses
    return losses


@pytest.fixture(scope="module")
def stage_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("stages")
    teacher_cfg = load_training_config("tiny", "teacher", epochs=4, optimizer="adam")
    teacher = train_teacher(
        _loader(), _loader(), root / "teacher", TINY, config=teacher_cfg, show_progress=False
    )
    student_cfg = load_training_config("tiny", "distill", epochs=4, optimizer="adam")
    student = train_swath_distilling(
        _loader(),
        _loader(),
        root / "comwe",
        root / "teacher" / "last.pt",
        TINY,
        config=student_cfg,
        show_progress=False,
    )
    return root, teacher, student


def test_teacher_and_swath_distilling_losses_decrease(stage_dirs):
    _, teacher, student = stage_dirs
    _decreasing(teacher)
    _decreasing(student)
    row = student.history[-1]
    assert {"train_task_loss", "train_distill_kl", "val_task_loss"} <= set(row)


def test_self_masktune_adaptation_trains_lora_and_decreases(stage_dirs):
    root, _, _ = stage_dirs
    cfg = load_training_config(
        "tiny", "adapt", epochs=4, optimizer="adam", masktune={"unmasked_epochs": 1}
    )
    result = train_full_disc_adaptation(
        _loader(),
        _loader(),
        root / "self",
        root / "comwe" / "last.pt",
        TINY,
        variant="selfmask",
        config=cfg,
        show_progress=False,
    )
    _decreasing(result)
    model = load_adapted(root / "self" / "last.pt", TINY, "reg", "selfmask")
    assert sum(p.numel() for p in lora_parameters(model)) > 0
    payload = torch.load(root / "self" / "last.pt", weights_only=True)
    assert len(payload["masktune"]["store"]["flags"]["indices"]) == 4  # per-sample masks stored


def test_every_adaptation_variant_builds_from_stage_one(tmp_path):
    for distiller in ("kd", "comwe"):
        pair = build_distillation(TINY, "cls", distiller)
        header = make_header(student_name(distiller, "cls"), "tiny", {}, epoch=1)
        save_checkpoint(
            tmp_path / f"{distiller}.pt", {"header": header, "model": pair.state_dict()}
        )
    strategies = {}
    for variant in ADAPT_VARIANTS:
        source = tmp_path / ("kd.pt" if variant == "kd_nonmask" else "comwe.pt")
        model, strategy = build_adaptation_model(variant, TINY, "cls", source)
        out = model(torch.rand(1, 8, SIZE, SIZE))
        assert out.logits.shape == (1, 2, SIZE, SIZE)
        strategies[variant] = strategy
        frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
        assert (frozen > 0) == (variant in ("nonmask", "randmask", "selfmask"))
    assert strategies["selfmask"] == "self" and strategies["randmask"] == "random"
    with pytest.raises(ValueError, match="student:comwe:cls"):
        build_adaptation_model("selfmask", TINY, "cls", tmp_path / "kd.pt")
    result = train_full_disc_adaptation(
        _loader(),
        None,
        tmp_path / "noadapt",
        tmp_path / "comwe.pt",
        TINY,
        task="cls",
        variant="comwe_noadapt",
        config=load_training_config("tiny", "adapt"),
    )
    assert result is None
    load_adapted(tmp_path / "noadapt" / "last.pt", TINY, "cls", "comwe_noadapt")
    assert adapted_name("scratch", "reg") == "adapted:scratch:reg"


@pytest.mark.parametrize("distiller", ["none", "kd", "mgd", "mkd", "rmkd"])
def test_every_student_takes_a_finite_step_with_gradients(distiller):
    from prelib.training.stages import build_teacher, distill_step_fn

    torch.manual_seed(0)
    pair = build_distillation(TINY, "reg", distiller)
    teacher = build_teacher(TINY, "reg").eval().requires_grad_(False)
    batch = next(iter(_loader()))
    out = distill_step_fn(teacher if pair.distiller.needs_teacher else None)(pair, batch)
    assert torch.isfinite(out["loss"])
    out["loss"].backward()
    grads = [p.grad for p in pair.student.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    if distiller != "none":
        assert any(k.startswith("distill_") for k in out)

"""Distillers: loss terms, weights, and one optimiser step lowering the loss for each method."""

from __future__ import annotations

import pytest
import torch

from prelib.models import DISTILLER_NAMES, get_distiller, get_model, get_student
from prelib.models.config import load_model_configs
from prelib.models.distill import channel_kl
from prelib.models.outputs import StudentOutput, TeacherOutput

TINY = load_model_configs("tiny")


def _task_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (logits[:, 0] - target).square().mean()


@pytest.mark.parametrize("name", DISTILLER_NAMES)
def test_one_step_lowers_the_loss(name, small_teacher_inputs):
    torch.manual_seed(0)
    teacher = get_model("teacher", TINY).eval()
    with torch.no_grad():
        teacher_out = teacher(small_teacher_inputs)
    student = get_student(name, TINY).train()
    distiller = get_distiller(name, TINY)
    params = [*student.parameters(), *distiller.parameters()]
    optimiser = torch.optim.Adam(params, lr=1e-3)
    x = small_teacher_inputs["ir"]
    target = torch.rand(x.shape[0], *x.shape[-2:], generator=torch.Generator().manual_seed(5))

    def total_loss() -> tuple[torch.Tensor, dict]:
        torch.manual_seed(7)  # the same masks, splits and MGD masks at both evaluations
        out = student(x)
        terms = distiller.loss(out, teacher_out if distiller.needs_teacher else None)
        return _task_loss(out.logits, target) + terms["loss"], terms

    before, terms = total_loss()
    assert torch.isfinite(before)
    optimiser.zero_grad()
    before.backward()
    optimiser.step()
    after, _ = total_loss()
    assert after < before
    expected = {
        "none": {"loss"},
        "kd": {"loss", "kd"},
        "mgd": {"loss", "mgd", "mgd_l1", "mgd_l2", "mgd_l3"},
    }.get(name, {"loss", "kl", "rec", *(f"{t}_l{i}" for t in ("kl", "rec") for i in (1, 2, 3))})
    if name in ("rmkd", "comwe"):
        expected = expected | {"sc"}
    parts = {k for k in terms if k.startswith("part_")}  # weighted terms for the balancer
    assert set(terms) - parts == expected
    assert parts == {f"part_{t}" for t in expected if "_l" not in t and t != "loss"}
    assert float(sum(terms[p] for p in parts)) == pytest.approx(float(terms["loss"]))


def test_students_implied_by_methods():
    assert type(get_student("kd", TINY)).__name__ == "UNet"
    mkd, rmkd, comwe = (get_student(n, TINY) for n in ("mkd", "rmkd", "comwe"))
    assert (mkd.config.n_splits, mkd.config.dawe_mode) == (1, "off")
    assert (rmkd.config.n_splits, rmkd.config.dawe_mode) == (3, "off")
    assert (comwe.config.n_splits, comwe.config.dawe_mode) == (3, "prelib")
    assert get_student("comwe", TINY, dawe_mode="reference").config.dawe_mode == "reference"


def _outputs(channels=(4, 6, 8), teacher_channels=None, seed=0):
    gen = torch.Generator().manual_seed(seed)
    sizes = [(16, 12), (8, 6), (4, 3)]
    teacher_channels = teacher_channels or channels

    def maps(chs):
        return tuple(torch.randn(2, c, *s, generator=gen) for c, s in zip(chs, sizes, strict=True))

    logits = torch.randn(2, 1, 32, 24, generator=gen)
    student = StudentOutput(logits, maps(channels), maps(channels), torch.tensor(0.5))
    teacher = TeacherOutput(torch.randn(2, 1, 32, 24, generator=gen), maps(teacher_channels))
    return student, teacher


def test_paper_and_code_weightings():
    student, teacher = _outputs()
    paper = get_distiller("rmkd", TINY, student_channels=(4, 6, 8), teacher_channels=(4, 6, 8))
    code = get_distiller(
        "rmkd", TINY, student_channels=(4, 6, 8), teacher_channels=(4, 6, 8), weighting="code"
    )
    assert (paper.config.feature_weight, paper.config.reconstruction_weight) == (0.2, 50.0)
    assert (code.config.feature_weight, code.config.reconstruction_weight) == (50.0, 0.2)
    tp, tc = paper.loss(student, teacher), code.loss(student, teacher)
    torch.testing.assert_close(tp["kl"], tc["kl"])
    torch.testing.assert_close(tp["loss"], 0.2 * tp["kl"] + 50.0 * tp["rec"] + 0.5)
    torch.testing.assert_close(tc["loss"], 50.0 * tc["kl"] + 0.2 * tc["rec"] + 0.5)
    weighted = tp["kl_l1"] + 2 * tp["kl_l2"] + 4 * tp["kl_l3"]
    torch.testing.assert_close(tp["kl"], weighted)
    mkd = get_distiller("mkd", TINY, student_channels=(4, 6, 8), teacher_channels=(4, 6, 8))
    torch.testing.assert_close(mkd.loss(student, teacher)["loss"], tp["loss"] - 0.5)


def test_channel_kl_definition():
    s, t = torch.randn(2, 5, 3, 4), torch.randn(2, 5, 3, 4)
    assert float(channel_kl(t, t, 3.0)) == pytest.approx(0.0, abs=1e-7)
    p_t = torch.softmax(t / 3, dim=1)
    manual = (p_t * (p_t.log() - torch.log_softmax(s / 3, dim=1))).mean() * 9
    torch.testing.assert_close(channel_kl(s, t, 3.0), manual)


def test_response_kd_classification_and_valid_mask():
    student, teacher = _outputs()
    kd = get_distiller("kd", TINY)
    logits = torch.randn(2, 2, 32, 24)
    s2 = student._replace(logits=logits)
    t2 = teacher._replace(logits=logits.clone())
    assert float(kd.loss(s2, t2)["kd"]) == pytest.approx(0.0, abs=1e-6)
    valid = torch.zeros(2, 32, 24, dtype=torch.bool)
    valid[:, :4] = True
    terms = kd.loss(student, teacher, valid=valid)
    expected = (student.logits - teacher.logits)[:, 0, :4].square().mean()
    torch.testing.assert_close(terms["kd"], expected)
    with pytest.raises(ValueError, match="valid must have shape"):
        kd.loss(student, teacher, valid=valid[:, :5])


def test_aligners_when_channels_differ_and_bad_input():
    student, teacher = _outputs(channels=(4, 6, 8), teacher_channels=(5, 7, 9))
    for name in ("mgd", "comwe"):
        d = get_distiller(name, TINY, student_channels=(4, 6, 8), teacher_channels=(5, 7, 9))
        assert torch.isfinite(d.loss(student, teacher)["loss"])
        assert sum(p.numel() for p in d.parameters()) > 0
    d = get_distiller("comwe", TINY, student_channels=(4, 6, 8), teacher_channels=(5, 7, 9))
    with pytest.raises(ValueError, match="needs the teacher"):
        d.loss(student, None)
    cropped = teacher._replace(features=tuple(f[..., :-1] for f in teacher.features))
    with pytest.raises(ValueError, match="share"):
        d.loss(student, cropped)
    with pytest.raises(ValueError, match="PRE-Net student"):
        d.loss(student._replace(reconstructions=()), teacher)
    with pytest.raises(ValueError, match="unknown distiller"):
        get_distiller("fitnet")

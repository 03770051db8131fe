"""Teacher, PRE-Net and UNet: shapes, parameter counts, gradients, determinism, bad input."""

from __future__ import annotations

import pytest
import torch

from prelib.models import PRENet, StudentOutput, Teacher, TeacherOutput, UNet, get_model
from prelib.models.config import load_model_configs
from prelib.models.vit import Block, block_parameter_count

TINY = load_model_configs("tiny")
PAPER = load_model_configs("paper")

PAPER_COUNTS = {
    # prenet_reference.md §3, §4.7: teacher 31,401,057; PRE-Net 47,924,249 of which 576 are the
    # reference AE's unused cls tokens (3 × 192), which prelib does not create; UNet 31,040,513.
    "teacher": 31_401_057,
    "prenet": 47_924_249 - 576,
    "unet": 31_040_513,
}
PUBLISHED = {"teacher": 31_401_057, "prenet": 47_924_249, "unet": 31_040_513}


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", ["teacher", "prenet", "unet"])
def test_paper_parameter_counts(name):
    with torch.device("meta"):  # count only: no memory, no initialisation cost
        model = get_model(name, PAPER)
    count = n_params(model)
    assert count == PAPER_COUNTS[name]
    assert abs(count - PUBLISHED[name]) / PUBLISHED[name] < 0.01


def test_paper_component_counts_match_reference():
    with torch.device("meta"):
        net = get_model("prenet", PAPER)
        cls_net = get_model("prenet", PAPER, n_classes=2)
        teacher_cls = get_model("teacher", PAPER, n_classes=2)
    assert block_parameter_count(192) == 12 * 192**2 + 10 * 192 == 444_288
    assert n_params(Block(192, 3)) == 444_288
    enc = net.encoder
    assert n_params(enc.inc) + n_params(enc.masked_down) + n_params(enc.down4) == 14_743_680
    assert n_params(enc.dawe) == 517_010
    assert [n_params(ae) for ae in enc.ae] == [5_529_347 - 192, 5_726_467 - 192, 6_120_704 - 192]
    assert n_params(net.decoder) + n_params(net.head) == 15_287_041
    assert n_params(cls_net) - n_params(net) == 65
    assert n_params(teacher_cls) == 31_401_090


def test_dawe_off_and_teacher_subsets_change_counts():
    with torch.device("meta"):
        no_dawe = get_model("prenet", PAPER, dawe_mode="off")
        pmw_pr = get_model("teacher", PAPER, modalities=("pmw", "pr"))
    assert n_params(no_dawe) == PAPER_COUNTS["prenet"] - 517_010
    assert n_params(pmw_pr) == PAPER_COUNTS["teacher"] - 41_728  # the IR stem DoubleConv(8→64)


@pytest.mark.parametrize("size", [(256, 49), (256, 256), (40, 37)])
def test_student_shapes(size):
    torch.manual_seed(0)
    x = torch.rand(2, 8, *size)
    for name in ("prenet", "unet"):
        out = get_model(name, TINY, n_classes=2).train()(x)
        assert isinstance(out, StudentOutput)
        assert out.logits.shape == (2, 2, *size)
        h, w = size
        expected = [(2, 16 * 2**i, h >> (i + 1), w >> (i + 1)) for i in range(3)]
        assert [tuple(f.shape) for f in out.features] == expected
        if name == "prenet":
            assert [tuple(r.shape) for r in out.reconstructions] == expected
            assert out.self_consistency.ndim == 0 and out.self_consistency > 0
        else:
            assert out.reconstructions == ()


def test_teacher_shapes_and_input_forms(swath_teacher_inputs):
    teacher = get_model("teacher", TINY).eval()
    with torch.no_grad():
        out = teacher(swath_teacher_inputs)
        same = teacher(**swath_teacher_inputs)
    assert isinstance(out, TeacherOutput)
    assert out.logits.shape == (2, 1, 256, 49)
    assert [tuple(f.shape) for f in out.features] == [
        (2, 16, 128, 24),
        (2, 32, 64, 12),
        (2, 64, 32, 6),
    ]
    torch.testing.assert_close(out.logits, same.logits)
    full = {k: v[..., :64, :48] for k, v in swath_teacher_inputs.items()}
    assert teacher(full).logits.shape == (2, 1, 64, 48)


def test_teacher_modality_subset_and_bad_input(swath_teacher_inputs):
    inputs = swath_teacher_inputs
    sub = get_model("teacher", TINY, modalities=("pmw", "pr"))
    assert sub.inputs == ("pmw", "pr", "geo")
    out = sub(pmw=inputs["pmw"], pr=inputs["pr"], geo=inputs["geo"])
    assert out.logits.shape == (2, 1, 256, 49)
    with pytest.raises(ValueError, match=r"unexpected \['ir'\]"):
        sub(inputs)
    teacher = get_model("teacher", TINY)
    with pytest.raises(ValueError, match=r"missing \['pr'\]"):
        teacher(ir=inputs["ir"], pmw=inputs["pmw"], geo=inputs["geo"])
    with pytest.raises(ValueError, match="pmw must have 13 channels"):
        teacher({**inputs, "pmw": inputs["pmw"][:, :12]})
    with pytest.raises(ValueError, match="not one stacked tensor"):
        teacher(torch.cat([inputs["ir"], inputs["pmw"], inputs["pr"]], dim=1))
    with pytest.raises(ValueError, match="share"):
        teacher({**inputs, "geo": inputs["geo"][..., :48]})
    with pytest.raises(ValueError, match="modalities"):
        get_model("teacher", TINY, modalities=())


@pytest.mark.parametrize("dawe_mode", ["prelib", "reference", "off"])
def test_prenet_gradients(small_ir, dawe_mode):
    torch.manual_seed(0)
    net = get_model("prenet", TINY, dawe_mode=dawe_mode).train()
    out = net(small_ir)
    (out.logits.square().mean() + out.self_consistency).backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.any()]
    if dawe_mode == "reference":
        # The reference code never adds the level-3 hint, so its 1 × 1 conv gets no gradient.
        assert sorted(missing) == ["encoder.dawe.align.2.bias", "encoder.dawe.align.2.weight"]
    else:
        assert missing == []
    if dawe_mode == "prelib":
        # DAWE's gradient reaches the encoder through the DWT (cut in reference mode).
        net.zero_grad()
        hint = net.encoder.dawe(0, torch.ones(1, 8, 8, 8, requires_grad=True), (4, 4))
        assert hint.requires_grad


@pytest.mark.parametrize("name", ["teacher", "unet"])
def test_teacher_and_unet_gradients(name, small_ir, small_teacher_inputs):
    model = get_model(name, TINY).train()
    out = model(small_teacher_inputs) if name == "teacher" else model(small_ir)
    out.logits.square().mean().backward()
    assert all(p.grad is not None and p.grad.any() for p in model.parameters())


def test_prenet_dawe_contributes_at_inference_only_in_prelib_mode(small_ir):
    for mode, changes in (("prelib", True), ("reference", False)):
        torch.manual_seed(0)
        net = get_model("prenet", TINY, dawe_mode=mode).eval()
        with torch.no_grad():
            before = net(small_ir).logits
            net.encoder.dawe.align[0].weight.add_(1.0)
            after = net(small_ir).logits
        assert (not torch.equal(before, after)) is changes


def test_prenet_evaluation_is_deterministic_and_mask_free(swath_ir):
    net = get_model("prenet", TINY).eval()
    with torch.no_grad():
        torch.manual_seed(1)
        first = net(swath_ir)
        torch.manual_seed(2)
        second = net(swath_ir)
        ones = net(swath_ir, mask=torch.ones(1, 1, 16, 3))
        masked = net(swath_ir, mask=torch.zeros(1, 1, 16, 3))
    assert torch.equal(first.logits, second.logits)
    assert torch.equal(first.logits, ones.logits)
    assert not torch.equal(first.logits, masked.logits)
    assert float(first.self_consistency) == 0.0


def test_prenet_training_masks_are_random_and_respected(swath_ir):
    net = get_model("prenet", TINY).train()
    torch.manual_seed(3)
    a = net(swath_ir).logits
    torch.manual_seed(4)
    b = net(swath_ir).logits
    assert not torch.equal(a, b)
    # A per-sample mask hiding everything in sample 0: its level-1 masked-conv input is zero, so
    # the feature y·M + B(y·M) is spatially constant per channel away from the 3 × 3 conv's
    # zero-padded border.
    mask = torch.ones(2, 1, 16, 3)
    mask[0] = 0
    features = net(swath_ir, mask=mask).features[0]
    spread = features[..., 1:-1, 1:-1].flatten(2).std(dim=2)  # (B, C)
    assert spread[0].max() < 1e-5
    assert spread[1].max() > 1e-3


def test_set_num_splits_turns_rmkd_off(small_ir):
    net = get_model("prenet", TINY).train()
    net.set_num_splits(1)
    assert float(net(small_ir).self_consistency) == 0.0
    with pytest.raises(ValueError, match="n_splits"):
        net.set_num_splits(2)


def test_reset_decoder_changes_only_decoder():
    net = get_model("prenet", TINY)
    enc = {k: v.clone() for k, v in net.encoder.state_dict().items()}
    dec = {k: v.clone() for k, v in net.decoder.state_dict().items()}
    net.reset_decoder()
    assert all(torch.equal(v, net.encoder.state_dict()[k]) for k, v in enc.items())
    changed = [k for k, v in dec.items() if v.is_floating_point() and k.endswith("weight")]
    assert any(not torch.equal(dec[k], net.decoder.state_dict()[k]) for k in changed)


@pytest.mark.parametrize("model_cls", [PRENet, UNet])
def test_student_bad_input(model_cls):
    from prelib.models import load_model_config

    name = "prenet" if model_cls is PRENet else "unet"
    net = model_cls(load_model_config(name, "tiny"))
    with pytest.raises(ValueError, match=r"8 channels.*\(2, 7, 64, 64\)"):
        net(torch.zeros(2, 7, 64, 64))
    with pytest.raises(ValueError, match="4-D"):
        net(torch.zeros(8, 64, 64))
    with pytest.raises(ValueError, match="at least 16"):
        net(torch.zeros(1, 8, 8, 64))
    if model_cls is PRENet:
        with pytest.raises(ValueError, match=r"\(1 or 2, 1, 4, 4\), got \(1, 1, 4, 3\)"):
            net(torch.zeros(2, 8, 64, 64), mask=torch.ones(1, 1, 4, 3))
    else:
        with pytest.raises(ValueError, match="no mask"):
            net(torch.zeros(2, 8, 64, 64), mask=torch.ones(1, 1, 4, 4))


def test_teacher_direct_construction_matches_registry():
    assert n_params(Teacher(base_width=8)) == n_params(get_model("teacher", TINY))


@pytest.mark.parametrize("name", ["teacher", "prenet", "unet"])
def test_one_step_lowers_task_loss(name, small_teacher_inputs):
    torch.manual_seed(0)
    model = get_model(name, TINY, n_classes=2).train()
    inputs = small_teacher_inputs
    target = (inputs["ir"][:, 0] > 0.5).long()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)

    def loss() -> torch.Tensor:
        torch.manual_seed(3)
        out = model(inputs) if name == "teacher" else model(inputs["ir"])
        return torch.nn.functional.cross_entropy(out.logits, target)

    before = loss()
    before.backward()
    optimiser.step()
    assert loss() < before


def test_rmkd_at_every_level_with_two_splits(small_ir):
    torch.manual_seed(0)
    net = get_model("prenet", TINY, rmkd_levels=(1, 2, 3), n_splits=2).train()
    assert all(ae.split_weights.shape == (2,) for ae in net.encoder.ae)
    out = net(small_ir)
    (out.logits.square().mean() + out.self_consistency).backward()
    assert all(p.grad is not None and p.grad.any() for p in net.parameters())

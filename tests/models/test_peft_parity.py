"""prelib's LoRA (``apply_lora``) against Hugging Face peft's on the same PRE-Net (optional).

Same rank, alpha and target layers (qkv, proj, fc1, fc2 inside the ViT blocks) must give the
same adapter parameter count, the same outputs for the same adapter weights, and the same
merged weights. peft (with transformers and accelerate) is not a prelib dependency; the test
skips without it.
"""

from __future__ import annotations

import copy

import pytest
import torch

from prelib.config import resolve
from prelib.models import apply_lora, get_student
from prelib.models.lora import lora_modules, lora_parameter_count, merge_lora

peft = pytest.importorskip("peft")

pytestmark = pytest.mark.slow  # importing peft imports transformers (≈ 8 s on a loaded machine)

TARGETS = r".*\.blocks\.\d+\.(attn\.(qkv|proj)|mlp\.(fc1|fc2))"
"""peft's target_modules as a full-match regex: the linear layers prelib adapts, no others."""


def _pair(rank: int, alpha: float):
    torch.manual_seed(0)
    base = get_student("comwe", resolve("tiny").models, n_classes=1)
    base.set_num_splits(1)
    base.eval()
    ours = copy.deepcopy(base)
    adapted = apply_lora(ours, rank, alpha)
    config = peft.LoraConfig(r=rank, lora_alpha=alpha, target_modules=TARGETS, lora_dropout=0.0)
    theirs = peft.get_peft_model(copy.deepcopy(base), config)
    theirs.eval()
    return base, ours, theirs, adapted


def _peft_layers(model) -> dict[str, torch.nn.Module]:
    from peft.tuners.lora import LoraLayer

    prefix = "base_model.model."
    return {
        name.removeprefix(prefix): module
        for name, module in model.named_modules()
        if isinstance(module, LoraLayer)
    }


def _copy_adapters(ours, theirs, seed: int = 1) -> None:
    """Random non-zero A and B in prelib's adapters, copied into peft's."""
    generator = torch.Generator().manual_seed(seed)
    peft_layers = _peft_layers(theirs)
    ours_layers = {n: m for n, m in ours.named_modules() if m in set(lora_modules(ours))}
    assert set(ours_layers) == set(peft_layers)
    with torch.no_grad():
        for name, layer in ours_layers.items():
            layer.lora_A.copy_(torch.randn(layer.lora_A.shape, generator=generator) * 0.1)
            layer.lora_B.copy_(torch.randn(layer.lora_B.shape, generator=generator) * 0.1)
            peft_layers[name].lora_A["default"].weight.copy_(layer.lora_A)
            peft_layers[name].lora_B["default"].weight.copy_(layer.lora_B)


@pytest.mark.parametrize(("rank", "alpha"), [(1, 1.0), (4, 8.0)])
def test_peft_lora_matches_prelib_lora(rank, alpha):
    base, ours, theirs, adapted = _pair(rank, alpha)
    peft_layers = _peft_layers(theirs)
    assert len(peft_layers) == adapted
    peft_count = sum(
        p.numel() for n, p in theirs.named_parameters() if "lora_" in n and p.requires_grad
    )
    assert peft_count == lora_parameter_count(ours)
    x = torch.rand(2, 8, 32, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        before = base(x)
        reference = before.logits
        # both start as the pre-trained network (B = 0)
        torch.testing.assert_close(ours(x).logits, reference, rtol=0, atol=0)
        torch.testing.assert_close(theirs(x).logits, reference, rtol=0, atol=0)
        _copy_adapters(ours, theirs)
        out_ours, out_theirs = ours(x), theirs(x)
    # the adapters do change the network: the AE reconstructions directly, the rain logits a bit
    assert (out_ours.reconstructions[0] - before.reconstructions[0]).abs().max() > 1e-2
    assert (out_ours.logits - reference).abs().max() > 1e-5
    torch.testing.assert_close(out_theirs.logits, out_ours.logits, rtol=1e-5, atol=1e-5)
    for ours_level, theirs_level in zip(out_ours.reconstructions, out_theirs.reconstructions):
        torch.testing.assert_close(theirs_level, ours_level, rtol=1e-5, atol=1e-5)
    merge_lora(ours)
    merged = theirs.merge_and_unload()
    with torch.no_grad():
        torch.testing.assert_close(merged(x).logits, ours(x).logits, rtol=1e-5, atol=1e-5)
    ours_weights = {n.replace(".base.", "."): w for n, w in ours.state_dict().items()}
    for name, weight in merged.state_dict().items():
        torch.testing.assert_close(weight, ours_weights[name], rtol=1e-6, atol=1e-6)


def test_peft_trains_only_adapters_where_prelib_paper_policy_also_trains_decoder_and_head():
    from prelib.models import freeze_for_adaptation

    _, ours, theirs, _ = _pair(1, 1.0)
    counts = freeze_for_adaptation(ours, "paper")
    peft_trainable = sum(p.numel() for p in theirs.parameters() if p.requires_grad)
    # peft freezes everything but the adapters unless modules_to_save names the rest
    assert peft_trainable == lora_parameter_count(ours) < counts["trainable"]

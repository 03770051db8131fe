"""LoRA adapters: zero-initialised, frozen base, merge/unmerge, counts, freezing policies."""

from __future__ import annotations

import pytest
import torch

from prelib.models import apply_lora, freeze_for_adaptation, get_model, lora_parameters
from prelib.models.config import load_model_configs
from prelib.models.lora import (
    LoRALinear,
    expected_lora_count,
    lora_modules,
    lora_parameter_count,
    merge_lora,
    unmerge_lora,
)

TINY = load_model_configs("tiny")
PAPER = load_model_configs("paper")


def test_paper_lora_count():
    with torch.device("meta"):
        net = get_model("prenet", PAPER)
        adapted = apply_lora(net, rank=1, alpha=1.0)
    assert adapted == 144  # 3 levels × 12 blocks × (qkv, proj, fc1, fc2)
    assert lora_parameter_count(net) == 110_592 == expected_lora_count(192, 36, 1)
    assert sum(p.numel() for p in net.parameters()) == 47_923_673 + 110_592


def test_lora_at_init_is_bit_identical_and_freezes_base(small_ir):
    torch.manual_seed(0)
    net = get_model("prenet", TINY).eval()
    with torch.no_grad():
        before = net(small_ir).logits
    apply_lora(net, rank=2, alpha=4.0)
    with torch.no_grad():
        after = net(small_ir).logits
    assert torch.equal(before, after)
    layers = lora_modules(net)
    assert len(layers) == 3 * 1 * 4
    assert all(not p.requires_grad for m in layers for p in m.base.parameters())
    assert all(p.requires_grad for p in lora_parameters(net))
    assert all(m.lora_A.shape[0] == 2 and m.scale == 2.0 for m in layers)
    with pytest.raises(ValueError, match="already"):
        apply_lora(net)


def test_lora_adapters_receive_gradients(small_ir):
    net = get_model("prenet", TINY).train()
    apply_lora(net)
    out = net(small_ir)
    (out.logits.square().mean() + out.self_consistency).backward()
    # B starts at zero, so A's gradient is zero at the first step but B's is not.
    assert all(m.lora_B.grad is not None and m.lora_B.grad.any() for m in lora_modules(net))


def test_merge_unmerge_round_trip(small_ir):
    torch.manual_seed(0)
    net = get_model("prenet", TINY).eval()
    apply_lora(net)
    with torch.no_grad():
        for m in lora_modules(net):
            m.lora_B.normal_(0, 0.1)
        adapted = net(small_ir).logits
        weights = [m.base.weight.clone() for m in lora_modules(net)]
        merge_lora(net)
        merge_lora(net)  # idempotent
        merged = net(small_ir).logits
        assert not torch.equal(weights[0], lora_modules(net)[0].base.weight)
        unmerge_lora(net)
        restored = net(small_ir).logits
    torch.testing.assert_close(merged, adapted, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(restored, adapted, rtol=1e-4, atol=1e-5)
    for w, m in zip(weights, lora_modules(net), strict=True):
        torch.testing.assert_close(m.base.weight, w, rtol=0, atol=1e-6)


def test_lora_linear_matches_dense_update():
    base = torch.nn.Linear(5, 3)
    layer = LoRALinear(base, rank=2, alpha=3.0)
    with torch.no_grad():
        layer.lora_B.normal_()
    x = torch.randn(4, 5)
    expected = x @ (base.weight + 1.5 * layer.lora_B @ layer.lora_A).T + base.bias
    torch.testing.assert_close(layer(x), expected)


@pytest.mark.parametrize("policy", ["paper", "code"])
def test_freeze_policies(policy):
    net = get_model("prenet", TINY)
    apply_lora(net)
    counts = freeze_for_adaptation(net, policy)
    trainable = {n for n, p in net.named_parameters() if p.requires_grad}
    assert all("lora_" in n for n in trainable if n.startswith("encoder.ae."))
    assert any(n.startswith("decoder.") for n in trainable) and "head.weight" in trainable
    conv_trainable = any(n.startswith(("encoder.inc.", "encoder.dawe.")) for n in trainable)
    assert conv_trainable is (policy == "code")
    total = sum(p.numel() for p in net.parameters())
    assert counts["trainable"] + counts["frozen"] == total
    assert counts["trainable"] == sum(p.numel() for p in net.parameters() if p.requires_grad)


def test_freeze_needs_adapters_and_known_policy():
    net = get_model("prenet", TINY)
    with pytest.raises(ValueError, match="apply_lora"):
        freeze_for_adaptation(net)
    apply_lora(net)
    with pytest.raises(ValueError, match="policy"):
        freeze_for_adaptation(net, "decoder")
    with pytest.raises(ValueError, match="no linear layer"):
        apply_lora(get_model("unet", TINY))

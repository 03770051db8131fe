"""Inference preparation: merged LoRA and folded BatchNorm compute the same function."""

from __future__ import annotations

import torch

from prelib.config import resolve
from prelib.inference.composition import TwoNetworkRetrieval
from prelib.models import apply_lora, get_model
from prelib.models.lora import lora_modules
from prelib.models.preparation import fold_batchnorm, prepare_for_inference


def _adapted(n_classes: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = get_model("prenet", resolve("tiny").models, n_classes=n_classes, n_splits=1)
    apply_lora(model, rank=1, alpha=1.0)
    with torch.no_grad():
        for module in lora_modules(model):  # non-zero adapters, or merging would be trivial
            module.lora_B.normal_(0.0, 0.2)
        for norm in model.modules():  # non-trivial BatchNorm statistics
            if isinstance(norm, torch.nn.BatchNorm2d):
                norm.running_mean.uniform_(-0.5, 0.5)
                norm.running_var.uniform_(0.5, 2.0)
                norm.weight.uniform_(0.5, 1.5)
                norm.bias.uniform_(-0.2, 0.2)
    return model.eval()


def test_merged_lora_and_folded_batchnorm_equal_the_unmerged_model():
    retrieval = TwoNetworkRetrieval(_adapted(2, 0), _adapted(1, 1))
    x = torch.rand(2, 8, 64, 48, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        before = retrieval.raw(x)
    prepared = prepare_for_inference(retrieval)
    assert all(m.merged for m in lora_modules(prepared))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in prepared.modules())
    assert not any(m.merged for m in lora_modules(retrieval))  # the original is untouched
    with torch.inference_mode():
        after = prepared.raw(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)
    # guard: the adapters do change the output, so equality above is not vacuous
    unadapted = _adapted(2, 0)
    for module in lora_modules(unadapted):
        module.lora_B.data.zero_()
    with torch.no_grad():
        logits = unadapted(x).logits
        assert (logits[:, 1:2] - logits[:, :1] - before[:, :1]).abs().max() > 1e-3


def test_fold_batchnorm_counts_pairs_and_keeps_output():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1, bias=False),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.Conv2d(4, 2, 1),
        torch.nn.BatchNorm2d(2),
    )
    for norm in (net[1], net[4]):
        norm.running_mean.uniform_(-1, 1)
        norm.running_var.uniform_(0.5, 2)
    net.eval()
    x = torch.randn(2, 3, 9, 9)
    with torch.no_grad():
        expected = net(x)
        assert fold_batchnorm(net) == 2
        torch.testing.assert_close(net(x), expected, atol=1e-5, rtol=1e-5)

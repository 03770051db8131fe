"""Stage II keeps its frozen modules frozen (parameters *and* BatchNorm buffers), AdaBN is an
explicit option, and ``mask_target="ae"`` leaves the conv (skip) features untouched."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader

from prelib.config import resolve
from prelib.models import apply_lora, freeze_for_adaptation, get_student, load_model_config
from prelib.training.config import load_training_config
from prelib.training.stages import adaptation_step_fn
from prelib.training.trainer import Trainer


def _adapted_prenet():
    torch.manual_seed(0)
    model = get_student("comwe", resolve("tiny").models, n_classes=1)
    model.set_num_splits(1)
    lora = load_model_config("lora", "tiny")
    apply_lora(model, lora.rank, lora.alpha, tuple(lora.targets))
    freeze_for_adaptation(model, "paper")
    return model


def _loader(n=4, size=32):
    g = torch.Generator().manual_seed(1)
    items = []
    for i in range(n):
        precip = torch.rand(size, size, generator=g) * 4.0
        items.append(
            {
                "ir": torch.rand(8, size, size, generator=g),
                "precip": precip,
                "valid": torch.ones(size, size, dtype=torch.bool),
                "index": torch.tensor(i),
            }
        )
    return DataLoader(items, batch_size=2, shuffle=False)


def _frozen_state(model):
    encoder = model.encoder
    params = {
        f"p:{k}": v.detach().clone() for k, v in encoder.named_parameters() if not v.requires_grad
    }
    buffers = {f"b:{k}": v.detach().clone() for k, v in encoder.named_buffers()}
    return {**params, **buffers}


def _adapt_one_epoch(model, tmp_path, adabn: bool):
    config = load_training_config(
        "tiny",
        "adapt",
        epochs=1,
        max_steps_per_epoch=2,
        device="cpu",
        adabn=adabn,
        masktune={"strategy": "random", "target": "ae+conv"},
    )
    Trainer(
        model,
        adaptation_step_fn("reg", config.masktune.target),
        _loader(),
        config,
        tmp_path,
        model_name="adapted:randmask:reg",
        profile="tiny",
        show_progress=False,
    ).fit()


def test_frozen_stage2_encoder_is_bit_identical_after_an_epoch(tmp_path):
    model = _adapted_prenet()
    before = _frozen_state(model)
    trainable_before = {
        k: v.detach().clone() for k, v in model.named_parameters() if v.requires_grad
    }
    assert any(k.startswith("b:") and "running_var" in k for k in before)  # BatchNorm buffers
    _adapt_one_epoch(model, tmp_path, adabn=False)
    after = _frozen_state(model)
    assert before.keys() == after.keys()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed == []
    # ... while the adapters / decoder did train
    moved = [
        k
        for k, v in model.named_parameters()
        if v.requires_grad and not torch.equal(trainable_before[k], v.detach())
    ]
    assert moved


def test_adabn_moves_only_the_frozen_batchnorm_statistics(tmp_path):
    model = _adapted_prenet()
    before = _frozen_state(model)
    _adapt_one_epoch(model, tmp_path, adabn=True)
    after = _frozen_state(model)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert any("running_var" in k for k in changed)
    assert all(k.startswith("b:") for k in changed)  # the frozen weights never move


def test_mask_target_ae_leaves_the_conv_skip_features_untouched():
    model = _adapted_prenet().eval()
    x = torch.rand(2, 8, 64, 64, generator=torch.Generator().manual_seed(3))
    mask = torch.ones(2, 1, 4, 4)
    mask[:, :, :2, :] = 0.0  # half the cells hidden
    clear = model(x, torch.ones_like(mask))
    ae_only = model(x, mask, "ae")
    both = model(x, mask, "ae+conv")
    for level in range(3):
        assert torch.equal(ae_only.features[level], clear.features[level])
        assert not torch.equal(both.features[level], clear.features[level])
    # the AE still sees the mask
    assert not torch.equal(ae_only.reconstructions[0], clear.reconstructions[0])

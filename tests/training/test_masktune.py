"""Self-MaskTune and friends on hand-made loss maps."""

from __future__ import annotations

import math

import pytest
import torch

from prelib.training.masktune import MaskTuneConfig, MaskTuner
from prelib.training.masktune.rules import (
    flag_max_fraction,
    flag_quantile,
    merge_flags,
    pool_loss_map,
)


def test_pooling_is_a_block_mean_or_max_ignoring_nan():
    loss = torch.zeros(1, 4, 6)
    loss[0, 0, 0] = 8.0  # one hot pixel in cell (0, 0)
    loss[0, 2:, 4:] = torch.nan  # cell (1, 2) has no valid pixel
    loss[0, 3, 5] = torch.nan
    mean = pool_loss_map(loss, cell=2, reduce="mean")
    peak = pool_loss_map(loss, cell=2, reduce="max")
    assert mean.shape == (1, 2, 3)
    assert mean[0, 0, 0].item() == 2.0 and peak[0, 0, 0].item() == 8.0  # not the nearest pick
    assert math.isnan(mean[0, 1, 2].item()) and math.isnan(peak[0, 1, 2].item())
    # a leftover column (width 5 with cell 2 → 2 cells) belongs to the last cell
    odd = torch.zeros(1, 2, 5)
    odd[0, :, 4] = 3.0
    assert pool_loss_map(odd, cell=2, reduce="max")[0, 0].tolist() == [0.0, 3.0]
    assert pool_loss_map(odd, cell=2, reduce="mean")[0, 0, 1].item() == pytest.approx(1.0)


def test_paper_rule_flags_cells_above_rho_times_max():
    pooled = torch.tensor([[[1.0, 4.0], [10.0, torch.nan]], [[torch.nan] * 2] * 2])
    flags = flag_max_fraction(pooled, rho=0.4)
    assert flags[0].tolist() == [[False, True], [True, False]]
    assert flags[1].all()  # no valid pixel at all: nothing is hidden


def test_quantile_rule_and_noise():
    pooled = torch.arange(16, dtype=torch.float64).reshape(1, 4, 4)
    flags = flag_quantile(pooled, mask_ratio=0.25)
    assert flags.sum().item() == 4 and flags[0, 3].all()  # the top 25 % of cells
    gen = torch.Generator().manual_seed(0)
    noisy = flag_quantile(pooled, 0.25, noise_keep=1.0, generator=gen)
    assert not noisy.any()


def test_batch_merge_keeps_cells_flagged_by_most_samples():
    flags = torch.zeros(3, 2, 2, dtype=torch.bool)
    flags[:, 0, 0] = True  # every sample: high loss in cell (0, 0)
    flags[0, 1, 1] = True
    mask = merge_flags(flags, "batch", mask_ratio=0.25)
    assert mask.shape == (3, 1, 2, 2)
    assert mask[0, 0].tolist() == [[1.0, 0.0], [0.0, 0.0]]
    assert torch.equal(mask[0], mask[2])
    per_sample = merge_flags(flags, "sample", 0.25)
    assert per_sample[0, 0, 1, 1] == 1 and per_sample[1, 0, 1, 1] == 0


def test_rand_masktune_masks_exactly_alpha_cells_shared_by_the_batch():
    tuner = MaskTuner(MaskTuneConfig(strategy="random", mask_ratio=0.25), seed=1)
    mask = tuner.batch_mask(torch.arange(5), (256, 256), epoch=1)
    assert mask.shape == (5, 1, 16, 16)
    assert (mask[0] == 0).sum().item() == 64 and torch.equal(mask[0], mask[4])
    assert not torch.equal(mask, tuner.batch_mask(torch.arange(5), (256, 256), epoch=1))


def test_self_masktune_uses_previous_epoch_losses_per_sample_any_batch_size():
    cfg = MaskTuneConfig(strategy="self", unmasked_epochs=1, cell=4, rho=0.5)
    tuner = MaskTuner(cfg)
    indices = torch.tensor([10, 3, 7])  # batch of 3, not 8
    assert not tuner.masking(1) and tuner.batch_mask(indices, (8, 8), 1).min() == 1
    loss = torch.zeros(3, 8, 8)
    loss[0, :4, :4] = 5.0  # sample 10: top-left cell is hard
    loss[1, 4:, 4:] = 2.0  # sample 3: bottom-right cell is hard
    loss[2] = torch.nan  # sample 7: no label at all
    tuner.observe(indices, loss, epoch=1)
    # not visible before the epoch ends (epoch t uses t − 1)
    assert len(tuner.store) == 0
    tuner.end_epoch()
    mask = tuner.batch_mask(torch.tensor([3, 10, 7, 99]), (8, 8), epoch=2)
    assert mask.shape == (4, 1, 2, 2)
    assert mask[0, 0].tolist() == [[0, 0], [0, 1]]
    assert mask[1, 0].tolist() == [[1, 0], [0, 0]]
    assert mask[2].min() == 1 and mask[3].min() == 1  # no information → keep everything
    # the store survives a checkpoint round trip
    clone = MaskTuner(cfg)
    clone.load_state_dict(tuner.state_dict())
    assert torch.equal(clone.batch_mask(indices, (8, 8), 2), tuner.batch_mask(indices, (8, 8), 2))


def test_self_masktune_refuses_missing_indices_and_config_errors():
    tuner = MaskTuner(MaskTuneConfig(strategy="self", unmasked_epochs=0))
    with pytest.raises(ValueError, match="indices"):
        tuner.batch_mask(None, (32, 32), 1)
    with pytest.raises(ValueError, match="strategy"):
        MaskTuneConfig(strategy="selfish")
    with pytest.raises(ValueError, match="rho"):
        MaskTuneConfig(rho=0.0)
    assert MaskTuneConfig.reference_code().merge == "batch"

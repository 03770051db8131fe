"""Base masks, their expansion to every level, and RMKD's shuffle-and-split."""

from __future__ import annotations

import pytest
import torch

from prelib.models.masking import (
    base_grid_shape,
    check_mask,
    expand_mask,
    random_base_mask,
    split_visible,
)


@pytest.mark.parametrize(
    ("size", "grid"), [((256, 49), (16, 3)), ((256, 256), (16, 16)), ((300, 17), (18, 1))]
)
def test_base_grid(size, grid):
    assert base_grid_shape(*size) == grid
    assert base_grid_shape(8, 8) == (1, 1)  # smaller than one cell: one cell
    with pytest.raises(ValueError, match="positive"):
        base_grid_shape(16, 16, cell=0)


def test_random_base_mask_has_exact_ratio():
    mask = random_base_mask((16, 3), 0.25, batch=5, generator=torch.Generator().manual_seed(0))
    assert mask.shape == (5, 1, 16, 3)
    assert set(mask.unique().tolist()) == {0.0, 1.0}
    assert (mask == 0).sum(dim=(1, 2, 3)).tolist() == [12] * 5  # floor(48 · 0.25)
    assert not torch.equal(mask[0], mask[1])  # independent per sample


def test_expand_mask_repeats_last_cell_for_floor_remainder():
    mask = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    up = expand_mask(mask, 2, (5, 6))
    assert up.shape == (1, 1, 5, 6)
    assert torch.equal(
        up[0, 0, :4, :4], mask.repeat_interleave(2, -2).repeat_interleave(2, -1)[0, 0]
    )
    assert torch.equal(up[0, 0, 4], up[0, 0, 3])  # last row repeated
    assert torch.equal(up[0, 0, :, 5], up[0, 0, :, 3])  # last columns repeat the last cell


def test_split_partitions_visible_tokens_with_stated_ratio():
    torch.manual_seed(0)
    alpha, n = 0.25, 3
    base = random_base_mask((16, 3), alpha, batch=2)
    tokens = expand_mask(base, 4, (64, 12))  # swath level-1 token grid
    views = split_visible(tokens, n)
    assert views.shape == (n, 2, 1, 64, 12)
    torch.testing.assert_close(views.sum(dim=0), tokens)  # disjoint and covering
    assert int(views.max()) == 1
    visible = tokens.sum(dim=(1, 2, 3))  # 576 per sample
    assert visible.tolist() == [576.0, 576.0]
    per_view = views.sum(dim=(2, 3, 4))  # (n, B)
    assert (per_view == 192).all()
    masked_fraction = 1 - per_view / tokens[0].numel()
    torch.testing.assert_close(
        masked_fraction, torch.full_like(masked_fraction, (n + alpha - 1) / n)
    )


def test_split_is_random_per_call_and_single_split_is_identity():
    tokens = torch.ones(1, 1, 8, 8)
    assert not torch.equal(split_visible(tokens, 2), split_visible(tokens, 2))
    torch.testing.assert_close(split_visible(tokens, 1)[0], tokens)


def test_check_mask_names_expected_and_got():
    check_mask(torch.ones(1, 1, 16, 3), 4, (16, 3))
    check_mask(torch.ones(4, 1, 16, 3), 4, (16, 3))
    with pytest.raises(ValueError, match=r"\(1 or 4, 1, 16, 3\).*\(1, 1, 16, 4\)"):
        check_mask(torch.ones(1, 1, 16, 4), 4, (16, 3))
    with pytest.raises(ValueError, match="shape"):
        check_mask(torch.ones(3, 1, 16, 3), 4, (16, 3))
    with pytest.raises(ValueError, match="only 0"):
        check_mask(torch.full((1, 1, 16, 3), 0.5), 4, (16, 3))

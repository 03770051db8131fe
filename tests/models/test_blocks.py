"""U-Net blocks: odd sizes, padding, widths."""

from __future__ import annotations

import pytest
import torch

from prelib.models.blocks import Down, Up, check_image, encoder_widths, pad_to


def test_down_floors_and_up_pads_back_to_odd_skip():
    skip = torch.randn(2, 4, 256, 49)
    down = Down(4, 8)(skip)
    assert down.shape == (2, 8, 128, 24)
    up = Up(8, 4, 4)(down, skip)  # 24 → 48 columns, padded to 49
    assert up.shape == (2, 4, 256, 49)


def test_pad_to_splits_evenly_and_crops():
    x = torch.ones(1, 1, 2, 2)
    padded = pad_to(x, (5, 4))
    assert padded.shape == (1, 1, 5, 4)
    assert padded[0, 0, :, 1].tolist() == [0, 1, 1, 0, 0]  # extra row at the bottom
    assert padded[0, 0, 1].tolist() == [0, 1, 1, 0]
    assert pad_to(torch.ones(1, 1, 5, 5), (4, 4)).shape == (1, 1, 4, 4)


def test_widths_and_check_image():
    assert encoder_widths(64) == (64, 128, 256, 512, 1024)
    with pytest.raises(ValueError, match="floating"):
        check_image(torch.zeros(1, 3, 4, 4, dtype=torch.int64), 3)
    with pytest.raises(ValueError, match=r"torch\.Tensor"):
        check_image([1, 2], 3)

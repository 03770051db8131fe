"""Tiled inference: blend weights, equality with untiled prediction, odd sizes, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from prelib.inference.tiling import blend_weights, edge_ramp, predict_tiled, tile_starts


def _fixed_conv(channels: int = 3, outputs: int = 2, kernel: int = 5) -> torch.nn.Conv2d:
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(channels, outputs, kernel, padding=kernel // 2)
    return conv


def test_ramps_of_neighbours_sum_to_one():
    for overlap, margin in ((16, 0), (16, 4), (7, 3), (32, 8)):
        ramp = edge_ramp(overlap, margin)
        np.testing.assert_allclose(ramp + ramp[::-1], 1.0, atol=1e-12)
        assert ramp[:margin].max(initial=0) == 0 and ramp[overlap - margin :].min(initial=1) == 1


@pytest.mark.parametrize("shape", [(75, 83), (64, 64), (40, 97)])
def test_normalised_weights_sum_to_one_and_regular_layouts_need_no_normalising(shape):
    origins, windows, total = blend_weights(shape, (32, 32), overlap=16, margin=4)
    summed = np.zeros(shape)
    for (y, x), window in zip(origins, windows):
        summed[y : y + 32, x : x + 32] += window / total[y : y + 32, x : x + 32]
    np.testing.assert_allclose(summed, 1.0, atol=1e-12)
    assert tile_starts(shape[0], 32, 16)[-1] == shape[0] - 32
    # 64 = 0, 16, 32 with overlap 16: a regular layout whose raw windows already sum to 1
    _, _, regular = blend_weights((64, 64), (32, 32), overlap=16, margin=4)
    np.testing.assert_allclose(regular, 1.0, atol=1e-12)


@pytest.mark.parametrize("shape", [(75, 83), (20, 50), (96, 96)])
def test_tiled_fixed_conv_equals_untiled(shape):
    conv = _fixed_conv()
    image = torch.rand(3, *shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        full = conv(image[None])[0]
    tiled = predict_tiled(conv, image, tile=32, overlap=16, margin=4, batch_size=3)
    assert tiled.shape == (2, *shape)
    if min(shape) >= 32:
        torch.testing.assert_close(tiled, full, atol=1e-5, rtol=1e-5)
    else:
        # padded up to a tile: interior pixels away from the padded border still match
        torch.testing.assert_close(tiled[:, 2:-2, 2:-2], full[:, 2:-2, 2:-2], atol=1e-5, rtol=1e-5)


def test_without_margin_tile_edges_show_the_padding_error():
    # Guards the test above: with no margin the zero padding at tile edges leaks in.
    conv = _fixed_conv()
    image = torch.rand(3, 75, 83, generator=torch.Generator().manual_seed(1)) + 1.0
    with torch.no_grad():
        full = conv(image[None])[0]
    tiled = predict_tiled(conv, image, tile=32, overlap=16, margin=0)
    assert (tiled - full).abs().max() > 1e-4


def test_bad_inputs_are_refused():
    conv = _fixed_conv()
    with pytest.raises(ValueError, match="NaN"):
        predict_tiled(conv, torch.full((3, 40, 40), torch.nan), tile=32, overlap=8, margin=2)
    with pytest.raises(ValueError, match="overlap"):
        predict_tiled(conv, torch.rand(3, 40, 40), tile=32, overlap=20, margin=2)
    with pytest.raises(ValueError, match="predictor must map"):
        predict_tiled(lambda x: x[:, :, ::2], torch.rand(3, 40, 40), tile=32, overlap=8, margin=2)
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        predict_tiled(conv, torch.rand(40, 40), tile=32)

"""Decoder up-sampling: the paper's transposed convolution by default, resize-convolution as an
option that cannot paint 2 × 2 blocks."""

from __future__ import annotations

import pytest
import torch

from prelib.models.blocks import Up, make_upsampler
from prelib.models.config import PRENetConfig, UNetConfig
from prelib.models.prenet import PRENet
from prelib.models.unet import UNet


def test_default_is_the_papers_transposed_convolution():
    assert isinstance(Up(8, 4, 4).up, torch.nn.ConvTranspose2d)
    assert UNetConfig().upsample == "transpose" and PRENetConfig().upsample == "transpose"


def test_resize_conv_keeps_shapes_and_has_no_block_pattern():
    torch.manual_seed(0)
    x = torch.ones(1, 8, 6, 6)  # a constant input
    transpose, resize = make_upsampler(8, 4, "transpose"), make_upsampler(8, 4, "resize_conv")
    a, b = transpose(x), resize(x)
    assert a.shape == b.shape == (1, 4, 12, 12)
    # The transposed convolution paints each 2 x 2 block with its kernel: a period-2 pattern
    # even from a constant input; the resize-convolution's interior stays constant.
    assert (a[..., 2:10, 2:10] - a[..., 2:10, 2:10].mean((-2, -1), keepdim=True)).abs().max() > 1e-3
    interior = b[..., 2:10, 2:10]
    assert (interior - interior.mean((-2, -1), keepdim=True)).abs().max() < 1e-5


@pytest.mark.parametrize("model", ["unet", "prenet"])
def test_models_take_the_option(model):
    x = torch.randn(2, 8, 32, 32)
    if model == "unet":
        net = UNet(UNetConfig(base_width=8, upsample="resize_conv"))
    else:
        net = PRENet(
            PRENetConfig(base_width=8, ae_dim=16, ae_depth=1, ae_heads=2, upsample="resize_conv")
        )
    net.eval()
    assert net(x).logits.shape == (2, 1, 32, 32)
    assert any(isinstance(m, torch.nn.Upsample) for m in net.modules())


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="upsample"):
        UNetConfig(upsample="pixelshuffle")
    with pytest.raises(ValueError, match="upsample"):
        make_upsampler(8, 4, "nearest")

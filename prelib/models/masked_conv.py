"""Masked convolution, PRE-Net's Eq. 1 (Wang et al., KDD 2025, §3.2; prenet_reference.md §4.2).

    F^c_i = MaskedConv(φ(F^c_{i-1}) ⊙ M^c_i)

φ is a 2 × 2 max-pool followed by a 1 × 1 ConvBNReLU that aligns the channels, and MaskedConv is a
residual bottleneck (1 × 1 → 3 × 3 → 1 × 1 ConvBNReLU, width ratio 4). As in the reference code the
masked input also feeds the residual path: ``y ⊙ M + B(y ⊙ M)``. With an all-ones mask (and in
evaluation without a mask) this is ``y + B(y)``.
"""

from __future__ import annotations

import torch
from torch import nn

from prelib.models.blocks import ConvBNReLU


class MaskedDown(nn.Module):
    """Down-sampling masked convolution block.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels before and after (paper: 64→128, 128→256, 256→512).
    bottleneck_ratio : int
        Width reduction inside the bottleneck (4).

    Shape: x (B, in, H, W), mask (1 or B, 1, ⌊H/2⌋, ⌊W/2⌋) or None → (B, out, ⌊H/2⌋, ⌊W/2⌋).
    """

    def __init__(self, in_channels: int, out_channels: int, bottleneck_ratio: int = 4) -> None:
        super().__init__()
        hidden = max(1, out_channels // bottleneck_ratio)
        self.pool = nn.MaxPool2d(2)
        self.align = ConvBNReLU(in_channels, out_channels, kernel_size=1)
        self.bottleneck = nn.Sequential(
            ConvBNReLU(out_channels, hidden, 1),
            ConvBNReLU(hidden, hidden, 3),
            ConvBNReLU(hidden, out_channels, 1),
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        y = self.align(self.pool(x))
        if mask is not None:
            y = y * mask
        return y + self.bottleneck(y)

"""The plain IR-only U-Net: Table 3's "UNet (IR only)" student and Table 4's from-scratch model.

Standard four-level U-Net (Ronneberger et al., 2015) with the blocks of :mod:`prelib.models.blocks`
(64 → 1024 channels at paper size, 31,040,513 parameters for regression). It returns a
:class:`~prelib.models.outputs.StudentOutput` whose ``features`` are the encoder maps at strides
2, 4 and 8, so the response- and feature-distillers (KD, MGD) can train it against the teacher.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from prelib.models.blocks import (
    MIN_INPUT_SIZE,
    DoubleConv,
    Down,
    OutConv,
    Up,
    check_image,
    encoder_widths,
)
from prelib.models.config import UNetConfig
from prelib.models.outputs import StudentOutput


class UNet(nn.Module):
    """IR-only U-Net.

    Parameters
    ----------
    config : UNetConfig, optional
        Defaults to the paper size.
    **overrides
        Field values replacing those of ``config``.
    """

    accepts_mask: ClassVar[bool] = False

    def __init__(self, config: UNetConfig | None = None, **overrides: Any) -> None:
        super().__init__()
        config = config or UNetConfig()
        self.config = config.replace(**overrides) if overrides else config
        w = encoder_widths(self.config.base_width)
        self.inc = DoubleConv(self.config.in_channels, w[0])
        self.down = nn.ModuleList(Down(w[i], w[i + 1]) for i in range(4))
        self.up = nn.ModuleList(
            Up(w[i + 1], w[i], w[i], self.config.upsample) for i in reversed(range(4))
        )
        self.head = OutConv(w[0], self.config.n_classes)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> StudentOutput:
        """Retrieve precipitation from IR.

        Parameters
        ----------
        x : Tensor, shape (B, in_channels, H, W)
            Normalised IR, H, W >= 16.
        mask : None
            Accepted for a uniform student signature; the UNet has no masked layers, so a mask
            raises ``ValueError`` instead of being silently ignored.

        Returns
        -------
        StudentOutput
            ``logits`` (B, n_classes, H, W); ``features`` at strides 2, 4, 8; no reconstructions;
            ``self_consistency`` 0.
        """
        if mask is not None:
            raise ValueError("UNet takes no mask (it has no masked layers); pass mask=None")
        check_image(x, self.config.in_channels, "x", MIN_INPUT_SIZE)
        skips = [self.inc(x)]
        for down in self.down:
            skips.append(down(skips[-1]))
        d = skips[-1]
        for step, up in enumerate(self.up):
            d = up(d, skips[3 - step])
        return StudentOutput(self.head(d), tuple(skips[1:4]), (), x.new_zeros(()))

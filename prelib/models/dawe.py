"""DAWE: Detail-Aware Wavelet Enhancement (Wang et al., KDD 2025, §3.2, Eqs. 4–5, Fig. 4).

At CoMWE level ``i`` DAWE turns the previous encoder feature into a high-frequency *hint*:

    (LL, (LH, HL, HH)) = DWT_haar(F_{i-1})               Eq. 4
    F^h_i = SA(Conv1x1(cat(LH, HL, HH)))                  Eq. 5

where ``F_0 = embed(X_IR)`` (the first DoubleConv), ``F_1, F_2`` are the masked-conv features of
levels 1 and 2, the 1 × 1 convolution (with bias) maps 3C → C_i channels, and SA is a CBAM-style
spatial attention (channel mean and max → 3 × 3 conv, no bias → sigmoid → multiply) whose 18
weights are **shared by all levels** (reference code). The hint has the size of level ``i``'s
feature and is added to it inside the masked autoencoder (Eq. 3).

Choices
-------
* Input: the *previous level's* feature, one DWT per level (reference code, discrepancy #6),
  rather than the paper's "i-th DWT of embed(X_IR)"; at level 1 both readings coincide.
* ``mode="prelib"`` (default): the DWT is differentiable, so DAWE also trains the conv encoder,
  and the hint is used in training **and** evaluation at every level — the paper's Eqs. 2–3.
* ``mode="reference"``: the reference code's behaviour for ablations — the DWT input is detached
  (no gradient reaches the encoder through DAWE), the hint is used only in training and only at
  levels 1 and 2 (see :mod:`prelib.models.masked_ae`).
* ``mode="off"``: no DAWE module at all (the RMKD-only and MKD rows of Tables 2–3).
* Odd sizes: the DWT extends an odd axis like PyWavelets' ``symmetric`` mode and returns
  ``ceil(n/2)`` coefficients; we crop to the level's ``floor(n/2)`` grid, which drops exactly the
  coefficient that depends on the extension — identical to the reference's floor.
"""

from __future__ import annotations

import torch
from torch import nn

from prelib.models.wavelet import haar_details

DAWE_MODES: tuple[str, ...] = ("prelib", "reference", "off")


class SpatialAttention(nn.Module):
    """CBAM spatial attention: ``x · sigmoid(conv3x3([mean_c(x), max_c(x)]))``.

    Shape: (B, C, H, W) → (B, C, H, W). 18 weights (2 → 1 channels, 3 × 3, no bias).
    """

    def __init__(self, kernel_size: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.conv(pooled))


class DAWE(nn.Module):
    """The DAWE branch of all CoMWE levels.

    Parameters
    ----------
    in_channels : sequence of int
        Channels of the DWT input of each level (paper: 64, 128, 256).
    out_channels : sequence of int
        Channels of each level's hint (paper: 128, 256, 512).
    mode : str
        ``"prelib"`` or ``"reference"`` (see the module docstring); ``"off"`` is handled by the
        caller by not building this module.
    """

    def __init__(
        self, in_channels: tuple[int, ...], out_channels: tuple[int, ...], mode: str = "prelib"
    ) -> None:
        super().__init__()
        if mode not in ("prelib", "reference"):
            raise ValueError(f"DAWE mode must be 'prelib' or 'reference', got {mode!r}")
        if len(in_channels) != len(out_channels):
            raise ValueError(
                f"DAWE needs one output width per level: {len(in_channels)} inputs vs "
                f"{len(out_channels)} outputs"
            )
        self.mode = mode
        self.align = nn.ModuleList(
            nn.Conv2d(3 * c_in, c_out, kernel_size=1)
            for c_in, c_out in zip(in_channels, out_channels, strict=True)
        )
        self.attention = SpatialAttention()

    def forward(self, level: int, previous: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """The hint of ``level`` (0-based) from the previous feature.

        Parameters
        ----------
        level : int
            0, 1 or 2 for CoMWE levels 1, 2, 3.
        previous : Tensor, shape (B, C_{i-1}, H, W)
            The previous encoder feature (level 0: the embedded IR).
        size : (h, w)
            Spatial size of the level's feature, ``(H // 2, W // 2)``.

        Returns
        -------
        Tensor, shape (B, C_i, h, w)
        """
        if self.mode == "reference":
            # The reference re-wraps the DWT bands as a new tensor, cutting the graph.
            previous = previous.detach()
        details = haar_details(previous, mode="symmetric")[..., : size[0], : size[1]]
        return self.attention(self.align[level](details))

"""U-Net building blocks shared by the teacher, the PRE-Net student and the plain UNet.

The layout is the classic U-Net of Ronneberger et al. (2015) in the form the PRE-Net reference
code uses (prenet_reference.md §3): bias-free 3 × 3 convolutions with BatchNorm and ReLU, 2 × 2
max-pooling down, stride-2 transposed convolutions up, and a 1 × 1 output convolution without an
activation. Odd sizes are handled the way the reference does: max-pooling floors (49 → 24) and the
decoder zero-pads its up-sampled map back to the skip connection's size (48 → 49).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def check_image(x: torch.Tensor, channels: int, name: str = "x", min_size: int = 1) -> None:
    """Raise ``ValueError`` unless ``x`` is a (B, channels, H, W) tensor with H, W >= min_size.

    Parameters
    ----------
    x : Tensor
        The tensor to check.
    channels : int
        Expected number of channels (dimension 1).
    name : str
        Name used in the error message.
    min_size : int
        Smallest allowed height and width (16 for the networks with four 2× down-samplings).
    """
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(
            f"{name} must be 4-D (B, {channels}, H, W), got {x.ndim}-D shape {tuple(x.shape)}"
        )
    if x.shape[1] != channels:
        raise ValueError(
            f"{name} must have {channels} channels (B, {channels}, H, W), "
            f"got shape {tuple(x.shape)}"
        )
    if min(x.shape[-2:]) < min_size:
        raise ValueError(
            f"{name} must be at least {min_size} × {min_size} pixels, got {tuple(x.shape[-2:])}"
        )
    if not torch.is_floating_point(x):
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")


class ConvBNReLU(nn.Sequential):
    """``k × k`` convolution (no bias, 'same' padding) → BatchNorm → ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class DoubleConv(nn.Sequential):
    """Two rounds of 3 × 3 conv → BatchNorm → ReLU; the middle width equals ``out_channels``.

    Shape: (B, in, H, W) → (B, out, H, W).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            ConvBNReLU(in_channels, out_channels, 3), ConvBNReLU(out_channels, out_channels, 3)
        )


class Down(nn.Sequential):
    """2 × 2 max-pool (floors odd sizes) then :class:`DoubleConv`.

    Shape: (B, in, H, W) → (B, out, ⌊H/2⌋, ⌊W/2⌋).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))


def pad_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Zero-pad (or crop) the last two dimensions of ``x`` to ``size``, split as evenly as possible.

    The extra row/column of an odd difference goes to the bottom/right, as in the reference code.
    """
    dh, dw = size[0] - x.shape[-2], size[1] - x.shape[-1]
    if dh == 0 and dw == 0:
        return x
    # F.pad with negative amounts crops, which covers an up-sampled map larger than its skip.
    return F.pad(x, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2))


UPSAMPLE_MODES: tuple[str, ...] = ("transpose", "resize_conv")
"""Decoder up-sampling: ``transpose`` = the paper's 2 × 2 stride-2 ConvTranspose2d (default);
``resize_conv`` = bilinear 2× resize then a 3 × 3 convolution, which cannot produce the
checkerboard / 2-pixel stripe that a briefly trained stride-2 transposed convolution leaves
(Odena, Dumoulin & Olah, "Deconvolution and checkerboard artifacts", Distill 2016)."""


def make_upsampler(in_channels: int, out_channels: int, mode: str = "transpose") -> nn.Module:
    """A 2× up-sampling layer from ``in_channels`` to ``out_channels`` (see UPSAMPLE_MODES)."""
    if mode == "transpose":
        return nn.ConvTranspose2d(in_channels, out_channels, kernel_size=2, stride=2)
    if mode == "resize_conv":
        return nn.Sequential(
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
        )
    raise ValueError(f"upsample must be one of {list(UPSAMPLE_MODES)}, got {mode!r}")


class Up(nn.Module):
    """Decoder step: 2× up-sampling, pad to the skip's size, concatenate, DoubleConv.

    Parameters
    ----------
    in_channels : int
        Channels of the coarser decoder input; the transposed conv halves them.
    skip_channels : int
        Channels of the skip tensor (already concatenated when there are several, e.g. PRE-Net's
        [reconstruction, masked-conv feature]).
    out_channels : int
        Output channels.
    upsample : {"transpose", "resize_conv"}
        How the input is up-sampled (halving its channels): the paper's transposed convolution,
        or resize-convolution (:data:`UPSAMPLE_MODES`).

    Shape: x (B, in, h, w), skip (B, skip, H, W) with H ∈ {2h, 2h+1} → (B, out, H, W).
    Concatenation order is ``[skip, upsampled]``.
    """

    def __init__(
        self, in_channels: int, skip_channels: int, out_channels: int, upsample: str = "transpose"
    ) -> None:
        super().__init__()
        if in_channels % 2:
            raise ValueError(f"Up: in_channels must be even, got {in_channels}")
        self.up = make_upsampler(in_channels, in_channels // 2, upsample)
        self.conv = DoubleConv(skip_channels + in_channels // 2, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        upsampled = pad_to(self.up(x), tuple(skip.shape[-2:]))
        return self.conv(torch.cat([skip, upsampled], dim=1))


class OutConv(nn.Conv2d):
    """1 × 1 convolution with bias to the output channels; no activation (logits)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(in_channels, out_channels, kernel_size=1)


def encoder_widths(base_width: int) -> tuple[int, int, int, int, int]:
    """Channel widths of the five U-Net levels: ``base · (1, 2, 4, 8, 16)`` (paper: 64 … 1024)."""
    return tuple(base_width * 2**i for i in range(5))  # type: ignore[return-value]


MIN_INPUT_SIZE: int = 16
"""Smallest height/width the four-level networks accept (four 2× down-samplings)."""

"""MAUNet: the Max-Average U-Net for precipitation bias correction and downscaling.

Sharma & Mitra, "MAUNet: a max-average neural network architecture for precipitation
downscaling", Neural Computing and Applications 2024. The abstract fixes the ingredients: a
U-Net whose encoder uses **Max-Average Units** (a max-pooling branch and an average-pooling
branch merged by an averaging unit), whose decoder uses **UpSampler Units** that also average,
and dropout. The paper's wiring, depth and widths are not public, so the following reading is
**our design choice** (downscaling_anchors.md §1):

* :class:`MaxAverageUnit` — ``½ (MaxPool2×2(x) + AvgPool2×2(x))`` (``merge="mean"``, the literal
  "averaging unit") or a learned 1×1 mix of the two (``merge="learned"``), then a double
  3×3 conv–BN–ReLU block;
* :class:`UpSamplerUnit` — the mean of a learned path (2×2 transposed conv) and a fixed path
  (bilinear ×2 then 3×3 conv), concatenated with the skip and passed through a double conv;
* dropout (``dropout``) after the bottleneck block;
* tasks: bias correction (``factor=1``) and downscaling by any integer ``factor``. With
  ``upsample_input=True`` the coarse input is first interpolated bilinearly to the fine grid
  (SR-U-Net style, any factor such as ×10); with ``upsample_input=False`` the network ends with
  ``log2(factor)`` extra UpSampler stages (factors 2, 4, 8 …);
* a global residual: the network predicts a correction added to the (interpolated) input, in the
  :class:`~prelib.models.precip_transform.PrecipTransform` space (ours; it speeds up training).

Paper size (our reading of a "classic" U-Net teacher): width 64, depth 4
(64-128-256-512-1024): 37,304,321 parameters (more than the classic U-Net's 31 M because each
UpSampler Unit carries both a transposed-conv and a conv path). MAUNet-Light
(``width_mult=0.85``, ``taper=0.3``: widths 16-52-141-359-870) keeps 59 % of the parameters but
only 34 % of the FLOPs: a U-Net's FLOPs are spread evenly over its levels while its parameters
sit in the deep ones, so thinning the full-resolution levels most is what makes the student
*light* (a uniform ``width_mult=0.75`` gave 56 % of both, and on a CPU, where the shallow
levels' element-wise work dominates, 0.96× the teacher's time).
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import nn

from prelib.config import Config, require_choice, require_in_range, require_positive
from prelib.data.precip_grids import check_factor, upsample_tensor

MERGES: tuple[str, ...] = ("mean", "learned")
OUTPUTS: tuple[str, ...] = ("residual", "conservative")


@dataclasses.dataclass(frozen=True)
class MAUNetConfig(Config):
    """Architecture of a MAUNet (teacher) or MAUNet-Light (student, via ``width_mult``).

    Attributes
    ----------
    in_channels, out_channels : int
        Input / output fields (1: precipitation only, as in both papers).
    base_width : int
        Channels of the first level; level ``i`` has ``base_width · 2**i`` (times
        ``width_mult``).
    depth : int
        Number of Max-Average down-sampling levels.
    factor : int
        Resolution factor (1 = bias correction on the same grid).
    upsample_input : bool
        Interpolate the input to the fine grid first (any factor) or learn the up-sampling
        (power-of-two factors).
    dropout : float
        Dropout probability after the bottleneck.
    merge : {"mean", "learned"}
        How the Max-Average Unit merges its two branches.
    width_mult : float
        Channel multiplier (MAUNet-Light uses < 1).
    taper : float
        Width multiplier of the first level relative to the deepest (1 = a plain U-Net); see
        :meth:`widths`. MAUNet-Light uses :data:`LIGHT_TAPER`.
    output : {"residual", "conservative"}
        ``"residual"``: a correction added to the interpolated input (bias correction and
        downscaling of biased products). ``"conservative"``: the softmax constraint layer of
        Harder et al. ("Hard-constrained deep learning for climate downscaling", JMLR 2023):
        ``fine = exp(z) / blockmean(exp(z)) · coarse``, so every ``factor × factor`` block of
        the output averages exactly to the input rate — the right prior when the input *is*
        the block mean of the truth (``--bias none``), wrong for a biased product.
    """

    in_channels: int = 1
    out_channels: int = 1
    base_width: int = 64
    depth: int = 4
    factor: int = 4
    upsample_input: bool = True
    dropout: float = 0.3
    merge: str = "mean"
    width_mult: float = 1.0
    output: str = "residual"
    taper: float = 1.0

    def validate(self) -> None:
        require_positive(self, "in_channels", "out_channels", "base_width", "depth", "factor")
        require_in_range(self, "dropout", 0.0, 0.99)
        require_in_range(self, "width_mult", 0.05, 4.0)
        require_in_range(self, "taper", 0.05, 1.0)
        require_choice(self, "merge", MERGES)
        require_choice(self, "output", OUTPUTS)
        if self.output == "conservative" and self.factor == 1:
            raise ValueError("MAUNetConfig.output='conservative' needs factor > 1")
        if not self.upsample_input and self.factor & (self.factor - 1):
            raise ValueError(
                f"MAUNetConfig.factor must be a power of two when upsample_input=False, "
                f"got {self.factor}"
            )

    def widths(self) -> list[int]:
        """Channels per level, ``depth + 1`` entries.

        Level ``i`` has ``base_width · 2**i · width_mult · m_i`` channels with
        ``m_i = taper + (1 − taper) · i / depth``: ``taper < 1`` thins the shallow,
        full-resolution levels (where the FLOPs are) more than the deep ones (where the
        parameters are).
        """
        return [
            max(
                4,
                round(
                    self.base_width
                    * self.width_mult
                    * (self.taper + (1 - self.taper) * level / self.depth)
                    * 2**level
                ),
            )
            for level in range(self.depth + 1)
        ]


class DoubleConv(nn.Sequential):
    """(3×3 conv → BatchNorm → ReLU) × 2."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class MaxAveragePool(nn.Module):
    """Merge of a 2×2 max-pooling and a 2×2 average-pooling branch (the MAU's pooling).

    ``merge="mean"``: ``½ (max + avg)``; ``merge="learned"``: a 1×1 conv over both branches,
    initialised to the mean.
    """

    def __init__(self, channels: int, merge: str = "mean") -> None:
        super().__init__()
        if merge not in MERGES:
            raise ValueError(f"merge must be one of {list(MERGES)}, got {merge!r}")
        self.merge = merge
        if merge == "learned":
            self.mix = nn.Conv2d(2 * channels, channels, 1, bias=False)
            with torch.no_grad():
                eye = torch.eye(channels)[:, :, None, None] * 0.5
                self.mix.weight.copy_(torch.cat([eye, eye], dim=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W) → (B, C, H/2, W/2)``."""
        max_branch = F.max_pool2d(x, 2)
        avg_branch = F.avg_pool2d(x, 2)
        if self.merge == "mean":
            return 0.5 * (max_branch + avg_branch)
        return self.mix(torch.cat([max_branch, avg_branch], dim=1))


class MaxAverageUnit(nn.Module):
    """Encoder stage: :class:`MaxAveragePool` then a double conv."""

    def __init__(self, in_channels: int, out_channels: int, merge: str = "mean") -> None:
        super().__init__()
        self.pool = MaxAveragePool(in_channels, merge)
        self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pool(x))


class UpSamplerUnit(nn.Module):
    """Decoder stage: mean of a transposed-conv and a bilinear+conv ×2 path, skip, double conv.

    Parameters
    ----------
    in_channels : int
        Channels of the deeper input.
    skip_channels : int
        Channels of the encoder skip (0 = no skip, for the extra up-sampling stages).
    out_channels : int
    """

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int) -> None:
        super().__init__()
        half = max(1, in_channels // 2)
        self.learned = nn.ConvTranspose2d(in_channels, half, 2, stride=2)
        self.fixed = nn.Conv2d(in_channels, half, 3, padding=1)
        self.conv = DoubleConv(half + skip_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        fixed = self.fixed(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False))
        up = 0.5 * (self.learned(x) + fixed)
        if skip is not None:
            up = torch.cat([skip, up], dim=1)
        return self.conv(up)


class MAUNet(nn.Module):
    """Max-Average U-Net for bias correction (``factor=1``) and downscaling.

    Parameters
    ----------
    config : MAUNetConfig

    Notes
    -----
    Input ``(B, in_channels, h, w)`` of transformed precipitation on the coarse grid, with
    ``h, w`` (after interpolation when ``upsample_input``) multiples of ``2**depth``. Output
    ``(B, out_channels, h·factor, w·factor)`` in the same transformed space. ``forward(...,
    return_features=True)`` also returns the bottleneck and decoder feature maps (coarse to
    fine), which MAUNet-Light's feature distillation matches.
    """

    def __init__(self, config: MAUNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or MAUNetConfig()
        cfg = self.config
        widths = cfg.widths()
        self.stem = DoubleConv(cfg.in_channels, widths[0])
        self.down = nn.ModuleList(
            MaxAverageUnit(widths[i], widths[i + 1], cfg.merge) for i in range(cfg.depth)
        )
        self.dropout = nn.Dropout2d(cfg.dropout)
        self.up = nn.ModuleList(
            UpSamplerUnit(widths[i + 1], widths[i], widths[i]) for i in reversed(range(cfg.depth))
        )
        n_extra = 0 if cfg.upsample_input else int(math.log2(cfg.factor))
        self.extra_up = nn.ModuleList(
            UpSamplerUnit(widths[0], 0, widths[0]) for _ in range(n_extra)
        )
        self.head = nn.Conv2d(widths[0], cfg.out_channels, 1)

    @property
    def feature_channels(self) -> list[int]:
        """Channels of the feature maps returned with ``return_features`` (coarse to fine)."""
        widths = self.config.widths()
        return [widths[-1], *reversed(widths[:-1])]

    def forward(
        self, x: torch.Tensor, return_features: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Correct / downscale a transformed coarse field.

        Parameters
        ----------
        x : Tensor, shape ``(B, in_channels, h, w)``
        return_features : bool

        Returns
        -------
        Tensor ``(B, out_channels, h·factor, w·factor)`` [, list of feature maps]
        """
        cfg = self.config
        if x.ndim != 4 or x.shape[1] != cfg.in_channels:
            raise ValueError(f"MAUNet expects (B, {cfg.in_channels}, h, w), got {tuple(x.shape)}")
        base = upsample_tensor(x[:, :1], cfg.factor, "bilinear")
        h = upsample_tensor(x, cfg.factor, "bilinear") if cfg.upsample_input else x
        multiple = 2**cfg.depth
        if h.shape[-2] % multiple or h.shape[-1] % multiple:
            raise ValueError(
                f"MAUNet input grid {tuple(h.shape[-2:])} must be a multiple of 2**depth = "
                f"{multiple}"
            )
        skips = [self.stem(h)]
        for stage in self.down:
            skips.append(stage(skips[-1]))
        h = self.dropout(skips.pop())
        features = [h]
        for stage in self.up:
            h = stage(h, skips.pop())
            features.append(h)
        for stage in self.extra_up:
            h = stage(h)
        if cfg.output == "conservative":
            out = conservative_output(self.head(h), x[:, : cfg.out_channels], cfg.factor)
        else:
            out = base[:, : cfg.out_channels] + self.head(h)
        return (out, features) if return_features else out


def conservative_output(logits: torch.Tensor, coarse: torch.Tensor, factor: int) -> torch.Tensor:
    """The softmax constraint layer: block means of the result equal the coarse rates.

    Parameters
    ----------
    logits : Tensor ``(B, C, H, W)``
        Unconstrained network output on the fine grid.
    coarse : Tensor ``(B, C, H / factor, W / factor)``
        Coarse input in the ``log1p`` space of
        :class:`~prelib.models.precip_transform.PrecipTransform` with scale 1.
    factor : int

    Returns
    -------
    Tensor ``(B, C, H, W)``
        ``log1p`` of ``exp(z) / blockmean(exp(z)) · expm1(coarse)`` (stable: the block maximum
        is subtracted before the exponential).
    """
    rate = torch.expm1(coarse).clamp(min=0.0)
    block_max = F.max_pool2d(logits, factor)
    weights = torch.exp(logits - upsample_tensor(block_max, factor, "nearest"))
    share = weights / upsample_tensor(F.avg_pool2d(weights, factor), factor, "nearest")
    return torch.log1p(share * upsample_tensor(rate, factor, "nearest"))


def build_maunet(factor: int, light: bool = False, **overrides) -> MAUNet:
    """A MAUNet teacher or MAUNet-Light student at paper size unless overridden.

    Parameters
    ----------
    factor : int
        Resolution factor (1 = bias correction).
    light : bool
        Build the student: ``width_mult`` defaults to :data:`LIGHT_WIDTH_MULT`.
    **overrides
        Other :class:`MAUNetConfig` fields.
    """
    check_factor(factor)
    if light:
        overrides.setdefault("width_mult", LIGHT_WIDTH_MULT)
        overrides.setdefault("taper", LIGHT_TAPER)
    return MAUNet(MAUNetConfig(factor=factor, **overrides))


LIGHT_WIDTH_MULT: float = 0.85
"""MAUNet-Light channel multiplier of the deepest level (our choice)."""

LIGHT_TAPER: float = 0.3
"""MAUNet-Light's first-level multiplier relative to the deepest (our choice): with
:data:`LIGHT_WIDTH_MULT` the student keeps ≈ 59 % of the teacher's parameters (the paper's
"≈ 60 %", Sharma, Mitra & Ganguly 2026) and ≈ 34 % of its FLOPs (paper widths, ×10)."""


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (frozen ones included, so a frozen teacher still counts)."""
    return sum(p.numel() for p in model.parameters())

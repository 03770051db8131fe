"""The noise-conditioned U-Net behind PrecipDiff's two stages and the regression-mean baseline.

A compact DDPM++-flavoured U-Net (residual blocks with GroupNorm and SiLU, the noise level
entering every block as an added embedding of ``c_noise``), in the spirit of CorrDiff's
``SongUNet`` "mini" size (64 channels, multipliers 1-2-2; Mardani et al. 2025) without its
attention layers. PrecipDiff's U-Net configuration is not public (downscaling_anchors.md §3), so
the sizes are our choice. With ``noise_conditioning=False`` the same network is CorrDiff's
first-stage regression U-Net (it receives only the conditioning).
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import nn

from prelib.config import Config, require_in_range, require_positive


@dataclasses.dataclass(frozen=True)
class DiffusionUNetConfig(Config):
    """Architecture of :class:`ConditionalUNet`.

    Attributes
    ----------
    in_channels : int
        Input channels (noisy field + conditioning for diffusion; conditioning for regression).
    out_channels : int
    base_width : int
        Channels of the first level.
    channel_mult : tuple of int
        Multiplier per level; ``len - 1`` down-samplings.
    blocks_per_level : int
    dropout : float
    noise_conditioning : bool
        Whether the network takes a noise level (diffusion) or not (regression).
    """

    in_channels: int = 2
    out_channels: int = 1
    base_width: int = 64
    channel_mult: tuple[int, ...] = (1, 2, 2)
    blocks_per_level: int = 2
    dropout: float = 0.1
    noise_conditioning: bool = True

    def validate(self) -> None:
        require_positive(self, "in_channels", "out_channels", "base_width", "blocks_per_level")
        require_in_range(self, "dropout", 0.0, 0.99)
        if not self.channel_mult or any(m < 1 for m in self.channel_mult):
            raise ValueError(
                f"DiffusionUNetConfig.channel_mult must be positive ints, got {self.channel_mult}"
            )

    @property
    def multiple(self) -> int:
        """Input height and width must be multiples of this."""
        return 2 ** (len(self.channel_mult) - 1)


def _groups(channels: int) -> int:
    return math.gcd(channels, 8) or 1


class NoiseEmbedding(nn.Module):
    """Sinusoidal embedding of ``c_noise`` followed by a two-layer MLP."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, c_noise: torch.Tensor) -> torch.Tensor:
        half = self.dim // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=c_noise.device) / half)
        angles = c_noise.float()[:, None] * freqs[None] * 100.0
        return self.mlp(torch.cat([angles.sin(), angles.cos()], dim=1))


class ResidualBlock(nn.Module):
    """GroupNorm-SiLU-conv twice with the noise embedding added in between, plus a skip."""

    def __init__(self, in_ch: int, out_ch: int, emb_dim: int | None, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(in_ch), in_ch)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.emb = nn.Linear(emb_dim, out_ch) if emb_dim else None
        self.norm2 = nn.GroupNorm(_groups(out_ch), out_ch)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor | None) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        if self.emb is not None and emb is not None:
            h = h + self.emb(emb)[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return self.skip(x) + h


class ConditionalUNet(nn.Module):
    """U-Net ``F(x_in, c_noise)`` for EDM denoising or (without noise) regression.

    Input ``(B, in_channels, H, W)`` with ``H, W`` multiples of ``config.multiple``; output
    ``(B, out_channels, H, W)``.
    """

    def __init__(self, config: DiffusionUNetConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or DiffusionUNetConfig()
        widths = [cfg.base_width * m for m in cfg.channel_mult]
        emb_dim = 4 * cfg.base_width if cfg.noise_conditioning else None
        self.embedding = NoiseEmbedding(emb_dim) if emb_dim else None
        self.stem = nn.Conv2d(cfg.in_channels, widths[0], 3, padding=1)
        self.encoder = nn.ModuleList()
        skip_widths = []
        current = widths[0]
        for width in widths:
            blocks = nn.ModuleList()
            for _ in range(cfg.blocks_per_level):
                blocks.append(ResidualBlock(current, width, emb_dim, cfg.dropout))
                current = width
            self.encoder.append(blocks)
            skip_widths.append(current)
        self.middle = ResidualBlock(current, current, emb_dim, cfg.dropout)
        self.decoder = nn.ModuleList()
        for level in reversed(range(len(widths))):
            self.decoder.append(
                ResidualBlock(current + skip_widths[level], widths[level], emb_dim, cfg.dropout)
            )
            current = widths[level]
        self.out_norm = nn.GroupNorm(_groups(current), current)
        self.out_conv = nn.Conv2d(current, cfg.out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor | None = None) -> torch.Tensor:
        cfg = self.config
        if x.ndim != 4 or x.shape[1] != cfg.in_channels:
            raise ValueError(f"expected (B, {cfg.in_channels}, H, W), got {tuple(x.shape)}")
        if x.shape[-2] % cfg.multiple or x.shape[-1] % cfg.multiple:
            raise ValueError(
                f"grid {tuple(x.shape[-2:])} must be a multiple of {cfg.multiple} "
                f"(2 ** (len(channel_mult) - 1))"
            )
        emb = None
        if self.embedding is not None:
            if c_noise is None:
                raise ValueError("a noise-conditioned U-Net needs c_noise")
            emb = self.embedding(c_noise.reshape(-1).expand(x.shape[0]))
        h = self.stem(x)
        skips = []
        for level, blocks in enumerate(self.encoder):
            for block in blocks:
                h = block(h, emb)
            skips.append(h)
            if level < len(self.encoder) - 1:
                h = F.avg_pool2d(h, 2)
        h = self.middle(h, emb)
        for i, block in enumerate(self.decoder):
            if i > 0:
                h = F.interpolate(h, scale_factor=2, mode="nearest")
            h = block(torch.cat([h, skips.pop()], dim=1), emb)
        return self.out_conv(F.silu(self.out_norm(h)))

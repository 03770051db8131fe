"""PRE-Net-Light: a small student distilled from the adapted PRE-Net, for CPU and full-disc use.

Beyond the paper (the MAUNet-Light idea applied to PRE-Net). Its design follows from where
PRE-Net's FLOPs go on a 256 × 256 tile (``benchmarks/fulldisc_inference.py``,
``torch.utils.flop_counter``):

* **the ViT AE** is about half of them: at level 1 its 64 × 64 = 4,096 tokens make attention
  quadratic (4 N² d) — at demo size one level-1 block alone is ≈ 3.2 GFLOP of the 9.9. Light
  keeps global context only where it is cheap: **one** transformer block over the 16 × 16 token
  grid of the bottleneck (256 tokens: 1/256 of level 1's attention cost) and no per-level AE;
* **full 3 × 3 convolutions** at full and half resolution dominate the rest; Light uses
  **depthwise-separable** blocks (3 × 3 depthwise + 1 × 1 pointwise, ≈ 1/8 of the FLOPs of a
  full 3 × 3 convolution at these widths) and one plain stem convolution;
* **full-resolution feature maps** cost memory traffic out of proportion to their FLOPs on a
  CPU (element-wise passes over 256² × channels); Light has none: a stride-2 4 × 4 stem reads
  the input and a pixel-shuffle head writes the full-resolution output from half-resolution
  features;
* the **decoder** upsamples bilinearly (no transposed convolutions) and fuses each skip with one
  depthwise-separable block.

Architecture (``w`` = ``base_width``)::

    x (B, 8, H, W) ─ stem 4×4 conv, stride 2 → s1 (w, H/2) ─────────────────────────────────┐
      level i = 2, 3: 2×2 max-pool → DS block → s_i (w·2^(i-1), H/2^i)       skips ───────┐ │
      bottom: 2×2 max-pool → DS block → 8w (H/16) → transformer block (context_dim) → 8w  │ │
      decoder: ×2 bilinear, concat skip, DS block (strides 8, 4, 2) ←─────────────────────┘─┘
      head: 1×1 conv → 4·n_classes, pixel shuffle ×2 → (n_classes, H, W)

It returns a :class:`~prelib.models.outputs.StudentOutput` whose ``features`` (strides 2, 4, 8;
channels w, 2w, 4w) are what feature distillation matches to the teacher's masked-conv features
(:mod:`prelib.models.light_distill`). It takes no mask (there are no masked layers).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from prelib.models.blocks import MIN_INPUT_SIZE, check_image, pad_to
from prelib.models.config import PRENetLightConfig
from prelib.models.outputs import StudentOutput
from prelib.models.vit import Block, positional_ramp


class DepthwiseSeparable(nn.Sequential):
    """3 × 3 depthwise conv → BN → ReLU → 1 × 1 pointwise conv → BN → ReLU.

    Shape: (B, in, H, W) → (B, out, H, W).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels, bias=False),
            nn.BatchNorm2d(in_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class ContextBlock(nn.Module):
    """Global context at the bottleneck: 1 × 1 projection to ``dim`` tokens, transformer
    blocks with PRE-Net's fixed positional ramp, projection back, residual.

    Shape: (B, C, h, w) → (B, C, h, w).
    """

    def __init__(self, channels: int, dim: int, depth: int, heads: int, pos_ramp: int) -> None:
        super().__init__()
        self.pos_ramp = pos_ramp
        self.embed = nn.Conv2d(channels, dim, 1)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.out = nn.Conv2d(dim, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.embed(x)
        n, d, h, w = tokens.shape
        tokens = tokens + positional_ramp((h, w), self.pos_ramp).to(tokens)
        seq = tokens.flatten(2).transpose(1, 2)
        for block in self.blocks:
            seq = block(seq)
        seq = self.norm(seq).transpose(1, 2).reshape(n, d, h, w)
        return x + self.out(seq)


class PRENetLight(nn.Module):
    """The light student. See the module docstring.

    Parameters
    ----------
    config : PRENetLightConfig, optional
        Defaults to the class defaults.
    **overrides
        Field values replacing those of ``config``.
    """

    accepts_mask: ClassVar[bool] = False

    def __init__(self, config: PRENetLightConfig | None = None, **overrides: Any) -> None:
        super().__init__()
        config = config or PRENetLightConfig()
        self.config = config.replace(**overrides) if overrides else config
        cfg = self.config
        w = [cfg.base_width * 2**i for i in range(4)]  # strides 2, 4, 8, 16
        self.stem = nn.Sequential(
            nn.Conv2d(cfg.in_channels, w[0], 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(w[0]),
            nn.ReLU(inplace=True),
        )
        self.down = nn.ModuleList(DepthwiseSeparable(w[i], w[i + 1]) for i in range(3))
        self.context = (
            ContextBlock(w[3], cfg.context_dim, cfg.context_depth, cfg.context_heads, cfg.pos_ramp)
            if cfg.context_depth > 0
            else nn.Identity()
        )
        self.up = nn.ModuleList(
            [
                DepthwiseSeparable(w[3] + w[2], w[2]),
                DepthwiseSeparable(w[2] + w[1], w[1]),
                DepthwiseSeparable(w[1] + w[0], w[0]),
            ]
        )
        self.head = nn.Sequential(nn.Conv2d(w[0], 4 * cfg.n_classes, 1), nn.PixelShuffle(2))
        # Added to the rain logit of a classifier in evaluation mode (0 = plain argmax); set by
        # distillation to match the teacher's rain fraction (prelib.models.light_distill).
        self.register_buffer("rain_logit_offset", torch.zeros(()))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Checkpoints written before the offset existed load with offset 0 (plain argmax).
        state_dict.setdefault(prefix + "rain_logit_offset", torch.zeros(()))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @staticmethod
    def _up(x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        size = tuple(skip.shape[-2:])
        up = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        return torch.cat([skip, pad_to(up, size)], dim=1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> StudentOutput:
        """Retrieve precipitation from IR.

        Parameters
        ----------
        x : Tensor, shape (B, in_channels, H, W)
            Normalised IR, H, W >= 16.
        mask : None
            Accepted for the uniform student signature; a mask raises ``ValueError``.

        Returns
        -------
        StudentOutput
            ``logits`` (B, n_classes, H, W; a classifier's rain logit plus
            ``rain_logit_offset`` in evaluation mode); ``features`` at strides 2, 4, 8 (w, 2w, 4w
            channels); no reconstructions; ``self_consistency`` 0.
        """
        if mask is not None:
            raise ValueError("PRENetLight takes no mask (it has no masked layers); pass None")
        check_image(x, self.config.in_channels, "x", MIN_INPUT_SIZE)
        skips = [self.stem(x)]  # stride 2
        for down in self.down:  # strides 4, 8, 16
            skips.append(down(F.max_pool2d(skips[-1], 2)))
        d = self.context(skips[3])
        for step, up in enumerate(self.up):
            d = up(self._up(d, skips[2 - step]))
        logits = pad_to(self.head(d), tuple(x.shape[-2:]))
        if self.config.n_classes == 2 and not self.training:
            logits = torch.cat([logits[:, :1], logits[:, 1:] + self.rain_logit_offset], dim=1)
        return StudentOutput(logits, tuple(skips[0:3]), (), x.new_zeros(()))

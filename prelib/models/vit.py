"""Pre-LayerNorm Vision-Transformer blocks, written in torch with timm's parameter layout.

Each :class:`Block` has the same sub-module names and tensor shapes as ``timm.models.vision_
transformer.Block`` with ``qkv_bias=False`` and no layer-scale or drop-path (the configuration
PRE-Net's AE uses; prenet_reference.md §4.5): ``norm1``, ``attn.qkv`` (3d × d, no bias),
``attn.proj`` (d × d + d), ``norm2``, ``mlp.fc1`` (r·d × d + r·d), ``mlp.fc2`` (d × r·d + d).
With MLP ratio r = 4 one block holds 12 d² + 10 d parameters (444,288 at d = 192), so state dicts
line up with timm's key names and parameter counts match the paper's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Attention(nn.Module):
    """Multi-head self-attention over a token sequence.

    Shape: (B, N, d) → (B, N, d).
    """

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = False) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"embedding dim {dim} must be divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, dim = x.shape
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.num_heads, dim // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(batch, tokens, dim))


class Mlp(nn.Module):
    """Two-layer perceptron with GELU: d → r·d → d."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Transformer block ``x + attn(norm1(x))`` then ``x + mlp(norm2(x))``.

    Parameters
    ----------
    dim : int
        Token width d.
    num_heads : int
        Attention heads (d must be divisible by it).
    mlp_ratio : float
        Hidden width of the MLP relative to d (4 in ViT and PRE-Net).
    """

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def block_parameter_count(dim: int, mlp_ratio: float = 4.0) -> int:
    """Parameters of one :class:`Block`: ``(4 + 2r) d² + (5 + r) d`` (12 d² + 10 d for r = 4)."""
    hidden = int(dim * mlp_ratio)
    return 3 * dim * dim + dim * dim + dim + 2 * dim * hidden + hidden + dim + 4 * dim


def positional_ramp(size: tuple[int, int], ramp: int = 28) -> torch.Tensor:
    """PRE-Net's fixed positional encoding on a token grid of ``size``.

    A ``ramp × ramp`` map with value ``i/ramp + j/ramp`` (0 at the top-left, 2 − 2/ramp at the
    bottom-right), resized bilinearly with ``align_corners=True`` to the token grid and added to
    every channel (prenet_reference.md §4.5: not learned, identical across channels).

    Returns
    -------
    Tensor, shape (1, 1, h, w), float32
    """
    index = torch.arange(ramp, dtype=torch.float32) / ramp
    grid = (index[:, None] + index[None, :])[None, None]
    return F.interpolate(grid, size=size, mode="bilinear", align_corners=True)

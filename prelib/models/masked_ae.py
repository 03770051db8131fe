"""PRE-Net's per-level masked "autoencoder" (AE) with RMKD views and self-consistency.

Paper: Wang et al., KDD 2025, §3.2, Eq. 3 and Fig. 3 — ``F^R_i = AE((F^c_i + F^h_i) ⊙ M^R_i)``.
Code (prenet_reference.md §4.5–4.6): the AE is a ViT *encoder* (patch embedding by a stride-2
conv, pre-LN blocks, final LayerNorm) followed by a linear head that un-patchifies the tokens back
to the level's feature size. Masked tokens are zeroed (not dropped) and still receive the fixed
positional ramp.

RMKD (training only, ``n_splits > 1``): the visible tokens are shuffled and split into ``n`` views
(:func:`prelib.models.masking.split_visible`); each view goes through the ViT (batched together
here), the reconstructions are combined with learnable weights ``w`` (initialised to ``1/n``, not
constrained), and the self-consistency loss compares the token outputs ``z_k`` (after the final
LayerNorm) of every ordered pair of views on the tokens hidden in both::

    L_sc = Σ_{i≠j} mean(|sg(z_i) − z_j| ⊙ s_ij) + mean(|z_i − sg(z_j)| ⊙ s_ij),
    s_ij = (1 − m_i)(1 − m_j)

with the mean over all elements and ``sg`` the stop-gradient (reference code). In evaluation, or
with ``n_splits = 1``, there is one view with the α-mask (or none) and ``L_sc = 0``.

Hint (DAWE) injection: ``separate_hint=False`` (prelib, the paper's Eq. 3) embeds ``F^c + F^h``;
``separate_hint=True`` (reference code) embeds both separately with the same patch embedding and
adds them, which counts the embedding bias twice.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from prelib.models.blocks import pad_to
from prelib.models.masking import split_visible
from prelib.models.vit import Block, positional_ramp


class MaskedAutoencoder(nn.Module):
    """Masked ViT reconstruction of one CoMWE level.

    Parameters
    ----------
    in_channels : int
        Channels C of the level's feature (paper: 128, 256, 512).
    dim, depth, num_heads, mlp_ratio : int, int, int, float
        ViT width, blocks, heads and MLP ratio (paper: 192, 12, 3, 4).
    patch : int
        Patch size (2): the token grid is the feature grid ``// patch``.
    n_splits : int
        RMKD views used in training (1 = no RMKD).
    pos_ramp : int
        Size of the fixed positional ramp (28).
    separate_hint : bool
        Embed the DAWE hint separately (reference code) instead of adding it to the feature first.
    """

    def __init__(
        self,
        in_channels: int,
        dim: int = 192,
        depth: int = 12,
        num_heads: int = 3,
        mlp_ratio: float = 4.0,
        patch: int = 2,
        n_splits: int = 1,
        pos_ramp: int = 28,
        separate_hint: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.patch = patch
        self.pos_ramp = pos_ramp
        self.separate_hint = separate_hint
        self.patch_embed = nn.Conv2d(in_channels, dim, kernel_size=patch, stride=patch)
        self.blocks = nn.ModuleList(Block(dim, num_heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, in_channels * patch * patch)
        self.max_splits = n_splits
        self.n_splits = n_splits
        self.split_weights = (
            nn.Parameter(torch.full((n_splits,), 1.0 / n_splits)) if n_splits > 1 else None
        )

    def set_num_splits(self, n_splits: int) -> None:
        """Switch RMKD off (1) or back on (the constructed number); Stage II uses 1."""
        if n_splits not in (1, self.max_splits):
            raise ValueError(
                f"n_splits can be 1 or the constructed {self.max_splits}, got {n_splits}"
            )
        self.n_splits = n_splits

    def _embed(self, feature: torch.Tensor, hint: torch.Tensor | None) -> torch.Tensor:
        if hint is None:
            return self.patch_embed(feature)
        if self.separate_hint:
            return self.patch_embed(feature) + self.patch_embed(hint)
        return self.patch_embed(feature + hint)

    def _transform(self, tokens: torch.Tensor) -> torch.Tensor:
        """(N, d, h, w) token map → (N, d, h, w) outputs after the blocks and final LayerNorm."""
        n, d, h, w = tokens.shape
        seq = tokens.flatten(2).transpose(1, 2)
        for block in self.blocks:
            seq = block(seq)
        return self.norm(seq).transpose(1, 2).reshape(n, d, h, w)

    def _reconstruct(self, z: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """Linear head and un-patchify: (N, d, h, w) → (N, C, H, W), zero-padded to ``size``."""
        n, _, h, w = z.shape
        p, c = self.patch, self.in_channels
        out = self.head(z.permute(0, 2, 3, 1))  # (N, h, w, C·p·p)
        out = out.reshape(n, h, w, c, p, p).permute(0, 3, 1, 4, 2, 5).reshape(n, c, h * p, w * p)
        return pad_to(out, size)

    def forward(
        self,
        feature: torch.Tensor,
        token_mask: torch.Tensor | None = None,
        hint: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Reconstruct ``feature`` from its visible tokens.

        Parameters
        ----------
        feature : Tensor, shape (B, C, H, W)
            The level's masked-conv feature F^c.
        token_mask : Tensor, shape (1 or B, 1, H // patch, W // patch), or None
            α-mask on the token grid (1 = visible); None = all visible.
        hint : Tensor, shape (B, C, H, W), or None
            DAWE's high-frequency hint F^h.

        Returns
        -------
        reconstruction : Tensor, shape (B, C, H, W)
        self_consistency : Tensor, scalar
        """
        batch = feature.shape[0]
        embedded = self._embed(feature, hint)
        grid = tuple(embedded.shape[-2:])
        pos = positional_ramp(grid, self.pos_ramp).to(embedded)
        zero = feature.new_zeros(())
        if not (self.training and self.n_splits > 1):
            tokens = embedded if token_mask is None else embedded * token_mask
            z = self._transform(tokens + pos)
            return self._reconstruct(z, tuple(feature.shape[-2:])), zero

        n = self.n_splits
        base = token_mask if token_mask is not None else embedded.new_ones(1, 1, *grid)
        views = split_visible(base.expand(batch, 1, *grid), n).to(embedded)  # (n, B, 1, h, w)
        tokens = (embedded.unsqueeze(0) * views + pos).flatten(0, 1)
        z = self._transform(tokens)
        recon = self._reconstruct(z, tuple(feature.shape[-2:]))
        recon = recon.reshape(n, batch, *recon.shape[1:])
        combined = (self.split_weights.view(n, 1, 1, 1, 1) * recon).sum(dim=0)
        z = z.reshape(n, batch, *z.shape[1:])
        hidden = 1.0 - views
        loss = zero
        for i, j in itertools.permutations(range(n), 2):
            both = hidden[i] * hidden[j]
            loss = loss + ((z[i].detach() - z[j]).abs() * both).mean()
            loss = loss + ((z[i] - z[j].detach()).abs() * both).mean()
        return combined, loss

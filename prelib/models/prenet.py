"""PRE-Net, the IR-only student (Wang et al., KDD 2025, §3.2; prenet_reference.md §4).

Architecture (paper widths; ``w`` = ``base_width`` = 64, d = ``ae_dim`` = 192)::

    x (B, 8, H, W) ── DoubleConv ──────────────────────────────── x1 (w, H, W) ─────────────┐
      CoMWE level i = 1, 2, 3 (stride 2^i, C_i = w·2^i):                                    │
        F^c_i = MaskedDown(F_{i-1}, M^c_i)                        Eq. 1 (masked conv)       │
        F^h_i = DAWE(F_{i-1})                                     Eqs. 4–5 (Haar details)   │
        F^R_i = AE(F^c_i + F^h_i, M^R_i)   (RMKD views in training) Eq. 3                   │
      x_L4 = Down(F^c_3) (16w, H/16, W/16)                                                  │
      decoder: Up(x_L4, [F^R_3, F^c_3]) → Up(·, [F^R_2, F^c_2]) → Up(·, [F^R_1, F^c_1]) → Up(·, x1)
      head: 1 × 1 conv → n_classes (no activation)

Which choices follow the paper and which the reference code
------------------------------------------------------------
* Paper: DAWE contributes at inference and is trained end to end (``dawe_mode="prelib"``, the
  default); the hint is added to the feature before the AE (Eq. 3); DAWE at all three levels.
* Code: ``dawe_mode="reference"`` keeps the published behaviour (DWT input detached, hint used
  only in training and only at levels 1–2) for the ablation; ``"off"`` removes DAWE.
* Code: two output logits with cross-entropy for classification (the paper: 1 channel + sigmoid);
  RMKD at levels 1 and 2 only (``rmkd_levels``); DAWE reads the previous level's feature; the
  masked input also feeds the bottleneck's residual path; the fixed positional ramp; LayerNorm
  token outputs in the self-consistency loss; per-level AE of 12 × 192-d blocks with 3 heads.
* Ours: the unused ``cls`` token of the reference AE is not created (−576 parameters at paper
  size: 47,923,673 instead of 47,924,249), so every parameter is used; masks may be per sample
  and RMKD's splits are drawn per sample; ``rmkd_levels=(1, 2, 3)`` gives the paper's reading of
  RMKD at every level; any input size ≥ 16 works (base grid ``(H // 16, W // 16)``, see
  :mod:`prelib.models.masking`).

Masks: in training, ``mask=None`` draws a fresh base mask with ratio α shared by the batch (the
reference code); a given mask (1 or B, 1, h0, w0) is used as is — also in evaluation, where an
all-ones mask gives exactly the unmasked output. Evaluation without a mask is deterministic and
mask-free.
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
from prelib.models.config import PRENetConfig
from prelib.models.dawe import DAWE
from prelib.models.masked_ae import MaskedAutoencoder
from prelib.models.masked_conv import MaskedDown
from prelib.models.masking import base_grid_shape, check_mask, expand_mask, random_base_mask
from prelib.models.outputs import StudentOutput

MASK_TARGETS: tuple[str, ...] = ("ae+conv", "ae")
"""What a base mask hides (see :meth:`PRENet.forward`)."""


class CoMWEEncoder(nn.Module):
    """The student's encoder: embedding, three CoMWE levels (masked conv, DAWE, AE), bottom Down.

    Sub-modules (names used by the freezing policies of :mod:`prelib.models.lora`): ``inc``,
    ``masked_down``, ``dawe`` (None when off), ``ae``, ``down4``.
    """

    def __init__(self, config: PRENetConfig) -> None:
        super().__init__()
        cfg = config
        w = encoder_widths(cfg.base_width)
        self.dawe_mode = cfg.dawe_mode
        self.inc = DoubleConv(cfg.in_channels, w[0])
        self.masked_down = nn.ModuleList(
            MaskedDown(w[i], w[i + 1], cfg.bottleneck_ratio) for i in range(3)
        )
        self.dawe = None if cfg.dawe_mode == "off" else DAWE(w[0:3], w[1:4], cfg.dawe_mode)
        self.ae = nn.ModuleList(
            MaskedAutoencoder(
                w[i + 1],
                dim=cfg.ae_dim,
                depth=cfg.ae_depth,
                num_heads=cfg.ae_heads,
                mlp_ratio=cfg.ae_mlp_ratio,
                patch=cfg.ae_patch,
                n_splits=cfg.n_splits if i + 1 in cfg.rmkd_levels else 1,
                pos_ramp=cfg.pos_ramp,
                separate_hint=cfg.dawe_mode == "reference",
            )
            for i in range(3)
        )
        self.down4 = Down(w[3], w[4])

    def _uses_hint(self, level: int) -> bool:
        if self.dawe is None:
            return False
        if self.dawe_mode == "reference":
            # Reference code: hint added only in training, and the L3 hint is never added.
            return self.training and level < 2
        return True

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None, mask_target: str = "ae+conv"
    ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor], torch.Tensor, torch.Tensor]:
        """Encode ``x`` (B, C_in, H, W) with base ``mask`` (or None).

        ``mask_target="ae+conv"`` masks the conv features and the AE tokens (CoMWE, Eq. 1–3);
        ``"ae"`` masks the AE tokens only (Stage II, the paper's Eq. 7).

        Returns
        -------
        x1, features, reconstructions, bottom, self_consistency
            x1 (B, w, H, W); three masked-conv features and three reconstructions at strides
            2, 4, 8; the bottom feature (B, 16w, H/16, W/16); the summed self-consistency loss.
        """
        x1 = self.inc(x)
        previous = x1
        features: list[torch.Tensor] = []
        reconstructions: list[torch.Tensor] = []
        consistency = x.new_zeros(())
        for level in range(3):
            size = (previous.shape[-2] // 2, previous.shape[-1] // 2)
            conv_mask = (
                None if mask is None or mask_target == "ae" else expand_mask(mask, 8 >> level, size)
            )
            feature = self.masked_down[level](previous, conv_mask)
            hint = self.dawe(level, previous, size) if self._uses_hint(level) else None
            tokens = (size[0] // 2, size[1] // 2)
            token_mask = None if mask is None else expand_mask(mask, 4 >> level, tokens)
            reconstruction, loss = self.ae[level](feature, token_mask, hint)
            features.append(feature)
            reconstructions.append(reconstruction)
            consistency = consistency + loss
            previous = feature
        return x1, features, reconstructions, self.down4(previous), consistency


class UNetDecoder(nn.Module):
    """PRE-Net's decoder: four :class:`Up` steps with ``[reconstruction, feature]`` skips
    (``upsample``: :data:`~prelib.models.blocks.UPSAMPLE_MODES`)."""

    def __init__(self, base_width: int, upsample: str = "transpose") -> None:
        super().__init__()
        w = encoder_widths(base_width)
        self.up = nn.ModuleList(
            [
                Up(w[4], 2 * w[3], w[3], upsample),
                Up(w[3], 2 * w[2], w[2], upsample),
                Up(w[2], 2 * w[1], w[1], upsample),
                Up(w[1], w[0], w[0], upsample),
            ]
        )

    def forward(
        self,
        bottom: torch.Tensor,
        features: list[torch.Tensor],
        reconstructions: list[torch.Tensor],
        x1: torch.Tensor,
    ) -> torch.Tensor:
        d = bottom
        for step, level in enumerate((2, 1, 0)):
            skip = torch.cat([reconstructions[level], features[level]], dim=1)
            d = self.up[step](d, skip)
        return self.up[3](d, x1)


class PRENet(nn.Module):
    """The PRE-Net student. See the module docstring for the architecture and its sources.

    Parameters
    ----------
    config : PRENetConfig, optional
        Defaults to the paper configuration (47.92 M parameters for regression).
    **overrides
        Field values replacing those of ``config``.

    Examples
    --------
    >>> from prelib.models import get_model                                # doctest: +SKIP
    >>> net = get_model("prenet", resolve("tiny").models.prenet)            # doctest: +SKIP
    >>> out = net(torch.randn(2, 8, 256, 49))   # out.logits: (2, 1, 256, 49)  # doctest: +SKIP
    """

    accepts_mask: ClassVar[bool] = True

    def __init__(self, config: PRENetConfig | None = None, **overrides: Any) -> None:
        super().__init__()
        config = config or PRENetConfig()
        self.config = config.replace(**overrides) if overrides else config
        self.encoder = CoMWEEncoder(self.config)
        self.decoder = UNetDecoder(self.config.base_width, self.config.upsample)
        self.head = OutConv(self.config.base_width, self.config.n_classes)

    def base_grid(self, height: int, width: int) -> tuple[int, int]:
        """Base-mask grid ``(max(1, H // 16), max(1, W // 16))`` for an ``H × W`` input."""
        return base_grid_shape(height, width)

    def set_num_splits(self, n_splits: int) -> None:
        """Set RMKD views at the ``rmkd_levels`` (1 turns RMKD off, as Stage II does)."""
        for level, ae in enumerate(self.encoder.ae, start=1):
            if level in self.config.rmkd_levels:
                ae.set_num_splits(n_splits)

    def reset_decoder(self) -> None:
        """Re-initialise the decoder and head (the reference code's Stage II, §6.1)."""
        for module in [*self.decoder.modules(), self.head]:
            if module is not self.decoder and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, mask_target: str = "ae+conv"
    ) -> StudentOutput:
        """Retrieve precipitation from IR.

        Parameters
        ----------
        x : Tensor, shape (B, in_channels, H, W)
            Normalised IR brightness temperatures (paper: 8 AGRI channels), H, W >= 16.
        mask : Tensor, shape (1 or B, 1, H // 16, W // 16), optional
            Base mask, 1 = visible. In training ``None`` draws a random one with ratio α.
        mask_target : {"ae+conv", "ae"}
            What the mask hides: the masked-conv features and the AE tokens (Stage I's CoMWE,
            the default), or the AE tokens only (the paper's Eq. 7 for Stage II), leaving the
            conv features — skip connections and the next level's input — untouched.

        Returns
        -------
        StudentOutput
            ``logits`` (B, n_classes, H, W); ``features`` and ``reconstructions`` (three each, at
            strides 2, 4, 8, channels 2w, 4w, 8w); ``self_consistency`` (scalar).
        """
        check_image(x, self.config.in_channels, "x", MIN_INPUT_SIZE)
        grid = base_grid_shape(*x.shape[-2:])
        if mask is None:
            if self.training and self.config.mask_ratio > 0:
                mask = random_base_mask(grid, self.config.mask_ratio, 1, device=x.device)
        else:
            check_mask(mask, x.shape[0], grid)
        if mask is not None:
            mask = mask.to(dtype=x.dtype, device=x.device)
        if mask_target not in MASK_TARGETS:
            raise ValueError(
                f"mask_target must be one of {list(MASK_TARGETS)}, got {mask_target!r}"
            )
        x1, features, recons, bottom, consistency = self.encoder(x, mask, mask_target)
        logits = self.head(self.decoder(bottom, features, recons, x1))
        return StudentOutput(logits, tuple(features), tuple(recons), consistency)

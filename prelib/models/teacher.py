"""The multimodal teacher U-Net (prenet_reference.md §3; paper Appendix A).

Per-modality stems (DoubleConv to ``w`` channels) for IR (8 AGRI channels), PMW (13 GMI channels)
and PR (176 DPR Ku range bins) are fused by **summation**; a four-level U-Net (64 → 1024 at paper
size) follows; the geographic planes (elevation, latitude, longitude) pass through their own stem
and are fused **late**, concatenated with the decoder output, then DoubleConv(2w → w) →
DoubleConv(w → w/2) → 1 × 1 conv. The encoder features at strides 2, 4 and 8 are returned as the
distillation targets. 31,401,057 parameters for regression at paper size.

Input API (a deliberate change from the reference code's single 197-channel stack sliced by
hard-coded indices): pass the modalities as separate tensors, by keyword or in a mapping::

    teacher(ir=ir, pmw=pmw, pr=pr, geo=geo)
    teacher({"ir": ir, "pmw": pmw, "pr": pr, "geo": geo})

Each is (B, C_m, H, W) with the same B, H, W; channel counts are checked. A teacher built for a
modality subset (Table 8 ablation) requires exactly its modalities; extra ones raise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
from prelib.models.config import TeacherConfig
from prelib.models.outputs import TeacherOutput


class Teacher(nn.Module):
    """Multimodal (IR + PMW + PR + geo) teacher.

    Parameters
    ----------
    config : TeacherConfig, optional
        Defaults to the paper configuration with all three modalities.
    **overrides
        Field values replacing those of ``config`` (e.g. ``modalities=("pmw", "pr")``).
    """

    def __init__(self, config: TeacherConfig | None = None, **overrides: Any) -> None:
        super().__init__()
        config = config or TeacherConfig()
        self.config = config.replace(**overrides) if overrides else config
        cfg = self.config
        w = encoder_widths(cfg.base_width)
        self.stems = nn.ModuleDict({m: DoubleConv(cfg.channels(m), w[0]) for m in cfg.modalities})
        self.down = nn.ModuleList(Down(w[i], w[i + 1]) for i in range(4))
        self.up = nn.ModuleList(Up(w[i + 1], w[i], w[i]) for i in reversed(range(4)))
        if cfg.geo_channels:
            self.geo_stem = DoubleConv(cfg.geo_channels, w[0])
            self.fuse = nn.Sequential(DoubleConv(2 * w[0], w[0]), DoubleConv(w[0], w[0] // 2))
        else:
            self.geo_stem = None
            self.fuse = DoubleConv(w[0], w[0] // 2)
        self.head = OutConv(w[0] // 2, cfg.n_classes)

    @property
    def inputs(self) -> tuple[str, ...]:
        """Names of the tensors :meth:`forward` requires, in order."""
        return (*self.config.modalities, *(("geo",) if self.config.geo_channels else ()))

    def _gather(self, inputs: Mapping[str, torch.Tensor] | None, **named) -> dict:
        if inputs is not None and not isinstance(inputs, Mapping):
            shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs)
            raise ValueError(
                f"Teacher takes a mapping or keyword tensors {list(self.inputs)}, not one stacked "
                f"tensor (got {shape}); split a 197-channel stack into ir/pmw/pr first"
            )
        given = dict(inputs or {})
        for name, tensor in named.items():
            if tensor is not None:
                if name in given:
                    raise ValueError(
                        f"Teacher input {name!r} given both in the mapping and by keyword"
                    )
                given[name] = tensor
        missing = [k for k in self.inputs if k not in given]
        extra = [k for k in given if k not in self.inputs]
        if missing or extra:
            raise ValueError(
                f"Teacher expects inputs {list(self.inputs)}; missing {missing}, unexpected {extra}"
            )
        reference = given[self.inputs[0]]
        for name in self.inputs:
            check_image(given[name], self.config.channels(name), name, MIN_INPUT_SIZE)
            if given[name].shape[0] != reference.shape[0] or (
                given[name].shape[-2:] != reference.shape[-2:]
            ):
                raise ValueError(
                    f"all teacher inputs must share (B, H, W): {self.inputs[0]} has "
                    f"{tuple(reference.shape)}, {name} has {tuple(given[name].shape)}"
                )
        return given

    def forward(
        self,
        inputs: Mapping[str, torch.Tensor] | None = None,
        *,
        ir: torch.Tensor | None = None,
        pmw: torch.Tensor | None = None,
        pr: torch.Tensor | None = None,
        geo: torch.Tensor | None = None,
    ) -> TeacherOutput:
        """Run the teacher.

        Parameters
        ----------
        inputs : mapping, optional
            ``{"ir": (B, 8, H, W), "pmw": (B, 13, H, W), "pr": (B, 176, H, W), "geo":
            (B, 3, H, W)}`` (normalised); keywords may be used instead or in addition.
        ir, pmw, pr, geo : Tensor, optional
            The same tensors by keyword.

        Returns
        -------
        TeacherOutput
            ``logits`` (B, n_classes, H, W) and ``features`` at strides 2, 4, 8
            (channels 2w, 4w, 8w).
        """
        given = self._gather(inputs, ir=ir, pmw=pmw, pr=pr, geo=geo)
        fused = sum(self.stems[m](given[m]) for m in self.config.modalities)
        skips = [fused]
        for down in self.down:
            skips.append(down(skips[-1]))
        d = skips[-1]
        for step, up in enumerate(self.up):
            d = up(d, skips[3 - step])
        if self.geo_stem is not None:
            d = torch.cat([d, self.geo_stem(given["geo"])], dim=1)
        logits = self.head(self.fuse(d))
        return TeacherOutput(logits, tuple(skips[1:4]))

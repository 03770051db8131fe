"""MGD: Masked Generative Distillation (Yang et al., ECCV 2022, arXiv:2205.01529).

At each distilled level the student's feature is aligned to the teacher's channels (1 × 1 conv
when they differ), a random fraction λ_mgd of its pixels is zeroed (one mask shared by the
channels), and a small generator (3 × 3 conv → ReLU → 3 × 3 conv) must produce the teacher's full
feature from it. The loss is the MSE to the teacher feature.

Our settings (the PRE-Net paper gives none for its MGD baseline): λ_mgd = 0.75 (MGD's semantic
segmentation setting, the closest to dense retrieval); the three levels at strides 2, 4, 8 are
summed with equal weight; the MSE is a per-element mean (MGD sums and divides by the batch with a
tiny α_mgd instead) weighted by γ (``reconstruction_weight``), the weight PRE-Net gives its own
feature-reconstruction term.
"""

from __future__ import annotations

import torch
from torch import nn

from prelib.models.distill.base import Distiller, aligners, check_pair
from prelib.models.outputs import StudentOutput, TeacherOutput


class MGD(Distiller):
    """Masked generative distillation of the three encoder levels into a UNet student."""

    name = "mgd"
    student = "unet"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.align = aligners(self.student_channels, self.teacher_channels)
        self.generators = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(c, c, kernel_size=3, padding=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(c, c, kernel_size=3, padding=1),
            )
            for c in self.teacher_channels
        )

    def loss(
        self,
        student_out: StudentOutput,
        teacher_out: TeacherOutput | None,
        *,
        valid: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        teacher_out = self._require_teacher(teacher_out)
        terms: dict[str, torch.Tensor] = {}
        total = student_out.logits.new_zeros(())
        levels = zip(student_out.features, teacher_out.features, strict=True)
        for level, (s, t) in enumerate(levels):
            check_pair(s, t, f"mgd level {level + 1}")
            aligned = self.align[level](s)
            keep = torch.rand(s.shape[0], 1, *s.shape[-2:], device=s.device) >= (
                self.config.mgd_mask_ratio
            )
            generated = self.generators[level](aligned * keep.to(aligned.dtype))
            mse = (generated - t.detach()).square().mean()
            terms[f"mgd_l{level + 1}"] = mse.detach()
            total = total + mse
        terms["mgd"] = total.detach()
        terms["loss"] = self.config.reconstruction_weight * total
        terms["part_mgd"] = terms["loss"]
        return terms

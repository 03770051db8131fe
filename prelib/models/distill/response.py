"""No distillation and response-based KD (Hinton, Vinyals & Dean, 2015).

Table 3's "UNet (IR only)" row trains the student with the task loss alone (``"none"``); its "KD"
row distils the teacher's *outputs* (soft labels, the paper's reference [15]) into the UNet.

Response KD here: for the rain/no-rain classifier (2 logits) the per-pixel
``T² · KL(softmax(t / T) ‖ softmax(s / T))``; for the regressor (1 output, mm h-1) the per-pixel
squared difference to the teacher's estimate (the regression analogue of soft labels). Both are
averaged over valid pixels when a mask is given and weighted by λ (``feature_weight``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from prelib.models.distill.base import Distiller
from prelib.models.outputs import StudentOutput, TeacherOutput


class NoDistillation(Distiller):
    """Task loss only: returns a zero ``loss`` (keeps the training loop uniform)."""

    name = "none"
    student = "unet"
    needs_teacher = False

    def loss(self, student_out, teacher_out=None, *, valid=None) -> dict[str, torch.Tensor]:
        return {"loss": student_out.logits.new_zeros(())}


class ResponseKD(Distiller):
    """Hinton-style distillation of the teacher's output into the student's output."""

    name = "kd"
    student = "unet"

    def loss(
        self,
        student_out: StudentOutput,
        teacher_out: TeacherOutput | None,
        *,
        valid: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        teacher_out = self._require_teacher(teacher_out)
        s, t = student_out.logits, teacher_out.logits.detach()
        if s.shape != t.shape:
            raise ValueError(
                f"kd: student logits {tuple(s.shape)} and teacher logits {tuple(t.shape)} differ"
            )
        if s.shape[1] == 1:
            pixel = (s - t).square()[:, 0]
        else:
            temp = self.config.temperature
            log_s = F.log_softmax(s / temp, dim=1)
            log_t = F.log_softmax(t / temp, dim=1)
            pixel = (log_t.exp() * (log_t - log_s)).sum(dim=1) * temp**2
        if valid is None:
            kd = pixel.mean()
        else:
            if tuple(valid.shape) != tuple(pixel.shape):
                raise ValueError(
                    f"kd: valid must have shape {tuple(pixel.shape)}, got {tuple(valid.shape)}"
                )
            kd = torch.where(valid, pixel, torch.zeros_like(pixel)).sum() / valid.sum().clamp(min=1)
        weighted = self.config.feature_weight * kd
        return {"loss": weighted, "part_kd": weighted, "kd": kd.detach()}

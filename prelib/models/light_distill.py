"""Response + feature distillation of PRE-Net-Light from the adapted PRE-Net (Full-IPR).

The teacher is a Stage-II PRE-Net (classifier or regressor, LoRA merged, frozen, evaluation mode
with an all-ones mask, as at inference). The student is :class:`~prelib.models.prenet_light.
PRENetLight`. Per batch::

    L = L_task(student, labels)                                   masked CE or MSE
      + α · L_response(student, teacher)                          on valid pixels
      + β · Σ_level w_level · L_feature(A_level(s_level), t_level)

* response, classifier: KL(softmax(t / T) ‖ softmax(s / T)) · T² (Hinton et al., 2015);
  regressor: MSE between the rates;
* feature: the student's features at strides 2, 4, 8 are mapped by 1 × 1 convolutions
  ``A_level`` to the teacher's masked-conv features F^c_1..3 (PRE-Net's CoMWE features), both
  standardised per channel over the batch's pixels (so levels of different scale weigh alike),
  and compared by MSE; level weights (1, 2, 4) as PRE-Net's feature distillation.

The adapters belong to :class:`LightDistillation`, so they train with the student and are
dropped afterwards (:meth:`LightDistillation.student` is what inference loads).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


@dataclasses.dataclass(frozen=True)
class LightDistillWeights:
    """Weights of the distillation terms: α (response), β (feature), level weights, T."""

    response: float = 1.0
    feature: float = 1.0
    level_weights: tuple[float, float, float] = (1.0, 2.0, 4.0)
    temperature: float = 3.0


def _standardise(x: torch.Tensor) -> torch.Tensor:
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    std = x.std(dim=(0, 2, 3), keepdim=True).clamp(min=1e-5)
    return (x - mean) / std


def response_loss(
    student: torch.Tensor,
    teacher: torch.Tensor,
    valid: torch.Tensor | None,
    temperature: float,
) -> torch.Tensor:
    """Per-pixel response distillation averaged over valid pixels.

    Parameters
    ----------
    student, teacher : Tensor, shape (B, k, H, W)
        Logits (k = 2: softened KL · T²) or rates (k = 1: MSE).
    valid : Tensor, shape (B, H, W), bool, optional
    temperature : float
    """
    if student.shape[1] == 2:
        log_s = F.log_softmax(student.float() / temperature, dim=1)
        log_t = F.log_softmax(teacher.float() / temperature, dim=1)
        pixel = (log_t.exp() * (log_t - log_s)).sum(dim=1) * temperature**2
    else:
        pixel = (student.float() - teacher.float())[:, 0] ** 2
    if valid is None:
        return pixel.mean()
    weight = valid.to(pixel.dtype)
    return (pixel * weight).sum() / weight.sum().clamp(min=1.0)


class LightDistillation(nn.Module):
    """Student + adapters trained against a frozen teacher.

    Parameters
    ----------
    student : PRENetLight
    teacher : nn.Module
        PRE-Net returning ``StudentOutput`` with ``features`` at strides 2, 4, 8.
    student_channels, teacher_channels : tuple of 3 int
        Feature channels at strides 2, 4, 8.
    weights : LightDistillWeights, optional
    """

    def __init__(
        self,
        student: nn.Module,
        teacher: nn.Module,
        student_channels: tuple[int, int, int],
        teacher_channels: tuple[int, int, int],
        weights: LightDistillWeights | None = None,
    ) -> None:
        super().__init__()
        self.student = student
        self.teacher = teacher.eval()
        for param in self.teacher.parameters():
            param.requires_grad_(False)
        self.adapters = nn.ModuleList(
            nn.Conv2d(s, t, 1) for s, t in zip(student_channels, teacher_channels, strict=True)
        )
        self.weights = weights or LightDistillWeights()

    def train(self, mode: bool = True) -> LightDistillation:
        super().train(mode)
        self.teacher.eval()  # BatchNorm statistics and masks of the teacher stay fixed
        return self

    @torch.no_grad()
    def teacher_output(self, x: torch.Tensor):
        """The teacher's inference output (all-ones mask where it takes one)."""
        if getattr(self.teacher, "accepts_mask", False):
            from prelib.models.masking import base_grid_shape

            mask = x.new_ones(x.shape[0], 1, *base_grid_shape(*x.shape[-2:]))
            return self.teacher(x, mask)
        return self.teacher(x)

    def forward(self, x: torch.Tensor, task_loss, valid: torch.Tensor | None) -> dict[str, Any]:
        """Losses for one batch.

        Parameters
        ----------
        x : Tensor, shape (B, 8, H, W)
            Normalised IR.
        task_loss : callable
            ``task_loss(logits) -> dict`` with ``loss`` (the masked label loss).
        valid : Tensor, shape (B, H, W), optional
            Pixels with labels/valid input.
        """
        teacher = self.teacher_output(x)
        student = self.student(x)
        task = task_loss(student.logits)
        w = self.weights
        response = response_loss(student.logits, teacher.logits, valid, w.temperature)
        feature = x.new_zeros(())
        for weight, adapter, s, t in zip(
            w.level_weights, self.adapters, student.features, teacher.features, strict=True
        ):
            aligned = adapter(s)
            if aligned.shape[-2:] != t.shape[-2:]:
                aligned = F.interpolate(aligned, size=t.shape[-2:], mode="bilinear")
            feature = feature + weight * F.mse_loss(_standardise(aligned), _standardise(t.float()))
        total = task["loss"] + w.response * response + w.feature * feature
        out = dict(task)
        out.update(
            {
                "loss": total,
                "task_loss": task["loss"].detach(),
                "distill_response": response.detach(),
                "distill_feature": feature.detach(),
            }
        )
        return out

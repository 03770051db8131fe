"""Response + feature distillation of PRE-Net-Light from the adapted PRE-Net (Full-IPR).

The teacher is a Stage-II PRE-Net (classifier or regressor, LoRA merged, frozen, evaluation mode
with an all-ones mask, as at inference). The student is :class:`~prelib.models.prenet_light.
PRENetLight`. Per batch::

    L = L_task(student, labels)                                   masked CE or MSE
      + s_r · α · L_response(student, teacher)                    on valid pixels
      + s_f · β · Σ_level w_level · L_feature(A_level(s_level), t_level)

* response, classifier: KL(softmax(t / T) ‖ softmax(s / T)) · T² (Hinton et al., 2015);
  regressor: MSE between the rates;
* feature: the student's features at strides 2, 4, 8 are mapped by 1 × 1 convolutions
  ``A_level`` to the teacher's masked-conv features F^c_1..3 (PRE-Net's CoMWE features), both
  standardised per channel over the batch's pixels (so levels of different scale weigh alike),
  and compared by MSE; level weights (1, 2, 4) as PRE-Net's feature distillation;
* balance (:class:`~prelib.models.config.LightDistillConfig`): with ``weighting="fixed"`` the
  scales s_r = s_f = 1 and α, β are the weights; with ``"gradnorm"`` α = β = 1 and s_r, s_f are
  re-measured every few steps so that each term's gradient norm on the student's encoder (stem
  and down levels, which every term reaches) is ``response_weight`` / ``feature_weight`` × the
  task loss's (:class:`~prelib.training.loss_balance.LossBalancer`). The standardised feature
  MSE starts ≈ 20× the classifier's cross-entropy, so fixed unit weights let it drive the
  encoder, as the paper's fixed weights did in CoMWE's Stage I.

The classifier's step also logs the fraction of valid pixels the student and the teacher call
rain (``student_rain_fraction``, ``teacher_rain_fraction``): a collapsed decision shows there.
With ``match_rain_fraction`` (:func:`match_rain_fraction`, run at every validation) the
student's decision threshold is distilled too: a constant added to its rain logit at inference
makes it call rain on as many validation pixels as its teacher does (teacher outputs only, no
labels). A small student trained for a few epochs ranks pixels reasonably but its
cross-entropy-trained probabilities stay below 0.5 in uncertain rain, so its argmax calls rain
on a fraction of the teacher's pixels (demo: 0.02–0.05 of validation pixels against 0.07–0.12).

The adapters belong to :class:`LightDistillation`, so they train with the student and are
dropped afterwards (:meth:`LightDistillation.student` is what inference loads).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from prelib.models.config import LightDistillConfig

TERMS: tuple[str, ...] = ("response", "feature")
"""The distillation terms of the balance."""


def encoder_parameters(student: nn.Module) -> list[nn.Parameter]:
    """Trainable parameters of PRE-Net-Light's stem and down levels (reached by every term)."""
    params = [*student.stem.parameters(), *student.down.parameters()]
    return [p for p in params if p.requires_grad]


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
    config : LightDistillConfig, optional
        The loss's weights and balance (default: the class defaults).
    balancer : nn.Module, optional
        ``combine(task_loss, parts, shared) -> (total, log)`` over :data:`TERMS`
        (:class:`~prelib.training.loss_balance.LossBalancer`); required by ``gradnorm``,
        without one the terms are summed with their fixed weights.
    """

    def __init__(
        self,
        student: nn.Module,
        teacher: nn.Module,
        student_channels: tuple[int, int, int],
        teacher_channels: tuple[int, int, int],
        config: LightDistillConfig | None = None,
        balancer: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.student = student
        self.teacher = teacher.eval()
        for param in self.teacher.parameters():
            param.requires_grad_(False)
        self.adapters = nn.ModuleList(
            nn.Conv2d(s, t, 1) for s, t in zip(student_channels, teacher_channels, strict=True)
        )
        self.config = config = config or LightDistillConfig()
        weights = {"response": config.response_weight, "feature": config.feature_weight}
        self.term_weights = weights if config.weighting == "fixed" else dict.fromkeys(weights, 1.0)
        if balancer is None and config.weighting != "fixed":
            raise ValueError(
                f"weighting={config.weighting!r} needs a balancer "
                "(prelib.training.light.build_light_distillation makes one)"
            )
        self.balancer = balancer

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
        cfg = self.config
        parts = {}
        if cfg.response_weight > 0:
            response = response_loss(student.logits, teacher.logits, valid, cfg.temperature)
            parts["response"] = self.term_weights["response"] * response
        if cfg.feature_weight > 0:
            feature = x.new_zeros(())
            for weight, adapter, s, t in zip(
                cfg.level_weights, self.adapters, student.features, teacher.features, strict=True
            ):
                aligned = adapter(s)
                if aligned.shape[-2:] != t.shape[-2:]:
                    aligned = F.interpolate(aligned, size=t.shape[-2:], mode="bilinear")
                feature = feature + weight * F.mse_loss(
                    _standardise(aligned), _standardise(t.float())
                )
            parts["feature"] = self.term_weights["feature"] * feature
        if self.balancer is None:
            total, balance = task["loss"] + sum(parts.values()), {}
        else:
            total, balance = self.balancer.combine(
                task["loss"], parts, encoder_parameters(self.student)
            )
        out = dict(task)
        out.update({"loss": total, "task_loss": task["loss"].detach()})
        out.update({f"distill_{name}": part.detach() for name, part in parts.items()})
        out.update(balance)
        if student.logits.shape[1] == 2:
            out.update(_rain_fractions(student.logits, teacher.logits, valid))
        return out


@torch.no_grad()
def _rain_fractions(
    student: torch.Tensor, teacher: torch.Tensor, valid: torch.Tensor | None
) -> dict[str, torch.Tensor]:
    """Fractions of (valid) pixels whose argmax is rain, for the student and the teacher."""
    weight = (torch.ones_like(student[:, 0]) if valid is None else valid.to(student.dtype)).float()
    n = weight.sum().clamp(min=1.0)
    return {
        f"{name}_rain_fraction": ((logits.argmax(1) == 1).float() * weight).sum() / n
        for name, logits in (("student", student), ("teacher", teacher))
    }


@torch.no_grad()
def match_rain_fraction(pair: LightDistillation, loader, device) -> dict[str, float]:
    """Set the classifier student's ``rain_logit_offset`` so that, in evaluation mode, it calls
    rain on the same fraction of the valid pixels of ``loader`` as its teacher.

    Parameters
    ----------
    pair : LightDistillation
        Student (a 2-class :class:`~prelib.models.prenet_light.PRENetLight`) and teacher.
    loader : iterable of batches
        ``ir`` (B, 8, H, W) and ``valid`` (B, H, W); labels are not used.
    device : torch.device

    Returns
    -------
    dict
        ``teacher_rain_fraction`` and ``rain_logit_offset`` (added to the student's rain logit).
    """
    student = pair.student
    was_training = student.training
    student.eval()
    student.rain_logit_offset.zero_()
    margins, teacher_rain = [], 0
    for batch in loader:
        x, valid = batch["ir"].to(device), batch["valid"].to(device)
        logits = student(x).logits.float()
        margins.append((logits[:, 1] - logits[:, 0])[valid].cpu())
        teacher_rain += int(((pair.teacher_output(x).logits.argmax(1) == 1) & valid).sum())
    margin = torch.cat(margins)
    if margin.numel() == 0:
        raise ValueError("match_rain_fraction: the loader has no valid pixel")
    k = teacher_rain  # pixels the student should call rain
    ordered = torch.sort(margin, descending=True).values
    if k == 0:
        offset = -float(ordered[0]) - 1e-3
    elif k >= ordered.numel():
        offset = -float(ordered[-1]) + 1e-3
    else:
        offset = -0.5 * float(ordered[k - 1] + ordered[k])
    student.rain_logit_offset.fill_(offset)
    student.train(was_training)
    return {"teacher_rain_fraction": teacher_rain / margin.numel(), "rain_logit_offset": offset}

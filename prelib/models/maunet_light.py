"""MAUNet-Light: teacher–student distillation from a trained MAUNet.

Sharma, Mitra & Ganguly, "MAUNet-Light: A Concise MAUNet Architecture for Bias Correction and
Downscaling of Precipitation Estimates", arXiv 2602.12980 (2026), train a compact student
(≈ 60 % of the teacher's parameters) from a trained MAUNet and name a "knowledge refinement"
variant (MAUNet-Light_KR). Their loss is not public; ours (downscaling_anchors.md §2) is a
regression distillation with **output and feature matching**::

    L = α ℓ(S(x), y) + (1 − α) ℓ(S(x), T(x)) + β Σ_l ‖A_l(F_S^l) − F_T^l‖²

with ℓ the MSE in the transformed space, ``F^l`` the bottleneck and decoder feature maps of
both networks and ``A_l`` learned 1×1 adapters from student to teacher channels.

``kd_mode="refine"`` is our definition of knowledge refinement: the teacher's output term is
applied only at pixels where the teacher is closer to the truth than the student currently is
(``|T − y| < |S − y|``), so the student copies the teacher where the teacher knows better and
learns from the truth alone elsewhere — it is never pulled towards the teacher's errors.

:class:`MAUNetLightDistillation` holds the student, the adapters and the frozen teacher, so that
the common :class:`~prelib.training.trainer.Trainer` trains it like any network
(:func:`prelib.training.downscaling.distil_maunet_light`); its :attr:`~MAUNetLightDistillation.
student` is what is kept afterwards.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from prelib.models.maunet import MAUNet

KD_MODES: tuple[str, ...] = ("standard", "refine")


class FeatureAdapters(nn.ModuleList):
    """1×1 convolutions mapping each student feature map to the teacher's channel count."""

    def __init__(self, student: MAUNet, teacher: MAUNet) -> None:
        pairs = list(zip(student.feature_channels, teacher.feature_channels, strict=True))
        super().__init__(nn.Conv2d(s, t, 1, bias=False) for s, t in pairs)


def distillation_loss(
    student_out: torch.Tensor,
    student_features: list[torch.Tensor],
    teacher_out: torch.Tensor,
    teacher_features: list[torch.Tensor],
    target: torch.Tensor,
    adapters: FeatureAdapters,
    alpha: float = 0.5,
    beta: float = 0.1,
    kd_mode: str = "standard",
) -> tuple[torch.Tensor, dict[str, float]]:
    """The MAUNet-Light loss (module docstring) and its parts.

    Parameters
    ----------
    student_out, teacher_out, target : Tensor ``(B, 1, H, W)``
        Transformed precipitation; the teacher's tensors carry no gradient.
    student_features, teacher_features : list of Tensor
        Matching feature maps (same spatial sizes).
    adapters : FeatureAdapters
    alpha : float
        Weight of the ground-truth term (0…1).
    beta : float
        Weight of the feature term (≥ 0).
    kd_mode : {"standard", "refine"}

    Returns
    -------
    loss : Tensor (scalar)
    parts : dict with ``truth``, ``teacher``, ``features`` (floats)
    """
    if kd_mode not in KD_MODES:
        raise ValueError(f"kd_mode must be one of {list(KD_MODES)}, got {kd_mode!r}")
    if not 0.0 <= alpha <= 1.0 or beta < 0:
        raise ValueError(f"need 0 <= alpha <= 1 and beta >= 0, got alpha={alpha}, beta={beta}")
    truth_term = F.mse_loss(student_out, target)
    teacher_error = (student_out - teacher_out) ** 2
    if kd_mode == "refine":
        trusted = ((teacher_out - target).abs() < (student_out - target).abs()).float().detach()
        teacher_term = (teacher_error * trusted).mean()
    else:
        teacher_term = teacher_error.mean()
    feature_term = sum(
        F.mse_loss(adapter(fs), ft)
        for adapter, fs, ft in zip(adapters, student_features, teacher_features, strict=True)
    ) / len(adapters)
    loss = alpha * truth_term + (1 - alpha) * teacher_term + beta * feature_term
    parts = {
        "truth": float(truth_term.detach()),
        "teacher": float(teacher_term.detach()),
        "features": float(feature_term.detach()),
    }
    return loss, parts


class MAUNetLightDistillation(nn.Module):
    """Student, feature adapters and frozen teacher of one MAUNet-Light distillation.

    The teacher's parameters are frozen here (``requires_grad=False``), so the Trainer keeps it
    in evaluation mode (dropout off, BatchNorm statistics fixed) and optimises only the student
    and the adapters; call :meth:`release_teacher` afterwards to make it trainable again.

    Parameters
    ----------
    student, teacher : MAUNet
        Same ``factor``; the teacher is trained.
    alpha, beta : float
        Weights of the truth and feature terms (see :func:`distillation_loss`).
    kd_mode : {"standard", "refine"}
    """

    def __init__(
        self,
        student: MAUNet,
        teacher: MAUNet,
        alpha: float = 0.5,
        beta: float = 0.1,
        kd_mode: str = "standard",
    ) -> None:
        super().__init__()
        if teacher.config.factor != student.config.factor:
            raise ValueError(
                f"teacher factor {teacher.config.factor} != student factor {student.config.factor}"
            )
        if kd_mode not in KD_MODES:
            raise ValueError(f"kd_mode must be one of {list(KD_MODES)}, got {kd_mode!r}")
        self.student = student
        self.adapters = FeatureAdapters(student, teacher)
        self.teacher = teacher.eval()
        for parameter in self.teacher.parameters():
            parameter.requires_grad_(False)
        self.alpha, self.beta, self.kd_mode = alpha, beta, kd_mode

    def forward(
        self, x: torch.Tensor, target: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """The distillation loss of a batch and its parts.

        Parameters
        ----------
        x : Tensor ``(B, 1, h, w)``
            Transformed coarse input.
        target : Tensor ``(B, 1, H, W)``
            Transformed truth.
        """
        with torch.no_grad():
            teacher_out, teacher_features = self.teacher(x, return_features=True)
        student_out, student_features = self.student(x, return_features=True)
        return distillation_loss(
            student_out,
            student_features,
            teacher_out,
            teacher_features,
            target,
            self.adapters,
            self.alpha,
            self.beta,
            self.kd_mode,
        )

    def release_teacher(self) -> MAUNet:
        """Make the teacher's parameters trainable again (as they were before); returns it."""
        for parameter in self.teacher.parameters():
            parameter.requires_grad_(True)
        return self.teacher

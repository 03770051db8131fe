"""The distiller interface and the feature-distillation terms shared by the methods.

A distiller is an ``nn.Module`` holding its own learnable parts (aligners, MGD's generators) with
one method, :meth:`Distiller.loss`, that turns a student's and the teacher's outputs into a dict of
loss terms. Training code swaps methods by name (:func:`prelib.models.get_distiller`) and adds the
task loss itself::

    terms = distiller.loss(student_out, teacher_out, valid=valid)
    total = task_loss + terms["loss"]

Each distiller also says which student it trains (:attr:`Distiller.student`, a registry name) and
which student-config fields it implies (:attr:`Distiller.student_overrides`), e.g. RMKD is PRE-Net
without DAWE.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from prelib.models.config import DistillConfig
from prelib.models.outputs import StudentOutput, TeacherOutput

PAPER_LEVEL_CHANNELS: tuple[int, int, int] = (128, 256, 512)
"""Channels of the distilled features at strides 2, 4, 8 at paper size."""


def channel_kl(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """Channel-softmax KL divergence ``T² · mean(p_t · (log p_t − log p_s))`` (reference code).

    Parameters
    ----------
    student, teacher : Tensor, shape (B, C, H, W)
        Feature maps; the teacher is detached here.
    temperature : float
        Softmax temperature T (3 in the reference code).

    Returns
    -------
    Tensor, scalar
        Mean over all B·C·H·W elements (PyTorch ``KLDivLoss(reduction="mean")``), times T².
    """
    log_s = F.log_softmax(student / temperature, dim=1)
    log_t = F.log_softmax(teacher.detach() / temperature, dim=1)
    # Written out rather than F.kl_div(reduction="mean"), whose meaning PyTorch plans to change.
    return (log_t.exp() * (log_t - log_s)).mean() * temperature**2


def standardise_channels(features: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Each channel of ``features`` (B, C, H, W) to zero mean and unit variance over B, H, W."""
    mean = features.mean(dim=(0, 2, 3), keepdim=True)
    std = features.std(dim=(0, 2, 3), keepdim=True, unbiased=False)
    return (features - mean) / (std + eps)


def check_pair(student: torch.Tensor, teacher: torch.Tensor, what: str) -> None:
    """Raise ``ValueError`` unless two feature maps share batch and spatial size."""
    if student.ndim != 4 or teacher.ndim != 4:
        raise ValueError(
            f"{what}: expected 4-D feature maps, got {tuple(student.shape)} and "
            f"{tuple(teacher.shape)}"
        )
    if student.shape[0] != teacher.shape[0] or student.shape[-2:] != teacher.shape[-2:]:
        raise ValueError(
            f"{what}: student {tuple(student.shape)} and teacher {tuple(teacher.shape)} must share "
            "(B, H, W); run both on the same patch"
        )


def aligners(student_channels: tuple[int, ...], teacher_channels: tuple[int, ...]) -> nn.ModuleList:
    """Per level: identity when channels match, else a 1 × 1 conv student → teacher channels."""
    if len(student_channels) != len(teacher_channels):
        raise ValueError(
            f"student and teacher must have the same number of distilled levels, got "
            f"{len(student_channels)} and {len(teacher_channels)}"
        )
    return nn.ModuleList(
        nn.Identity() if s == t else nn.Conv2d(s, t, kernel_size=1)
        for s, t in zip(student_channels, teacher_channels, strict=True)
    )


class Distiller(nn.Module):
    """Base class of the distillation methods.

    Parameters
    ----------
    config : DistillConfig, optional
        Loss weights and temperatures (defaults: the paper's λ = 0.2, γ = 50, T = 3).
    student_channels, teacher_channels : tuple of int
        Channels of the three distilled feature levels (paper: 128, 256, 512 for both).

    Attributes
    ----------
    name : str
        Registry name.
    student : str
        Registry name of the student this method trains (``"unet"`` or ``"prenet"``).
    student_overrides : dict
        Student-config fields implied by the method.
    needs_teacher : bool
        False only for ``"none"``.
    """

    name: ClassVar[str] = ""
    student: ClassVar[str] = "prenet"
    student_overrides: ClassVar[dict[str, Any]] = {}
    needs_teacher: ClassVar[bool] = True

    def __init__(
        self,
        config: DistillConfig | None = None,
        student_channels: tuple[int, ...] = PAPER_LEVEL_CHANNELS,
        teacher_channels: tuple[int, ...] = PAPER_LEVEL_CHANNELS,
    ) -> None:
        super().__init__()
        self.config = config or DistillConfig()
        self.student_channels = tuple(student_channels)
        self.teacher_channels = tuple(teacher_channels)

    def loss(
        self,
        student_out: StudentOutput,
        teacher_out: TeacherOutput | None,
        *,
        valid: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Distillation terms.

        Parameters
        ----------
        student_out : StudentOutput
        teacher_out : TeacherOutput or None
            None only for methods with ``needs_teacher = False``.
        valid : Tensor, shape (B, H, W), bool, optional
            Valid label pixels; output-level terms (response KD) are averaged over them.

        Returns
        -------
        dict of str → Tensor
            ``"loss"``: the weighted sum to add to the task loss (differentiable). The other
            entries are the unweighted components, detached, for logging.
        """
        raise NotImplementedError

    def forward(self, student_out, teacher_out, *, valid=None) -> dict[str, torch.Tensor]:
        return self.loss(student_out, teacher_out, valid=valid)

    def _require_teacher(self, teacher_out: TeacherOutput | None) -> TeacherOutput:
        if teacher_out is None:
            raise ValueError(f"distiller {self.name!r} needs the teacher's output, got None")
        return teacher_out

"""Typed outputs of the networks (NamedTuples: iterable, DDP- and torch.compile-friendly)."""

from __future__ import annotations

from typing import NamedTuple

import torch


class TeacherOutput(NamedTuple):
    """What the multimodal teacher returns.

    Attributes
    ----------
    logits : Tensor, shape (B, n_classes, H, W)
        Rain rate in mm h-1 (n_classes = 1) or rain/no-rain logits (2); no activation.
    features : tuple of 3 Tensors
        Encoder features at strides 2, 4, 8: (B, 2w, H/2, W/2), (B, 4w, H/4, W/4),
        (B, 8w, H/8, W/8) with w the base width (paper: 128, 256, 512 channels) — the
        distillation targets.
    """

    logits: torch.Tensor
    features: tuple[torch.Tensor, ...]


class StudentOutput(NamedTuple):
    """What a student (PRE-Net or the plain UNet) returns.

    Attributes
    ----------
    logits : Tensor, shape (B, n_classes, H, W)
    features : tuple of 3 Tensors
        Student encoder features at strides 2, 4, 8, aligned with :class:`TeacherOutput.features`
        (PRE-Net: the masked-conv features F^c_1..3; UNet: its encoder features).
    reconstructions : tuple of Tensors
        PRE-Net: the AE reconstructions F^R_1..3, same shapes as ``features``; UNet: empty.
    self_consistency : Tensor, scalar
        RMKD's self-consistency loss summed over levels (0 in evaluation and without RMKD).
    """

    logits: torch.Tensor
    features: tuple[torch.Tensor, ...]
    reconstructions: tuple[torch.Tensor, ...]
    self_consistency: torch.Tensor

"""The precipitation transform the neural downscalers train in.

Rain rates are heavy-tailed (0 … > 100 mm h-1); networks train on ``log1p(p) / scale`` instead
(our choice, as PrecipDiff normalises but does not say how, downscaling_anchors.md §3). The
inverse clips at 0 so every prediction is a valid rate.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from prelib.config import Config, require_positive

MAX_RATE: float = 500.0
"""Upper clamp of inverse-transformed rates, mm h-1 (our choice): above every recorded hourly
rate (≈ 300 mm h-1), it keeps an untrained or diverging model from returning overflowing values."""

DEFAULT_SCALE: float = 1.0
"""Divisor after ``log1p`` (our choice): log1p of 0–100 mm h-1 spans 0–4.6."""


@dataclasses.dataclass(frozen=True)
class PrecipTransform(Config):
    """``y = log1p(p) / scale`` (``p`` in mm h-1) and its inverse ``expm1(y·scale)`` clipped."""

    scale: float = DEFAULT_SCALE

    def validate(self) -> None:
        require_positive(self, "scale")

    def forward(self, precip: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Transform a rate (numpy or torch, mm h-1) to a float32 tensor."""
        tensor = torch.as_tensor(np.asarray(precip) if not torch.is_tensor(precip) else precip)
        return torch.log1p(tensor.float()) / self.scale

    def inverse(self, values: torch.Tensor) -> torch.Tensor:
        """Back to mm h-1, clipped to ``[0, MAX_RATE]``."""
        return torch.clamp(torch.expm1(values * self.scale), min=0.0, max=MAX_RATE)

"""Task losses on valid pixels, returning the per-pixel loss map that Self-MaskTune needs.

The paper's task losses (prenet_reference.md §5.1): cross-entropy over two logits for the
rain/no-rain classifier (int64 targets, §9.5) and MSE on raw mm h-1 for the regressor, both over
valid (non-NaN label) pixels only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from prelib.conventions import RAIN_THRESHOLD

LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], dict[str, torch.Tensor]]


def _check(output: torch.Tensor, target: torch.Tensor, valid: torch.Tensor, channels: int) -> None:
    if output.ndim != 4 or output.shape[1] != channels:
        raise ValueError(
            f"expected model output of shape (B, {channels}, H, W), got {tuple(output.shape)}"
        )
    expected = (output.shape[0], *output.shape[2:])
    for name, tensor in (("target", target), ("valid", valid)):
        if tuple(tensor.shape) != expected:
            raise ValueError(f"{name} must have shape {expected}, got {tuple(tensor.shape)}")


def _reduce(pixel_loss: torch.Tensor, valid: torch.Tensor) -> dict[str, torch.Tensor]:
    n_valid = valid.sum()
    # Invalid pixels contribute exactly 0 (not NaN·0) so an all-invalid batch gives loss 0 and
    # no gradient instead of NaN; the trainer counts valid pixels and refuses an all-invalid epoch.
    safe = torch.where(valid, pixel_loss, torch.zeros_like(pixel_loss))
    loss = safe.sum() / n_valid.clamp(min=1)
    loss_map = torch.where(valid, pixel_loss.detach(), torch.full_like(pixel_loss, torch.nan))
    return {"loss": loss, "loss_map": loss_map, "n_valid": n_valid.detach()}


def masked_mse(
    output: torch.Tensor, target: torch.Tensor, valid: torch.Tensor
) -> dict[str, torch.Tensor]:
    """MSE in (mm h-1)² over valid pixels.

    Parameters
    ----------
    output : Tensor, shape (B, 1, H, W)
        Predicted rain rate, mm h-1.
    target : Tensor, shape (B, H, W)
        Label, mm h-1 (values at invalid pixels are ignored, NaN allowed).
    valid : Tensor, shape (B, H, W), bool

    Returns
    -------
    dict
        ``loss`` (scalar), ``loss_map`` (B, H, W; NaN where invalid), ``n_valid`` (scalar).
    """
    _check(output, target, valid, 1)
    valid = valid.bool() & torch.isfinite(target)
    target = torch.where(valid, target, torch.zeros_like(target))
    return _reduce((output[:, 0].float() - target.float()) ** 2, valid)


def masked_cross_entropy(
    output: torch.Tensor, target: torch.Tensor, valid: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Two-class cross-entropy over valid pixels.

    Parameters
    ----------
    output : Tensor, shape (B, 2, H, W)
        Logits (no rain, rain).
    target : Tensor, shape (B, H, W)
        Class labels (int64 0/1), or rain rates in mm h-1 which are turned into classes with
        ``RAIN_THRESHOLD`` (≥ 0.1 mm h-1 is rain).
    valid : Tensor, shape (B, H, W), bool
    """
    _check(output, target, valid, 2)
    valid = valid.bool()
    if target.is_floating_point():
        valid = valid & torch.isfinite(target)
        target = torch.where(valid, target, torch.zeros_like(target)) >= RAIN_THRESHOLD
    classes = target.long().clamp(0, 1)
    pixel_loss = F.cross_entropy(output.float(), classes, reduction="none")
    return _reduce(pixel_loss, valid)


TASK_LOSSES: dict[str, LossFn] = {"mse": masked_mse, "cross_entropy": masked_cross_entropy}


def make_step_fn(
    loss: str | LossFn = "mse",
    input_key: str = "ir",
    target_key: str = "precip",
    valid_key: str = "valid",
    mask_key: str = "mask",
) -> Callable[[torch.nn.Module, dict[str, Any]], dict[str, torch.Tensor]]:
    """A trainer step function ``step(model, batch) -> dict`` from a task loss.

    The model is called as ``model(batch[input_key])``, or ``model(x, mask)`` when the trainer's
    mask strategy put a base mask under ``mask_key``. A tuple output's first element is used
    (PRE-Net returns ``(logits, features, sc_loss)``). A missing ``valid`` key means every finite
    label is valid.
    """
    loss_fn = TASK_LOSSES[loss] if isinstance(loss, str) else loss

    def step(model: torch.nn.Module, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        x = batch[input_key]
        output = model(x, batch[mask_key]) if mask_key in batch else model(x)
        if isinstance(output, tuple | list):
            output = output[0]
        target = batch[target_key]
        valid = batch.get(valid_key)
        if valid is None:
            valid = (
                torch.isfinite(target)
                if target.is_floating_point()
                else torch.ones_like(target, dtype=torch.bool)
            )
        return loss_fn(output, target, valid)

    return step

"""Gaussian input noise for the robustness experiment (the paper's Table 7).

The paper injects "additive" and "multiplicative" Gaussian noise into the inputs without giving σ
(prenet_reference.md §10). Here both act on the infrared brightness temperatures **in kelvin**:

* additive: ``Tb + σ_K · ε``;
* multiplicative: ``Tb · (1 + σ_rel · ε)``, with ``ε ~ N(0, 1)`` drawn per pixel and channel.

Networks see normalised inputs ``(Tb − offset) / scale`` (``prelib.conventions.IR_NORM``), so
:func:`perturb_normalised_ir` converts to kelvin, perturbs and converts back; missing pixels
(filled with 0 after normalisation and flagged by ``input_valid``) are left untouched.
"""

from __future__ import annotations

import numpy as np
import torch

from prelib.conventions import IR_NORM

NOISE_KINDS: tuple[str, ...] = ("none", "additive", "multiplicative")


def _check(kind: str, sigma: float) -> None:
    if kind not in NOISE_KINDS:
        raise ValueError(f"noise kind must be one of {list(NOISE_KINDS)}, got {kind!r}")
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"noise sigma must be finite and >= 0, got {sigma!r}")


def perturb_kelvin(
    ir_k: np.ndarray, kind: str, sigma: float, rng: np.random.Generator
) -> np.ndarray:
    """Brightness temperatures with Gaussian noise.

    Parameters
    ----------
    ir_k : numpy.ndarray
        Any shape, K; NaN (missing) stays NaN.
    kind : {"none", "additive", "multiplicative"}
    sigma : float
        K for ``additive``; relative (dimensionless) for ``multiplicative``.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        Same shape, float32, K.
    """
    _check(kind, sigma)
    ir_k = np.asarray(ir_k, dtype=np.float32)
    if kind == "none" or sigma == 0:
        return ir_k.copy()
    eps = rng.standard_normal(ir_k.shape).astype(np.float32)
    if kind == "additive":
        return ir_k + np.float32(sigma) * eps
    return ir_k * (np.float32(1.0) + np.float32(sigma) * eps)


def perturb_normalised_ir(
    ir: torch.Tensor, input_valid: torch.Tensor, kind: str, sigma: float, rng: np.random.Generator
) -> torch.Tensor:
    """Noise on a normalised IR batch, applied in kelvin.

    Parameters
    ----------
    ir : Tensor, shape (B, C, H, W)
        ``(Tb − offset) / scale`` with missing pixels filled with 0.
    input_valid : Tensor of bool, shape (B, H, W)
        Pixels whose inputs are all finite; others are left as they are.
    kind, sigma, rng
        As in :func:`perturb_kelvin`.

    Returns
    -------
    Tensor, shape (B, C, H, W)
        The perturbed, re-normalised batch (float32, same device).
    """
    if ir.ndim != 4:
        raise ValueError(f"ir must be (B, C, H, W), got {tuple(ir.shape)}")
    offset, scale = IR_NORM
    kelvin = ir.detach().cpu().numpy().astype(np.float32) * np.float32(scale) + np.float32(offset)
    noisy = (perturb_kelvin(kelvin, kind, sigma, rng) - np.float32(offset)) / np.float32(scale)
    keep = ~input_valid.detach().cpu().numpy().astype(bool)[:, None]
    noisy = np.where(keep, ir.detach().cpu().numpy(), noisy)
    return torch.from_numpy(noisy.astype(np.float32)).to(ir.device)

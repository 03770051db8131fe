"""One-level 2-D Haar discrete wavelet transform in torch, equal to PyWavelets' ``dwt2``.

PRE-Net's DAWE branch (Wang et al., KDD 2025, Eqs. 4–5) decomposes a feature map into the Haar
sub-bands LL, LH, HL and HH and keeps the three high-frequency (detail) bands. This module gives
that transform as differentiable torch code whose filter bank is read from PyWavelets
(``pywt.Wavelet("haar").dec_lo`` / ``dec_hi``) and whose output is tested against
``pywt.dwt2(x, "haar", mode=mode, axes=(-2, -1))``.

Odd sizes
---------
A length-2 filter with stride 2 needs an even length. For an odd axis of length ``n`` the signal
is extended by one sample *exactly as PyWavelets extends it* in the chosen ``mode`` and the
transform returns ``ceil(n / 2)`` coefficients, like ``pywt.dwt2``:

* ``"symmetric"`` (PyWavelets' default), ``"periodization"`` and ``"constant"`` repeat the last
  sample (for the Haar filter they coincide),
* ``"zero"`` appends 0, ``"reflect"`` appends ``x[n-2]``, ``"periodic"`` appends ``x[0]``.

Even lengths give ``n / 2`` coefficients, identical in every mode. PRE-Net's encoder floors odd
sizes (2 × 2 max-pooling: a 49-wide swath becomes 24 wide), so the DAWE branch crops the
``ceil(n / 2)`` grid to the encoder's ``floor(n / 2)`` grid, which drops exactly the coefficient
that depends on the extension (see :mod:`prelib.models.dawe`).
"""

from __future__ import annotations

from functools import cache

import torch

MODES: tuple[str, ...] = ("symmetric", "periodization", "constant", "zero", "reflect", "periodic")
"""PyWavelets extension modes supported for odd sizes."""


@cache
def haar_filters() -> tuple[tuple[float, float], tuple[float, float]]:
    """The Haar decomposition filters ``(dec_lo, dec_hi)`` as PyWavelets defines them.

    Returns
    -------
    tuple of two (float, float)
        Low-pass ``[1, 1] / sqrt(2)`` and high-pass ``[-1, 1] / sqrt(2)`` in PyWavelets' order
        (convolution filters: coefficient ``k`` is ``f[0] * x[2k+1] + f[1] * x[2k]``).
    """
    import pywt

    wavelet = pywt.Wavelet("haar")
    lo, hi = tuple(wavelet.dec_lo), tuple(wavelet.dec_hi)
    if len(lo) != 2 or len(hi) != 2:  # pragma: no cover - PyWavelets' Haar is length 2
        raise ValueError(f"expected length-2 Haar filters, got {len(lo)} and {len(hi)}")
    return (lo[0], lo[1]), (hi[0], hi[1])


def _extend_odd(x: torch.Tensor, dim: int, mode: str) -> torch.Tensor:
    """Append one sample along ``dim`` when its length is odd, following PyWavelets' ``mode``."""
    n = x.shape[dim]
    if n % 2 == 0:
        return x
    if mode in ("symmetric", "periodization", "constant"):
        extra = x.narrow(dim, n - 1, 1)
    elif mode == "zero":
        extra = torch.zeros_like(x.narrow(dim, n - 1, 1))
    elif mode == "reflect":
        extra = x.narrow(dim, max(n - 2, 0), 1)
    else:  # periodic
        extra = x.narrow(dim, 0, 1)
    return torch.cat([x, extra], dim=dim)


def _analysis(x: torch.Tensor, dim: int, mode: str) -> tuple[torch.Tensor, torch.Tensor]:
    """One-level 1-D Haar analysis along ``dim``: (approximation, detail)."""
    (lo0, lo1), (hi0, hi1) = haar_filters()
    x = _extend_odd(x, dim, mode)
    pairs = x.unfold(dim, 2, 2)  # (..., n/2, ..., 2)
    first, second = pairs[..., 0], pairs[..., 1]
    # PyWavelets convolves: c[k] = f[0]·x[2k+1] + f[1]·x[2k] (same operand order for exactness).
    return lo0 * second + lo1 * first, hi0 * second + hi1 * first


def haar_dwt2(
    x: torch.Tensor, mode: str = "symmetric"
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """One-level 2-D Haar DWT over the last two dimensions, equal to ``pywt.dwt2``.

    Parameters
    ----------
    x : Tensor, shape (..., H, W)
        Any floating tensor, e.g. a feature map (B, C, H, W). Differentiable.
    mode : str
        PyWavelets extension mode for odd sizes, one of :data:`MODES`.

    Returns
    -------
    (LL, (LH, HL, HH)) : Tensors of shape (..., ceil(H/2), ceil(W/2))
        PyWavelets' ``(cA, (cH, cV, cD))``: approximation; detail high-pass along H (rows) and
        low-pass along W ("horizontal" detail); low-pass along H and high-pass along W
        ("vertical" detail); high-pass along both (diagonal).

    Raises
    ------
    ValueError
        If ``x`` has fewer than 2 dimensions, an empty spatial axis, or ``mode`` is unknown.
    """
    if mode not in MODES:
        raise ValueError(f"unknown DWT mode {mode!r}; expected one of {list(MODES)}")
    if x.ndim < 2 or x.shape[-1] == 0 or x.shape[-2] == 0:
        raise ValueError(
            f"expected a tensor of shape (..., H, W) with H, W >= 1, got {tuple(x.shape)}"
        )
    if mode == "reflect" and min(x.shape[-2:]) < 2:
        raise ValueError(f"mode 'reflect' needs H, W >= 2 (as in PyWavelets), got {tuple(x.shape)}")
    if not torch.is_floating_point(x):
        x = x.to(torch.get_default_dtype())
    # PyWavelets transforms axes in the order given (-2 first, then -1); so do we.
    low_h, high_h = _analysis(x, x.ndim - 2, mode)
    ll, hl = _analysis(low_h, x.ndim - 1, mode)
    lh, hh = _analysis(high_h, x.ndim - 1, mode)
    return ll, (lh, hl, hh)


def haar_details(x: torch.Tensor, mode: str = "symmetric") -> torch.Tensor:
    """The three Haar detail bands stacked on the channel axis.

    Parameters
    ----------
    x : Tensor, shape (B, C, H, W)

    Returns
    -------
    Tensor, shape (B, 3C, ceil(H/2), ceil(W/2))
        ``cat([LH, HL, HH], dim=1)``: channels ``0..C-1`` are LH, ``C..2C-1`` HL, ``2C..3C-1`` HH.
    """
    if x.ndim != 4:
        raise ValueError(f"expected a 4-D tensor (B, C, H, W), got shape {tuple(x.shape)}")
    _, details = haar_dwt2(x, mode)
    return torch.cat(details, dim=1)

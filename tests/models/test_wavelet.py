"""The torch Haar DWT equals PyWavelets' dwt2, odd sizes included."""

from __future__ import annotations

import numpy as np
import pytest
import pywt
import torch

from prelib.models.wavelet import MODES, haar_details, haar_dwt2, haar_filters


def test_filters_come_from_pywavelets():
    lo, hi = haar_filters()
    assert lo == tuple(pywt.Wavelet("haar").dec_lo)
    assert hi == tuple(pywt.Wavelet("haar").dec_hi)


SHAPES = [(8, 6), (7, 9), (3, 2, 49, 17), (256, 49), (2, 1)]
CASES = [(s, m) for s in SHAPES for m in MODES if not (m == "reflect" and min(s[-2:]) < 2)]


@pytest.mark.parametrize(("shape", "mode"), CASES)
def test_dwt2_equals_pywt_exactly(shape, mode):
    data = np.random.default_rng(sum(shape)).normal(size=shape)
    ca, (ch, cv, cd) = pywt.dwt2(data, "haar", mode=mode, axes=(-2, -1))
    ll, (lh, hl, hh) = haar_dwt2(torch.from_numpy(data), mode)
    for expected, got in ((ca, ll), (ch, lh), (cv, hl), (cd, hh)):
        assert got.shape == expected.shape
        np.testing.assert_array_equal(got.numpy(), expected)


def test_details_stack_lh_hl_hh_and_are_differentiable():
    x = torch.randn(2, 3, 9, 10, dtype=torch.float64, requires_grad=True)
    details = haar_details(x)
    assert details.shape == (2, 9, 5, 5)
    _, (lh, hl, hh) = haar_dwt2(x)
    torch.testing.assert_close(details, torch.cat([lh, hl, hh], dim=1))
    details.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_constant_image_has_no_details():
    details = haar_details(torch.full((1, 2, 6, 6), 3.0))
    assert torch.count_nonzero(details) == 0


def test_bad_input_raises():
    with pytest.raises(ValueError, match="mode"):
        haar_dwt2(torch.zeros(4, 4), mode="wrap")
    with pytest.raises(ValueError, match="reflect"):
        haar_dwt2(torch.zeros(1, 4), mode="reflect")
    with pytest.raises(ValueError, match="4-D"):
        haar_details(torch.zeros(4, 4))

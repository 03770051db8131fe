"""The Table 7 perturbations are what they say: additive in K, multiplicative relative."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from prelib.conventions import IR_NORM
from prelib.evaluation.noise import perturb_kelvin, perturb_normalised_ir


def _ir(shape=(4, 8, 64, 64), seed=1):
    return np.random.default_rng(seed).uniform(190.0, 300.0, shape).astype(np.float32)


def test_additive_noise_is_in_kelvin():
    ir = _ir()
    diff = perturb_kelvin(ir, "additive", 2.0, np.random.default_rng(0)) - ir
    assert abs(diff.mean()) < 0.02 and abs(diff.std() - 2.0) < 0.02
    # independent of the temperature
    cold, warm = diff[ir < 220], diff[ir > 270]
    assert abs(cold.std() - warm.std()) < 0.05


def test_multiplicative_noise_is_relative():
    ir = _ir()
    noisy = perturb_kelvin(ir, "multiplicative", 0.01, np.random.default_rng(0))
    ratio = noisy / ir - 1.0
    assert abs(ratio.mean()) < 1e-3 and abs(ratio.std() - 0.01) < 2e-4
    diff = noisy - ir
    assert diff[ir > 270].std() > 1.2 * diff[ir < 220].std()  # scales with Tb


def test_none_and_zero_sigma_leave_input_and_nan_stays_nan():
    ir = _ir((1, 8, 4, 4))
    ir[0, 0, 0, 0] = np.nan
    assert np.array_equal(
        perturb_kelvin(ir, "none", 5.0, np.random.default_rng(0)), ir, equal_nan=True
    )
    assert np.isnan(perturb_kelvin(ir, "additive", 1.0, np.random.default_rng(0))[0, 0, 0, 0])


def test_normalised_batch_noise_is_in_kelvin_and_spares_missing_pixels():
    offset, scale = IR_NORM
    kelvin = _ir((2, 8, 32, 32))
    ir = torch.from_numpy((kelvin - offset) / scale)
    valid = torch.ones(2, 32, 32, dtype=torch.bool)
    valid[0, :4] = False
    out = perturb_normalised_ir(ir, valid, "additive", 1.5, np.random.default_rng(0))
    diff_k = (out - ir).numpy() * scale
    assert abs(diff_k[1].std() - 1.5) < 0.05
    assert np.all(diff_k[0, :, :4] == 0)


def test_bad_noise_arguments():
    with pytest.raises(ValueError, match="noise kind"):
        perturb_kelvin(_ir((1, 8, 2, 2)), "gaussian", 1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="sigma"):
        perturb_kelvin(_ir((1, 8, 2, 2)), "additive", -1.0, np.random.default_rng(0))

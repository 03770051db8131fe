"""prelib's RAPSD, spectral slope and RainFARM against pysteps' implementations (optional).

Where they are equal (the radially averaged spectrum of square fields) the test asks for
float-precision equality; where they differ by construction (RainFARM's noise and random
numbers, the slope estimators) it asks for the same statistics. The numbers behind the
tolerances are printed by ``benchmarks/pysteps_crosscheck.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from prelib.baselines.rainfarm import rainfarm_downscale
from prelib.data.precip_grids import coarsen
from prelib.metrics.spectrum import radial_power_spectrum, spectral_slope

pysteps_rainfarm = pytest.importorskip("pysteps.downscaling.rainfarm")
pysteps_spectral = pytest.importorskip("pysteps.utils.spectral")


def _power_law(shape, alpha, rng):
    ky = np.fft.fftfreq(shape[-2]) * shape[-2]
    kx = np.fft.fftfreq(shape[-1]) * shape[-1]
    k = np.hypot(*np.meshgrid(ky, kx, indexing="ij"))
    amplitude = np.where(k > 0, np.maximum(k, 1e-9) ** (-alpha / 2.0), 0.0)
    return np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal(shape)) * amplitude))


@pytest.mark.parametrize("size", [64, 63])
def test_rapsd_equals_pysteps_on_square_fields(size):
    field = np.random.default_rng(size).gamma(0.5, 2.0, (size, size))
    k, ours = radial_power_spectrum(field)
    theirs = pysteps_spectral.rapsd(field - field.mean(), fft_method=np.fft)
    # pysteps: bins 0 … l/2 - 1 (even l) or l/2 (odd l); prelib: 1 … min/2
    n = min(len(ours), len(theirs) - 1)
    assert n >= size // 2 - 1
    np.testing.assert_allclose(ours[:n], theirs[1 : n + 1], rtol=1e-10)
    np.testing.assert_array_equal(k[:n], np.arange(1, n + 1))


def test_spectral_slopes_agree_on_power_law_fields():
    rng = np.random.default_rng(1)
    alpha = 2.5
    ours, theirs = [], []
    for _ in range(10):
        field = _power_law((64, 64), alpha, rng)
        ours.append(spectral_slope(field))
        theirs.append(pysteps_rainfarm.downscale(field, 2, return_alpha=True)[1])
    # measured: prelib 2.41 ± 0.07 (annulus averaging flattens the lowest wavenumbers),
    # pysteps 2.49 ± 0.10 (fit over every coefficient, outer sixths of log k trimmed)
    assert abs(np.mean(theirs) - alpha) < 0.1
    assert abs(np.mean(ours) - alpha) < 0.2
    assert abs(np.mean(ours) - np.mean(theirs)) < 0.2


def test_rainfarm_matches_pysteps_statistics_at_the_same_slope(rain_fields):
    factor, members, alpha = 8, 12, 2.0
    coarse = coarsen(rain_fields(1, 128, seed=3)[0].astype(np.float64), factor, "mean")
    ours = rainfarm_downscale(coarse, factor, alpha=alpha, n_members=members, seed=0)
    theirs = []
    for member in range(members):
        np.random.seed(member)  # noqa: NPY002 (pysteps draws from NumPy's global generator)
        theirs.append(pysteps_rainfarm.downscale(coarse, factor, alpha=alpha))
    theirs = np.stack(theirs)
    for output in (ours, theirs):  # both conserve every coarse box and keep dry boxes dry
        for member in output:
            np.testing.assert_allclose(
                coarsen(member, factor, "mean"), coarse, rtol=1e-4, atol=1e-5
            )
        assert (output[:, np.repeat(np.repeat(coarse, factor, 0), factor, 1) == 0] == 0).all()
    k, p_ours = radial_power_spectrum(ours)
    _, p_theirs = radial_power_spectrum(theirs)
    small = k > len(k) / factor
    slope_ours = -np.polyfit(np.log(k[small]), np.log(p_ours[small]), 1)[0]
    slope_theirs = -np.polyfit(np.log(k[small]), np.log(p_theirs[small]), 1)[0]
    assert abs(slope_ours - slope_theirs) < 0.2
    assert p_ours[small].sum() == pytest.approx(p_theirs[small].sum(), rel=0.2)
    wet_ours, wet_theirs = (ours >= 0.1).mean(), (theirs >= 0.1).mean()
    assert wet_ours == pytest.approx(wet_theirs, abs=0.05)

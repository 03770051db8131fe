import numpy as np
import pytest

from prelib.sim.noise import power_law_noise


def _spectral_slope(field: np.ndarray) -> float:
    power = np.abs(np.fft.fft2(field)) ** 2
    ky = np.fft.fftfreq(field.shape[0])[:, None]
    kx = np.fft.fftfreq(field.shape[1])[None, :]
    k = np.hypot(ky, kx)
    bins = np.logspace(np.log10(0.02), np.log10(0.3), 12)
    which = np.digitize(k.ravel(), bins)
    centres, means = [], []
    for i in range(1, len(bins)):
        sel = which == i
        centres.append(k.ravel()[sel].mean())
        means.append(power.ravel()[sel].mean())
    return -np.polyfit(np.log(centres), np.log(means), 1)[0]


@pytest.mark.parametrize("beta", [2.0, 3.0])
def test_standardised_with_requested_slope(beta):
    field = power_law_noise(np.random.default_rng(0), (256, 256), beta)
    # float32 fields (the simulator runs in single precision)
    assert field.dtype == np.float32
    assert abs(field.mean()) < 1e-5 and abs(field.std() - 1) < 1e-5
    assert abs(_spectral_slope(field) - beta) < 0.3


def test_band_limits_remove_scales():
    rng = np.random.default_rng(1)
    smooth = power_law_noise(rng, (128, 128), 2.0, (4.0, 4.0), min_wavelength_km=100.0)
    rough = power_law_noise(rng, (128, 128), 2.0, (4.0, 4.0), max_wavelength_km=20.0)
    # Neighbour differences: large for the high-passed field, tiny for the low-passed one.
    assert np.std(np.diff(smooth, axis=0)) < 0.2 < np.std(np.diff(rough, axis=0))


def test_too_small_field():
    with pytest.raises(ValueError, match="2 x 2"):
        power_law_noise(np.random.default_rng(0), (1, 10), 3.0)

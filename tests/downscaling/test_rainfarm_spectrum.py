import numpy as np
import pytest

from prelib.baselines.rainfarm import rainfarm_downscale
from prelib.data.precip_grids import coarsen
from prelib.metrics.spectrum import small_scale_power_ratio, spectral_slope


def test_spectral_slope_of_power_law_field(rain_fields):
    rng = np.random.default_rng(0)
    size, alpha = 128, 3.0
    k = np.fft.fftfreq(size) * size
    radius = np.hypot(*np.meshgrid(k, k, indexing="ij"))
    amplitude = np.where(radius > 0, np.maximum(radius, 1e-9) ** (-alpha / 2), 0)
    fields = np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal((8, size, size))) * amplitude))
    assert spectral_slope(fields, 2, 40) == pytest.approx(alpha, abs=0.25)
    assert rain_fields(1, 8).shape == (1, 8, 8)


@pytest.mark.parametrize("alpha", [1.5, 2.5, 3.5])
def test_spectral_slope_is_unbiased_on_small_power_law_fields(alpha):
    """Annulus means biased the fit low by 0.06-0.13 here; the per-coefficient fit does not."""
    rng = np.random.default_rng(1)
    size = 64
    k = np.fft.fftfreq(size) * size
    radius = np.hypot(*np.meshgrid(k, k, indexing="ij"))
    amplitude = np.where(radius > 0, np.maximum(radius, 1e-9) ** (-alpha / 2), 0)
    slopes = [
        spectral_slope(
            np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal((size, size))) * amplitude))
        )
        for _ in range(40)
    ]
    assert np.mean(slopes) == pytest.approx(alpha, abs=0.05)


def test_rainfarm_conserves_mass_is_seeded_and_keeps_dry_boxes(rain_fields):
    coarse = coarsen(rain_fields(1, 80)[0], 10, "mean")
    coarse[0, 0] = 0.0
    members = rainfarm_downscale(coarse, 10, n_members=3, seed=4)
    assert members.shape == (3, 80, 80)
    for member in members:
        np.testing.assert_allclose(coarsen(member, 10, "mean"), coarse, rtol=1e-4, atol=1e-5)
    assert members[:, :10, :10].max() == 0.0
    assert not np.allclose(members[0], members[1])
    np.testing.assert_array_equal(members, rainfarm_downscale(coarse, 10, n_members=3, seed=4))
    # fine-scale variability is added: more small-scale power than the flat block field
    block = np.repeat(np.repeat(coarse, 10, 0), 10, 1)
    truth_like = rain_fields(1, 80)[0]
    ratio_rf = small_scale_power_ratio(members[0], truth_like, 10)
    ratio_block = small_scale_power_ratio(block, truth_like, 10)
    assert ratio_rf > ratio_block


def test_rainfarm_errors():
    with pytest.raises(ValueError, match="n_members"):
        rainfarm_downscale(np.ones((4, 4)), 2, n_members=0)
    with pytest.raises(ValueError, match="negative"):
        rainfarm_downscale(-np.ones((4, 4)), 2)

import numpy as np
import pytest

from prelib.data.precip_grids import coarsen
from prelib.downscaling.bias_model import BiasModel, add_drizzle, compress_intensity

OFF = dict(
    multiplicative=1.0, displacement_px=(0.0, 0.0), drizzle_rate=0.0, gamma=1.0, noise_std=0.0
)


def test_identity_is_block_mean(rain_fields):
    fine = rain_fields(2, 40)
    np.testing.assert_allclose(BiasModel.identity().apply(fine, 10), coarsen(fine, 10, "mean"))


def test_multiplicative_scales_every_rate(rain_fields):
    fine = rain_fields(2, 40)
    out = BiasModel(**{**OFF, "multiplicative": 0.5}).apply(fine, 10)
    np.testing.assert_allclose(out, 0.5 * coarsen(fine, 10, "mean"), rtol=1e-6)


def test_displacement_moves_the_rain():
    fine = np.zeros((1, 40, 40), dtype=np.float32)
    fine[0, 10:20, 10:20] = 5.0  # one wet coarse cell at (1, 1)
    out = BiasModel(**{**OFF, "displacement_px": (10.0, -10.0)}).apply(fine, 10)
    assert out[0, 2, 0] == pytest.approx(5.0)
    assert out[0, 1, 1] == 0.0


def test_intensity_compression_lowers_heavy_raises_light_keeps_dry():
    field = np.array([[0.0, 0.5, 2.0, 20.0]], dtype=np.float32)
    out = compress_intensity(field, 0.7, 2.0)
    assert out[0, 0] == 0.0
    assert out[0, 1] > 0.5
    assert out[0, 2] == pytest.approx(2.0)
    assert out[0, 3] < 20.0
    assert np.all(np.diff(out[0]) > 0)


def test_drizzle_only_near_rain():
    field = np.zeros((6, 6), dtype=np.float32)
    field[0, 0] = 3.0
    out = add_drizzle(field, 0.2, 1)
    assert out[0, 1] == pytest.approx(0.2) and out[1, 1] == pytest.approx(0.2)
    assert out[0, 0] == 3.0
    assert out[3:, 3:].max() == 0.0


def test_noise_is_seeded_and_validation():
    fine = np.ones((1, 20, 20), dtype=np.float32)
    model = BiasModel(**{**OFF, "noise_std": 0.3})
    np.testing.assert_array_equal(model.apply(fine, 10, seed=1), model.apply(fine, 10, seed=1))
    assert not np.array_equal(model.apply(fine, 10, seed=1), model.apply(fine, 10, seed=2))
    with pytest.raises(ValueError, match="gamma"):
        BiasModel(gamma=0.0)
    with pytest.raises(ValueError, match="negative"):
        BiasModel().apply(-fine, 10)
    with pytest.raises(ValueError, match="does not divide"):
        BiasModel().apply(fine, 3)

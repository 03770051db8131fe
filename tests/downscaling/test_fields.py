import numpy as np
import pytest

from prelib.data.precip_grids import check_factor, check_grids, check_precip, coarsen, upsample


def test_check_precip_rejects_negative_nan_and_inf():
    with pytest.raises(ValueError, match="negative"):
        check_precip(np.array([[0.0, -1.0]]))
    with pytest.raises(ValueError, match="NaN"):
        check_precip(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="infinite"):
        check_precip(np.array([[0.0, np.inf]]))
    assert np.isnan(check_precip(np.array([[0.0, np.nan]]), allow_nan=True)).sum() == 1


def test_factor_must_divide_and_grids_must_match():
    with pytest.raises(ValueError, match="does not divide"):
        check_factor(3, (10, 9))
    with pytest.raises(ValueError, match="positive integer"):
        check_factor(0)
    with pytest.raises(ValueError, match="grids do not match"):
        check_grids((4, 4), (40, 30), 10)
    check_grids((4, 3), (40, 30), 10)


def test_coarsen_max_and_mean():
    field = np.arange(16, dtype=np.float32).reshape(4, 4)
    assert coarsen(field, 2, "max").tolist() == [[5, 7], [13, 15]]
    assert coarsen(field, 2, "mean").tolist() == [[2.5, 4.5], [10.5, 12.5]]
    with pytest.raises(ValueError, match="method"):
        coarsen(field, 2, "median")


def test_upsample_shapes_conserves_constant_and_bicubic_non_negative(rain_fields):
    coarse = rain_fields(2, 8)
    for method in ("nearest", "bilinear", "bicubic"):
        fine = upsample(coarse, 4, method)
        assert fine.shape == (2, 32, 32)
        assert (fine >= 0).all()
    np.testing.assert_allclose(upsample(np.full((3, 3), 2.0), 5, "bicubic"), 2.0, atol=1e-5)
    np.testing.assert_array_equal(coarsen(upsample(coarse, 4, "nearest"), 4, "mean"), coarse)

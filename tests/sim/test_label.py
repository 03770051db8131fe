import numpy as np
import pytest

from prelib.sim.label import cldas_cell_index, cldas_label


def test_box_mean_over_cldas_cells():
    # 0.02° pixels: cells of 0.0625° hold 3-4 pixels along each axis.
    lat1 = 30.0 + (np.arange(32) + 0.5) * 0.02
    lon1 = 110.0 + (np.arange(32) + 0.5) * 0.02
    lon, lat = np.meshgrid(lon1, lat1)
    rate = np.random.default_rng(0).gamma(0.5, 2.0, lat.shape)
    label = cldas_label(rate, lat, lon)
    cells = cldas_cell_index(lat, lon)
    for cell in np.unique(cells)[:20]:
        sel = cells == cell
        np.testing.assert_allclose(label[sel], rate[sel].mean())
    assert label.mean() == pytest.approx(rate.mean(), rel=0.05)
    np.testing.assert_allclose(cldas_label(np.full(lat.shape, 2.0), lat, lon), 2.0)


def test_bad_inputs():
    lat = np.zeros((2, 2)) + 30.0
    with pytest.raises(ValueError, match="shape"):
        cldas_label(np.zeros((3, 2)), lat, lat)
    with pytest.raises(ValueError, match="NaN"):
        cldas_label(np.full((2, 2), np.nan), lat, lat + 80.0)

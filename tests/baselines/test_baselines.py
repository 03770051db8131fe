"""Classical IR baselines: formulas, CCS segmentation, skill over a constant, save/load."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prelib import conventions as cv
from prelib.baselines import BASELINES, get_baseline, load_baseline
from prelib.baselines.auto_estimator import auto_estimator_rate
from prelib.baselines.base import WINDOW_INDEX
from prelib.baselines.cloud_patches import patch_features, segment_cloud_patches


def _stack(tb: np.ndarray) -> np.ndarray:
    """(N, H, W) window Tb → (N, 8, H, W) with plausible other channels."""
    offsets = np.array([15.0, 15.0, -40.0, -25.0, -2.0, 0.0, -1.5, -12.0])
    return (tb[:, None] + offsets[:, None, None]).astype(np.float32)


def _synthetic(n: int = 8, size: int = 48, seed: int = 0):
    """Cold Gaussian cloud cores; rain grows with coldness below 240 K (a clean Tb–R relation)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:size, :size]
    tb = np.full((n, size, size), 285.0) + rng.normal(0, 1.0, (n, size, size))
    for i in range(n):
        for _ in range(3):
            cy, cx = rng.uniform(0, size, 2)
            depth, width = rng.uniform(40, 90), rng.uniform(15, 60)
            tb[i] -= depth * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / width)
    rain = 0.02 * np.maximum(240.0 - tb, 0.0) ** 1.5
    return _stack(tb), rain.astype(np.float32)


def test_gpi_formula_on_known_temperatures():
    tb = np.array([200.0, 234.9, 235.0, 280.0]).reshape(1, 1, 4)
    assert get_baseline("gpi").fit(_stack(tb), np.zeros((1, 1, 4))).predict(
        _stack(tb)
    ).ravel().tolist() == [3.0, 3.0, 0.0, 0.0]


def test_auto_estimator_formula_on_known_temperatures():
    for t in (200.0, 220.0, 240.0, 260.0):
        expected = 1.1183e11 * math.exp(-3.6382e-2 * t**1.2)
        assert auto_estimator_rate(t) == pytest.approx(expected, rel=1e-12)
    assert auto_estimator_rate(240.0) == pytest.approx(0.502, abs=1e-3)
    ae = get_baseline("ae", max_rate=50.0)
    out = ae.predict(_stack(np.array([[[190.0, 240.0]]])))
    assert out[0, 0, 0] == 50.0 and out[0, 0, 1] == pytest.approx(0.502, abs=1e-3)


def test_ccs_segmentation_two_cold_cores_give_two_patches():
    y, x = np.mgrid[:64, :64]
    # two cores 22 px apart inside ONE connected region colder than 253 K
    tb = 290.0 - 75 * np.exp(-((y - 32) ** 2 + (x - 20) ** 2) / 120.0)
    tb -= 75 * np.exp(-((y - 32) ** 2 + (x - 42) ** 2) / 120.0)
    cold = tb < 253.0
    from scipy import ndimage

    assert ndimage.label(cold)[1] == 1  # one region at 253 K …
    labels = segment_cloud_patches(tb)
    assert labels.max() == 2  # … split into two patches at the saddle
    assert labels[32, 20] != labels[32, 42] and labels[32, 20] > 0 and labels[32, 42] > 0
    assert (labels[~cold] == 0).all() and (labels[cold] > 0).all()
    features = patch_features(tb, labels)
    assert features.shape == (2, 7)
    assert features[:, 0] == pytest.approx([tb[labels == 1].min(), tb[labels == 2].min()])
    assert segment_cloud_patches(np.full((8, 8), 280.0)).max() == 0


@pytest.mark.parametrize(
    "name,settings",
    [
        ("gpi", {"fit_rate": True}),
        ("ae", {"fit_coefficients": True}),
        ("persiann_ccs", {"n_classes": 4, "min_class_pixels": 20}),
        ("gbm", {"max_iter": 20, "max_pixels": 6000}),
    ],
)
def test_fitted_baselines_beat_a_constant_and_round_trip(tmp_path, name, settings):
    ir, rain = _synthetic()
    test_ir, test_rain = _synthetic(seed=1)
    valid = np.ones(rain.shape, bool)
    valid[:, :3] = False  # unlabelled rows are ignored
    model = get_baseline(name, **settings).fit(ir, rain, valid)
    pred = model.predict(test_ir)
    assert pred.shape == test_rain.shape and np.isfinite(pred).all() and (pred >= 0).all()
    constant = float(rain[valid].mean())
    mse, mse_constant = np.mean((pred - test_rain) ** 2), np.mean((constant - test_rain) ** 2)
    assert mse < 0.8 * mse_constant, (name, mse, mse_constant)
    path = model.save(tmp_path / f"{name}.npz")
    np.testing.assert_array_equal(load_baseline(path).predict(test_ir), pred)


def test_inputs_are_validated():
    ir, rain = _synthetic(n=2)
    with pytest.raises(ValueError, match=r"\(N, 8, H, W\)"):
        get_baseline("gpi").predict(ir[:, :3])
    with pytest.raises(ValueError, match="K within"):
        get_baseline("ae").predict(ir - 273.15)
    with pytest.raises(ValueError, match="no valid training pixel"):
        get_baseline("gpi").fit(ir, np.full(rain.shape, np.nan))
    with pytest.raises(ValueError, match="unknown baseline"):
        get_baseline("persiann")
    with pytest.raises(ValueError, match="not fitted"):
        get_baseline("persiann_ccs").predict(ir)
    missing = ir.copy()
    missing[0, WINDOW_INDEX, 0, 0] = np.nan
    assert np.isnan(get_baseline("gpi").predict(missing)[0, 0, 0])
    assert set(BASELINES) == {"gpi", "ae", "persiann_ccs", "gbm"}
    assert cv.AGRI_IR_CHANNELS[WINDOW_INDEX] == cv.AGRI_WINDOW_CHANNEL


def test_refitted_auto_estimator_learns_a_no_rain_cutoff():
    ir, rain = _synthetic()
    ae = get_baseline("ae", fit_coefficients=True).fit(ir, rain)
    # 0.02 (240 - T)^1.5 >= 0.1 mm h-1 exactly where T <= 237.08 K
    assert 236.0 <= ae.t_max <= 238.0
    warm = ir[:, WINDOW_INDEX] > 250.0
    assert (ae.predict(ir)[warm] == 0).all()

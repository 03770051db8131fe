import numpy as np
import pytest

from prelib.baselines.quantile_mapping import QuantileMapping


def zero_inflated(n, wet, seed, shape=0.6, scale=3.0):
    rng = np.random.default_rng(seed)
    values = rng.gamma(shape, scale, n)
    values[rng.random(n) > wet] = 0.0
    return values.astype(np.float32)


def test_reproduces_target_distribution_and_removes_drizzle():
    obs = zero_inflated(20000, 0.3, 0)
    # a drizzling, heavy-rain-compressing "satellite": too many wet values, too few large ones
    model = 0.5 * zero_inflated(20000, 0.3, 1) ** 0.8
    rng = np.random.default_rng(2)
    dry = model == 0
    model[dry] = np.where(rng.random(dry.sum()) < 0.3, rng.uniform(0.1, 0.25, dry.sum()), 0)
    corrected = QuantileMapping(n_quantiles=400).fit_transform(model, obs)
    levels = [0.5, 0.7, 0.8, 0.9, 0.95, 0.99]
    np.testing.assert_allclose(
        np.quantile(corrected, levels), np.quantile(obs, levels), rtol=0.05, atol=0.02
    )
    assert abs((corrected >= 0.1).mean() - (obs >= 0.1).mean()) < 0.01


def test_dry_stays_dry_and_nan_stays_nan():
    qm = QuantileMapping().fit(zero_inflated(5000, 0.4, 3), zero_inflated(5000, 0.4, 4))
    out = qm.transform(np.array([0.0, np.nan, 1.0]))
    assert out[0] == 0.0 and np.isnan(out[1]) and out[2] > 0


def test_extrapolation_is_capped():
    obs = zero_inflated(5000, 0.4, 5)
    model = zero_inflated(5000, 0.4, 6) * 0.01  # tiny model values: ratio obs/model is huge
    qm = QuantileMapping(cap_factor=1.5).fit(model, obs)
    out = qm.transform(np.array([model.max() * 100.0]))
    assert out[0] <= 1.5 * obs.max() + 1e-4


def test_drier_model_reports_deficit_without_inventing_rain():
    obs = zero_inflated(5000, 0.6, 7)
    model = zero_inflated(5000, 0.2, 8)
    qm = QuantileMapping().fit(model, obs)
    assert qm.wet_deficit > 0.3
    assert (qm.transform(np.zeros(10)) == 0).all()


def test_errors():
    with pytest.raises(ValueError, match="before fit"):
        QuantileMapping().transform(np.ones(3))
    with pytest.raises(ValueError, match="wet value"):
        QuantileMapping().fit(np.ones(10), np.zeros(10))
    with pytest.raises(ValueError, match="n_quantiles"):
        QuantileMapping(n_quantiles=1)

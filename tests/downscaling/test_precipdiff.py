import numpy as np
import pytest
import torch

from prelib.downscaling.data import make_pairs
from prelib.models.diffusion_unet import DiffusionUNetConfig
from prelib.models.edm import EDMConfig
from prelib.models.precipdiff import PrecipDiff

UNET = DiffusionUNetConfig(base_width=8, channel_mult=(1, 2), blocks_per_level=1, dropout=0.0)


@pytest.fixture(scope="module")
def pairs(rain_fields):
    return make_pairs(rain_fields(4, 16, seed=3), 4)


def model(kind):
    torch.manual_seed(0)
    return PrecipDiff(4, UNET, EDMConfig(n_steps=3), kind=kind)


@pytest.mark.parametrize("kind", ["diffusion", "regression"])
def test_one_step_lowers_each_stage_loss_on_a_fixed_batch(pairs, kind):
    net = model(kind)
    net.fit_scales(pairs.satellite, pairs.coarse_truth, pairs.fine)
    examples = {
        "correction": net.correction_example(pairs.satellite, pairs.coarse_truth),
        "downscaling": net.downscaling_example(pairs.coarse_truth, pairs.fine),
    }
    for name, (cond, target) in examples.items():
        stage = getattr(net, name)
        stage.train()

        def loss(stage=stage, cond=cond, target=target):
            # same σ and noise draws before and after the step
            return stage.loss(cond, target, torch.Generator().manual_seed(1))

        optimizer = torch.optim.Adam(stage.parameters(), lr=1e-3)
        before = loss()
        before.backward()
        optimizer.step()
        assert loss().item() < before.item(), name


def test_residual_scales_normalise_to_sigma_data(pairs):
    net = model("diffusion")
    net.fit_scales(pairs.satellite, pairs.coarse_truth, pairs.fine)
    _, target = net.downscaling_example(pairs.coarse_truth, pairs.fine)
    assert float(target.std()) == pytest.approx(0.5, rel=1e-4)
    _, target = net.correction_example(pairs.satellite, pairs.coarse_truth)
    assert float(target.std()) == pytest.approx(0.5, rel=1e-4)


def test_ensemble_shapes_reproducible_by_seed_and_non_negative(pairs):
    net = model("diffusion").eval()
    a = net.predict(pairs.satellite[:2], n_members=3, seed=1)
    assert a.shape == (3, 2, 16, 16)
    assert (a >= 0).all() and np.isfinite(a).all()
    np.testing.assert_array_equal(a, net.predict(pairs.satellite[:2], n_members=3, seed=1))
    assert not np.array_equal(a, net.predict(pairs.satellite[:2], n_members=3, seed=2))
    assert not np.array_equal(a[0], a[1])
    # member 0 is the same whatever the ensemble size (up to batched-float rounding)
    single = net.predict(pairs.satellite[:2], n_members=1, seed=1)
    np.testing.assert_allclose(a[:1], single, rtol=1e-3, atol=1e-3)


def test_regression_mean_is_deterministic(pairs):
    net = model("regression").eval()
    members = net.predict(pairs.satellite[:2], n_members=2, seed=0)
    np.testing.assert_array_equal(members[0], members[1])


def test_bad_inputs(pairs):
    net = model("diffusion")
    with pytest.raises(ValueError, match="ensemble size"):
        net.predict(pairs.satellite, n_members=0)
    with pytest.raises(ValueError, match="negative"):
        net.predict(-pairs.satellite - 1, n_members=1)
    with pytest.raises(ValueError, match="NaN"):
        net.predict(np.full((1, 4, 4), np.nan, dtype=np.float32), n_members=1)
    with pytest.raises(ValueError, match="kind"):
        PrecipDiff(4, UNET, kind="gan")


def test_wet_dry_calibration_matches_the_wet_fraction_and_removes_drizzle(pairs):
    """An untrained model sprays rain everywhere; the fitted threshold restores the wet area."""
    net = model("diffusion")
    net.fit_scales(pairs.satellite, pairs.coarse_truth, pairs.fine)
    raw = net.predict(pairs.satellite, 4, seed=3, calibrated=False)
    truth_wet = float((pairs.fine >= 0.1).mean())
    assert (raw >= 0.1).mean() > truth_wet + 0.1  # false drizzle before calibration
    threshold = net.calibrate_wet_fraction(pairs.satellite, pairs.fine, 4, seed=3)
    assert threshold > 0.1 and float(net.wet_threshold) == pytest.approx(threshold)
    calibrated = net.predict(pairs.satellite, 4, seed=3)
    assert (calibrated >= 0.1).mean() == pytest.approx(truth_wet, abs=0.01)
    np.testing.assert_array_equal(calibrated[raw >= threshold], raw[raw >= threshold])
    assert (calibrated[raw < threshold] == 0).all()
    # members that are not too wet keep a zero threshold (nothing to remove)
    assert net.calibrate_wet_fraction(pairs.satellite, np.full_like(pairs.fine, 5.0), 4) == 0.0
    np.testing.assert_array_equal(net.predict(pairs.satellite, 4, seed=3), raw)

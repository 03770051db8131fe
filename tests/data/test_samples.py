import numpy as np
import pytest

from prelib.conventions import RAIN_THRESHOLD
from prelib.data.benchmark_config import load_benchmark_config
from prelib.data.sample_plan import plan_sample, wet_and_valid_fraction
from prelib.data.samples import generate_sample, simulate_spec


def test_dry_draws_are_rejected_and_the_retries_are_deterministic():
    first = simulate_spec(plan_sample("swath", "val", 0, attempt=0))
    wet_first, _ = wet_and_valid_fraction(first["precip"].values)
    # A threshold just above the first draw's wet fraction must reject it.
    cfg = load_benchmark_config("tiny", min_wet_fraction=wet_first + 1e-3, max_attempts=40)
    sample, spec = generate_sample("swath", "val", 0, cfg)
    again, spec_again = generate_sample("swath", "val", 0, cfg)
    assert spec.attempt >= 1 and spec == spec_again
    assert np.array_equal(sample["ir"].values, again["ir"].values, equal_nan=True)
    precip = sample["precip"].values
    valid = np.isfinite(precip)
    assert (precip[valid] >= RAIN_THRESHOLD).mean() >= cfg.min_wet_fraction
    assert int(sample["attempt"]) == spec.attempt
    # with no threshold the first draw is kept
    loose = load_benchmark_config("tiny", min_wet_fraction=0.0)
    kept, loose_spec = generate_sample("swath", "val", 0, loose)
    assert loose_spec.attempt == 0
    assert np.array_equal(kept["precip"].values, first["precip"].values, equal_nan=True)


def test_impossible_threshold_fails_clearly():
    cfg = load_benchmark_config("tiny", min_wet_fraction=1.0, max_attempts=2)
    with pytest.raises(RuntimeError, match="min_wet_fraction"):
        generate_sample("fulldisc", "test", 0, cfg)


def test_sample_layout_and_forced_regime():
    cfg = load_benchmark_config("tiny", regimes=["orographic"])
    sample, spec = generate_sample("fulldisc", "test", 0, cfg)
    assert dict(sample["ir"].sizes) == {"ir_channel": 8, "y": 256, "x": 256}
    assert str(sample["regime"].values) == "orographic" == spec.regime
    assert sample["precip"].attrs["units"] == "mm h-1"
    assert float(sample["lat"].min()) >= spec.lat_bounds[0]
    assert float(sample["lat"].max()) <= spec.lat_bounds[1]

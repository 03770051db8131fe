"""No pixel of any sensor may depend on rain after its own observation time.

The label hour is ``[time − 1 h, time]`` and the satellites look within ±10 min of its end, so
part of the label lies after the overpass. The test perturbs the world's rain at every instant
after the latest sensor time (the microwave overpass, or the IR image when it is later) and
checks that the label changes while no sensor pixel does.
"""

from __future__ import annotations

import numpy as np
import pytest

from prelib.sim import simulate_grid_scene, simulate_swath_scene, weather

TIME = "2021-07-01T06"


def _with_future_perturbed(monkeypatch, cutoff_s: float):
    original = weather._rotate

    def perturbed(n1, n2, dt_s, lifetime_min):
        field = original(n1, n2, dt_s, lifetime_min)
        # Every latent texture after the cutoff is pushed far above its rain threshold.
        return field + 4.0 if dt_s > cutoff_s + 1e-6 else field

    monkeypatch.setattr(weather, "_rotate", perturbed)


@pytest.mark.parametrize("kind", ["swath", "grid"])
def test_no_sensor_pixel_depends_on_rain_after_its_own_time(monkeypatch, kind):
    def simulate(seed, sensors=("ir", "pmw", "pr")):
        if kind == "swath":
            return simulate_swath_scene(
                TIME,
                seed=seed,
                n_scans=48,
                regime="convective",
                centre=(20.0, 112.0),
                sensors=sensors,
            )
        return simulate_grid_scene(
            (24.0, 25.92), (110.0, 111.92), TIME, seed=seed, regime="frontal", sensors=sensors
        )

    # The first seed whose overpass is at least 5 min before the label hour ends.
    seed = next(s for s in range(50) if float(simulate(s, ()).attrs["observation_offset_s"]) < -300)
    reference = simulate(seed)
    ir_after = max(0.0, float(reference.attrs["ir_offset_s"]))
    # Rain after the overpass: the microwave sensors must not change.
    with monkeypatch.context() as patch:
        _with_future_perturbed(patch, 0.0)
        perturbed = simulate(seed)
    # The perturbation reaches the label (the test can fail) ...
    assert not np.allclose(perturbed["precip"].values, reference["precip"].values)
    # ... and no microwave pixel.
    for name in ("pmw", "pr", "precip_instant"):
        np.testing.assert_array_equal(perturbed[name].values, reference[name].values, err_msg=name)
    # Rain after the IR scan too: no pixel of any sensor changes.
    with monkeypatch.context() as patch:
        _with_future_perturbed(patch, ir_after)
        perturbed = simulate(seed)
    for name in ("ir", "pmw", "pr"):
        np.testing.assert_array_equal(perturbed[name].values, reference[name].values, err_msg=name)

"""Shared, cached synthetic scenes for the sim tests (simulated once per session)."""

from __future__ import annotations

import pytest

from prelib.sim import simulate_grid_scene, simulate_swath_scene

# Centres chosen where each regime lives: Meiyu front over the Yangtze, tropical West Pacific,
# the Himalayan front range, north-east China / Korea.
REGIME_CENTRES = {
    "frontal": (31.0, 117.0),
    "convective": (12.0, 130.0),
    "orographic": (27.5, 91.0),
    "stratiform": (42.0, 125.0),
}
SCENE_TIME = "2021-07-01T06"


@pytest.fixture(scope="session")
def swath_scenes():
    """One 128-scan multi-sensor swath scene per regime (seed 0)."""
    return {
        regime: simulate_swath_scene(SCENE_TIME, seed=0, n_scans=128, regime=regime, centre=c)
        for regime, c in REGIME_CENTRES.items()
    }


@pytest.fixture(scope="session")
def grid_scene():
    """A 64 x 64 4 km grid scene with all sensors."""
    return simulate_grid_scene(
        (30.0, 32.56), (115.0, 117.56), SCENE_TIME, seed=3, sensors=("ir", "pmw", "pr")
    )

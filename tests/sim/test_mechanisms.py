"""Each difficulty mechanism of the world pushes the per-pixel probe in its physical direction.

The probe is the calibration study's (:func:`prelib.sim.calibration.calibrate_modalities`) on a
small sample; each test simulates the same scenes twice, with a mechanism switched off and on.
"""

from __future__ import annotations

import numpy as np
import pytest

from prelib.sim import calibration, clouds, radar

pytestmark = pytest.mark.slow

SEED = 5


def _probe(modalities: dict[str, tuple[str, ...]], monkeypatch) -> dict[str, dict[str, float]]:
    monkeypatch.setattr(calibration, "MODALITY_SETS", modalities)
    train = calibration.simulate_calibration_scenes(10, SEED, 2021, n_scans=64)
    test = calibration.simulate_calibration_scenes(6, SEED, 2022, n_scans=64)
    table = calibration.calibrate_modalities(
        train_scenes=train,
        test_scenes=test,
        seed=SEED,
        max_iter=25,
        max_train_pixels=20_000,
        progress=False,
    )
    return table[["cc", "csi"]].to_dict("index")


def _ir_csi() -> float:
    scenes = calibration.simulate_calibration_scenes(12, SEED, 2022, n_scans=96)
    return calibration.ir_threshold_csi(scenes)[0]


def test_more_cirrus_lowers_the_ir_probe_csi(monkeypatch):
    csi = {}
    for label, cover in (("clear", (0.0, 0.0)), ("default", None), ("cirrus", (0.7, 0.8))):
        with monkeypatch.context() as patch:
            if cover is not None:
                patch.setattr(clouds, "CIRRUS_COVER", dict.fromkeys(clouds.CIRRUS_COVER, cover))
            csi[label] = _ir_csi()
    assert csi["clear"] > csi["default"] + 0.01 > csi["cirrus"] + 0.02


def test_warm_rain_lowers_the_ir_probe_csi(monkeypatch):
    csi = {}
    for label, share in (("cold", (0.0, 0.0)), ("warm", (0.6, 0.7))):
        with monkeypatch.context() as patch:
            patch.setattr(
                clouds, "WARM_RAIN_FRACTION", dict.fromkeys(clouds.WARM_RAIN_FRACTION, share)
            )
            csi[label] = _ir_csi()
    assert csi["warm"] < csi["cold"] - 0.02


def test_wider_anvils_lower_the_ir_probe_csi(monkeypatch):
    csi = {}
    for label, spread in (("narrow", (5.0, 6.0)), ("wide", (40.0, 50.0))):
        with monkeypatch.context() as patch:
            patch.setattr(clouds, "ANVIL_SPREAD_KM", dict.fromkeys(clouds.ANVIL_SPREAD_KM, spread))
            csi[label] = _ir_csi()
    assert csi["wide"] < csi["narrow"] - 0.01


def test_dsd_variability_lowers_the_pr_probe_cc_but_keeps_it_above_ir(monkeypatch):
    scores = {}
    for label, spread in (("fixed", (0.0, 0.0)), ("variable", radar.DSD_SPREAD_DB)):
        with monkeypatch.context() as patch:
            patch.setattr(radar, "DSD_SPREAD_DB", spread)
            scores[label] = _probe({"ir": ("ir",), "pr": ("pr",)}, patch)
    assert scores["variable"]["pr"]["cc"] < scores["fixed"]["pr"]["cc"]
    assert scores["variable"]["pr"]["cc"] > scores["variable"]["ir"]["cc"] + 0.1
    # IR does not see the radar's drop sizes.
    assert np.isclose(scores["variable"]["ir"]["cc"], scores["fixed"]["ir"]["cc"])

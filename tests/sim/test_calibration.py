import numpy as np
import pytest

from prelib.config import load_config
from prelib.sim.calibration import (
    calibrate_modalities,
    regime_statistics,
    simulate_calibration_scenes,
    skill_scores,
)
from prelib.sim.config import SimConfig


def test_skill_scores_against_a_hand_computed_table():
    truth = np.array([0.0, 0.0, 1.0, 2.0, 0.5, 0.0])
    prediction = np.array([0.0, 0.2, 1.0, 0.0, 0.4, 0.05])
    scores = skill_scores(prediction, truth)
    # hits 2 (idx 2, 4), misses 1 (idx 3), false alarms 1 (idx 1)
    assert scores["csi"] == pytest.approx(2 / 4)
    assert scores["pod"] == pytest.approx(2 / 3) and scores["far"] == pytest.approx(1 / 3)
    assert scores["cc"] == pytest.approx(np.corrcoef(prediction, truth)[0, 1])
    with pytest.raises(ValueError, match="finite"):
        skill_scores(np.array([np.nan, 1.0]), np.array([0.0, 1.0]))


def test_modality_ordering_on_a_small_sample():
    cfg = load_config("sim", "tiny", SimConfig)
    train = simulate_calibration_scenes(
        cfg.calibration_train_scenes, cfg.seed, 2021, cfg.calibration_scans
    )
    test = simulate_calibration_scenes(
        cfg.calibration_test_scenes, cfg.seed, 2022, cfg.calibration_scans
    )
    table = calibrate_modalities(
        train_scenes=train,
        test_scenes=test,
        seed=cfg.seed,
        max_train_pixels=cfg.calibration_train_pixels,
        max_iter=cfg.calibration_iterations,
        progress=False,
    )
    cc, csi = table["cc"], table["csi"]
    assert list(table.index) == ["ir", "pmw", "pr", "all"]
    assert cc["ir"] < cc["pmw"] - 0.05 and cc["ir"] < cc["pr"] - 0.05
    assert csi["ir"] < csi["pr"]
    # World version 2 made IR nearly uninformative pixel by pixel; on this tiny sample the
    # 197-feature probe then falls short of its best single sensor (the full-size calibration
    # reports the all >= each target), but it must stay far above IR and near the microwave.
    assert cc["all"] > cc["ir"] + 0.2
    assert cc["all"] >= min(cc["pmw"], cc["pr"]) - 0.05
    stats = regime_statistics(train + test)
    assert stats["n_scenes"].sum() == len(train) + len(test)
    assert np.all((stats["wet_fraction"] > 0) & (stats["wet_fraction"] < 1))
    assert np.all(stats["p99_wet"] >= stats["mean_wet"])

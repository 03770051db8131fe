import pytest

from prelib.config import load_config
from prelib.sim.config import SimConfig


@pytest.mark.parametrize("profile", ["tiny", "demo", "paper"])
def test_profiles_load(profile):
    cfg = load_config("sim", profile, SimConfig)
    assert cfg.calibration_train_scenes >= cfg.calibration_test_scenes >= 1


def test_validation_names_the_field():
    with pytest.raises(ValueError, match="calibration_scans"):
        SimConfig(calibration_scans=4)
    with pytest.raises(ValueError, match="calibration_train_scenes"):
        load_config("sim", "tiny", SimConfig, calibration_train_scenes=0)

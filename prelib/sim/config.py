"""Configuration of the synthetic world's calibration study (``prelib/profiles/sim.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass

from prelib.config import Config, require_positive


@dataclass(frozen=True)
class SimConfig(Config):
    """Sizes of the modality calibration (:func:`prelib.sim.calibration.calibrate_modalities`).

    Load with ``load_config("sim", profile, SimConfig)``.
    """

    calibration_train_scenes: int = 6
    calibration_test_scenes: int = 3
    calibration_scans: int = 64
    calibration_train_pixels: int = 15000
    calibration_iterations: int = 40
    seed: int = 0

    def validate(self) -> None:
        require_positive(
            self,
            "calibration_train_scenes",
            "calibration_test_scenes",
            "calibration_scans",
            "calibration_train_pixels",
            "calibration_iterations",
        )
        require_positive(self, "seed", allow_zero=True)
        if self.calibration_scans < 8:
            raise ValueError(
                f"SimConfig.calibration_scans must be >= 8, got {self.calibration_scans}"
            )

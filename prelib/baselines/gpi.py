"""GOES Precipitation Index (Arkin & Meisner 1987, Mon. Wea. Rev. 115, 51–74).

A pixel whose 10.8 µm brightness temperature is below 235 K rains at 3 mm h-1, any other pixel
at 0. The original index was defined for 2.5° boxes and pentads; applied per pixel and hour as
here it is the classical cold-cloud-fraction baseline. ``fit_rate=True`` replaces the 3 mm h-1 by
the least-squares rate of the training split (the mean rain over its cold pixels).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from prelib.baselines.base import WINDOW_INDEX, IRBaseline, check_ir, check_labels

GPI_THRESHOLD_K: float = 235.0
GPI_RATE_MM_H: float = 3.0


class GPI(IRBaseline):
    """Rain rate ``rate`` where Tb(10.8 µm) < ``threshold``.

    Parameters
    ----------
    threshold : float
        Cold-cloud threshold in K (235).
    rate : float
        Rain rate of cold pixels in mm h-1 (3).
    fit_rate : bool
        Fit ``rate`` on the training data instead of keeping 3 mm h-1.
    """

    name = "gpi"

    def __init__(
        self,
        threshold: float = GPI_THRESHOLD_K,
        rate: float = GPI_RATE_MM_H,
        fit_rate: bool = False,
    ) -> None:
        if rate < 0:
            raise ValueError(f"rate must be >= 0 mm h-1, got {rate}")
        self.threshold, self.rate, self.fit_rate = float(threshold), float(rate), bool(fit_rate)

    def fit(self, ir: np.ndarray, precip: np.ndarray, valid: np.ndarray | None = None) -> GPI:
        ir = check_ir(ir)
        usable = check_labels(ir, precip, valid)
        if self.fit_rate:
            cold = usable & (ir[:, WINDOW_INDEX] < self.threshold)
            if not cold.any():
                raise ValueError(f"no valid training pixel colder than {self.threshold} K")
            self.rate = float(np.asarray(precip)[cold].mean())
        return self

    def predict(self, ir: np.ndarray) -> np.ndarray:
        tb = check_ir(ir)[:, WINDOW_INDEX]
        out = np.where(tb < self.threshold, self.rate, 0.0).astype(np.float32)
        out[~np.isfinite(tb)] = np.nan
        return out

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {"threshold": self.threshold, "rate": self.rate, "fit_rate": self.fit_rate}, {}

    def set_state(self, settings: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.__init__(**settings)

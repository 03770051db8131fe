"""The Auto-Estimator (Vicente, Scofield & Menzel 1998, Bull. Amer. Meteor. Soc. 79, 1883–1898).

Rain rate from the 10.8 µm cloud-top brightness temperature T (K) by the power-law exponential
fitted to collocated radar rain rates::

    R = 1.1183e11 · exp(−3.6382e−2 · T^1.2)   mm h-1

(about 0.5 mm h-1 at 240 K, 6.7 mm h-1 at 220 K and 85 mm h-1 at 200 K). The operational technique
adds corrections that this interface cannot define honestly and therefore leaves out: the
moisture correction multiplies R by precipitable water × relative humidity from a numerical
model (not an input here), and the cloud-growth and gradient corrections compare consecutive
images (one time step here). ``max_rate`` optionally caps R; ``fit_coefficients=True`` refits the
two coefficients (a, b of R = a·exp(−b·T^1.2)) by least squares on log R of the training split's
rainy pixels and, because a curve fitted on rainy pixels alone never predicts "no rain", also a
rain/no-rain cut-off temperature (rain only where T < ``t_max``, ``t_max`` chosen on a 1 K grid
to maximise the training CSI) — a calibrated variant, not the published curve.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from prelib.baselines.base import WINDOW_INDEX, IRBaseline, check_ir, check_labels
from prelib.conventions import RAIN_THRESHOLD

AE_A: float = 1.1183e11
AE_B: float = 3.6382e-2
AE_EXPONENT: float = 1.2


def auto_estimator_rate(tb: np.ndarray, a: float = AE_A, b: float = AE_B) -> np.ndarray:
    """``a · exp(−b · T^1.2)`` in mm h-1 for brightness temperature ``tb`` in K (any shape)."""
    tb = np.asarray(tb, dtype=np.float64)
    return a * np.exp(-b * np.power(tb, AE_EXPONENT))


def _best_cutoff(tb: np.ndarray, rain: np.ndarray) -> float:
    """The cut-off T (K, 1 K grid over 190–300 K) whose rule "rain where Tb < T" scores best CSI."""
    wet = rain >= RAIN_THRESHOLD
    best, best_csi = 300.0, -1.0
    for cutoff in np.arange(190.0, 301.0, 1.0):
        predicted = tb < cutoff
        hits = np.count_nonzero(predicted & wet)
        union = np.count_nonzero(predicted | wet)
        csi = hits / union if union else 0.0
        if csi > best_csi:
            best, best_csi = float(cutoff), csi
    return best


class AutoEstimator(IRBaseline):
    """Vicente et al. (1998) power-law exponential of Tb(10.8 µm).

    Parameters
    ----------
    max_rate : float, optional
        Cap in mm h-1 (none by default).
    fit_coefficients : bool
        Refit a and b on the training split (see the module docstring).
    """

    name = "ae"

    def __init__(
        self,
        max_rate: float | None = None,
        fit_coefficients: bool = False,
        a: float = AE_A,
        b: float = AE_B,
        t_max: float | None = None,
    ) -> None:
        self.max_rate = None if max_rate is None else float(max_rate)
        self.fit_coefficients = bool(fit_coefficients)
        self.a, self.b = float(a), float(b)
        self.t_max = None if t_max is None else float(t_max)

    def fit(
        self, ir: np.ndarray, precip: np.ndarray, valid: np.ndarray | None = None
    ) -> AutoEstimator:
        ir = check_ir(ir)
        usable = check_labels(ir, precip, valid)
        if self.fit_coefficients:
            rainy = usable & (np.asarray(precip) >= RAIN_THRESHOLD)
            if rainy.sum() < 2:
                raise ValueError("fit_coefficients needs at least two rainy training pixels")
            x = np.power(ir[:, WINDOW_INDEX][rainy].astype(np.float64), AE_EXPONENT)
            y = np.log(np.asarray(precip, dtype=np.float64)[rainy])
            slope, intercept = np.polyfit(x, y, 1)
            self.a, self.b = float(np.exp(intercept)), float(-slope)
            self.t_max = _best_cutoff(ir[:, WINDOW_INDEX][usable], np.asarray(precip)[usable])
        return self

    def predict(self, ir: np.ndarray) -> np.ndarray:
        tb = check_ir(ir)[:, WINDOW_INDEX]
        rate = auto_estimator_rate(tb, self.a, self.b)
        if self.t_max is not None:
            rate = np.where(tb < self.t_max, rate, 0.0)
        if self.max_rate is not None:
            rate = np.minimum(rate, self.max_rate)
        return rate.astype(np.float32)

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        settings = {
            "max_rate": self.max_rate,
            "fit_coefficients": self.fit_coefficients,
            "a": self.a,
            "b": self.b,
            "t_max": self.t_max,
        }
        return settings, {}

    def set_state(self, settings: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.__init__(**settings)

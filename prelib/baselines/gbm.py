"""IR-only per-pixel gradient boosting (scikit-learn histogram gradient boosting).

A strong classical machine-learning baseline in the spirit of the pixel-wise IR retrievals that
precede deep networks: per pixel, the 8 AGRI channels plus simple neighbourhood and spectral
features, and — like PRE-Net's two networks — a rain/no-rain classifier
(``HistGradientBoostingClassifier``, rain = rate ≥ ``RAIN_THRESHOLD``) times an intensity
regressor (``HistGradientBoostingRegressor`` fitted on rainy pixels, squared error on mm h-1).

Features (17): the 8 brightness temperatures; for the 10.8 µm window channel the mean, standard
deviation and minimum over 5 × 5 and 15 × 15 pixel neighbourhoods; the differences window − 6.25 µm
and window − 7.1 µm (water-vapour channels: overshooting tops) and window − 12.0 µm (split window:
thin cirrus).

Training pixels are subsampled to ``max_pixels`` (uniformly, seeded). The fitted trees are kept
as plain arrays (:mod:`prelib.baselines.tree_ensemble`) and saved in the same pickle-free ``.npz``
as the other baselines: loading a model never runs code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from prelib import conventions as cv
from prelib.baselines.base import WINDOW_INDEX, IRBaseline, check_ir, check_labels
from prelib.baselines.tree_ensemble import export_trees, raw_prediction
from prelib.conventions import RAIN_THRESHOLD

_CH = cv.AGRI_IR_CHANNELS
_WV_625, _WV_710, _SPLIT = _CH.index("C09"), _CH.index("C10"), _CH.index("C13")


def pixel_features(ir: np.ndarray) -> np.ndarray:
    """Per-pixel features of ``ir`` (N, 8, H, W) in K as an (N·H·W, 17) float32 matrix."""
    n, _, h, w = ir.shape
    window = ir[:, WINDOW_INDEX].astype(np.float64)
    filled = np.where(np.isfinite(window), window, np.nanmean(window))
    planes = [ir[:, c] for c in range(ir.shape[1])]
    for size in (5, 15):
        footprint = (1, size, size)
        mean = ndimage.uniform_filter(filled, footprint, mode="reflect")
        sq = ndimage.uniform_filter(filled**2, footprint, mode="reflect")
        planes += [
            mean,
            np.sqrt(np.maximum(sq - mean**2, 0.0)),
            ndimage.minimum_filter(filled, footprint, mode="reflect"),
        ]
    planes += [window - ir[:, _WV_625], window - ir[:, _WV_710], window - ir[:, _SPLIT]]
    stacked = np.stack([np.asarray(p, dtype=np.float32) for p in planes], axis=-1)
    return stacked.reshape(n * h * w, len(planes))


class GradientBoostingIR(IRBaseline):
    """Classifier × regressor on per-pixel IR features (see the module docstring).

    Parameters
    ----------
    max_iter : int
        Boosting iterations of each model.
    max_pixels : int
        Training pixels used (random subsample).
    learning_rate : float
    seed : int
    """

    name = "gbm"

    def __init__(
        self,
        max_iter: int = 150,
        max_pixels: int = 200_000,
        learning_rate: float = 0.1,
        seed: int = 0,
    ) -> None:
        self.max_iter, self.max_pixels = int(max_iter), int(max_pixels)
        self.learning_rate, self.seed = float(learning_rate), int(seed)
        self.trees: dict[str, np.ndarray] = {}

    def fit(
        self, ir: np.ndarray, precip: np.ndarray, valid: np.ndarray | None = None
    ) -> GradientBoostingIR:
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        ir = check_ir(ir)
        usable = check_labels(ir, precip, valid).ravel()
        rain = np.asarray(precip, dtype=np.float64).ravel()
        rows = np.flatnonzero(usable)
        rng = np.random.default_rng(self.seed)
        if rows.size > self.max_pixels:
            rows = np.sort(rng.choice(rows, self.max_pixels, replace=False))
        x = pixel_features(ir)[rows]
        y = rain[rows]
        wet = y >= RAIN_THRESHOLD
        if wet.all() or not wet.any():
            raise ValueError("training pixels must contain both rain and no-rain cases")
        kwargs = {
            "max_iter": self.max_iter,
            "learning_rate": self.learning_rate,
            "random_state": self.seed,
        }
        classifier = HistGradientBoostingClassifier(**kwargs).fit(x, wet)
        regressor = HistGradientBoostingRegressor(**kwargs).fit(x[wet], y[wet])
        if list(classifier.classes_) != [False, True]:
            raise ValueError("the rain classifier must see both classes")
        self.trees = {**export_trees(classifier, "rain"), **export_trees(regressor, "rate")}
        return self

    def predict(self, ir: np.ndarray) -> np.ndarray:
        if not self.trees:
            raise ValueError("GradientBoostingIR is not fitted; call fit() or load a saved model")
        ir = check_ir(ir)
        n, _, h, w = ir.shape
        x = pixel_features(ir)
        rain = raw_prediction(self.trees, "rain", x) > 0.0
        out = np.zeros(len(x), dtype=np.float32)
        if rain.any():
            out[rain] = np.maximum(raw_prediction(self.trees, "rate", x[rain]), 0.0)
        out = out.reshape(n, h, w)
        out[~np.isfinite(ir[:, WINDOW_INDEX])] = np.nan
        return out

    def components(self, ir: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The classifier's rain probability and the regressor's rate at every pixel.

        Parameters
        ----------
        ir : ndarray, shape (n, channel, y, x)
            Brightness temperatures, K (NaN = missing).

        Returns
        -------
        p_rain, rate : ndarray, shape (n, y, x), float32
            P(rain ≥ 0.1 mm h-1) and the rain rate the regressor gives if it rains (mm h-1,
            ≥ 0); NaN where the window channel is missing. :meth:`predict` equals ``rate``
            where ``p_rain > 0.5`` and 0 elsewhere.
        """
        if not self.trees:
            raise ValueError("GradientBoostingIR is not fitted; call fit() or load a saved model")
        ir = check_ir(ir)
        n, _, h, w = ir.shape
        x = pixel_features(ir)
        # the exported classifier gives log-odds (scikit-learn's raw prediction): P = expit
        log_odds = raw_prediction(self.trees, "rain", x)
        p_rain = (1.0 / (1.0 + np.exp(-log_odds))).astype(np.float32).reshape(n, h, w)
        rate = np.maximum(raw_prediction(self.trees, "rate", x), 0.0)
        rate = rate.astype(np.float32).reshape(n, h, w)
        missing = ~np.isfinite(ir[:, WINDOW_INDEX])
        p_rain[missing] = np.nan
        rate[missing] = np.nan
        return p_rain, rate

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        settings = {
            "max_iter": self.max_iter,
            "max_pixels": self.max_pixels,
            "learning_rate": self.learning_rate,
            "seed": self.seed,
        }
        return settings, dict(self.trees)

    def set_state(self, settings: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.__init__(**settings)
        self.trees = {k: np.asarray(v) for k, v in arrays.items()}

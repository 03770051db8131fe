"""A PERSIANN-CCS-style retrieval (Hong, Hsu, Sorooshian & Gao 2004, J. Appl. Meteor. 43).

Steps, following the paper's structure:

1. **Segmentation** of each 10.8 µm image into cloud patches at 253 K with incremental
   temperature thresholds (:mod:`prelib.baselines.cloud_patches`).
2. **Patch features**: coldness (minimum, mean Tb), geometry (log area) and texture (Tb standard
   deviation, mean gradient, fractions below 235 K and 220 K).
3. **Unsupervised classification** of the standardised features. CCS uses a self-organising map
   of 20 × 20 = 400 classes trained on years of data; with the small training sets of prelib we use
   k-means (scikit-learn) with ``n_classes`` clusters (16 by default).
4. **One Tb–rain curve per class**, fitted on the training split's pixels of that class: CCS
   matches the Tb and rain distributions (probability matching) and fits an exponential to the
   matched pairs. ``curve="pmm"`` (default) stores the matched quantile pairs (rain falls
   monotonically with Tb) and interpolates them; ``curve="isotonic"`` fits the conditional mean
   with a monotone (decreasing) isotonic regression instead. Classes with fewer than
   ``min_class_pixels`` valid pixels use the curve of all cloud pixels.

Pixels outside cloud patches get 0 mm h-1; pixels with missing Tb get NaN. Everything fitted is
plain arrays (scaler, cluster centres, curve tables), stored pickle-free.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tqdm.auto import tqdm

from prelib.baselines.base import WINDOW_INDEX, IRBaseline, check_ir, check_labels
from prelib.baselines.cloud_patches import (
    CCS_THRESHOLD_K,
    FEATURE_NAMES,
    patch_features,
    segment_cloud_patches,
)

CURVES: tuple[str, ...] = ("pmm", "isotonic")


def _pmm_curve(tb: np.ndarray, rain: np.ndarray, n_points: int) -> tuple[np.ndarray, np.ndarray]:
    levels = np.linspace(0.0, 1.0, n_points)
    return np.quantile(tb, levels), np.quantile(rain, 1.0 - levels)


def _isotonic_curve(tb: np.ndarray, rain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.isotonic import IsotonicRegression

    model = IsotonicRegression(increasing=False, out_of_bounds="clip").fit(tb, rain)
    return np.asarray(model.X_thresholds_), np.asarray(model.y_thresholds_)


class PersiannCCS(IRBaseline):
    """Patch-classification Tb–rain retrieval (see the module docstring).

    Parameters
    ----------
    n_classes : int
        k-means clusters of patch features.
    curve : {"pmm", "isotonic"}
        How each class's Tb–rain curve is fitted.
    threshold : float
        Cloud threshold, K (253).
    min_class_pixels : int
        Fewer valid pixels than this → the class uses the all-cloud curve.
    n_points : int
        Quantile pairs of a ``pmm`` curve.
    seed : int
        k-means seed.
    """

    name = "persiann_ccs"

    def __init__(
        self,
        n_classes: int = 16,
        curve: str = "pmm",
        threshold: float = CCS_THRESHOLD_K,
        min_class_pixels: int = 200,
        n_points: int = 64,
        seed: int = 0,
    ) -> None:
        if curve not in CURVES:
            raise ValueError(f"curve must be one of {list(CURVES)}, got {curve!r}")
        if n_classes < 1:
            raise ValueError(f"n_classes must be >= 1, got {n_classes}")
        self.n_classes, self.curve, self.threshold = int(n_classes), curve, float(threshold)
        self.min_class_pixels, self.n_points, self.seed = int(min_class_pixels), int(n_points), seed
        self.feature_mean: np.ndarray | None = None
        self.feature_scale: np.ndarray | None = None
        self.centers: np.ndarray | None = None
        self.curves: list[tuple[np.ndarray, np.ndarray]] = []

    # ------------------------------------------------------------------------------------
    def _pixel_classes(self, tb: np.ndarray, fit_features: list | None = None) -> np.ndarray:
        """Per-pixel patch class (N, H, W); −1 outside patches. Collects features when fitting."""
        classes = np.full(tb.shape, -1, dtype=np.int32)
        images = tqdm(tb, desc="cloud patches", disable=len(tb) < 32, leave=False)
        for i, image in enumerate(images):
            labels = segment_cloud_patches(image, self.threshold)
            features = patch_features(image, labels)
            if len(features) == 0:
                continue
            if fit_features is not None:
                fit_features.append((i, labels, features))
                continue
            patch_class = self._classify(features)
            classes[i][labels > 0] = patch_class[labels[labels > 0] - 1]
        return classes

    def _classify(self, features: np.ndarray) -> np.ndarray:
        z = (features - self.feature_mean) / self.feature_scale
        distance = ((z[:, None, :] - self.centers[None]) ** 2).sum(axis=-1)
        return distance.argmin(axis=1).astype(np.int32)

    def fit(
        self, ir: np.ndarray, precip: np.ndarray, valid: np.ndarray | None = None
    ) -> PersiannCCS:
        from sklearn.cluster import KMeans

        ir = check_ir(ir)
        usable = check_labels(ir, precip, valid)
        precip = np.asarray(precip, dtype=np.float64)
        tb = ir[:, WINDOW_INDEX].astype(np.float64)
        collected: list = []
        self._pixel_classes(tb, collected)
        if not collected:
            raise ValueError(f"no cloud patch colder than {self.threshold} K in the training data")
        features = np.concatenate([f for _, _, f in collected])
        self.feature_mean = features.mean(axis=0)
        self.feature_scale = np.where(features.std(axis=0) > 0, features.std(axis=0), 1.0)
        z = (features - self.feature_mean) / self.feature_scale
        k = min(self.n_classes, len(features))
        kmeans = KMeans(n_clusters=k, n_init=4, random_state=self.seed).fit(z)
        self.centers = kmeans.cluster_centers_
        classes = np.full(tb.shape, -1, dtype=np.int32)
        offset = 0
        for i, labels, f in collected:
            patch_class = kmeans.labels_[offset : offset + len(f)]
            offset += len(f)
            classes[i][labels > 0] = patch_class[labels[labels > 0] - 1]
        cloudy = usable & (classes >= 0)
        if not cloudy.any():
            raise ValueError("no valid label inside any cloud patch of the training data")
        fallback = self._fit_curve(tb[cloudy], precip[cloudy])
        self.curves = []
        for c in range(k):
            member = cloudy & (classes == c)
            enough = member.sum() >= self.min_class_pixels
            self.curves.append(self._fit_curve(tb[member], precip[member]) if enough else fallback)
        return self

    def _fit_curve(self, tb: np.ndarray, rain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.curve == "pmm":
            return _pmm_curve(tb, rain, self.n_points)
        return _isotonic_curve(tb, rain)

    def predict(self, ir: np.ndarray) -> np.ndarray:
        if self.centers is None:
            raise ValueError("PersiannCCS is not fitted; call fit() or load a saved model")
        tb = check_ir(ir)[:, WINDOW_INDEX].astype(np.float64)
        classes = self._pixel_classes(tb)
        out = np.zeros(tb.shape, dtype=np.float32)
        for c, (tb_curve, rain_curve) in enumerate(self.curves):
            member = classes == c
            out[member] = np.interp(tb[member], tb_curve, rain_curve)
        out[~np.isfinite(tb)] = np.nan
        return out

    # ------------------------------------------------------------------------------------
    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        settings = {
            "n_classes": self.n_classes,
            "curve": self.curve,
            "threshold": self.threshold,
            "min_class_pixels": self.min_class_pixels,
            "n_points": self.n_points,
            "seed": self.seed,
            "features": list(FEATURE_NAMES),
        }
        if self.centers is None:
            return settings, {}
        arrays = {
            "feature_mean": self.feature_mean,
            "feature_scale": self.feature_scale,
            "centers": self.centers,
        }
        for c, (x, y) in enumerate(self.curves):
            arrays[f"curve_{c}_tb"], arrays[f"curve_{c}_rain"] = x, y
        return settings, arrays

    def set_state(self, settings: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        settings = {k: v for k, v in settings.items() if k != "features"}
        self.__init__(**settings)
        if "centers" in arrays:
            self.feature_mean = arrays["feature_mean"]
            self.feature_scale = arrays["feature_scale"]
            self.centers = arrays["centers"]
            self.curves = [
                (arrays[f"curve_{c}_tb"], arrays[f"curve_{c}_rain"])
                for c in range(len(self.centers))
            ]

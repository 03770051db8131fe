"""Empirical quantile mapping for zero-inflated precipitation, written for this package.

The first baseline users reach for (xsdba / ibicus / python-cmethods). Our implementation keeps
the three precautions the anchors list for precipitation (downscaling_anchors.md §7):

* **dry-day (dry-pixel) handling** — a model that drizzles too often is fixed by a *model wet
  threshold*: the model value whose exceedance frequency equals the observed wet frequency.
  Model values at or below it become exactly 0, so dry stays dry and drizzle is removed. When the
  model is *drier* than the observations we do not invent rain by randomly wetting zeros
  (``adapt_freq``-style jitter blew 0.05 mm d-1 up to ~1660 mm d-1 in xsdba #278); the wet
  frequency is then left as it is and :attr:`QuantileMapping.wet_deficit` reports the gap.
* **wet-part mapping** — model wet values are mapped through the ratio of the two conditional
  (wet-only) empirical CDFs, sampled at ``n_quantiles`` probability levels and interpolated
  linearly between them.
* **capped extrapolation** — beyond the largest training quantile the last quantile's ratio
  ``obs_max / model_max`` is applied (the multiplicative, precipitation ``kind="*"`` rule), and
  the result is capped at ``cap_factor × obs_max`` so a single out-of-sample value can never
  explode.

The distribution is pooled over all pixels given to :meth:`QuantileMapping.fit` (one domain-wide
mapping, our choice: the synthetic scenes and MRMS patches have no stable per-cell climate).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from prelib.conventions import RAIN_THRESHOLD
from prelib.data.precip_grids import check_precip


@dataclasses.dataclass
class QuantileMapping:
    """Empirical quantile mapping with dry-pixel handling and capped extrapolation.

    Parameters
    ----------
    n_quantiles : int
        Probability levels of the wet-part CDFs (≥ 2).
    wet_threshold : float
        Observed rain / no-rain threshold in mm h-1 (``>=`` is wet).
    cap_factor : float
        Extrapolated values are capped at ``cap_factor × max(training observations)`` (≥ 1).

    Examples
    --------
    >>> qm = QuantileMapping().fit(model_train, obs_train)        # doctest: +SKIP
    >>> corrected = qm.transform(model_new)                        # doctest: +SKIP
    """

    n_quantiles: int = 200
    wet_threshold: float = RAIN_THRESHOLD
    cap_factor: float = 1.5
    model_threshold: float = dataclasses.field(default=np.nan, init=False)
    model_quantiles: np.ndarray | None = dataclasses.field(default=None, init=False, repr=False)
    obs_quantiles: np.ndarray | None = dataclasses.field(default=None, init=False, repr=False)
    wet_deficit: float = dataclasses.field(default=0.0, init=False)

    def __post_init__(self) -> None:
        if self.n_quantiles < 2:
            raise ValueError(f"n_quantiles must be >= 2, got {self.n_quantiles}")
        if self.wet_threshold <= 0:
            raise ValueError(f"wet_threshold must be > 0 mm h-1, got {self.wet_threshold}")
        if self.cap_factor < 1:
            raise ValueError(f"cap_factor must be >= 1, got {self.cap_factor}")

    def fit(self, model: np.ndarray, obs: np.ndarray) -> QuantileMapping:
        """Learn the mapping from model (satellite) values to observed values.

        Parameters
        ----------
        model, obs : np.ndarray, any shapes
            Training samples of the two distributions in mm h-1 (they need not be paired or
            equally many); NaN pixels are ignored.

        Returns
        -------
        QuantileMapping
            ``self``.
        """
        model = _finite_values(model, "model")
        obs = _finite_values(obs, "obs")
        obs_wet = obs[obs >= self.wet_threshold]
        if obs_wet.size < 2:
            raise ValueError(
                f"obs has {obs_wet.size} wet value(s) >= {self.wet_threshold} mm h-1; "
                "expected at least 2 to fit the wet part"
            )
        obs_wet_fraction = obs_wet.size / obs.size
        # model threshold with the observed wet frequency; never below the observed threshold
        threshold = float(np.quantile(model, 1.0 - obs_wet_fraction))
        self.model_threshold = max(threshold, self.wet_threshold)
        model_wet = model[self._is_wet(model)]
        if model_wet.size < 2:
            raise ValueError(
                f"model has {model_wet.size} wet value(s); expected at least 2 to fit the wet part"
            )
        self.wet_deficit = max(0.0, obs_wet_fraction - model_wet.size / model.size)
        levels = np.linspace(0.0, 1.0, self.n_quantiles)
        self.model_quantiles = np.quantile(model_wet, levels)
        self.obs_quantiles = np.quantile(obs_wet, levels)
        return self

    def transform(self, model: np.ndarray) -> np.ndarray:
        """Apply the mapping; NaN stays NaN, values below the model threshold become 0.

        Parameters
        ----------
        model : np.ndarray, any shape, mm h-1

        Returns
        -------
        np.ndarray, same shape, float32, mm h-1
        """
        if self.model_quantiles is None or self.obs_quantiles is None:
            raise ValueError("QuantileMapping.transform called before fit()")
        values = check_precip(np.atleast_2d(model), "model", allow_nan=True).reshape(
            np.shape(model)
        )
        out = np.zeros_like(values)
        wet = self._is_wet(np.nan_to_num(values))
        # np.interp needs increasing x; ties in the model quantiles are broken by a tiny ramp
        x = np.maximum.accumulate(self.model_quantiles + np.arange(self.n_quantiles) * 1e-9)
        out[wet] = np.interp(values[wet], x, self.obs_quantiles)
        beyond = values > x[-1]
        if beyond.any():
            ratio = self.obs_quantiles[-1] / x[-1]
            cap = self.cap_factor * self.obs_quantiles[-1]
            out[beyond] = np.minimum(values[beyond] * ratio, cap)
        out[np.isnan(values)] = np.nan
        return out.astype(np.float32)

    def _is_wet(self, values: np.ndarray) -> np.ndarray:
        # Above the observed threshold the model threshold may sit on a run of tied values
        # (a constant drizzle rate): the strict inequality then classes the whole run as dry.
        if self.model_threshold > self.wet_threshold:
            return values > self.model_threshold
        return values >= self.wet_threshold

    def fit_transform(self, model: np.ndarray, obs: np.ndarray) -> np.ndarray:
        """:meth:`fit` then :meth:`transform` the training model values."""
        return self.fit(model, obs).transform(model)


def _finite_values(values: np.ndarray, name: str) -> np.ndarray:
    array = check_precip(np.atleast_2d(values), name, allow_nan=True).ravel()
    array = array[np.isfinite(array)]
    if array.size == 0:
        raise ValueError(f"{name} has no finite values to fit")
    return array.astype(np.float64)

"""From raw benchmark arrays to network inputs: normalisation, fills, valid masks, targets.

Constants come from :mod:`prelib.conventions`; every input becomes ``(x − offset) / scale``:

===========  =========================  =====================================================
input        (offset, scale)            missing values (NaN)
===========  =========================  =====================================================
IR (K)       ``IR_NORM`` (100, 400)     → 0 after scaling (≡ 100 K, as the reference code);
                                        flagged in ``input_valid``
PMW (K)      ``PMW_NORM`` (50, 250)     → 0 (≡ 50 K); flagged in ``input_valid``
PR (dBZ)     ``PR_NORM`` (0, 60)        → 0: NaN means "below sensitivity / no echo", which is
                                        information, not a gap, so it is *not* flagged
geo          ``GEO_NORM`` per plane     → 0; flagged in ``input_valid``
===========  =========================  =====================================================

Fill codes (−9999.9, 1e30 ...) and physically impossible values
(:data:`prelib.conventions.VALID_RANGES`) count as missing
(:func:`prelib.validation.physical_or_nan`), so a bad value in a store is flagged, never fed
to a network as a number.

Labels: ``valid = isfinite(precip)``; ``precip`` has NaN → 0 **only together with**
``valid = False``, and the classification target ``rain`` is 1 where
``precip >= RAIN_THRESHOLD`` (0.1 mm h-1), 0 where below, and :data:`IGNORE_INDEX` (-100) where
the label is missing. The published loaders turn missing labels into "no rain" (NaN ≥ 0.1 is
False; prenet_reference.md §9.8); here a missing label is never counted as dry, and
``torch.nn.CrossEntropyLoss`` skips it by default.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from prelib.conventions import (
    GEO_CHANNELS,
    GEO_NORM,
    IR_NORM,
    PMW_NORM,
    PR_NORM,
    RAIN_THRESHOLD,
    VAR_IR,
    VAR_PMW,
    VAR_PR,
    VAR_PRECIP,
)
from prelib.validation import physical_or_nan

IGNORE_INDEX: int = -100
"""Class target of pixels without a valid label (PyTorch's default ``ignore_index``)."""


def normalise(values: np.ndarray, norm: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """``(values − offset) / scale`` as float32 with NaN → 0, and the finite mask.

    Parameters
    ----------
    values : numpy.ndarray
        Any shape, physical units.
    norm : (float, float)
        (offset, scale) from :mod:`prelib.conventions`.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Normalised float32 array and the boolean mask of finite inputs (same shape).
    """
    offset, scale = norm
    values = np.asarray(values, dtype=np.float32)
    finite = np.isfinite(values)
    out = np.where(finite, (values - np.float32(offset)) / np.float32(scale), np.float32(0.0))
    return out.astype(np.float32, copy=False), finite


def label_targets(precip: np.ndarray) -> dict[str, np.ndarray]:
    """Regression label, valid mask and classification target of a label patch.

    Parameters
    ----------
    precip : numpy.ndarray
        (H, W) hourly rate in mm h-1, NaN = missing.

    Returns
    -------
    dict
        ``precip`` (H, W) float32 with NaN → 0, ``valid`` (H, W) bool, ``rain`` (H, W) int64
        in {0, 1, IGNORE_INDEX}.
    """
    precip = np.asarray(precip, dtype=np.float32)
    valid = np.isfinite(precip)
    filled = np.where(valid, precip, np.float32(0.0)).astype(np.float32, copy=False)
    rain = np.where(valid, (filled >= RAIN_THRESHOLD).astype(np.int64), IGNORE_INDEX)
    return {VAR_PRECIP: filled, "valid": valid, "rain": rain.astype(np.int64, copy=False)}


def sample_to_arrays(raw: Mapping[str, np.ndarray], kind: str) -> dict[str, np.ndarray]:
    """Turn the raw arrays of one sample into the network's inputs and targets.

    Parameters
    ----------
    raw : mapping
        Physical-unit arrays of one sample: ``ir`` (8, H, W) K, ``precip`` (H, W) mm h-1,
        ``elevation``, ``lat``, ``lon`` (H, W); for ``kind="swath"`` also ``pmw`` (13, H, W) K
        and ``pr`` (176, H, W) dBZ.
    kind : {"swath", "fulldisc"}

    Returns
    -------
    dict of numpy.ndarray
        ``ir`` (8, H, W), [``pmw`` (13, H, W), ``pr`` (176, H, W)], ``geo`` (3, H, W) float32
        (elevation, lat, lon), ``precip`` (H, W) float32, ``valid`` (H, W) bool, ``rain``
        (H, W) int64, ``input_valid`` (H, W) bool (all IR, PMW and geo inputs finite).
    """
    out: dict[str, np.ndarray] = {}
    out[VAR_IR], finite = normalise(physical_or_nan(raw[VAR_IR], VAR_IR), IR_NORM)
    input_valid = finite.all(axis=0)
    if kind == "swath":
        out[VAR_PMW], finite = normalise(physical_or_nan(raw[VAR_PMW], VAR_PMW), PMW_NORM)
        input_valid &= finite.all(axis=0)
        out[VAR_PR], _ = normalise(physical_or_nan(raw[VAR_PR], VAR_PR), PR_NORM)
    planes = []
    for name in GEO_CHANNELS:
        plane, finite = normalise(raw[name], GEO_NORM[name])
        planes.append(plane)
        input_valid &= finite
    out["geo"] = np.stack(planes)
    out.update(label_targets(physical_or_nan(raw[VAR_PRECIP], VAR_PRECIP)))
    out["input_valid"] = input_valid
    return out
